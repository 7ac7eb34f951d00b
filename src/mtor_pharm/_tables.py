"""Tidy tables in, curve batches out: shared by the example runner and the command line."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._typing import FloatArray
from .fitting import FitResult, fit

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["fit_table", "paper_table", "status_words", "summary_table", "write_table"]


def _did_you_mean(value: Any, options: Sequence[Any]) -> str:
    from .fitting._result import _did_you_mean as dym

    return dym(value, options)


def _check_columns(df: Any, wanted: dict[str, str]) -> None:
    """Every named column exists (with a did-you-mean)."""
    cols = [str(c) for c in df.columns]
    for arg, col in wanted.items():
        if col not in df.columns:
            raise LookupError(
                f"`{arg}` must name a column of `df`; got {col!r}.{_did_you_mean(col, cols)} Columns are {cols}."
            )


def _numeric_column(df: pd.DataFrame, col: str, arg: str) -> FloatArray:
    import pandas as pd

    values = df[col]
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        coerced = pd.to_numeric(values, errors="coerce")
        bad = values[coerced.isna() & values.notna()]
        if len(bad) or pd.api.types.is_bool_dtype(values):
            first = bad.iloc[0] if len(bad) else values.iloc[0]
            where = bad.index[0] if len(bad) else values.index[0]
            raise TypeError(
                f"`{arg}` column {col!r} must hold numbers; row {where!r} holds {first!r}. "
                "Is it a label column? Name the numeric column instead."
            )
        values = coerced
    if np.iscomplexobj(values.to_numpy()):
        raise TypeError(f"`{arg}` column {col!r} must hold real numbers; got complex values.")
    out: FloatArray = values.to_numpy(dtype=np.float64)
    return out


def _group_keys(df: pd.DataFrame, by: Sequence[str]) -> None:
    """Refuse missing or empty group keys (they would otherwise be dropped by groupby)."""
    for col in by:
        keys = df[col]
        missing = keys.isna().to_numpy() | keys.map(lambda v: isinstance(v, str) and not v.strip()).to_numpy()
        if missing.any():
            rows = list(df.index[missing][:5])
            raise ValueError(
                f"`by` column {col!r} must name every curve; rows {rows}"
                f"{' …' if missing.sum() > 5 else ''} have a missing or empty key. Fill them in "
                "(e.g. df[col].fillna('vehicle')) or drop those rows."
            )


def _batch_from_table(
    df: pd.DataFrame, conc: str, response: str, by: Sequence[str], excluded: str | None = None
) -> tuple[list[tuple[Any, ...]], FloatArray, FloatArray]:
    """Pad each group's points into (G, m_max) arrays (NaN = padding), groups in order of appearance."""
    x_all = _numeric_column(df, conc, "conc")
    y_all = _numeric_column(df, response, "response")
    if excluded is not None:
        flags = df[excluded]
        if not (flags.dtype == bool or flags.isin([True, False]).all()):
            raise TypeError(f"`excluded` column {excluded!r} must hold True/False per row; got {flags.dtype}.")
        y_all = np.where(flags.to_numpy(dtype=bool), np.nan, y_all)
    if by:
        groups = list(df.groupby(list(by), sort=False, dropna=False).indices.items())
    else:
        groups = [((), np.arange(len(df)))]
    m = max((len(rows) for _, rows in groups), default=0)
    x = np.full((len(groups), m), np.nan)
    y = np.full((len(groups), m), np.nan)
    labels: list[tuple[Any, ...]] = []
    for i, (key, rows) in enumerate(groups):
        labels.append(key if isinstance(key, tuple) else (key,))
        x[i, : len(rows)] = x_all[rows]
        y[i, : len(rows)] = y_all[rows]
    return labels, x, y


