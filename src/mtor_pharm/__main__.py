"""Command line: ``python -m mtor_pharm`` (bundled example) and ``python -m mtor_pharm fit FILE``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from .errors import MtorPharmError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m mtor_pharm",
        description="Dose-response fits for mTOR inhibitors. Without a command: fit the bundled "
        "SIMULATED example and print IC50s with 95 %% CIs.",
    )
    sub = p.add_subparsers(dest="command")
    f = sub.add_parser("fit", help="fit one curve per group of a tidy CSV (or Excel) table")
    f.add_argument("path", type=Path, help="tidy table: one row per well/point")
    f.add_argument("--conc-col", required=True, help="column with concentrations")
    f.add_argument("--response-col", required=True, help="column with responses")
    f.add_argument("--group-cols", nargs="*", default=[], help="columns identifying a curve")
    f.add_argument("--conc-unit", required=True, help="unit of the concentration column, e.g. nM or uM")
    f.add_argument("--model", default="4pl", help="4pl (default), 3pl, 2pl, 5pl, weibull1, weibull2")
    f.add_argument("--out", type=Path, help="write the result table to this CSV file")
    f.add_argument("--unit", help="report IC50s in this unit (default: --conc-unit)")
    return p


def _read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if path.suffix.lower() in (".xlsx", ".xls"):
        return pd.read_excel(path)
    try:
        return pd.read_csv(path, comment="#")
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path} is empty: expected a header row and one row per well.") from None


def _print_table(table: pd.DataFrame) -> None:
    with pd.option_context("display.width", 140, "display.max_columns", 30, "display.precision", 4):
        print(table[[c for c in table.columns if not c.endswith("_stderr")]].to_string())


_PROGRESS_MIN = 5000  # curves; smaller inputs fit in well under a second


class _ProgressBar:
    """A one-line progress bar on standard error, for large inputs."""

    def __init__(self, width: int = 40) -> None:
        self.width = width
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        filled = self.width * done // max(total, 1)
        if filled == self.shown and done < total:
            return
        self.shown = filled
        bar = "#" * filled + "." * (self.width - filled)
        end = "\n" if done >= total else ""
        print(f"\rfitting [{bar}] {done:,}/{total:,} curves", end=end, file=sys.stderr, flush=True)


def _run_fit(args: argparse.Namespace) -> int:
    from ._tables import fit_table, summary_table

    df = _read_table(args.path)
    if df.empty:
        raise ValueError(f"{args.path} has a header but no rows.")
    for col in (args.conc_col, args.response_col):
        if col in df.columns and not pd.api.types.is_numeric_dtype(df[col]):
            bad = df[col][pd.to_numeric(df[col], errors="coerce").isna() & df[col].notna()]
            raise ValueError(f"column {col!r} must be numeric; row {bad.index[0]} holds {bad.iloc[0]!r}.")
    n_groups = df.groupby(args.group_cols).ngroups if args.group_cols else 1
    progress = _ProgressBar() if n_groups >= _PROGRESS_MIN else None
    res, index = fit_table(
        df,
        progress=progress,
        conc=args.conc_col,
        response=args.response_col,
        by=args.group_cols,
        conc_unit=args.conc_unit,
        model=args.model,
    )
    table = summary_table(res, index, unit=args.unit)
    _print_table(table)
    if args.out is not None:
        table.to_csv(args.out)
        print(f"\nwrote {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m mtor_pharm`` and the ``mtor-pharm`` script."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "fit":
            return _run_fit(args)
        from . import __version__
        from ._example import run_example

        table = run_example()
        print(f"mtor_pharm {__version__} - bundled example (SIMULATED data, not measurements)")
        print("4PL fits of MTT viability (% of vehicle); IC50 with 95 % Wald CI on log scale\n")
        _print_table(table)
        return 0
    except (MtorPharmError, ValueError, LookupError, TypeError, OSError) as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"mtor_pharm: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
