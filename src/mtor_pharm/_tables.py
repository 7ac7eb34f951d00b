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


def _batch_from_table(
    df: pd.DataFrame, conc: str, response: str, by: Sequence[str]
) -> tuple[list[tuple[Any, ...]], FloatArray, FloatArray]:
    """Pad each group's points into (G, m_max) arrays (NaN = padding)."""
    groups = list(df.groupby(list(by), sort=False)) if by else [((), df)]
    m = max(len(g) for _, g in groups)
    x = np.full((len(groups), m), np.nan)
    y = np.full((len(groups), m), np.nan)
    labels: list[tuple[Any, ...]] = []
    for i, (key, g) in enumerate(groups):
        labels.append(key if isinstance(key, tuple) else (key,))
        x[i, : len(g)] = g[conc].to_numpy(dtype=np.float64)
        y[i, : len(g)] = g[response].to_numpy(dtype=np.float64)
    return labels, x, y


def fit_table(
    df: pd.DataFrame,
    *,
    conc: str,
    response: str,
    by: Sequence[str] = (),
    conc_unit: str,
    model: str = "4pl",
    **kwargs: Any,
) -> tuple[FitResult, pd.MultiIndex | pd.Index]:
    """Fit one curve per group of a tidy table.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per well/point.
    conc, response : str
        Column names of concentrations and responses.
    by : sequence of str
        Columns identifying a curve (e.g. ``["compound", "cell_line"]``).
    conc_unit : str
        Unit of the concentration column.
    model : str
        Model family.

    Returns
    -------
    result : FitResult
        Batch shape ``(n_groups,)``.
    index : pandas.Index
        The group labels, in the order of the batch.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"drug": ["a"] * 4 + ["b"] * 4, "c": [0.01, 0.1, 1, 10] * 2,
    ...                    "v": [99, 80, 30, 5, 100, 95, 70, 20]})
    >>> res, index = mp.fit_table(df, conc="c", response="v", by=["drug"], conc_unit="uM")
    >>> list(index), res.shape
    (['a', 'b'], (2,))
    """
    missing = [c for c in (conc, response, *by) if c not in df.columns]
    if missing:
        raise KeyError(f"`df` has no column(s) {missing}; columns are {list(df.columns)}.")
    labels, x, y = _batch_from_table(df, conc, response, by)
    res = fit(x, y, conc_unit=conc_unit, model=model, **kwargs)
    import pandas as pd

    if len(by) > 1:
        index: pd.MultiIndex | pd.Index = pd.MultiIndex.from_tuples(labels, names=list(by))
    else:
        index = pd.Index([lab[0] for lab in labels], name=by[0] if by else None)
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