def fit_table(
    df: pd.DataFrame,
    *,
    conc: str,
    response: str,
    by: Sequence[str] | str = (),
    conc_unit: str | None = None,
    model: str = "4pl",
    excluded: str | None = None,
    conc_log10: bool = False,
    **kwargs: Any,
) -> tuple[FitResult, pd.MultiIndex | pd.Index]:
    """Fit one curve per group of a tidy table.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per well/point.
    conc, response : str
        Column names of concentrations and responses (numeric columns).
    by : str or sequence of str
        Columns identifying a curve (e.g. ``["compound", "cell_line"]``).  Curves
        are labelled by these keys in the order they first appear (never
        sorted); a missing or empty key is refused.  Empty: the whole table is
        one curve.
    conc_unit : str, optional
        Unit of the concentration column.  Default: ``df.attrs["conc_unit"]``
        (set by :func:`mtor_pharm.assays.tidy_plate` and
        :func:`mtor_pharm.assays.plate_curves`); required when the table does not
        record it.
    model : str
        Model family (or a Prism name such as ``"variable slope"``).
    excluded : str, optional
        A boolean column whose True rows are left out of the fit (kept in the
        table, not counted in ``n``).  Default: the ``excluded`` column when the
        table has one (as :func:`mtor_pharm.assays.plate_curves` writes it).
    conc_log10 : bool, default False
        The `conc` column holds ``log10`` of the concentration in `conc_unit`
        (GraphPad Prism's X column: ``conc_unit="M"``, values such as ``-7.5``).
        Never guessed: without it a negative concentration is refused with this hint.
    **kwargs
        Passed to :func:`mtor_pharm.fit` (``fixed=``, ``bounds=``, ``weights=`` …).

    Returns
    -------
    result : FitResult
        Batch shape ``(n_groups,)``, labelled by the group keys
        (``result["Torin1"]``; tuples for several `by` columns).
    index : pandas.Index
        The group labels, in the order of the batch.

    Raises
    ------
    TypeError
        `df` is not a DataFrame, or `conc`/`response` name non-numeric columns.
    LookupError
        A column that `df` does not have (with the closest names).
    ValueError
        Missing or empty group keys; no concentration unit.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"drug": ["b"] * 4 + ["a"] * 4, "c": [0.01, 0.1, 1, 10] * 2,
    ...                    "v": [99, 80, 30, 5, 100, 95, 70, 20]})
    >>> res, index = mp.fit_table(df, conc="c", response="v", by="drug", conc_unit="uM")
    >>> list(index), res.shape, res["a"].label
    (['b', 'a'], (2,), 'a')
    """
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"`df` must be a pandas DataFrame (one row per point); got {type(df).__name__}.")
    if isinstance(by, str):
        by = [by]
    by = list(by)
    for arg, value in (("conc", conc), ("response", response)):
        if not isinstance(value, str):
            raise TypeError(f"`{arg}` must be a column name (str); got {value!r}.")
    if excluded is None and "excluded" in df.columns:
        excluded = "excluded"
    wanted = {"conc": conc, "response": response, **{f"by[{i}]": c for i, c in enumerate(by)}}
    _check_columns(df, wanted if excluded is None else {**wanted, "excluded": excluded})
    if conc_unit is None:
        conc_unit = df.attrs.get("conc_unit")
        if not conc_unit:
            raise ValueError(
                "`conc_unit` must be given: the table does not record the unit of its concentration "
                f"column {conc!r} (no df.attrs['conc_unit']). Pass e.g. conc_unit='nM'."
            )
    if len(df) == 0:
        raise ValueError("`df` must have at least one row; got an empty table.")
    _group_keys(df, by)
    if not isinstance(conc_log10, bool):
        raise TypeError(f"`conc_log10` must be True or False; got {conc_log10!r}.")
    labels, x, y = _batch_from_table(df, conc, response, by, excluded)
    if conc_log10:
        with np.errstate(over="ignore", under="ignore"):
            x = np.power(10.0, x)
    elif np.any(x < 0):
        raise ValueError(
            f"`conc` column {conc!r} must hold concentrations >= 0 (0 marks vehicle); got {np.nanmin(x):g}. "
            f"If it holds log10 concentrations (Prism's X column), pass conc_log10=True with the unit "
            f"the log was taken in (e.g. conc_unit='M')."
        )
    res = fit(x, y, conc_unit=conc_unit, model=model, **kwargs)
    if len(by) > 1:
        index: pd.MultiIndex | pd.Index = pd.MultiIndex.from_tuples(labels, names=by)
        res = res.with_labels(list(labels), names=by)
    elif by:
        index = pd.Index([lab[0] for lab in labels], name=by[0])
        res = res.with_labels([lab[0] for lab in labels], names=by)
    else:
        index = pd.RangeIndex(len(labels))
    return res, index


