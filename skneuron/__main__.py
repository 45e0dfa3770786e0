"""``python -m skneuron``: the ``skneuron`` command (see ``skneuron --help``)."""

from skneuron._cli import main

if __name__ == "__main__":  # guarded: pytest's doctest collection imports this
    raise SystemExit(main())
