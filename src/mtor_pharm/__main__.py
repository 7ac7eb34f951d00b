"""Command line: ``python -m mtor_pharm`` (bundled example) and ``python -m mtor_pharm fit FILE``.

Every error is reported in one line that names the file, column, option or value
(exit status 2); no input produces a traceback.
"""

from __future__ import annotations

import argparse
import base64
import csv
import html
import io
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import MtorPharmError

if TYPE_CHECKING:
    import pandas as pd

    from .fitting import FitResult


class _CliError(MtorPharmError, ValueError):
    """A command-line input that cannot be used (message names the option or value)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"mtor_pharm: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _model_help() -> str:
    """The --model help: every registered family by name (never a stale hand-written list)."""
    from .models import MODELS

    names = ", ".join(name + (" (default)" if name == "4pl" else "") for name in MODELS)
    return f"model family: {names}; or a GraphPad Prism / drc name such as 'variable slope' or 'LL.4'"


_SUMMARY_ROWS = 50  # with --out, a longer table is summarized on standard output (unless --print)


def _output_options(cmd: argparse.ArgumentParser) -> None:
    """--quiet and --print: what a run writes on standard output."""
    out = cmd.add_mutually_exclusive_group()
    out.add_argument("-q", "--quiet", action="store_true",
                     help="print no table, summary or progress bar (for batch jobs); errors still go to "
                     "standard error with exit status 2; the --compare result is still printed")
    out.add_argument("--print", dest="print_all", action="store_true",
                     help=f"print the whole result table even with --out and more than {_SUMMARY_ROWS} curves")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m mtor_pharm",
        description="Dose-response fits for mTOR inhibitors. Without a command: fit the bundled "
        "SIMULATED example and print IC50s with 95 % CIs.",
    )
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    f = sub.add_parser("fit", help="fit one curve per group of a tidy CSV, TSV or Excel table")
    f.add_argument("path", type=Path, help="tidy table: one row per well/point (.csv, .tsv, .txt, .xlsx)")
    f.add_argument("--conc-col", required=True, help="column with concentrations")
    f.add_argument("--response-col", required=True, help="column with responses")
    f.add_argument("--group-cols", nargs="*", default=[], help="columns identifying a curve (none: one curve)")
    f.add_argument(
        "--conc-unit",
        help="unit of the concentration column, e.g. nM or uM (default: the table's conc_unit column); "
        "with --conc-log10 the unit the log was taken in (M for Prism's X column)",
    )
    f.add_argument("--conc-log10", action="store_true", help="the concentration column holds log10 values")
    f.add_argument("--model", default="4pl", help=_model_help())
    f.add_argument("--fixed", nargs="*", default=[], metavar="NAME=VALUE",
                   help="hold parameters fixed, e.g. --fixed top=100 bottom=0")
    f.add_argument("--exclude", nargs="*", default=[], metavar="WELL",
                   help="wells left out of the fit, by the table's 'well' column (e.g. B5); reported as excluded")
    f.add_argument("--sheet", help="Excel sheet name or 0-based number (default: the first)")
    f.add_argument("--sep", help="column separator (default: sniffed from the file: , ; tab |)")
    f.add_argument("--decimal", help="decimal mark, '.' or ',' (default: sniffed; ',' with ';' separators)")
    f.add_argument("--unit", help="report IC50s in this unit (default: --conc-unit)")
    f.add_argument("--paper", action="store_true", help="print (and write) the paper table instead")
    f.add_argument("--out", type=Path, help="write the result table (.csv, .tsv, .md, .html or .xlsx); checked "
                   f"before fitting. With more than {_SUMMARY_ROWS} curves only a summary is printed (see --print)")
    _output_options(f)
    f.add_argument("--compare", nargs=2, metavar=("A", "B"),
                   help="test whether curves A and B differ in potency (F test of a shared IC50)")
    f.add_argument("--plot", type=Path, metavar="DIR", help="write one figure per curve plus an overview (PNG)")
    f.add_argument("--report", type=Path, metavar="FILE.html",
                   help="write a self-contained HTML report (figure, paper table, statuses in words)")

    g = sub.add_parser("plate", help="normalize a plate (layout + reader export) by well role and fit it")
    g.add_argument("layout", type=Path, help="layout file (.csv or .toml; see mtor_pharm.assays.plates)")
    g.add_argument("export", type=Path, help="plate-reader export (grids of one or more readouts)")
    g.add_argument("--signal", help="readout to fit (default: the first readout of the export)")
    g.add_argument("--reference", help="reference readout subtracted from --signal (MTT: A650)")
    g.add_argument("--names", nargs="*", metavar="NAME", help="readout names overriding those in the export")
    g.add_argument("--control", help="role of the 100 %% wells (default: vehicle)")
    g.add_argument("--blank", help="role of the 0 %% wells (default: blank)")
    g.add_argument("--normalize", default="percent", choices=("percent", "none"),
                   help="percent of control (default) or blank-subtracted signal")
    g.add_argument("--exclude", nargs="*", default=[], metavar="WELL", help="wells left out of the fit, e.g. B5")
    g.add_argument("--model", default="4pl", help=_model_help())
    g.add_argument("--fixed", nargs="*", default=[], metavar="NAME=VALUE", help="hold parameters fixed")
    g.add_argument("--unit", help="report IC50s in this unit (default: the layout's)")
    g.add_argument("--paper", action="store_true", help="print (and write) the paper table")
    g.add_argument("--out", type=Path, help="write the result table (.csv, .tsv, .md, .html or .xlsx); checked "
                   f"before fitting. With more than {_SUMMARY_ROWS} curves only a summary is printed (see --print)")
    _output_options(g)
    g.add_argument("--compare", nargs=2, metavar=("A", "B"), help="test whether compounds A and B differ in potency")
    g.add_argument("--plot", type=Path, metavar="DIR", help="write one figure per curve plus an overview (PNG)")
    g.add_argument("--report", type=Path, metavar="FILE.html",
                   help="write a self-contained HTML report with plate QC, the paper table and the figures")
    return p


# ----------------------------------------------------------------------------- reading
def _sniff(text: str) -> tuple[str, str]:
    """Separator and decimal mark of a delimited text."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")][:20]
    sample = "\n".join(lines)
    try:
        sep = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        sep = "\t" if "\t" in sample else ";" if sample.count(";") > sample.count(",") else ","
    decimal = "."
    if sep != ",":
        import re

        if re.search(r"(^|[" + re.escape(sep) + r"])\s*-?\d+,\d+\s*($|[" + re.escape(sep) + r"])", sample, re.M):
            decimal = ","
    return sep, decimal


