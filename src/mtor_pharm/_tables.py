"""Tidy tables in, curve batches out: shared by the example runner and the command line."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ._typing import FloatArray
from ._validate import boolean
from .fitting import FitResult, fit

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["fit_table", "paper_table", "status_words", "summary_table", "write_table"]


def _did_you_mean(value: Any, options: Sequence[Any]) -> str:
    from .fitting._result import _did_you_mean as dym

    return dym(value, options)


def _check_columns(df: Any, wanted: dict[str, str], table: str = "df") -> None:
    """Every named column exists (with a did-you-mean), once; `table` is the caller's name for `df`."""
    cols = [str(c) for c in df.columns]
    for arg, col in wanted.items():
        if col not in df.columns:
            raise LookupError(
                f"`{arg}` must name a column of `{table}`; got {col!r}.{_did_you_mean(col, cols)} Columns are {cols}."
            )
        if cols.count(str(col)) > 1:
            raise ValueError(
                f"`{arg}` names column {col!r}, which `{table}` has {cols.count(str(col))} times; rename or drop "
                f"the duplicates (e.g. {table}.loc[:, ~{table}.columns.duplicated()])."
            )


def excluded_flags(df: pd.DataFrame, col: str) -> NDArray[np.bool_]:
    """The True/False column `col` of rows left out (as ``fit_table`` and the plots read it)."""
    flags = df[col]
    if not (flags.dtype == bool or flags.isin([True, False]).all()):
        raise TypeError(f"`excluded` column {col!r} must hold True/False per row; got {flags.dtype}.")
    return np.asarray(flags.to_numpy(dtype=bool))


def unit_column(df: pd.DataFrame) -> str | None:
    """The one unit of the table's ``conc_unit`` column (as the bundled example and the command
    line record it), ``None`` without such a column; several units are refused."""
    if "conc_unit" not in df.columns:
        return None
    units = sorted({str(u).strip() for u in df["conc_unit"].dropna() if str(u).strip()})
    if len(units) > 1:
        raise ValueError(
            f"the table's conc_unit column mixes units {units}; convert the concentrations to one unit first."
        )
    return units[0] if units else None


def _numeric_column(df: pd.DataFrame, col: str, arg: str) -> FloatArray:
    import pandas as pd

    values = df[col]
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        coerced = pd.to_numeric(values, errors="coerce")
        bad = values[coerced.isna() & values.notna()]
        if len(bad) or pd.api.types.is_bool_dtype(values):
            first = bad.iloc[0] if len(bad) else values.iloc[0]
            where = bad.index[0] if len(bad) else values.index[0]
            with_unit = isinstance(first, str) and re.match(r"^\s*[-+]?[0-9.]+(e[-+]?[0-9]+)?\s*[a-zA-Zµμ]", first)
            hint = (
                " It holds numbers with their unit as text: put the numbers in the column and give the unit "
                "with conc_unit= (or a conc_unit column)."
                if with_unit
                else " Is it a label column? Name the numeric column instead."
            )
            raise TypeError(f"`{arg}` column {col!r} must hold numbers; row {where!r} holds {first!r}.{hint}")
        values = coerced
    if np.iscomplexobj(values.to_numpy()):
        raise TypeError(f"`{arg}` column {col!r} must hold real numbers; got complex values.")
    out: FloatArray = values.to_numpy(dtype=np.float64)
    return out


def _empty_strings(keys: pd.Series) -> NDArray[np.bool_]:
    """True where `keys` holds a str that is empty or only blanks.  Vectorized: a column of numbers,
    dates or booleans is never checked, and a string, object or categorical column is checked once
    per distinct value (pandas' own ``.str`` methods call Python once per row)."""
    import pandas as pd

    dtype = keys.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        codes, distinct = keys.cat.codes.to_numpy(), pd.Series(dtype.categories, dtype=dtype.categories.dtype)
    elif pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        try:
            codes, uniques = pd.factorize(keys, use_na_sentinel=True)
        except TypeError:  # unhashable objects: check every row
            codes, uniques = np.arange(len(keys)), keys.array
        distinct = pd.Series(uniques, dtype=dtype)
    else:
        return np.zeros(len(keys), dtype=np.bool_)  # numbers, dates, booleans: never an empty string
    try:
        stripped = distinct.str.strip()
    except (AttributeError, TypeError):  # no str at all (pandas refuses .str then)
        return np.zeros(len(keys), dtype=np.bool_)
    # non-str objects (bytes, numbers in a mixed column) come back as NaN or as themselves, never ""
    empty = np.asarray(stripped.eq("").fillna(False).to_numpy(dtype=bool), dtype=np.bool_)
    out: NDArray[np.bool_] = np.zeros(len(keys), dtype=np.bool_)
    if empty.any():
        out = empty[codes] & (codes >= 0)
    return out


