"""Plate layouts whose wells can hold two compounds, and their tidy tables as checkerboards."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = ["read_layout"]


def read_layout(
    source: Any,
    *,
    plate_format: int | None = None,
    conc_unit: str | None = None,
    kind: Literal["csv", "toml"] | None = None,
) -> pd.DataFrame:
    """Read a plate layout with combination wells (a second compound per well).

    The format is that of :func:`mtor_pharm.assays.read_layout` (CSV or TOML) with three
    optional columns (keys): ``compound_b``, ``conc_b`` and ``conc_unit_b`` (default: the
    well's ``conc_unit``).  A combination well is a ``sample`` with both compounds; a
    single-agent well names one compound (in ``compound``/``conc``); vehicle wells have
    none.  Which drug is A and which B is set by the combination wells.

    Parameters
    ----------
    source : path, text stream or importlib.resources file
    plate_format, conc_unit, kind
        As for :func:`mtor_pharm.assays.read_layout`; `conc_unit` applies to both compounds.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`mtor_pharm.assays.read_layout` plus ``compound_b`` (``""``
        when none) and ``conc_b`` (NaN when none), in the layout's `conc_unit`.  Pass it
        to :func:`mtor_pharm.assays.tidy_plate` to join the readings, then to
        :meth:`DoseMatrix.from_plate`.

    Raises
    ------
    PlateLayoutError
        Everything :func:`mtor_pharm.assays.read_layout` rejects (including a file that
        lists no wells), plus a second compound
        without a concentration (or the reverse) or outside a ``sample`` well.

    Examples
    --------
    >>> import io
    >>> text = ("well,role,compound,conc,conc_unit,compound_b,conc_b\\n"
    ...         "A1,vehicle,,0,nM,,\\nA2,sample,Torin1,10,nM,,\\nA3,sample,,,,BKM120,0.5\\n"
    ...         "A4,sample,Torin1,10,nM,BKM120,500\\n")
    >>> lay = mp.combination.read_layout(io.StringIO(text), conc_unit="nM")
    >>> lay.loc[lay.well == "A4", ["compound", "conc", "compound_b", "conc_b"]].to_dict("records")
    [{'compound': 'Torin1', 'conc': 10.0, 'compound_b': 'BKM120', 'conc_b': 500.0}]
    """
    from .._validate import choice
    from ..assays import plates as _plates  # the assays subpackage loads on first use only
    from ..assays._common import unit_factor
    from ..errors import PlateLayoutError

    if kind is not None:
        choice(kind, "kind", ("csv", "toml"))
    rows, meta, name = _plates._layout_rows(source, kind)  # refuses a file that lists no wells
    # a well holding only compound B is a single-agent well of that compound: move it to `compound`
    base_rows = []
    for row in rows:
        r = dict(row)
        if _plates._blank(r.get("compound")) and not _plates._blank(r.get("compound_b")):
            r["compound"], r["conc"] = r.pop("compound_b"), r.pop("conc_b", None)
            if not _plates._blank(r.get("conc_unit_b")):
                r["conc_unit"] = r.pop("conc_unit_b")
        base_rows.append(r)
    table = _plates._build_layout(base_rows, meta, plate_format=plate_format, conc_unit=conc_unit, name=name)
    target = str(table.attrs["conc_unit"])
    ncol = _plates.PLATE_SHAPES[int(table.attrs["plate_format"])][1]
    default_unit = conc_unit or meta.get("conc_unit")
    compound_b = np.full(len(table), "", dtype=object)
    conc_b = np.full(len(table), np.nan)
    problems: list[str] = []
    for i, row in enumerate(base_rows, start=1):
        has_b, has_conc = not _plates._blank(row.get("compound_b")), not _plates._blank(row.get("conc_b"))
        if not (has_b or has_conc):
            continue
        where = f"entry {i} ({row.get('well')!r})"
        pos = _plates._parse_well(row.get("well"))
        if pos is None:  # pragma: no cover - _build_layout has rejected it
            continue
        if str(row.get("role", "")).strip().lower() != "sample" or not has_b or not has_conc:
            problems.append(f"{where}: a second compound needs role 'sample', compound_b and conc_b")
            continue
        unit_b = row.get("conc_unit_b")
        unit_b = row.get("conc_unit") if _plates._blank(unit_b) else unit_b
        value, unit, err = _plates._parse_conc(row.get("conc_b"), unit_b, default_unit)
        if err:
            problems.append(f"{where}: {err.replace('conc', 'conc_b', 1)}")
            continue
        k = pos[0] * ncol + pos[1]
        compound_b[k] = str(row.get("compound_b")).strip()
        conc_b[k] = value * (unit_factor(unit, target) if unit else 1.0)
    if problems:
        raise PlateLayoutError(f"`layout` {name}: " + "; ".join(problems[:10]) + ".")
    table["compound_b"] = compound_b
    table["conc_b"] = conc_b
    return table


def checkerboard_table(table: pd.DataFrame, response: str) -> pd.DataFrame:
    """Rows of a tidy plate table assigned to pairs: combination, single-agent and vehicle wells."""
    need = ["plate", "role", "compound", "conc", "compound_b", "conc_b", "conc_unit", response]
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise LookupError(
            f"`table` must be a tidy plate table from mp.combination.read_layout + mp.assays.tidy_plate with the "
            f"column `response`={response!r}; it lacks {missing}."
        )
    t = table[table["role"].isin(("sample", "vehicle"))]
    units = t["conc_unit"].astype(str).unique()
    if len(units) > 1:
        raise ValueError(f"`table` must use one concentration unit; got {sorted(units)} (convert first).")
    plate = t["plate"].astype(str)
    comp_a = t["compound"].fillna("").astype(str)
    comp_b = t["compound_b"].fillna("").astype(str)
    is_combo = (t["role"] == "sample") & (comp_a != "") & (comp_b != "")
    pairs = (
        pd.DataFrame({"plate": plate[is_combo], "drug_a": comp_a[is_combo], "drug_b": comp_b[is_combo]})
        .drop_duplicates()
        .reset_index(drop=True)
    )
    if pairs.empty:
        raise ValueError("`table` has no combination wells (samples with both `compound` and `compound_b`).")
    base = pd.DataFrame(
        {
            "plate": plate,
            "a": comp_a,
            "b": comp_b,
            "conc": t["conc"].to_numpy(dtype=np.float64),
            "conc_b": t["conc_b"].to_numpy(dtype=np.float64),
            "response": t[response].to_numpy(dtype=np.float64),
            "vehicle": (t["role"] == "vehicle").to_numpy(),
        }
    )
    combo = base[is_combo.to_numpy()].merge(pairs, left_on=["plate", "a", "b"], right_on=["plate", "drug_a", "drug_b"])
    combo = combo.assign(conc_a=combo["conc"], conc_b=combo["conc_b"])
    single = base[(~base["vehicle"]) & (base["b"] == "")]
    as_a = single.merge(pairs, left_on=["plate", "a"], right_on=["plate", "drug_a"]).assign(conc_a=lambda d: d["conc"])
    as_a = as_a.assign(conc_b=0.0)
    as_b = single.merge(pairs, left_on=["plate", "a"], right_on=["plate", "drug_b"]).assign(conc_b=lambda d: d["conc"])
    as_b = as_b.assign(conc_a=0.0)
    veh = base[base["vehicle"]].drop(columns=["conc_b"]).merge(pairs, on="plate").assign(conc_a=0.0, conc_b=0.0)
    cols = ["plate", "drug_a", "drug_b", "conc_a", "conc_b", "response"]
    out = pd.concat([combo[cols], as_a[cols], as_b[cols], veh[cols]], ignore_index=True)
    label = out["drug_a"] + " x " + out["drug_b"]
    out["pair"] = label.where(out["plate"] == "", label + " @ " + out["plate"])
    out.attrs["conc_unit"] = str(units[0]) if len(units) else ""
    return out
