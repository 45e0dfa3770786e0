"""The command line's CSV files, read in blocks.

:func:`open_csv` reads the header (with the standard library's csv module);
:meth:`CSVFile.numbers` then reads the columns asked for in blocks of text with
pyarrow's streaming CSV reader and keeps only their numbers, in float64: the
memory of a fit is X once, not the file's cells as Python strings.

A number is what Python's ``float`` reads from ASCII text (spaces around it
ignored): ``1_000`` and digits of other scripts (``١٢٣``, ``１２３``) are text.
A missing value is an empty cell or one of pandas' missing-value markers
(``NA``, ``NaN``, ``null``, ...). Bad input is a
:class:`~skneuron._cli.CommandError`: one line, naming the column and the row.
"""

from __future__ import annotations

import csv
import dataclasses
import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from skneuron._cli import CommandError, _listing

BLOCK_BYTES = 1 << 18
"""Bytes of CSV text read at a time (pyarrow's block size): pyarrow's reader
holds a few dozen blocks as it reads ahead."""

MISSING = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)
"""The cells that are missing values (after stripping spaces): pandas' defaults."""


@dataclasses.dataclass(frozen=True)
class Numbers:
    """Columns of a CSV file as numbers: ``X`` of shape (n_rows, n_columns), ``y``
    of shape (n_rows,) if a target was asked for, and the number of rows dropped
    for missing values."""

    X: np.ndarray
    y: np.ndarray | None
    dropped: int