def _group_keys(df: pd.DataFrame, by: Sequence[str]) -> None:
    """Refuse missing or empty group keys (they would otherwise be dropped by groupby)."""
    for col in by:
        keys = df[col]
        missing = keys.isna().to_numpy() | _empty_strings(keys)
        if missing.any():
            rows = list(df.index[missing][:5])
            raise ValueError(
                f"`by` column {col!r} must name every curve; rows {rows}"
                f"{' …' if missing.sum() > 5 else ''} have a missing or empty key. Fill them in "
                "(e.g. df[col].fillna('vehicle')) or drop those rows."
            )


def _group_codes(df: pd.DataFrame, by: Sequence[str]) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
    """Per row: its curve (groups numbered in order of first appearance) and its place in the curve
    (rows in table order); and the row of each curve's first point."""
    if not by:
        n = len(df)
        return np.zeros(n, dtype=np.intp), np.arange(n, dtype=np.intp), np.zeros(min(n, 1), dtype=np.intp)
    gb = df.groupby(list(by), sort=False, dropna=False)
    codes = np.asarray(gb.ngroup().to_numpy(), dtype=np.intp)
    place = np.asarray(gb.cumcount().to_numpy(), dtype=np.intp)
    first = np.flatnonzero(place == 0)  # ascending rows = order of first appearance
    return codes, place, first


def _batch_from_table(
    df: pd.DataFrame, conc: str, response: str, by: Sequence[str], excluded: str | None = None
) -> tuple[list[tuple[Any, ...]], FloatArray, FloatArray]:
    """Pad each group's points into (G, m_max) arrays (NaN = padding), groups in order of appearance."""
    import pandas as pd

    x_all = _numeric_column(df, conc, "conc")
    y_all = _numeric_column(df, response, "response")
    if excluded is not None:
        y_all = np.where(excluded_flags(df, excluded), np.nan, y_all)
    codes, place, first = _group_codes(df, by)
    m = int(place.max()) + 1 if len(place) else 0
    x = np.full((len(first), m), np.nan)
    y = np.full((len(first), m), np.nan)
    x[codes, place] = x_all  # one scatter: row r goes to (its curve, its place in the curve)
    y[codes, place] = y_all
    labels: list[tuple[Any, ...]]
    if len(by) > 1:  # the key types groupby gives (Python scalars, Timestamps)
        labels = pd.MultiIndex.from_arrays([df[c].iloc[first] for c in by]).tolist()
    elif by:
        keys = df[by[0]]
        plain = isinstance(keys.dtype, np.dtype) and keys.dtype.kind not in "mM"
        if plain or (pd.api.types.is_string_dtype(keys.dtype) and not isinstance(keys.dtype, pd.CategoricalDtype)):
            labels = [(k,) for k in keys.to_numpy()[first]]  # numpy scalars / str, as groupby's keys
        else:  # dates, categories, nullable numbers: the array's own scalars (Timestamp …)
            labels = [(k,) for k in keys.array[first]]
    else:
        labels = [()] if len(df) else []
    return labels, x, y


_AT_INDEX = re.compile(r"at index \((\d+), (\d+)\)")


def _where(df: pd.DataFrame, by: Sequence[str], labels: Sequence[tuple[Any, ...]], g: int, j: int) -> str | None:
    """Point `j` of curve `g` of the batch as the table names it: ``row 17 of `df` (curve 'Torin1')``."""
    if not 0 <= g < len(labels):
        return None
    codes, place, _ = _group_codes(df, by)
    rows = np.flatnonzero((codes == g) & (place == j))
    if len(rows) != 1:
        return None
    label = labels[g][0] if len(by) == 1 else labels[g]
    return f"row {df.index[rows[0]]!r} of `df` ({f'curve {label!r}' if by else 'the curve'})"


