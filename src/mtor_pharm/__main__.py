"""``python -m mtor_pharm``: fit the bundled example and print the IC50 table."""

from __future__ import annotations

import sys

import pandas as pd


def main(argv: list[str] | None = None) -> int:
    """Run the bundled example (no arguments)."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        print("usage: python -m mtor_pharm    fit the bundled SIMULATED example and print IC50s")
        return 0
    if args:
        print(f"mtor_pharm: unknown arguments {args}; run without arguments for the example.", file=sys.stderr)
        return 2
    from . import __version__
    from ._example import run_example

    table = run_example()
    print(f"mtor_pharm {__version__} - bundled example (SIMULATED data, not measurements)")
    print("4PL fits of MTT viability (% of vehicle); IC50 with 95 % Wald CI on log scale\n")
    with pd.option_context("display.width", 120, "display.max_columns", 20, "display.precision", 3):
        print(table[[c for c in table.columns if not c.endswith("_stderr")]].to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