def summary_table(
    result: FitResult, index: pd.Index | None = None, *, unit: str | None = None, level: float = 0.95
) -> pd.DataFrame:
    """One row per curve: IC50 with its confidence interval, the other parameters, R², n and the status.

    A selection of :meth:`FitResult.to_dataframe` with *the same column names*
    (``ic50 [<unit>]``, ``ic50_ci_low [<unit>]``, ``ic50_ci_high [<unit>]``,
    ``hill``, ``hill_stderr`` …, ``r_squared``, ``n``, ``status_name``); the
    command line prints it.  :func:`paper_table` formats the same numbers for a
    publication.

    .. versionchanged:: 0.2.0
       Columns renamed to those of ``to_dataframe`` (``ic50_low`` → ``ic50_ci_low``,
       ``status`` → ``status_name``); ``r_squared`` added.

    Examples
    --------
    >>> y = [[99, 97, 88, 67, 36, 15, 5], [100, 99, 95, 85, 62, 35, 20]]
    >>> res = mp.fit(mp.Q_(np.geomspace(0.01, 10, 7), "uM"), y)
    >>> list(mp.summary_table(res).columns)[:3]
    ['ic50 [uM]', 'ic50_ci_low [uM]', 'ic50_ci_high [uM]']
    """
    import pandas as pd

    from .fitting._result import _unit_label

    u = unit or result.conc_unit
    if index is None and len(result.shape) == 1 and result.labels is None:
        index = pd.RangeIndex(result.shape[0])
    table = result.to_dataframe(index, unit=u, level=level)
    lab = _unit_label(u)
    columns = [f"ic50 [{lab}]", f"ic50_ci_low [{lab}]", f"ic50_ci_high [{lab}]"]
    conc = result._model.conc_params  # concentration columns carry their unit, as in to_dataframe
    for name in result.param_names:
        if name not in ("ic50", "xmid"):
            columns += [f"{name} [{lab}]", f"{name}_stderr [{lab}]"] if name in conc else [name, f"{name}_stderr"]
    columns += ["r_squared", "n", "status_name"]
    return table[columns]


# ---------------------------------------------------------------------- paper table
#: Short words per status bit, for tables read by people.
_STATUS_WORDS = {
    "NOT_CONVERGED": "not converged",
    "AT_BOUND": "parameter at bound",
    "FLAT_RESPONSE": "no response (flat)",
    "IC50_OUTSIDE_RANGE": "IC50 extrapolated",
    "TOO_FEW_POINTS": "too few points",
    "PLATE_QC_FAILED": "plate failed QC",
    "AMBIGUOUS": "ambiguous",
}


def status_words(code: int) -> str:
    """The status bits of one curve in words, e.g. ``"ambiguous; IC50 extrapolated"`` (``"OK"`` for 0).

    Examples
    --------
    >>> mp.status_words(int(mp.FitStatus.AMBIGUOUS | mp.FitStatus.IC50_OUTSIDE_RANGE))
    'IC50 extrapolated; ambiguous'
    """
    from .fitting import FitStatus

    code = int(code)
    if code == 0:
        return "OK"
    return "; ".join(_STATUS_WORDS.get(str(f.name), str(f.name)) for f in FitStatus if f and code & f)


def _sig(value: float, sig: int) -> str:
    """`value` with `sig` significant figures, in plain decimal notation (no exponent)."""
    v = float(value)
    if math.isnan(v):
        return "n.d."
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if v == 0:
        return "0"
    digits = max(sig - 1 - math.floor(math.log10(abs(v))), 0)
    text = f"{round(v, digits):.{digits}f}"
    return text.replace("-", "−")


def _decimals(value: float, decimals: int) -> str:
    v = float(value)
    if not math.isfinite(v):
        return "n.d."
    return f"{v:.{decimals}f}".replace("-", "−")


def _value_se(value: float, se: float) -> str:
    """``value ± se`` with the SE to 2 significant figures and the value to the same decimal place."""
    if not math.isfinite(value):
        return "n.d."
    if not (math.isfinite(se) and se > 0):
        return f"{_decimals(value, 2)} ± n.d."
    dec = min(max(1 - math.floor(math.log10(se)), 2), 8)
    return f"{_decimals(value, dec)} ± {_decimals(se, dec)}"