def _name_the_row(message: str, df: pd.DataFrame, by: Sequence[str], labels: Sequence[tuple[Any, ...]]) -> str:
    """An engine message's batch index ``at index (curve, point)`` as the table's row and curve label."""
    match = _AT_INDEX.search(message)
    where = None if match is None else _where(df, by, labels, int(match[1]), int(match[2]))
    if match is None or where is None:
        return message
    return message[: match.start()] + f"in {where}" + message[match.end():]


def tidy_xy(
    table: pd.DataFrame,
    x: str,
    datasets: Mapping[str, Sequence[str]] | None = None,
    *,
    by: str = "compound",
) -> pd.DataFrame:
    """A GraphPad Prism XY table (one X column, replicate Y columns per data set) as tidy points.

    Prism keeps a dose-response experiment as an XY table: the X column (often log10 of the
    molar concentration) and, per data set, a group of replicate Y sub-columns.  Exported
    and read with pandas, the repeated data-set names come back as ``"Torin1"``,
    ``"Torin1.1"``, ``"Torin1.2"``; by default those are grouped back into one data set.
    The result is what :func:`fit_table` reads (with ``conc_log10=True, conc_unit="M"`` for
    Prism's log X).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per X value.
    x : str
        The X column, copied unchanged into ``conc`` (log10 stays log10).
    datasets : mapping of str to sequence of str, optional
        Data set name → its replicate Y columns.  Default: every other column, grouped by
        its name without pandas' ``.1``, ``.2`` … suffix for repeated names.
    by : str, default "compound"
        Name of the data-set column of the result.

    Returns
    -------
    pandas.DataFrame
        Columns `by`, ``conc``, ``replicate`` (1, 2, … in column order) and ``response``;
        one row per cell, an empty cell (NaN) kept as a missing point.

    Raises
    ------
    LookupError
        `x` or a column of `datasets` is not a column of `table`.
    ValueError
        A Y column in two data sets, or a table with no Y column.

    Examples
    --------
    >>> import pandas as pd
    >>> y = [100 / (1 + 10.0**lx / 20e-9) for lx in (-9, -8, -7)]  # a 4PL with IC50 20 nM, hill 1
    >>> prism = pd.DataFrame({"logM": [-9, -8, -7], "Torin1": y, "Torin1.1": y})
    >>> points = mp.tidy_xy(prism, x="logM")
    >>> points.columns.tolist(), len(points)
    (['compound', 'conc', 'replicate', 'response'], 6)
    >>> res, index = mp.fit_table(points, conc="conc", response="response", by="compound",
    ...                           conc_unit="M", conc_log10=True, fixed={"bottom": 0, "top": 100})
    >>> round(float(res.ic50.to("nM").magnitude[0]), 6)
    20.0
    """
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"`table` must be a pandas DataFrame (a Prism XY table); got {type(table).__name__}.")
    for arg, value in (("x", x), ("by", by)):
        if not isinstance(value, str):
            raise TypeError(f"`{arg}` must be a column name (str); got {value!r}.")
    _check_columns(table, {"x": x})
    if datasets is None:
        groups: dict[str, list[str]] = {}
        for col in table.columns:
            if col != x:
                groups.setdefault(re.sub(r"\.\d+$", "", str(col)), []).append(col)
    else:
        if not isinstance(datasets, Mapping):
            raise TypeError(f"`datasets` must map a data-set name to its Y columns; got {type(datasets).__name__}.")
        groups = {str(k): [v] if isinstance(v, str) else list(v) for k, v in datasets.items()}
        for name, cols in groups.items():
            _check_columns(table, {f"datasets[{name!r}]": c for c in cols})
        seen: dict[str, str] = {}
        for name, cols in groups.items():
            for c in cols:
                if c in seen:
                    raise ValueError(f"`datasets` puts column {c!r} in both {seen[c]!r} and {name!r}.")
                seen[c] = name
    if not any(groups.values()):
        raise ValueError(f"`table` has no Y column besides `x` ({x!r}); columns are {list(table.columns)}.")
    xs = _numeric_column(table, x, "x")
    parts = []
    for name, cols in groups.items():
        for rep, col in enumerate(cols, start=1):
            parts.append(pd.DataFrame({
                by: name, "conc": xs, "replicate": rep, "response": _numeric_column(table, col, "Y"),
            }))
    return pd.concat(parts, ignore_index=True)