def _read_table(args: argparse.Namespace) -> pd.DataFrame:
    import pandas as pd

    path: Path = args.path
    if not path.exists():
        raise _CliError(f"no such file: {path}")
    if path.is_dir():
        raise _CliError(f"{path} is a folder; give the path of a CSV, TSV or Excel file.")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        sheet: Any = 0
        if args.sheet is not None:
            sheet = int(args.sheet) if args.sheet.isdigit() else args.sheet
        try:
            book = pd.ExcelFile(path)
        except ImportError as err:
            raise _CliError(f"reading {path.name} needs an Excel reader: {err}") from None
        except Exception as err:  # zip/xml errors of a corrupt file
            raise _CliError(f"{path} is not a readable Excel file ({type(err).__name__}: {err}).") from None
        with book:
            names = list(book.sheet_names)
            if isinstance(sheet, int) and not 0 <= sheet < len(names):
                raise _CliError(f"--sheet {sheet} does not exist: {path.name} has sheets {names}.")
            if isinstance(sheet, str) and sheet not in names:
                from .fitting._result import _did_you_mean

                raise _CliError(f"--sheet {sheet!r} does not exist: {path.name} has sheets {names}."
                                f"{_did_you_mean(sheet, names)}")
            parsed: pd.DataFrame = pd.read_excel(book, sheet_name=sheet)
        return parsed
    if args.sheet is not None:
        raise _CliError(f"--sheet applies to Excel files; {path.name} is a text file.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_text(encoding="latin-1")
    if not text.strip():
        raise _CliError(f"{path} is empty: expected a header row and one row per well.")
    sep, decimal = _sniff(text)
    if suffix in (".tsv", ".tab"):
        sep = "\t"
    sep = args.sep if args.sep is not None else sep
    if args.sep == "\\t":
        sep = "\t"
    decimal = args.decimal if args.decimal is not None else decimal
    if decimal not in (".", ","):
        raise _CliError(f"--decimal must be '.' or ','; got {decimal!r}.")
    if decimal == sep:
        raise _CliError(f"--decimal and --sep must differ; both are {sep!r}.")
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, decimal=decimal, comment="#")
    except pd.errors.EmptyDataError:
        raise _CliError(f"{path} is empty: expected a header row and one row per well.") from None
    except pd.errors.ParserError as err:
        raise _CliError(f"{path} could not be read as a table with separator {sep!r}: {err}. "
                        "Give the separator with --sep.") from None