def paper_table(
    result: FitResult,
    *,
    unit: str | None = None,
    level: float = 0.95,
    sig: int = 3,
    response_unit: str | None = None,
) -> pd.DataFrame:
    """A table for a paper: one row per curve, formatted as a pharmacologist reports it.

    Parameters
    ----------
    result : FitResult
        A 4PL-family fit (one curve or a 1-D batch; labelled results name the rows).
    unit : str, optional
        Concentration unit of the IC50 column (default the fit's).
    level : float, default 0.95
        Confidence level of the IC50 interval.
    sig : int, default 3
        Significant figures of IC50, its limits, bottom and top.
    response_unit : str, optional
        Unit shown with bottom and top (e.g. ``"%"``).

    Returns
    -------
    pandas.DataFrame
        Text columns: ``IC50 [<unit>] (95% CI)`` — e.g. ``"20.9 (3.17–138)"``, an
        unbounded limit as ``∞``, ``n.d.`` where undetermined; ``logIC50 ± SE`` —
        log10 of the IC50 in mol/L with its standard error (Prism's headline
        output); ``pIC50`` (−logIC50); ``Hill slope (drc b = mtor_pharm hill)``,
        positive for a falling curve; ``HillSlope (Prism)``, its negative;
        ``Bottom``, ``Top``; ``R²``; ``n`` (int); ``Status`` in words (see
        :func:`status_words`).  ``attrs`` hold the unit, the level and a
        ``notes`` sentence defining each column.  Export with
        :func:`write_table` (CSV, Markdown, HTML).

    Notes
    -----
    logIC50 and pIC50 need a molar unit; for a mass concentration they are
    ``n.d.``.  The SE of log10 IC50 is ``se(IC50) / (IC50 ln 10)`` (delta method,
    the log-scale SE the interval is built on).

    Examples
    --------
    >>> conc = mp.Q_([0.01, 0.03, 0.1, 0.3, 1, 3, 10], "uM")
    >>> res = mp.fit(conc, [[99, 97, 88, 67, 36, 15, 5]]).with_labels(["Torin1"], names="compound")
    >>> row = mp.paper_table(res, unit="nM").loc["Torin1"]
    >>> row["IC50 [nM] (95% CI)"], row["pIC50"], row["Status"]
    ('567 (530–608)', '6.25', 'OK')
    """
    import pandas as pd

    from .units import _registry

    if not isinstance(result, FitResult):
        raise TypeError(f"`result` must be a FitResult; got {type(result).__name__}.")
    if "ic50" not in result.param_names:
        raise ValueError(f"`result` must be a 4PL-family fit (with an 'ic50'); got model {result.model!r}.")
    if len(result.shape) > 1:
        raise ValueError(f"`result` must be one curve or a 1-D batch; got batch shape {result.shape}.")
    if isinstance(sig, bool) or not isinstance(sig, int) or not 1 <= sig <= 8:
        raise ValueError(f"`sig` must be an integer from 1 to 8; got {sig!r}.")
    res = result
    u = unit or res.conc_unit
    reg = _registry()
    try:
        factor = float(reg.Quantity(1.0, res.conc_unit).to(u).magnitude)
    except Exception as err:  # pint's undefined-unit or dimensionality errors
        from .errors import UnitError

        raise UnitError(f"`unit` must be a concentration unit like the fit's ({res.conc_unit}); got {u!r}.") from err
    try:
        to_molar = float(reg.Quantity(1.0, res.conc_unit).to("molar").magnitude)
    except Exception:
        to_molar = float("nan")
    shape1 = (1,) if not res.shape else res.shape
    ic50 = np.asarray(res.ic50.magnitude, dtype=np.float64).reshape(shape1)
    low, high = res.ci("ic50", level=level)
    low_v = np.asarray(low.magnitude, dtype=np.float64).reshape(shape1)
    high_v = np.asarray(high.magnitude, dtype=np.float64).reshape(shape1)
    se = np.asarray(res.stderr["ic50"], dtype=np.float64).reshape(shape1)
    hill = np.asarray(res.params["hill"], dtype=np.float64).reshape(shape1)
    bottom = np.asarray(res.params["bottom"], dtype=np.float64).reshape(shape1)
    top = np.asarray(res.params["top"], dtype=np.float64).reshape(shape1)
    r2 = np.asarray(res.r_squared, dtype=np.float64).reshape(shape1)
    n = np.asarray(res.n).reshape(shape1)
    status = np.asarray(res.status).reshape(shape1)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ic50 = np.log10(ic50 * to_molar)
        log_se = se / (ic50 * math.log(10.0))
    pct = f"{100 * level:g}%"
    ru = f" [{response_unit}]" if response_unit else ""
    from .fitting._result import _unit_label

    ic_col = f"IC50 [{_unit_label(u)}] ({pct} CI)"
    rows = {
        ic_col: [f"{_sig(v * factor, sig)} ({_sig(a * factor, sig)}–{_sig(b * factor, sig)})"
                 if math.isfinite(v) else "n.d." for v, a, b in zip(ic50, low_v, high_v, strict=True)],
        "logIC50 ± SE": [_value_se(lg, s) for lg, s in zip(log_ic50, log_se, strict=True)],
        "pIC50": [_decimals(-lg, 2) for lg in log_ic50],
        "Hill slope (drc b = mtor_pharm hill)": [_decimals(h, 2) for h in hill],
        "HillSlope (Prism)": [_decimals(-h, 2) for h in hill],
        f"Bottom{ru}": [_sig(b, sig) for b in bottom],
        f"Top{ru}": [_sig(t, sig) for t in top],
        "R²": [_decimals(r, 3) for r in r2],
        "n": n.astype(np.int64),
        "Status": [status_words(int(c)) for c in status],
    }
    if res.labels is not None:
        from .fitting._result import _label_index

        index: pd.Index = _label_index(res.labels, res.label_names)
    else:
        index = pd.RangeIndex(shape1[0])
    table = pd.DataFrame(rows, index=index)
    table.attrs = {
        "conc_unit": u,
        "confidence_level": level,
        "model": res.model,
        "notes": (
            f"IC50: relative IC50 in {u} with its {pct} Wald interval on the log scale (t on the residual dof); "
            "logIC50: log10 of the IC50 in mol/L ± its standard error; pIC50 = −logIC50; "
            "Hill slope: mtor_pharm's hill = drc's b, positive for a falling curve; Prism's HillSlope = −hill; "
            "R² = 1 − RSS/TSS; n = points fitted; n.d. = not determined."
        ),
    }
    return table