def _attach_vehicle(df: pd.DataFrame, by: list[str], conc: str, vehicle: Any, conc_log10: bool) -> pd.DataFrame:
    """The table with the `vehicle` rows of the first `by` column copied into every curve that
    shares their other keys (as zero-dose points), and no curve of their own."""
    import pandas as pd

    if not by:
        raise ValueError("`vehicle` needs `by`: the vehicle rows are found by the first `by` column's value.")
    key, rest = by[0], by[1:]
    is_vehicle = (df[key] == vehicle).to_numpy()
    if not is_vehicle.any():
        values = [str(v) for v in pd.unique(df[key])]
        raise LookupError(
            f"`vehicle` {vehicle!r} is not a value of the `by` column {key!r}; it holds {values[:10]}"
            f"{' …' if len(values) > 10 else ''}.{_did_you_mean(vehicle, values)}"
        )
    veh, others = df[is_vehicle], df[~is_vehicle]
    if others.empty:
        raise ValueError(f"`df` holds only vehicle rows ({key} == {vehicle!r}): there is no curve to fit.")
    zero = -np.inf if conc_log10 else 0.0
    xs = _numeric_column(veh, conc, "conc")
    if np.any(xs != zero):
        bad = xs[xs != zero][0]
        raise ValueError(
            f"`vehicle` rows ({key} == {vehicle!r}) must have concentration {'-inf (log10 of 0)' if conc_log10 else 0}"
            f" in column {conc!r}: they are the zero-dose points of every curve; got {bad:g}."
        )
    curves = others[by].drop_duplicates()
    row = "__mtor_pharm_row__"  # each copy keeps its vehicle row's label, so messages name the caller's rows
    shared = veh.drop(columns=[key]).assign(**{row: veh.index})
    attached = shared.merge(curves, on=rest, how="inner") if rest else shared.merge(curves, how="cross")
    attached = attached.set_index(row).rename_axis(df.index.name)[list(df.columns)]
    out: pd.DataFrame = pd.concat([others, attached])
    out.attrs = dict(df.attrs)
    return out


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
    vehicle: Any = None,
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
        :func:`mtor_pharm.assays.plate_curves`), else the table's ``conc_unit``
        column when it holds one unit (as :func:`mtor_pharm.load_example` and the
        command line's tables do); required when the table records neither.
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
    vehicle : label, optional
        The value of the first `by` column that marks vehicle (control) rows shared by
        every curve, e.g. ``vehicle="DMSO"`` on a blot or plate whose vehicle lanes serve
        all compounds.  Those rows (concentration 0) join each curve as its zero-dose
        points: of every compound with the same other `by` keys (the same readout or
        cell line), so the top plateau is estimated from the controls inside each fit.
        They are not a curve of their own.  Default: none (a group of its own).
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
    if not isinstance(by, Sequence) or not all(isinstance(c, str) for c in by):
        raise TypeError(
            f"`by` must be a column name or a list of column names (e.g. by='compound'; by=[] for one curve); "
            f"got {by!r}."
        )
    by = list(by)
    for arg, value in (("conc", conc), ("response", response)):
        if not isinstance(value, str):
            raise TypeError(f"`{arg}` must be a column name (str); got {value!r}.")
    if excluded is None and "excluded" in df.columns:
        excluded = "excluded"
    wanted = {"conc": conc, "response": response, **{f"by[{i}]": c for i, c in enumerate(by)}}
    _check_columns(df, wanted if excluded is None else {**wanted, "excluded": excluded})
    if len(df) == 0:
        raise ValueError("`df` must have at least one row; got an empty table.")
    _group_keys(df, by)
    conc_log10 = boolean(conc_log10, "conc_log10")
    if vehicle is not None:
        df = _attach_vehicle(df, by, conc, vehicle, conc_log10)
    labels, x, y = _batch_from_table(df, conc, response, by, excluded)
    if conc_unit is None:
        conc_unit = df.attrs.get("conc_unit") or unit_column(df)
        if not conc_unit:
            raise ValueError(
                "`conc_unit` must be given: the table does not record the unit of its concentration "
                f"column {conc!r} (no df.attrs['conc_unit'], no conc_unit column). Pass e.g. conc_unit='nM'."
            )
    if conc_log10:
        with np.errstate(over="ignore", under="ignore"):
            x = np.power(10.0, x)
    elif np.any(x < 0):
        g, j = (int(i) for i in np.argwhere(x < 0)[0])
        where = _where(df, by, labels, g, j)
        raise ValueError(
            f"`conc` column {conc!r} must hold concentrations >= 0 (0 marks vehicle); got {x[g, j]:g}"
            f"{f' in {where}' if where else ''}. "
            f"If it holds log10 concentrations (Prism's X column), pass conc_log10=True with the unit "
            f"the log was taken in (e.g. conc_unit='M')."
        )
    try:
        res = fit(x, y, conc_unit=conc_unit, model=model, **kwargs)
    except ValueError as err:  # a bad point of one curve: name its row and curve, not the batch index
        text = str(err)
        named = _name_the_row(text, df, by, labels) if len(err.args) == 1 and err.args[0] == text else text
        if named == text:
            raise
        err.args = (named,)
        raise
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
    ``hill``, ``hill_stderr`` …, the family's other concentration parameters
    with their unit such as ``xmid [<unit>]``, ``xmid_stderr [<unit>]``, ``ic50_1 [<unit>]``,
    ``r_squared``, ``n``, ``status_name``); works for every model family; the
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

    if not isinstance(result, FitResult):
        raise TypeError(
            f"`result` must be a FitResult (from mp.fit or mp.fit_table); got {type(result).__name__}."
            + (" For a global fit, use its .to_dataframe()." if type(result).__name__ == "SharedFit" else "")
        )
    u = unit or result.conc_unit
    if index is None and len(result.shape) == 1 and result.labels is None:
        index = pd.RangeIndex(result.shape[0])
    table = result.to_dataframe(index, unit=u, level=level)
    lab = _unit_label(u)
    columns = [f"ic50 [{lab}]", f"ic50_ci_low [{lab}]", f"ic50_ci_high [{lab}]"]
    for name in result.param_names:  # by the family's kinds: concentrations carry the unit (#13)
        if name == "ic50":
            continue
        if name in result.family.conc_params:
            columns += [f"{name} [{lab}]", f"{name}_stderr [{lab}]"]
        else:
            columns += [name, f"{name}_stderr"]
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
    "INVALID_DATA": "invalid data",
}


