"""Tidy tables in, curve batches out: shared by the example runner and the command line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._typing import FloatArray
from .fitting import FitResult, fit

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["fit_table", "summary_table"]


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
    labels, x, y = _batch_from_table(df, conc, response, by, excluded)
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
    """One row per curve: IC50 with its confidence interval, the other parameters, and the status.

    A selection of :meth:`FitResult.to_dataframe` for people to read.

    Examples
    --------
    >>> res = mp.fit(mp.Q_([0.01, 0.1, 1, 10], "uM"), [[99, 80, 30, 5], [100, 95, 70, 20]])
    >>> list(mp.summary_table(res).columns)[:3]
    ['ic50 [micromolar]', 'ic50_low [micromolar]', 'ic50_high [micromolar]']
    """
    import pandas as pd

    u = unit or result.conc_unit
    if index is None and len(result.shape) == 1:
        index = pd.RangeIndex(result.shape[0])
    table = result.to_dataframe(index, unit=u, level=level)
    columns = {
        f"ic50 [{u}]": f"ic50 [{u}]",
        f"ic50_ci_low [{u}]": f"ic50_low [{u}]",
        f"ic50_ci_high [{u}]": f"ic50_high [{u}]",
    }
    for name in result.param_names:
        if name not in ("ic50", "xmid"):
            columns[name] = name
            columns[f"{name}_stderr"] = f"{name}_stderr"
    columns["n"] = "n"
    columns["status_name"] = "status"
    return table[list(columns)].rename(columns=columns)