def _print_table(table: pd.DataFrame) -> None:
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 30, "display.precision", 4):
        print(table[[c for c in table.columns if not str(c).endswith("_stderr")]].to_string())


_PROGRESS_MIN = 5000  # curves; smaller inputs fit in well under a second


def _show_progress(args: argparse.Namespace) -> bool:
    """A progress bar only for a person watching: standard error is a terminal, and no --quiet."""
    isatty = getattr(sys.stderr, "isatty", None)
    return not args.quiet and callable(isatty) and bool(isatty())


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


# ----------------------------------------------------------------------------- options
def _fixed(items: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise _CliError(f"--fixed takes NAME=VALUE pairs such as top=100; got {item!r}.")
        try:
            out[name.strip()] = float(value.replace(",", "."))
        except ValueError:
            raise _CliError(f"--fixed {name.strip()} must be a number; got {value!r}.") from None
    return out


def _conc_unit(args: argparse.Namespace, df: pd.DataFrame) -> str:
    from .units import parse_unit

    unit = args.conc_unit
    if unit is None:
        from ._tables import unit_column

        try:
            unit = unit_column(df)
        except ValueError as err:
            raise _CliError(str(err)) from None
        if unit is None:
            raise _CliError("--conc-unit is required: the table has no conc_unit column (e.g. --conc-unit nM).")
    from .units import _is_mass_conc, _is_molar

    try:
        parsed = parse_unit(unit, name="--conc-unit")
    except MtorPharmError as err:
        raise _CliError(str(err).replace("`--conc-unit`", "--conc-unit")) from None
    if _is_mass_conc(parsed):
        raise _CliError(f"--conc-unit must be a molar unit such as nM or uM; got {unit!r}, a mass concentration. "
                        "Convert the column to molar first (mp.units.mass_to_molar with the molecular weight).")
    if not _is_molar(parsed):
        from .units import _unit_hint

        raise _CliError(f"--conc-unit must be a concentration unit such as nM or uM; got {unit!r} "
                        f"({parsed.dimensionality}).{_unit_hint(str(unit))}")
    return str(unit)


def _report_unit(args: argparse.Namespace, conc_unit: str) -> str | None:
    if args.unit is None:
        return None
    from .units import _is_molar, _registry, parse_unit

    try:
        u = parse_unit(args.unit, name="--unit")
    except MtorPharmError as err:
        raise _CliError(str(err).replace("`--unit`", "--unit")) from None
    if not (args.conc_log10 or u.dimensionality == _registry().Unit(conc_unit).dimensionality) or not _is_molar(u):
        raise _CliError(f"--unit must be a concentration unit of the same kind as --conc-unit ({conc_unit}); "
                        f"got {args.unit!r}.")
    return str(args.unit)


def _exclude(df: pd.DataFrame, wells: list[str]) -> pd.DataFrame:
    if not wells:
        return df
    if "well" not in df.columns:
        raise _CliError(f"--exclude needs a 'well' column to name wells; the table has columns {list(df.columns)}.")
    names = df["well"].astype(str).str.strip().str.upper()
    out = df.copy()
    out["excluded"] = False
    for w in wells:
        hit = names == w.strip().upper()
        if not hit.any():
            from .fitting._result import _did_you_mean

            hint = _did_you_mean(w, list(df["well"].astype(str)))
            raise _CliError(f"--exclude {w!r} is not a well of the table.{hint}")
        out.loc[hit.to_numpy(), "excluded"] = True
    return out


# ----------------------------------------------------------------------------- figures and report
def _figures(res: FitResult, data: pd.DataFrame, conc: str, response: str, by: list[str], unit: str,
             ylabel: str | None = None) -> dict[str, bytes]:
    """PNG bytes of the journal-style figures: an overview of every curve, then one per curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plot

    out: dict[str, bytes] = {}
    labels = list(res.labels or ())
    fig, ax = plt.subplots(figsize=(5, 4))
    plot.dose_response(res, data, conc=conc, response=response, by=by, ax=ax, unit=unit, ylabel=ylabel)
    out["overview"] = _png(fig)
    plt.close(fig)
    for i, lab in enumerate(labels):
        fig, ax = plt.subplots(figsize=(4, 3.2))
        plot.dose_response(res[[i]], data, conc=conc, response=response, by=by, ax=ax, unit=unit, band=True,
                           ylabel=ylabel)
        ax.set_title(str(lab))
        name = _safe(str(lab))
        out[name if name != "overview" else f"{name}_curve"] = _png(fig)
        plt.close(fig)
    return out


def _safe(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return keep.strip("._") or "curve"


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def _report(path: Path, res: FitResult, paper: pd.DataFrame, figures: dict[str, bytes], args: argparse.Namespace,
            comparison: Any, qc: pd.DataFrame | None = None, source: str | None = None) -> None:
    from . import __version__
    from .fitting import STATUS_MESSAGES, FitStatus

    codes = {int(c) for c in list(__import__("numpy").asarray(res.status).reshape(-1))}
    bits = [f for f in FitStatus if f and any(c & f for c in codes)]
    status_html = "".join(f"<li><b>{html.escape(str(f.name))}</b>: {html.escape(STATUS_MESSAGES[f])}</li>"
                          for f in bits) or f"<li>Every curve is OK: {html.escape(STATUS_MESSAGES[FitStatus.OK])}</li>"
    imgs = "".join(
        f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{base64.b64encode(png).decode()}"/>'
        f"<figcaption>{html.escape(name)}</figcaption></figure>"
        for name, png in figures.items()
    )
    excluded = ", ".join(args.exclude) if args.exclude else "none"
    qc_html = ""
    if qc is not None:
        qc_html = f"<h2>Plate QC</h2>{qc.to_html(index=False, border=0, float_format=lambda v: f'{v:.3g}')}"
    comp = ""
    if comparison is not None:
        comp = f"<h2>Potency comparison</h2><p>{html.escape(comparison.summary())}</p>"
    doc = (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>mtor_pharm report: {html.escape(source or args.path.name)}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}"
        "td,th{padding:.2em .6em;border-bottom:1px solid #ccc;text-align:right}figure{display:inline-block}"
        "</style></head><body>"
        f"<h1>Dose-response fits: {html.escape(source or args.path.name)}</h1>"
        f"<p>mtor_pharm {html.escape(__version__)}; model {html.escape(res.model)}; "
        f"{res.shape[0] if res.shape else 1} curve(s); excluded wells: {html.escape(excluded)}.</p>"
        f"<h2>Results</h2>{paper.to_html(border=0)}"
        f"<p>{html.escape(str(paper.attrs.get('notes', '')))}</p>"
        f"<h2>Fit statuses</h2><ul>{status_html}</ul>{qc_html}{comp}<h2>Figures</h2>{imgs}</body></html>"
    )
    path.write_text(doc, encoding="utf-8")


# ----------------------------------------------------------------------------- the command
def _run_fit(args: argparse.Namespace) -> int:
    import pandas as pd

    from ._tables import fit_table, paper_table, summary_table
    from .models import _lookup_model

    _lookup_model(args.model)  # an unknown model fails before any work
    fixed = _fixed(args.fixed)
    _check_outputs(args)
    df = _read_table(args)
    if df.empty:
        raise _CliError(f"{args.path} has a header but no rows.")
    for opt, col in (("--conc-col", args.conc_col), ("--response-col", args.response_col),
                     *(("--group-cols", c) for c in args.group_cols)):
        if col not in df.columns:
            from .fitting._result import _did_you_mean

            cols = [str(c) for c in df.columns]
            raise _CliError(f"{opt} {col!r} is not a column of {args.path.name}.{_did_you_mean(col, cols)} "
                            f"Columns are {cols}.")
    for opt, col in (("--conc-col", args.conc_col), ("--response-col", args.response_col)):
        if not pd.api.types.is_numeric_dtype(df[col]):
            bad = df[col][pd.to_numeric(df[col], errors="coerce").isna() & df[col].notna()]
            if len(bad):
                hint = " (decimal commas? try --decimal ,)" if any("," in str(v) for v in bad) else ""
                raise _CliError(f"column {col!r} ({opt}) must be numeric; row {bad.index[0]} holds "
                                f"{bad.iloc[0]!r}{hint}.")
    conc_unit = _conc_unit(args, df)
    unit = _report_unit(args, conc_unit)
    df = _exclude(df, args.exclude)
    n_groups = df.groupby(args.group_cols, dropna=False).ngroups if args.group_cols else 1
    progress = _ProgressBar() if n_groups >= _PROGRESS_MIN and _show_progress(args) else None
    res, index = fit_table(
        df,
        progress=progress,
        conc=args.conc_col,
        response=args.response_col,
        by=args.group_cols,
        conc_unit=conc_unit,
        model=args.model,
        conc_log10=args.conc_log10,
        fixed=fixed or None,
    )
    if res.labels is None:
        res = res.with_labels(["all"] if res.shape == (1,) else list(index))
    show_unit = unit or conc_unit
    table = paper_table(res, unit=show_unit) if args.paper else summary_table(res, unit=show_unit)
    _write_out(args, table, res)
    comparison = None
    if args.compare:
        from .compare import compare_potency

        if not args.group_cols:
            raise _CliError("--compare needs --group-cols naming the curves to compare.")
        a, b = (_label_of(res, s) for s in args.compare)
        comparison = compare_potency(df, a, b, conc=args.conc_col, response=args.response_col,
                                     by=args.group_cols, conc_unit=conc_unit, conc_log10=args.conc_log10,
                                     model=args.model, fixed=fixed or None)
        print("\n" + comparison.summary())
    if args.plot is not None or args.report is not None:
        data = df.copy()
        if args.conc_log10:
            data[args.conc_col] = 10.0 ** data[args.conc_col].astype(float)
        figures = _figures(res, data, args.conc_col, args.response_col, list(args.group_cols), show_unit)
        _write_outputs(args, res, figures, show_unit, comparison)
    return 0


_OUT_SUFFIXES = (".csv", ".tsv", ".md", ".markdown", ".html", ".htm", ".xlsx")


def _check_outputs(args: argparse.Namespace) -> None:
    """--out and --report name files that can be written: checked before any curve is fitted."""
    if args.out is not None and args.out.suffix.lower() not in _OUT_SUFFIXES:
        raise _CliError(f"--out needs a file name ending in .csv, .tsv, .md, .html or .xlsx; got {args.out}.")
    for opt, path in (("--out", args.out), ("--report", args.report)):
        if path is None:
            continue
        if path.is_dir():
            raise _CliError(f"{opt} {path} is a folder; give a file name.")
        if not path.parent.is_dir():
            raise _CliError(f"{opt} {path}: the folder {path.parent} does not exist (create it first).")
    if args.out is not None and args.out.suffix.lower() == ".xlsx":
        import importlib.util

        if importlib.util.find_spec("openpyxl") is None:
            raise _CliError("--out .xlsx needs openpyxl: pip install openpyxl (or mtor_pharm[excel]).")


def _status_counts(res: FitResult) -> str:
    """``"1,998 OK, 2 FLAT_RESPONSE"``: curves per status, commonest first."""
    import numpy as np

    from .fitting._result import _status_name

    codes, counts = np.unique(np.asarray(res.status).reshape(-1), return_counts=True)
    order = sorted(zip(counts.tolist(), codes.tolist(), strict=True), key=lambda t: (-t[0], t[1]))
    return ", ".join(f"{n:,} {_status_name(int(c))}" for n, c in order)


def _write_out(args: argparse.Namespace, table: pd.DataFrame, res: FitResult) -> None:
    """Print the table (or, when --out holds a long one, a summary) and write --out."""
    from ._tables import write_table

    summary = args.out is not None and len(table) > _SUMMARY_ROWS and not args.print_all
    if not args.quiet and not summary:
        _print_table(table)
    if args.out is None:
        return
    try:
        write_table(table, args.out)
    except ImportError as err:
        raise _CliError(str(err)) from None
    if args.quiet:
        return
    if summary:
        print(f"{len(table):,} curves: {_status_counts(res)}")
        print(f"wrote {args.out} (the whole table; --print shows it here too)")
    else:
        print(f"\nwrote {args.out}")


def _write_outputs(args: argparse.Namespace, res: FitResult, figures: dict[str, bytes], unit: str, comparison: Any,
                   qc: pd.DataFrame | None = None, source: str | None = None) -> None:
    from ._tables import paper_table

    if args.plot is not None:
        if args.plot.exists() and not args.plot.is_dir():
            raise _CliError(f"--plot {args.plot} is a file; give a folder.")
        args.plot.mkdir(parents=True, exist_ok=True)
        for name, png in figures.items():
            (args.plot / f"{name}.png").write_bytes(png)
        if not args.quiet:
            print(f"wrote {len(figures)} figures to {args.plot}")
    if args.report is not None:
        _report(args.report, res, paper_table(res, unit=unit), figures, args, comparison, qc=qc, source=source)
        if not args.quiet:
            print(f"wrote {args.report}")


def _run_plate(args: argparse.Namespace) -> int:
    from . import assays
    from ._tables import fit_table, paper_table, summary_table
    from .models import _lookup_model

    _lookup_model(args.model)
    fixed = _fixed(args.fixed)
    _check_outputs(args)
    for what, path in (("layout", args.layout), ("export", args.export)):
        if not path.exists():
            raise _CliError(f"no such {what} file: {path}")
        if path.is_dir():
            raise _CliError(f"the {what} {path} is a folder; give a file.")
    layout = assays.read_layout(args.layout)
    export = assays.read_plate_export(args.export, names=args.names or None)
    plate = assays.tidy_plate(layout, export)
    readouts = list(export.readouts)
    signal = args.signal or readouts[0]
    for opt, name in (("--signal", signal), ("--reference", args.reference)):
        if name is not None and name not in readouts:
            from .fitting._result import _did_you_mean

            raise _CliError(f"{opt} {name!r} is not a readout of {args.export.name}; it has {readouts}."
                            f"{_did_you_mean(name, readouts)} Rename readouts with --names.")
    curves = assays.plate_curves(plate, signal=signal, reference=args.reference, control=args.control,
                                 blank=args.blank, normalize=args.normalize, exclude=args.exclude or None)
    by = list(curves.attrs["by"])
    res, _ = fit_table(curves, conc="conc", response="response", by=by, model=args.model, fixed=fixed or None)
    unit = args.unit or str(curves.attrs["conc_unit"])
    if args.unit is not None:
        from .units import _is_molar, parse_unit

        try:
            ok = _is_molar(parse_unit(args.unit, name="--unit"))
        except MtorPharmError as err:
            raise _CliError(str(err).replace("`--unit`", "--unit")) from None
        if not ok:
            raise _CliError(f"--unit must be a molar concentration unit such as nM; got {args.unit!r}.")
    table = paper_table(res, unit=unit, response_unit="%" if args.normalize == "percent" else None) \
        if args.paper else summary_table(res, unit=unit)
    _write_out(args, table, res)
    comparison = None
    if args.compare:
        from .compare import compare_potency

        a, b = (_label_of(res, s) for s in args.compare)
        comparison = compare_potency(curves, a, b, model=args.model, fixed=fixed or None)
        print("\n" + comparison.summary())
    if args.plot is not None or args.report is not None:
        qc = None
        roles = set(plate["role"].astype(str))
        high = args.control or ("vehicle" if "vehicle" in roles else None)
        low = args.blank or ("blank" if "blank" in roles else None)
        if high is not None and low is not None:
            qc_input = plate.copy()
            qc_input["_signal"] = qc_input[signal] - (qc_input[args.reference] if args.reference else 0.0)
            if args.exclude:
                qc_input = qc_input[~qc_input["well"].astype(str).str.upper().isin([w.upper() for w in args.exclude])]
            qc = assays.qc_table(assays.qc_plates(qc_input, signal="_signal", high=high, low=low))
        ylabel = "response (% of control)" if args.normalize == "percent" else signal
        figures = _figures(res, curves, "conc", "response", by, unit, ylabel=ylabel)
        _write_outputs(args, res, figures, unit, comparison, qc=qc, source=f"{args.layout.name} + {args.export.name}")
    return 0


def _label_of(res: FitResult, text: str) -> Any:
    """The curve label written as `text` on the command line (labels may be numbers)."""
    for lab in res.labels or ():
        if str(lab) == text:
            return lab
    from .fitting._result import _did_you_mean

    raise _CliError(f"--compare {text!r} is not a curve; curves are {[str(x) for x in res.labels or ()]}."
                    f"{_did_you_mean(text, [str(x) for x in res.labels or ()])}")


#: The library's advice is written as Python keywords; on the command line it names the options.
_KEYWORD_TO_OPTION = (
    (re.compile(r"fixed=\{'(\w+)': ([-+0-9.eE]+)\}"), r"--fixed \1=\2"),
    (re.compile(r"\bconc_log10=True\b"), "--conc-log10"),
    (re.compile(r"\b(conc_unit|model|unit)=(['\"])([^'\" ]*)\2"), lambda m: f"--{m[1].replace('_', '-')} {m[3]}"),
    (re.compile(r"\b(conc_unit|model|unit)=(['\"])([^'\"]*)\2"), lambda m: f'--{m[1].replace("_", "-")} "{m[3]}"'),
)


def _in_cli_words(message: str) -> str:
    """A library error message with its keyword advice (``conc_log10=True``, ``fixed={'hill': 1}``,
    ``model='4pl'``) given as the command line's options (``--conc-log10``, ``--fixed hill=1``)."""
    for pattern, option in _KEYWORD_TO_OPTION:
        message = pattern.sub(option, message)
    return message


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m mtor_pharm`` and the ``mtor-pharm`` script."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "fit":
            return _run_fit(args)
        if args.command == "plate":
            return _run_plate(args)
        from ._example import run_example
        from ._version import __version__

        table = run_example()
        print(f"mtor_pharm {__version__} - bundled example (SIMULATED data, not measurements)")
        print("4PL fits of MTT viability (% of vehicle); IC50 with 95 % Wald CI on log scale\n")
        _print_table(table)
        return 0
    except (MtorPharmError, ValueError, LookupError, TypeError, OSError) as err:
        msg = str(err.args[0] if isinstance(err, KeyError) and err.args else err)
        print(f"mtor_pharm: error: {msg if isinstance(err, _CliError) else _in_cli_words(msg)}", file=sys.stderr)
        return 2
    except Exception as err:  # last line of defence: never a traceback on the command line
        print(f"mtor_pharm: error: {type(err).__name__}: {err} (please report this input)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