@dataclasses.dataclass(frozen=True)
class CSVFile:
    """A CSV file's header, where its data rows start (``skip``: the file's
    lines up to the header's end), and how long a row is (``row_bytes``, from the
    header and the first data row: a block holds at least 8 such rows)."""

    path: str
    sep: str
    header: tuple[str, ...]
    skip: int
    row_bytes: int = 0  # the longer of the header and the first data row

    def check_columns(self, names: Sequence[str], given_by: str) -> None:
        """Refuse names that are not columns of the file."""
        missing = [name for name in names if name not in self.header]
        if missing:
            which = ", ".join(repr(name) for name in missing)
            hint = " (is --sep right?)" if len(self.header) == 1 else ""
            raise CommandError(
                f"{self.path} has no column {which} (named by {given_by}); its "
                f"columns are {_listing(self.header)}{hint}"
            )

    def numeric(self, names: Sequence[str]) -> np.ndarray:
        """The named columns as a float array, every row (as ``predict`` needs:
        missing values refused, without advice to drop them)."""
        return self.numbers(names, missing="refuse").X

    def numbers(
        self,
        features: Sequence[str],
        target: str | None = None,
        *,
        missing: str = "raise",
        block_bytes: int | None = None,
    ) -> Numbers:
        """The ``features`` (and ``target``) as float64 arrays, read in blocks of
        ``block_bytes`` (default :data:`BLOCK_BYTES`).

        A text column is an error that names it. Rows with missing values are an
        error (``missing="raise"``) that names the columns, counts the rows and
        suggests ``--missing drop`` (``"refuse"``: the same without it), or are
        left out (``"drop"``).
        """
        block_bytes = BLOCK_BYTES if block_bytes is None else block_bytes
        names = [*features, *([target] if target is not None else [])]
        gathered = _Gathered(self.path, len(features), block_bytes)
        holes, start = _Holes(names), 0
        for batch in self._batches(names, block_bytes):
            values = self._block_floats(batch, start, names, target)
            rows = holes.add(np.isnan(values), start, batch.columns)
            if missing == "drop" and rows.any():
                values = values[~rows]
            if missing == "drop" or holes.n_rows == 0:
                gathered.add(values)
            start += batch.num_rows
        self._check_rows(start, holes, None if missing == "drop" else missing)
        X, y = gathered.X, gathered.y if target is not None else None
        if not len(X):
            raise CommandError(
                f"every data row of {self.path} has a missing value in "
                f"{_columns(holes.columns)}: no rows are left to fit"
            )
        return Numbers(X, y, holes.n_rows if missing == "drop" else 0)

    def table(self, names: Sequence[str], *, missing: str = "raise") -> tuple[Any, int]:
        """The named columns as a pandas DataFrame (for a formula), and the number
        of rows dropped: a column of numbers as float64, any other as strings;
        rows with missing values refused or dropped, as :meth:`numbers`. The
        text columns are held whole as strings (numbers as float64 only)."""
        text = set()
        while True:
            try:
                return self._table(names, missing, text)
            except _LateText as late:  # numbers first, text after: read again
                text.add(late.name)

    def _table(self, names, missing, text):
        """:meth:`table`, the columns in ``text`` (and those with text in the
        first block) kept as strings; :class:`_LateText` for a column that has
        text in a later block only."""
        parts = {name: [] for name in names}
        holes, start = _Holes(names), 0
        for batch in self._batches(names, BLOCK_BYTES):
            columns, missing_cells, hole = _trimmed(batch)
            values = self._table_block(names, columns, missing_cells, start, text)
            rows = holes.add(hole, start, columns)
            for name in names:
                parts[name].append(_kept_rows(values[name], rows, name in text))
            start += batch.num_rows
        self._check_rows(start, holes, "raise" if missing == "raise" else None)
        frame = _frame(names, parts, text)
        if not len(frame):
            raise CommandError(
                f"every data row of {self.path} has a missing value: no rows are "
                "left to fit"
            )
        return frame, holes.n_rows if missing == "drop" else 0

    def _table_block(self, names, columns, missing_cells, start, text) -> dict:
        """A block's columns (spaces trimmed) by name, as :meth:`_table` keeps
        them: float64 arrays, or strings for the columns in ``text``; infinite
        values refused."""
        values = {}
        for name, column, cells in zip(names, columns, missing_cells, strict=True):
            values[name] = _table_column(name, column, cells, start, text)
        for name, column in zip(names, columns, strict=True):
            if name not in text:
                self._check_finite(values[name][:, None], start, [name], [column])
        return values

    def _block_floats(self, batch, start, names, target) -> np.ndarray:
        """A block's columns as float64, rows by columns, missing values as NaN;
        text and infinite values refused."""
        values = np.empty((batch.num_rows, len(names)))
        for j, column in enumerate(batch.columns):
            values[:, j] = self._floats(column, start, names, batch, target)
        self._check_finite(values, start, names, batch.columns)
        return values

    def _check_rows(self, start, holes, missing) -> None:
        """Refuse a file without data rows (``start`` rows were read), and one
        with missing values unless ``missing`` is None (``"refuse"``: without
        the advice to drop them)."""
        if start == 0:
            raise CommandError(f"{self.path} has a header but no data rows")
        if holes.n_rows and missing is not None:
            message = self._missing_message(holes)
            if missing == "refuse":
                message = message.split("; leave those rows out")[0]
            raise CommandError(message)

    # -- reading -------------------------------------------------------------
    def _batches(self, names: Sequence[str], block_bytes: int) -> Iterator[Any]:
        """The named columns, as text, in blocks of rows (pyarrow record
        batches); a row with another number of fields than the header is an
        error naming its line."""
        import pyarrow as pa

        ragged = []

        def invalid(row):
            if not row.text.strip():
                return "skip"  # a line of spaces: blank
            ragged.append(row)
            return "error"

        try:
            yield from self._reader(names, block_bytes, invalid)
        except pa.ArrowInvalid as exc:
            raise CommandError(self._invalid_message(exc, ragged)) from None
        except OSError as exc:
            raise CommandError(
                f"cannot read {self.path}: {exc.strerror or exc}"
            ) from None

    def _reader(self, names, block_bytes, invalid) -> Any:
        """pyarrow's streaming reader of the named columns, as text, skipping the
        lines up to the header; ``invalid`` handles rows of other lengths."""
        import pyarrow as pa
        import pyarrow.csv as pcsv

        keys = [str(self.header.index(name)) for name in names]
        return pcsv.open_csv(
            self.path,
            read_options=pcsv.ReadOptions(
                skip_rows=self.skip,
                column_names=[str(k) for k in range(len(self.header))],
                block_size=max(block_bytes, 8 * self.row_bytes),
                use_threads=False,
            ),
            parse_options=pcsv.ParseOptions(
                delimiter=self.sep,
                newlines_in_values=True,
                invalid_row_handler=invalid,
            ),
            convert_options=pcsv.ConvertOptions(
                include_columns=keys,
                column_types=dict.fromkeys(keys, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    def _floats(self, column, start, names, batch, target) -> np.ndarray:
        """One column of a block as float64, missing values as NaN; text is an
        error naming every column of the block that holds some."""
        import pyarrow as pa
        import pyarrow.compute as pc

        column = pc.utf8_trim_whitespace(column)
        column = pc.if_else(
            pc.is_in(column, value_set=pa.array(MISSING)),
            pa.scalar(None, pa.string()),
            column,
        )
        try:
            return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:
            raise CommandError(
                self._text_message(names, batch, start, target)
            ) from None

    def _check_finite(self, values, start, names, columns) -> None:
        """Refuse infinite values (``inf``, or beyond float64's range); ``columns``
        are the cells of ``values``'s columns, as text."""
        if np.isinf(values).any():
            i, j = (int(k) for k in np.argwhere(np.isinf(values))[0])
            cell = columns[j][i].as_py().strip()
            raise CommandError(
                f"column {names[j]!r} of {self.path} needs finite numbers, but has "
                f"an infinite value: {cell!r} in {self._row(start + i)}"
            )

    # -- messages ------------------------------------------------------------
    def _text_message(self, names, batch, start, target) -> str:
        """The columns of the block that hold text, the first such cell, and
        what to do."""
        text, first = [], None
        for name, column in zip(names, batch.columns, strict=True):
            cells = [cell.strip() for cell in column.to_pylist()]
            floats = _strict_floats(cells)
            bad = [
                i
                for i, cell in enumerate(cells)
                if np.isnan(floats[i]) and cell not in MISSING
            ]
            if bad:
                text.append(name)
                if first is None:
                    first = f"{cells[bad[0]]!r} in {self._row(start + bad[0])}"
        they = "holds" if len(text) == 1 else "hold"
        features = [name for name in names if name != target]
        terms = [f"C({_term(n)})" if n in text else _term(n) for n in features]
        fitting = target is not None and target not in text  # else no advice
        formula = f"{_term(target)} ~ {' + '.join(terms)}" if fitting else None
        kept = [name for name in features if name not in text]
        it, hints = ("it" if len(text) == 1 else "them"), []
        if formula:
            hints.append(f'use {it} as categories with --formula "{formula}"')
        if kept and fitting:  # --features
            hints.append(f"leave {it} out with --features {','.join(kept)}")
        hint = f": {' or '.join(hints)}" if hints else ""
        return (
            f"{_columns(text)} of {self.path} {they} text, not numbers ({first}){hint}"
        )

    def _invalid_message(self, exc, ragged) -> str:
        """What pyarrow's ``exc`` means: a row of another length (if ``ragged``
        holds one), text that is not UTF-8, or else invalid CSV."""
        if ragged:
            return self._ragged_message()
        if "utf8" in str(exc).lower():
            return f"{self.path} is not a UTF-8 text file"
        return f"{self.path} is not valid CSV: {_first_line(exc)}"

    def _missing_message(self, holes) -> str:
        """The columns with missing values, how many rows have some, the first
        one, and what to do."""
        columns, n_missing = holes.columns, holes.n_rows
        have = "has" if len(columns) == 1 else "have"
        rows = f"{n_missing} row{'s' * (n_missing > 1)}"
        i, _, cell = holes.first
        what = "an empty cell" if not cell else f"{cell!r}"
        return (
            f"{_columns(columns)} of {self.path} {have} missing values in {rows} "
            f"(the first: {what} in {self._row(i)}); leave those rows out with "
            "--missing drop"
        )

    def _row(self, i: int) -> str:
        """Data row ``i`` (from 0) as the messages name it, with its file line."""
        return f"data row {i + 1} (file line {self._line(i)})"

    def _line(self, i: int) -> int | str:
        """The file line of data row ``i`` (from 0), found by reading the file
        again (for messages only)."""
        with open(self.path, newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file, delimiter=self.sep)
            n = -1
            for row in reader:
                if reader.line_num <= self.skip or _blank(row):
                    continue
                n += 1
                if n == i:
                    return reader.line_num
        return "?"

    def _ragged_message(self) -> str:
        """The first row with another number of fields than the header."""
        n = len(self.header)
        with open(self.path, newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file, delimiter=self.sep)
            for row in reader:
                if reader.line_num > self.skip and not _blank(row) and len(row) != n:
                    return (
                        f"{self.path} line {reader.line_num} has {len(row)} fields, "
                        f"but the header has {n} (is --sep right?)"
                    )
        return f"{self.path} has a row without {n} fields (is --sep right?)"


def open_csv(path: str, sep: str) -> CSVFile:
    """The CSV file's header (its first non-blank row, of distinct names), after
    checking that a data row follows; file errors are bad input."""
    header, skip, data, row_bytes = None, 0, False, 0
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file, delimiter=sep)
            for row in reader:
                if _blank(row):
                    continue
                row_bytes = max(row_bytes, len(sep.join(row).encode()) + 1)
                if header is not None:
                    data = True
                    break
                header, skip = [name.strip() for name in row], reader.line_num
    except FileNotFoundError:
        raise CommandError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise CommandError(f"{path} is a directory, not a CSV file") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not a UTF-8 text file") from None
    except csv.Error as exc:
        raise CommandError(f"{path} is not valid CSV: {exc}") from None
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
    if header is None:
        raise CommandError(f"{path} is empty: expected a header row, then data rows")
    for k, name in enumerate(header):
        if not name:
            raise CommandError(f"column {k + 1} of the header of {path} has no name")
        if header.index(name) != k:
            raise CommandError(f"{path} has two columns named {name!r}")
    if not data:
        raise CommandError(f"{path} has a header but no data rows")
    return CSVFile(
        path=str(path), sep=sep, header=tuple(header), skip=skip, row_bytes=row_bytes
    )


class _LateText(Exception):
    """A column of numbers in the first blocks has text in a later one."""

    def __init__(self, name):
        super().__init__(name)
        self.name = name


class _Holes:
    """The missing values of blocks of rows: how many each column has, how many
    rows have some, and the first one (data row, column, cell)."""

    def __init__(self, names):
        self.names = names
        self.counts = np.zeros(len(names), int)
        self.n_rows = 0
        self.first = None

    def add(self, hole, start, columns):
        """Count a block's missing cells (``hole``, rows by columns; the block
        starts at data row ``start``, ``columns`` are its cells as text); the
        rows that have some."""
        rows = hole.any(axis=1)
        if rows.any():
            self.n_rows += int(rows.sum())
            self.counts += hole.sum(axis=0)
            if self.first is None:
                i, j = (int(k) for k in np.argwhere(hole)[0])
                cell = columns[j][i].as_py().strip()
                self.first = (start + i, self.names[j], cell)
        return rows

    @property
    def columns(self):
        """The names of the columns with missing values."""
        return [n for n, c in zip(self.names, self.counts, strict=True) if c]


def _trimmed(batch):
    """A block's columns with spaces trimmed, their missing cells (boolean
    arrays), and those as a numpy array, rows by columns."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = [pc.utf8_trim_whitespace(column) for column in batch.columns]
    missing_cells = [
        pc.is_in(column, value_set=pa.array(MISSING)) for column in columns
    ]
    hole = np.column_stack(
        [cells.to_numpy(zero_copy_only=False) for cells in missing_cells]
    )
    return columns, missing_cells, hole


def _table_column(name, column, cells, start, text):
    """One trimmed column of a block as float64 (``cells``, its missing ones, as
    NaN), or as it is if in ``text``; text in the first block adds the column to
    ``text``, text in a later one is :class:`_LateText`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if name not in text:
        column = pc.if_else(cells, pa.scalar(None, pa.string()), column)
        try:
            return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:
            if start:
                raise _LateText(name) from None
            text.add(name)
    return column


def _kept_rows(values, rows, is_text):
    """A block's column without the ``rows`` that have missing values."""
    import pyarrow as pa

    if is_text:
        return values.filter(pa.array(~rows))
    return values[~rows] if rows.any() else values


def _frame(names, parts, text):
    """The blocks of each column in ``parts`` (emptied) as a pandas DataFrame:
    the columns in ``text`` as strings, the others as float64."""
    import pandas as pd
    import pyarrow as pa

    frame = {}
    for name in names:
        if name in text:
            column = pa.chunked_array(parts.pop(name), pa.string())
            frame[name] = column.to_numpy(zero_copy_only=False).astype(str)
        else:
            frame[name] = np.concatenate(parts.pop(name))
    return pd.DataFrame(frame, copy=False)


class _Gathered:
    """Blocks of rows gathered into X and y as they come: arrays allocated for
    the rows the file is estimated to hold from its first block (the pages past
    the rows written are never touched, so cost no memory), grown if short. X
    and y are the rows written: memory for them once, without copies."""

    def __init__(self, path, n_features, block_bytes):
        self.path, self.n_features, self.block_bytes = path, n_features, block_bytes
        self.n = 0
        self._X = self._y = None

    def add(self, values):
        """Append a block of rows: the features, then the target if any."""
        stop = self.n + len(values)
        if self._X is None:
            size = os.path.getsize(self.path)
            estimate = int(1.25 * len(values) * size / self.block_bytes) + 1
            self._allocate(max(stop, estimate))
        elif stop > len(self._X):
            self._allocate(max(stop, int(1.5 * len(self._X))))
        self._X[self.n : stop] = values[:, : self.n_features]
        if values.shape[1] > self.n_features:
            self._y[self.n : stop] = values[:, self.n_features]
        self.n = stop

    def _allocate(self, rows):
        """Room for ``rows`` rows, keeping those written."""
        X, y = np.empty((rows, self.n_features)), np.empty(rows)
        if self._X is not None:
            X[: self.n], y[: self.n] = self._X[: self.n], self._y[: self.n]
        self._X, self._y = X, y

    @property
    def X(self):
        """The features of the rows written, C-contiguous."""
        return np.empty((0, self.n_features)) if self._X is None else self._X[: self.n]

    @property
    def y(self):
        """The target of the rows written."""
        return np.empty(0) if self._y is None else self._y[: self.n]


def _strict_floats(cells) -> np.ndarray:
    """``float`` of each ASCII cell (NaN where it is not a number)."""
    out = np.full(len(cells), np.nan)
    for i, cell in enumerate(cells):
        if cell is not None and cell.isascii() and "_" not in cell:
            try:
                out[i] = float(cell)
            except ValueError:
                pass
    return out


def _blank(row) -> bool:
    """Whether a csv row is a blank line (or a line of spaces)."""
    return not row or (len(row) == 1 and not row[0].strip())


def _columns(names) -> str:
    """``column 'a'`` or ``columns 'a', 'b'``."""
    which = ", ".join(repr(name) for name in names)
    return f"column{'s' * (len(names) > 1)} {which}"


def _term(name: str) -> str:
    """A column name as a formula term (back-quoted unless an identifier)."""
    return name if name.isidentifier() else f"`{name}`"


def _first_line(message) -> str:
    """The first line of an exception's message."""
    text = str(message).strip()
    return text.splitlines()[0] if text else type(message).__name__