def _markdown(table: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (index included when named or labelled)."""
    show_index = not isinstance(table.index, __import__("pandas").RangeIndex)
    names = [str(n) for n in table.index.names if n is not None] if show_index else []
    head = (names or ([""] if show_index else [])) + [str(c) for c in table.columns]

    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for key, row in zip(table.index, table.itertuples(index=False), strict=True):
        first = list(key) if isinstance(key, tuple) else [key]
        lines.append("| " + " | ".join(cell(v) for v in ([*first] if show_index else []) + list(row)) + " |")
    return "\n".join(lines) + "\n"


def write_table(table: pd.DataFrame, path: str | os.PathLike[str], *, format: str | None = None) -> Path:
    """Write a table (e.g. :func:`paper_table`) as CSV, TSV, Markdown or HTML.

    Parameters
    ----------
    table : pandas.DataFrame
    path : str or path
        Destination; the suffix picks the format (``.csv``, ``.tsv``, ``.md``, ``.html``).
    format : {"csv", "tsv", "markdown", "html"}, optional
        Overrides the suffix.

    Returns
    -------
    pathlib.Path
        The path written (UTF-8).

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> out = mp.write_table(pd.DataFrame({"IC50": ["20.9 (3.17–138)"]}), pathlib.Path(tempfile.mkdtemp()) / "t.md")
    >>> out.read_text(encoding="utf-8").splitlines()[0]
    '| IC50 |'
    """
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"`table` must be a pandas DataFrame; got {type(table).__name__}.")
    out = Path(path)
    kinds = {".csv": "csv", ".tsv": "tsv", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}
    kind = format or kinds.get(out.suffix.lower())
    if kind not in ("csv", "tsv", "markdown", "html"):
        raise ValueError(
            f"`path` must end in .csv, .tsv, .md or .html (or pass format=); got {str(path)!r}"
            + (f" with format={format!r}." if format else ".")
        )
    show_index = not isinstance(table.index, pd.RangeIndex)
    if kind == "csv":
        table.to_csv(out, index=show_index, encoding="utf-8")
    elif kind == "tsv":
        table.to_csv(out, sep="\t", index=show_index, encoding="utf-8")
    elif kind == "markdown":
        out.write_text(_markdown(table), encoding="utf-8")
    else:
        out.write_text(table.to_html(index=show_index, border=0, na_rep="n.d."), encoding="utf-8")
    return out