def p_text(p: float) -> str:
    """A p-value as printed in a table (Prism's style): ``p = 0.0123``, ``p < 0.0001``, ``p > 0.9999``."""
    if not np.isfinite(p):
        return "p = NaN"
    if p < 1e-4:
        return "p < 0.0001"
    if p > 0.9999:
        return "p > 0.9999"
    return f"p = {p:.4f}"


def _is_integer(value: object) -> bool:
    """A Python or numpy integer, or a 0-d integer array (``res.status`` of one curve)."""
    if isinstance(value, int):
        return True
    return isinstance(value, np.ndarray | np.generic) and np.ndim(value) == 0 and np.issubdtype(value.dtype, np.integer)


def status_words(code: int) -> str:
    """The status bits of one curve in words, e.g. ``"ambiguous; IC50 extrapolated"`` (``"OK"`` for 0).

    Examples
    --------
    >>> mp.status_words(int(mp.FitStatus.AMBIGUOUS | mp.FitStatus.IC50_OUTSIDE_RANGE))
    'IC50 extrapolated; ambiguous'
    """
    from .fitting import FitStatus

    known = int(sum(int(f) for f in FitStatus))
    if isinstance(code, bool) or not _is_integer(code) or not 0 <= int(code) <= known or int(code) & ~known:
        raise ValueError(
            f"`code` must be a status: an int made of FitStatus bits (0 to {known}, e.g. res.status[i]); got {code!r}."
        )
    code = int(code)
    if code == 0:
        return "OK"
    return "; ".join(_STATUS_WORDS.get(str(f.name), str(f.name)) for f in FitStatus if f and code & f)


