"""From a tidy assay table (one row per well) to labelled dose-response curves in one call.

:func:`plate_curves` normalizes the wells by their *role* (vehicle / no-inhibitor wells are
100 %, blank / background wells 0 %), keeps the control wells as data points at
concentration 0 (so the fit estimates the top plateau with the controls' noise, and the
IC50's standard error includes it), marks the wells you exclude by name, and returns a
tidy table that :func:`mtor_pharm.fit_table` fits.  :func:`fit_plate` does both and
returns a :class:`~mtor_pharm.FitResult` labelled by compound (and cell line or readout
where the table has them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .._validate import boolean
from ..errors import PlateLayoutError
from ..fitting._result import _did_you_mean
from .normalize import percent_of_control

if TYPE_CHECKING:
    import pandas as pd

    from ..fitting import FitResult

__all__ = ["fit_plate", "plate_curves"]

Normalization = Literal["percent", "none"]

#: Columns that also identify a curve when the table has them (after ``compound``).
_EXTRA_KEYS = ("cell_line", "readout", "target")
#: Role names of the 100 % and 0 % wells, tried in this order when not given.
_CONTROL_ROLES = ("vehicle", "no_inhibitor", "control")
_BLANK_ROLES = ("blank", "background")


def _pick_role(roles: set[str], given: str | None, candidates: tuple[str, ...], what: str,
               required: bool) -> str | None:
    if given is not None:
        if given not in roles:
            raise PlateLayoutError(
                f"`{what}` must be a role of the table's wells {sorted(roles)}; got {given!r}."
                f"{_did_you_mean(given, sorted(roles))}"
            )
        return given
    for name in candidates:
        if name in roles:
            return name
    if required:
        raise PlateLayoutError(
            f"the table has no {what} wells (roles {sorted(roles)}); name their role with {what}=..."
        )
    return None


def _conc_unit(table: pd.DataFrame) -> str:
    unit = table.attrs.get("conc_unit")
    if unit:
        return str(unit)
    if "conc_unit" in table.columns:
        units = sorted({str(u) for u in table["conc_unit"].dropna() if str(u).strip()})
        if len(units) == 1:
            return units[0]
        if len(units) > 1:
            raise PlateLayoutError(
                f"the table's `conc_unit` column mixes units {units}; convert the concentrations to one unit."
            )
    raise PlateLayoutError(
        "the table does not record its concentration unit (no attrs['conc_unit'] and no conc_unit column); "
        "set table.attrs['conc_unit'] = 'uM' (or the unit used)."
    )


def _excluded_mask(table: pd.DataFrame, exclude: Any) -> np.ndarray:
    mask = np.zeros(len(table), dtype=bool)
    if exclude is None:
        return mask
    items = [exclude] if isinstance(exclude, str) else list(exclude)
    if "well" in table.columns:
        wells = table["well"].astype(str).str.upper().to_numpy()
        plates = table["plate"].astype(str).to_numpy() if "plate" in table.columns else np.full(len(table), "")
        known = sorted(set(table["well"].astype(str)))
        for item in items:
            if not isinstance(item, str):
                raise TypeError(f"`exclude` must hold well names such as 'B5' (or 'PLATE:B5'); got {item!r}.")
            plate, _, well = item.rpartition(":")
            hit = wells == well.strip().upper()
            if plate:
                hit &= plates == plate
            if not hit.any():
                raise PlateLayoutError(
                    f"`exclude` names a well that is not in the table: {item!r}.{_did_you_mean(well, known)}"
                )
            mask |= hit
    else:
        index = list(table.index)
        for item in items:
            if item not in index:
                raise PlateLayoutError(
                    f"`exclude` must name row labels of a table without a `well` column; got {item!r}."
                )
            mask |= np.asarray(table.index == item)
    return mask


def plate_curves(
    table: pd.DataFrame,
    *,
    signal: str,
    reference: str | None = None,
    by: str | Sequence[str] | None = None,
    control: str | None = None,
    blank: str | None = None,
    sample: str = "sample",
    normalize: Normalization = "percent",
    exclude: str | Sequence[str] | None = None,
    controls_as_data: bool = True,
) -> pd.DataFrame:
    """Normalize a tidy assay table by well role into one labelled curve per compound.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per well, with columns ``role``, ``conc``, the curve keys (``compound``
        …) and `signal`: a :func:`tidy_plate` table, ``load_example("mtt")`` or
        ``load_example("kinase")``.  The concentration unit is taken from
        ``table.attrs["conc_unit"]`` or a ``conc_unit`` column.
    signal : str
        Column of the readout (e.g. ``"A570"``, ``"signal"``).
    reference : str, optional
        Column of a reference wavelength subtracted from `signal` (MTT: ``"A650"``).
    by : str or sequence of str, optional
        Columns identifying a curve.  Default ``compound`` plus ``cell_line``,
        ``readout`` or ``target`` where the table has them.
    control, blank : str, optional
        Roles of the 100 % and 0 % wells.  Default ``vehicle`` (else
        ``no_inhibitor``) and ``blank`` (else ``background``, else none).
    sample : str, default "sample"
        Role of the treated wells.
    normalize : {"percent", "none"}, default "percent"
        ``"percent"``: ``100 (S − B̄)/(C̄ − B̄)`` per plate, with the delta-method
        standard error of the control means in ``response_stderr``.  ``"none"``:
        the signal minus the blank mean (if any), in the signal's units.
    exclude : str or sequence of str, optional
        Wells left out, by name (``"B5"``, or ``"PLATE:B5"`` on a multi-plate table).
        They stay in the table with ``excluded = True`` (drawn as open symbols by
        :func:`mtor_pharm.plot.plot_curves`), are left out of the control means
        if they are controls, and are not fitted.
    controls_as_data : bool, default True
        Add the control wells of each plate to every curve as points at
        concentration 0 (role ``"vehicle"``): the fit then estimates the top
        plateau from them, with their noise (Ritz et al. 2015).

    Returns
    -------
    pandas.DataFrame
        Columns: the `by` keys, ``conc``, ``response``, ``response_stderr``,
        ``role``, ``excluded`` (and ``plate``, ``well`` where the table has them),
        curves in order of first appearance.  ``attrs``: ``conc_unit``,
        ``response_unit`` (``"percent"`` or the signal's name), ``normalization``
        (in words), ``excluded`` (the excluded wells), ``by``.

    Raises
    ------
    PlateLayoutError
        Unknown roles, columns or wells (with the closest names); no control wells;
        no concentration unit.
    ControlError
        Control means that are not above the blank mean.
    TypeError
        A `table` that is not a DataFrame; a `controls_as_data` that is not True or False.

    Examples
    --------
    >>> plate = mp.assays.load_example("mtt")
    >>> curves = mp.assays.plate_curves(plate, signal="A570", reference="A650", exclude=["B5"])
    >>> curves.attrs["conc_unit"], curves.attrs["excluded"], list(curves["compound"].unique())[:2]
    ('micromolar', ['B5'], ['SIM-TORKi', 'SIM-rapalog'])
    """
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"`table` must be a pandas DataFrame (one row per well); got {type(table).__name__}.")
    if normalize not in ("percent", "none"):
        raise ValueError(f"`normalize` must be 'percent' or 'none'; got {normalize!r}.")
    controls_as_data = boolean(controls_as_data, "controls_as_data")
    cols = [str(c) for c in table.columns]
    for arg, col in (("signal", signal), ("reference", reference)):
        if col is not None and col not in table.columns:
            raise PlateLayoutError(
                f"`{arg}` must name a column of `table`; got {col!r}.{_did_you_mean(col, cols)} Columns are {cols}."
            )
    for col in ("role", "conc"):
        if col not in table.columns:
            raise PlateLayoutError(f"`table` must have a {col!r} column (one row per well); columns are {cols}.")
    if by is None:
        keys = ["compound"] + [k for k in _EXTRA_KEYS if k in table.columns and table[k].notna().any()]
    else:
        keys = [by] if isinstance(by, str) else list(by)
    for k in keys:
        if k not in table.columns:
            raise PlateLayoutError(f"`by` must name columns of `table`; got {k!r}.{_did_you_mean(k, cols)}")
    unit = _conc_unit(table)
    roles = {str(r) for r in table["role"].dropna()}
    if sample not in roles:
        raise PlateLayoutError(
            f"`sample` must be the role of the treated wells; got {sample!r}, roles are {sorted(roles)}."
            f"{_did_you_mean(sample, sorted(roles))}"
        )
    ctrl_role = _pick_role(roles, control, _CONTROL_ROLES, "control", required=True)
    blank_role = _pick_role(roles, blank, _BLANK_ROLES, "blank", required=False)
    excluded = _excluded_mask(table, exclude)

    values = pd.to_numeric(table[signal], errors="coerce").to_numpy(dtype=np.float64)
    if reference is not None:
        values = values - pd.to_numeric(table[reference], errors="coerce").to_numpy(dtype=np.float64)
    role = table["role"].astype(str).to_numpy()
    plate_of = table["plate"].astype(str).to_numpy() if "plate" in table.columns else np.full(len(table), "")
    frames = []
    for plate_id in pd.unique(plate_of):
        on = plate_of == plate_id
        keep = on & ~excluded
        ctrl = values[keep & (role == ctrl_role)]
        bl = values[keep & (role == blank_role)] if blank_role is not None else None
        rows = on & ((role == sample) | (role == ctrl_role))
        if normalize == "percent":
            out = percent_of_control(values[rows], ctrl, bl if bl is not None and bl.size else None)
            resp, se = np.asarray(out.value), np.asarray(out.stderr)
        else:
            base = float(np.nanmean(bl)) if bl is not None and bl.size else 0.0
            resp, se = values[rows] - base, np.full(int(rows.sum()), np.nan)
        part = table.loc[rows, [c for c in ("plate", "well") if c in table.columns] + keys].copy()
        part["conc"] = pd.to_numeric(table.loc[rows, "conc"], errors="coerce").to_numpy(dtype=np.float64)
        part["response"] = resp
        part["response_stderr"] = se
        part["role"] = role[rows]
        part["excluded"] = excluded[rows]
        is_ctrl = part["role"].to_numpy() == ctrl_role
        samples = part[~is_ctrl]
        if samples[keys].isna().any(axis=None):
            bad = samples.index[samples[keys].isna().any(axis=1).to_numpy()][:5].tolist()
            raise PlateLayoutError(f"treated wells must name their curve ({keys}); rows {bad} do not.")
        pieces = []
        for key, grp in samples.groupby(keys, sort=False):
            pieces.append(grp)
            if controls_as_data:
                c = part[is_ctrl].copy()
                c["conc"] = 0.0
                c["role"] = "vehicle"
                key_t = key if isinstance(key, tuple) else (key,)
                for k, v in zip(keys, key_t, strict=True):
                    c[k] = v
                pieces.append(c)
        frames.extend(pieces)
    curves = pd.concat(frames).reset_index(drop=True) if frames else pd.DataFrame()
    if curves.empty:
        raise PlateLayoutError(f"the table has no wells with role {sample!r} to fit.")
    if "well" in table.columns:
        ex_names = [str(w) for w in table.loc[excluded, "well"]]
    else:
        ex_names = [str(i) for i in table.index[excluded]]
    response_unit = "percent" if normalize == "percent" else signal
    what = (
        f"100 (S - mean {blank_role or 'blank (none)'}) / (mean {ctrl_role} - mean {blank_role or 'blank'}), per plate"
        if normalize == "percent"
        else f"{signal} minus the mean of the {blank_role} wells" if blank_role else f"raw {signal}"
    )
    curves.attrs = {
        "conc_unit": unit,
        "response_unit": response_unit,
        "normalization": what + ("; controls added to each curve at conc 0" if controls_as_data else ""),
        "excluded": ex_names,
        "by": list(keys),
        "signal": signal,
    }
    return curves


def fit_plate(
    table: pd.DataFrame,
    *,
    signal: str,
    reference: str | None = None,
    by: str | Sequence[str] | None = None,
    control: str | None = None,
    blank: str | None = None,
    sample: str = "sample",
    normalize: Normalization = "percent",
    exclude: str | Sequence[str] | None = None,
    controls_as_data: bool = True,
    model: str = "4pl",
    fixed: Mapping[str, Any] | None = None,
    **fit_kwargs: Any,
) -> FitResult:
    """Normalize a tidy assay table by role and fit one curve per compound: :func:`plate_curves`
    followed by :func:`mtor_pharm.fit_table`.

    Parameters
    ----------
    table, signal, reference, by, control, blank, sample, normalize, exclude, controls_as_data
        As in :func:`plate_curves`.
    model : str, default "4pl"
        Model family (Prism names such as ``"variable slope"`` work too).
    fixed : mapping, optional
        Parameters held fixed, e.g. ``{"bottom": 0}``.
    **fit_kwargs
        Passed to :func:`mtor_pharm.fit` (``bounds=``, ``workers=`` …).

    Returns
    -------
    FitResult
        Batch shape ``(n_curves,)``, labelled by the curve keys (``res["SIM-TORKi"]``);
        excluded wells are not fitted (they are not counted in ``n``).

    Examples
    --------
    >>> plate = mp.assays.load_example("mtt")
    >>> res = mp.assays.fit_plate(plate, signal="A570", reference="A650", exclude=["B5"])
    >>> res.labels[:2], res["SIM-TORKi"].ic50.units
    (('SIM-TORKi', 'SIM-rapalog'), <Unit('micromolar')>)
    """
    from .._tables import fit_table

    curves = plate_curves(
        table,
        signal=signal,
        reference=reference,
        by=by,
        control=control,
        blank=blank,
        sample=sample,
        normalize=normalize,
        exclude=exclude,
        controls_as_data=controls_as_data,
    )
    res, _ = fit_table(curves, conc="conc", response="response", by=curves.attrs["by"], model=model,
                       fixed=fixed, **fit_kwargs)
    return res
