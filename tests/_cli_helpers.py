"""What the command line's test modules share: writing a CSV file, running the
command, and checking that bad input ends in one error line."""

import csv

from skneuron._cli import main


def write_csv(path, header, rows, sep=","):
    """A CSV file of ``header`` and ``rows`` at ``path`` (returned)."""
    with open(path, "w", newline="") as file:
        writer = csv.writer(file, delimiter=sep)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run(capsys, *argv):
    """``skneuron *argv`` in this process: exit status, stdout and stderr."""
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(status, out, err, *fragments):
    """Exit status 2, nothing on stdout, one ``skneuron: error:`` line on stderr
    (no traceback) that holds every one of ``fragments``."""
    assert status == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("skneuron: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