def _sig(value: float, sig: int) -> str:
    """`value` with `sig` significant figures, in plain decimal notation (an exponent outside
    [1e-6, 1e9), e.g. ``"6.96e+25"``)."""
    v = float(value)
    if math.isnan(v):
        return "n.d."
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if v == 0:
        return "0"
    if not 1e-6 <= abs(v) < 1e9:  # runaway or vanishing estimates: an exponent, not 30 digits
        return f"{v:.{sig - 1}e}".replace("-", "−")
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
    dec = min(max(1 - math.floor(math.log10(se)), 0), 8)
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

    Works for every model family (:data:`mtor_pharm.models.MODELS`): the columns
    come from the family's parameter names and kinds
    (:attr:`~mtor_pharm.models.ModelFamily.kinds`).

    Parameters
    ----------
    result : FitResult
        A fit of any family (one curve or a 1-D batch; labelled results name the rows).
    unit : str, optional
        Concentration unit of the IC50 and of every concentration parameter
        (default the fit's).
    level : float, default 0.95
        Confidence level of the intervals.
    sig : int, default 3
        Significant figures of concentrations and their limits.
    response_unit : str, optional
        Unit shown with the plateaus (e.g. ``"%"``).

    Returns
    -------
    pandas.DataFrame
        Text columns, in this order:

        * ``IC50 [<unit>] (95% CI)`` — e.g. ``"20.9 (3.17–138)"``, the relative
          IC50 (half-way between the fitted plateaus) from the family's
          ``log_icx``: the ``ic50`` parameter of the log-logistic and log-normal
          families, derived from all parameters otherwise (biphasic, 5PL,
          Weibull, hormesis: on the falling branch); an unbounded limit as
          ``∞``, ``n.d.`` where undetermined; ``logIC50 ± SE`` — log10 of the
          IC50 in mol/L with its standard error (Prism's headline output);
          ``pIC50`` (−logIC50).  Omitted for a family without ``log_icx``.
        * one or two columns per parameter, in the family's order (``ic50``
          itself is the IC50 column): a concentration (kind ``"conc"``, e.g.
          ``xmid``, ``ic50_1``) as ``<name> [<unit>] (95% CI)`` with the interval
          on the log scale; a positive shape parameter (kind ``"log"``, ``s``)
          as ``<name> (95% CI)``, also on the log scale; the others as
          ``value ± SE``: plateaus as ``Bottom``, ``Top`` (with
          `response_unit`), a slope as ``Hill slope (drc b = mtor_pharm hill)``,
          positive for a falling curve, and ``HillSlope (Prism)``, its negative
          (``Hill slope 1 (drc b = mtor_pharm hill_1)`` … for the biphasic
          sites), fractions and linear coefficients under their names.  A
          fixed parameter shows its value and ``(fixed)``.
        * ``R²``; ``n`` (int); ``Status`` in words (see :func:`status_words`).

        ``attrs`` hold the unit, the level, the model and a ``notes`` sentence
        defining each column.  Export with :func:`write_table` (CSV, Markdown,
        HTML).

    Notes
    -----
    logIC50 and pIC50 need a molar unit; for a mass concentration they are
    ``n.d.``.  The SE of log10 IC50 is that of ``ln IC50`` (delta method, the
    log-scale SE the interval is built on) divided by ``ln 10``.  Intervals are
    Wald intervals with the t distribution on the residual degrees of freedom,
    as :meth:`FitResult.ci`.  Linear coefficients are on the scale of the fit
    (the Brain–Cousens ``f`` is a response per unit of the fit's concentration
    unit).

    Examples
    --------
    >>> conc = mp.Q_([0.01, 0.03, 0.1, 0.3, 1, 3, 10], "uM")
    >>> res = mp.fit(conc, [[99, 97, 88, 67, 36, 15, 5]]).with_labels(["Torin1"], names="compound")
    >>> row = mp.paper_table(res, unit="nM").loc["Torin1"]
    >>> row["IC50 [nM] (95% CI)"], row["pIC50"], row["Status"]
    ('567 (530–608)', '6.25', 'OK')
    >>> five = mp.fit(conc, [99, 97, 88, 67, 36, 15, 5], model="5pl")
    >>> list(mp.paper_table(five, unit="nM").columns)[:5]
    ['IC50 [nM] (95% CI)', 'logIC50 ± SE', 'pIC50', 'Bottom', 'Top']
    """
    import pandas as pd

    from .fitting._result import _label_index, _unit_label
    from .units import _registry

    if not isinstance(result, FitResult):
        raise TypeError(f"`result` must be a FitResult; got {type(result).__name__}.")
    if len(result.shape) > 1:
        raise ValueError(f"`result` must be one curve or a 1-D batch; got batch shape {result.shape}.")
    if isinstance(sig, bool) or not isinstance(sig, int) or not 1 <= sig <= 8:
        raise ValueError(f"`sig` must be an integer from 1 to 8; got {sig!r}.")
    if isinstance(level, bool) or not isinstance(level, int | float | np.floating) or not 0.0 < float(level) < 1.0:
        raise ValueError(f"`level` must be a number in (0, 1), e.g. 0.95; got {level!r}.")
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

    def flat(values: Any) -> FloatArray:
        arr = np.asarray(getattr(values, "magnitude", values), dtype=np.float64)
        out: FloatArray = np.broadcast_to(arr, res.shape).reshape(shape1)
        return out

    def with_ci(v: FloatArray, lo: FloatArray, hi: FloatArray, scale: float = 1.0) -> list[str]:
        return [f"{_sig(a * scale, sig)} ({_sig(b * scale, sig)}–{_sig(c * scale, sig)})"
                if math.isfinite(a) else "n.d." for a, b, c in zip(v, lo, hi, strict=True)]

    pct = f"{100 * level:g}%"
    ru = f" [{response_unit}]" if response_unit else ""
    lab = _unit_label(u)
    model = res.family
    undetermined = flat(res._undetermined())
    rows: dict[str, Any] = {}
    notes: list[str] = []
    try:  # the family's ICx (a family may leave log_icx undefined)
        _, se_icx = res.log_icx(50.0)
        has_icx = True
    except NotImplementedError:
        has_icx = False
    if has_icx:
        ic50 = flat(res.ic50)
        low, high = res.ci("ic50", level=level)
        se_ln = flat(se_icx if se_icx is not None else np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_ic50 = np.log10(ic50 * to_molar)
            log_se = se_ln / math.log(10.0)
        rows[f"IC50 [{lab}] ({pct} CI)"] = with_ci(ic50, flat(low), flat(high), factor)
        rows["logIC50 ± SE"] = [_value_se(lg, s) for lg, s in zip(log_ic50, log_se, strict=True)]
        rows["pIC50"] = [_decimals(-lg, 2) for lg in log_ic50]
        derived = "ic50" not in res.param_names
        notes.append(
            f"IC50: relative IC50 in {u}, the concentration half-way between the fitted plateaus"
            + (" (derived from all the parameters of the curve)" if derived else "")
            + f", with its {pct} Wald interval on the log scale (t on the residual dof); "
            "logIC50: log10 of the IC50 in mol/L ± its standard error; pIC50 = −logIC50"
        )
    for name, kind in zip(res.param_names, model.kinds, strict=True):
        if name == "ic50" and has_icx:
            continue  # the IC50 column
        value = flat(res.params[name])
        se = flat(res.stderr[name])
        scale = factor if kind == "conc" else 1.0
        if kind == "conc":
            header = f"{name} [{lab}] ({pct} CI)"
        elif kind == "log":
            header = f"{name} ({pct} CI)"
        elif kind == "plateau":
            header = f"{name.capitalize()}{ru}"
        elif kind == "slope":
            suffix = name[4:].lstrip("_") if name.startswith("hill") else name
            header = f"Hill slope{' ' + suffix if suffix else ''} (drc b = mtor_pharm {name})"
        else:
            header = name
        if name in res.fixed:
            rows[header] = [f"{_sig(v * scale, sig)} (fixed)" for v in value]
            if kind == "slope":  # Prism's standard slope is exactly the case a Prism user looks for
                rows[f"HillSlope{' ' + suffix if suffix else ''} (Prism)"] = [
                    f"{_sig(-v, sig)} (fixed)".replace("-", "−") for v in value
                ]
            continue
        if kind in ("conc", "log"):
            lo, hi = res.ci(name, level=level)
            shown = np.where(undetermined, np.nan, value) if kind == "conc" else value
            rows[header] = with_ci(shown, flat(lo), flat(hi), scale)
        else:
            rows[header] = [_value_se(v, s) for v, s in zip(value, se, strict=True)]
        if kind == "slope":
            prism = f"HillSlope{' ' + suffix if suffix else ''} (Prism)"
            rows[prism] = [_value_se(-v, s) for v, s in zip(value, se, strict=True)]
    notes.append(
        f"concentration parameters in {u} with their {pct} Wald interval on the log scale; other parameters "
        "± standard error (linear coefficients on the scale of the fit); Hill slope: mtor_pharm's hill = drc's b, "
        "positive for a falling curve; Prism's HillSlope = −hill"
    )
    rows["R²"] = [_decimals(r, 3) for r in flat(res.r_squared)]
    rows["n"] = np.asarray(res.n).reshape(shape1).astype(np.int64)
    rows["Status"] = [status_words(int(c)) for c in np.asarray(res.status).reshape(shape1)]
    notes.append("R² = 1 − RSS/TSS; n = points fitted; n.d. = not determined")
    index: pd.Index = (
        _label_index(res.labels, res.label_names) if res.labels is not None else pd.RangeIndex(shape1[0])
    )
    table = pd.DataFrame(rows, index=index)
    table.attrs = {
        "conc_unit": u,
        "confidence_level": level,
        "model": res.model,
        "notes": "; ".join(notes) + ".",
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
    """Write a table (e.g. :func:`paper_table`) as CSV, TSV, Markdown, HTML or Excel.

    Parameters
    ----------
    table : pandas.DataFrame
    path : str or path
        Destination; the suffix picks the format (``.csv``, ``.tsv``, ``.md``, ``.html``,
        ``.xlsx`` with openpyxl installed, e.g. ``pip install mtor_pharm[excel]``).
    format : {"csv", "tsv", "markdown", "html", "excel"}, optional
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
    if not isinstance(path, str | os.PathLike) or not str(path):
        raise TypeError(f"`path` must be a file name (str or path); got {path!r}.")
    out = Path(path)
    if not out.parent.is_dir():
        raise ValueError(f"`path` must be in a folder that exists; {str(out.parent)!r} does not (create it first).")
    if out.is_dir():
        raise ValueError(f"`path` must be a file name; {str(out)!r} is a folder.")
    kinds = {
        ".csv": "csv", ".tsv": "tsv", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
        ".xlsx": "excel",
    }
    kind = format or kinds.get(out.suffix.lower())
    if kind not in ("csv", "tsv", "markdown", "html", "excel"):
        raise ValueError(
            f"`path` must end in .csv, .tsv, .md, .html or .xlsx (or pass format=); got {str(path)!r}"
            + (f" with format={format!r}." if format else ".")
        )
    show_index = not isinstance(table.index, pd.RangeIndex)
    if kind == "excel":
        import importlib.util

        if importlib.util.find_spec("openpyxl") is None:
            raise ImportError("Writing .xlsx needs openpyxl: pip install openpyxl (or mtor_pharm[excel]).")
        table.to_excel(out, index=show_index)
    elif kind == "csv":
        table.to_csv(out, index=show_index, encoding="utf-8")
    elif kind == "tsv":
        table.to_csv(out, sep="\t", index=show_index, encoding="utf-8")
    elif kind == "markdown":
        out.write_text(_markdown(table), encoding="utf-8")
    else:
        out.write_text(table.to_html(index=show_index, border=0, na_rep="n.d."), encoding="utf-8")
    return out
