"""Units: the shared pint registry, concentration parsing and conversions.

The library never creates its own :class:`pint.UnitRegistry`.  ``ureg`` is
pint's *application registry*, a thin wrapper that follows
:func:`pint.set_application_registry`, so Quantities made by the caller's
registry (or by pint-xarray) work here unchanged.

Concentrations enter the numerical code once, at the boundary, as float64
magnitudes in the caller's unit; results are handed back as Quantities in
that same unit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pint

from ._typing import ConcentrationLike, FloatArray, Quantity, Unit
from .errors import UnitError

__all__ = [
    "Q_",
    "as_concentration",
    "dilution_series",
    "from_log10",
    "from_pic50",
    "mass_to_molar",
    "molar_to_mass",
    "pic50",
    "ureg",
]


def _registry() -> Any:
    """pint's application registry, looked up at call time."""
    return pint.get_application_registry()  # type: ignore[no-untyped-call]


#: pint's application registry (a wrapper that follows ``pint.set_application_registry``).
ureg: Any = _registry()

_MOLAR = "[substance] / [length] ** 3"
_MASS_CONC = "[mass] / [length] ** 3"
_MOLAR_MASS = "[mass] / [substance]"


def Q_(value: Any, unit: str | None = None) -> Quantity:
    """Make a Quantity with the shared registry.

    Parameters
    ----------
    value : float, array_like or str
        Magnitude, or a string such as ``"10 uM"`` when `unit` is None.
    unit : str, optional
        Unit of `value`, e.g. ``"nM"``, ``"µM"``, ``"ug/mL"``.

    Returns
    -------
    pint.Quantity

    Examples
    --------
    >>> mp.Q_([0.1, 1, 10], "uM").units
    <Unit('micromolar')>
    >>> round(mp.Q_("10 µM").to("nM").magnitude, 9)
    10000.0
    """
    registry = _registry()
    return registry.Quantity(value) if unit is None else registry.Quantity(value, unit)


#: Concentration units offered by "did you mean" suggestions.
_COMMON_UNITS = (
    "M", "mM", "uM", "nM", "pM", "fM", "molar", "millimolar", "micromolar", "nanomolar", "picomolar",
    "mol/L", "mmol/L", "umol/L", "nmol/L", "g/L", "mg/mL", "ug/mL", "ng/mL", "mg/L", "ug/L",
)


def _unit_hint(text: str) -> str:
    """`` Did you mean 'uM'?`` for a unit spelling that is close to a concentration unit, else ``""``.

    Catches case slips that pint reads as another quantity ("um" is a micrometre, "nm" a
    nanometre) and misspellings pint cannot parse ("umol", "micromolr")."""
    import difflib

    raw = str(text).strip().replace("µ", "u").replace("μ", "u")
    registry = _registry()
    candidates = []
    if raw[-1:] in ("m",):
        candidates.append(raw[:-1] + "M")
    candidates += [raw.replace("m", "M"), raw.replace("l", "L")]
    for c in candidates:
        if c == raw:
            continue
        try:
            u = registry.Unit(c)
        except Exception:  # pint raises several types for bad strings
            continue
        if _is_molar(u) or _is_mass_conc(u):
            return f" Did you mean {c!r}?"
    lower = {u.lower(): u for u in _COMMON_UNITS}
    close = difflib.get_close_matches(raw.lower(), list(lower), n=1, cutoff=0.6)
    return f" Did you mean {lower[close[0]]!r}?" if close and lower[close[0]] != raw else ""


def _parse_unit(unit: Any, *, name: str) -> Unit:
    registry = _registry()
    try:
        parsed = registry.Unit(unit) if isinstance(unit, str) else registry.Unit(str(unit))
    except Exception as exc:  # pint raises undefined-unit, tokenizer, assertion and key errors
        raise UnitError(
            f"`{name}` must be a unit of concentration such as 'nM', 'uM' or 'M'; "
            f"got {unit!r}, which pint cannot parse ({type(exc).__name__}).{_unit_hint(str(unit))}"
        ) from None
    return parsed


def _is_molar(unit: Unit) -> bool:
    return bool(unit.dimensionality == _registry().get_dimensionality(_MOLAR))


def _is_mass_conc(unit: Unit) -> bool:
    return bool(unit.dimensionality == _registry().get_dimensionality(_MASS_CONC))


def _to_quantity(
    conc: ConcentrationLike, conc_unit: str | None, name: str, accepts: frozenset[str] | None = None
) -> Quantity:
    registry = _registry()
    if isinstance(conc, pint.Quantity):
        if conc_unit is not None:
            raise UnitError(
                f"`conc_unit` must be None when `{name}` already carries a unit; "
                f"got conc_unit={conc_unit!r} with a Quantity in {conc.units!s}. "
                "Convert the Quantity with .to() instead."
            )
        return conc
    if isinstance(conc, str):
        if conc_unit is not None:
            raise UnitError(f"`conc_unit` must be None when `{name}` is a string with its unit; got {conc_unit!r}.")
        try:
            q = registry.Quantity(conc)
        except Exception as exc:  # pint raises several unrelated types for bad strings
            unit_text = conc.strip().lstrip("0123456789.eE+- ")
            raise UnitError(
                f"`{name}` must be a concentration such as '10 uM'; got {conc!r} ({type(exc).__name__})."
                f"{_unit_hint(unit_text)}"
            ) from None
        if not isinstance(q, pint.Quantity) or q.dimensionless:
            raise UnitError(f"`{name}` must carry a unit of concentration such as '10 uM'; got {conc!r}.")
        return q
    if (
        isinstance(conc, Sequence)
        and not isinstance(conc, str)
        and len(conc) > 0
        and all(isinstance(c, str | pint.Quantity) for c in conc)
    ):
        if conc_unit is not None:
            raise UnitError(f"`conc_unit` must be None when `{name}` holds strings or Quantities; got {conc_unit!r}.")
        parts = [_to_quantity(c, None, f"{name}[{i}]", accepts) for i, c in enumerate(conc)]
        unit = parts[0].units
        try:
            return registry.Quantity(np.array([p.to(unit).magnitude for p in parts]), unit)
        except pint.errors.DimensionalityError as exc:
            raise UnitError(f"`{name}` must hold concentrations of one kind; {exc}.") from None
    if conc_unit is None:
        tail = ", or name the unit with conc_unit='uM'" if accepts is None or "conc_unit" in accepts else ""
        raise UnitError(
            f"`{name}` has no unit: got a bare {type(conc).__name__} ({conc!r}). Pass a Quantity "
            f"(mp.Q_(values, 'uM')) or a string such as '10 uM'{tail}."
        )
    return registry.Quantity(np.asarray(conc, dtype=np.float64), _parse_unit(conc_unit, name="conc_unit"))


def _molecular_weight_g_per_mol(molecular_weight: Any) -> float:
    if isinstance(molecular_weight, pint.Quantity | str):
        q = Q_(molecular_weight) if isinstance(molecular_weight, str) else molecular_weight
        try:
            value = float(q.to("g/mol").magnitude)
        except pint.errors.DimensionalityError:
            raise UnitError(f"`molecular_weight` must be a molar mass such as '914.19 g/mol'; got {q!s}.") from None
    else:
        value = float(molecular_weight)
    if not (math.isfinite(value) and value > 0):
        raise UnitError(f"`molecular_weight` must be a positive finite molar mass; got {value!r} g/mol.")
    return value


def mass_to_molar(conc: ConcentrationLike, molecular_weight: Any, *, unit: str = "uM") -> Quantity:
    """Convert a mass concentration (e.g. µg/mL) to a molar one.

    Parameters
    ----------
    conc : Quantity or str
        Mass concentration, e.g. ``"1 ug/mL"``.
    molecular_weight : Quantity, str or float
        Molar mass; a bare number is read as g/mol.
    unit : str, default "uM"
        Molar unit of the result.

    Returns
    -------
    pint.Quantity
        ``conc / molecular_weight`` in `unit`.

    Examples
    --------
    >>> round(mp.units.mass_to_molar("1 ug/mL", 914.19, unit="nM").magnitude, 2)
    1093.86
    """
    q = _to_quantity(conc, None, "conc")
    if not _is_mass_conc(q.units):
        raise UnitError(f"`conc` must be a mass concentration such as '1 ug/mL'; got units {q.units!s}.")
    mw = _molecular_weight_g_per_mol(molecular_weight)
    registry = _registry()
    molar = q.to("g/L").magnitude / mw
    return registry.Quantity(molar, "M").to(unit)


def molar_to_mass(conc: ConcentrationLike, molecular_weight: Any, *, unit: str = "ug/mL") -> Quantity:
    """Convert a molar concentration to a mass concentration (the inverse of :func:`mass_to_molar`).

    Examples
    --------
    >>> round(mp.units.molar_to_mass("1 uM", "914.19 g/mol", unit="ng/mL").magnitude, 2)
    914.19
    """
    q = _to_quantity(conc, None, "conc")
    if not _is_molar(q.units):
        raise UnitError(f"`conc` must be a molar concentration such as '1 uM'; got units {q.units!s}.")
    mw = _molecular_weight_g_per_mol(molecular_weight)
    registry = _registry()
    return registry.Quantity(q.to("M").magnitude * mw, "g/L").to(unit)


def molecular_weight_of(inhibitor: Any) -> Any:
    """A zero-argument callable giving the registry molecular weight of `inhibitor`
    (a name or an ``Inhibitor``), or None; for ``as_concentration(molecular_weight=...)``,
    which calls it only when the concentrations are mass concentrations."""
    if inhibitor is None:
        return None

    def lookup() -> Any:
        from .registry import molecular_weight

        return molecular_weight(inhibitor)

    return lookup


def as_concentration(
    conc: ConcentrationLike,
    *,
    conc_unit: str | None = None,
    molecular_weight: Any = None,
    name: str = "conc",
    accepts: frozenset[str] | None = None,
) -> tuple[FloatArray, Unit]:
    """Validate a concentration and split it into float64 magnitudes and a unit.

    Parameters
    ----------
    conc : Quantity, str, sequence of str, or array_like
        The concentrations.  A bare array needs `conc_unit`.
    conc_unit : str, optional
        Unit of a bare array, e.g. ``"uM"``.
    molecular_weight : Quantity, str, float or callable, optional
        Needed only for mass concentrations (µg/mL): they are converted to µM.  A
        zero-argument callable is called only then (e.g. a registry look-up that would
        fail for a compound without a known molecular weight).
    name : str
        Argument name used in error messages.
    accepts : frozenset of str, optional
        The options (``"conc_unit"``, ``"inhibitor"``, ``"molecular_weight"``) that
        the *calling* function takes: error messages suggest only those.  Default:
        all of them.

    Returns
    -------
    magnitudes : ndarray of float64
        A new array (never a view of the input), in `unit`.
    unit : pint.Unit
        The caller's molar unit.

    Raises
    ------
    UnitError
        No unit, or a unit that is not a concentration.

    Examples
    --------
    >>> values, unit = mp.units.as_concentration([1, 10], conc_unit="nM")
    >>> values.tolist(), str(unit)
    ([1.0, 10.0], 'nanomolar')
    """
    q = _to_quantity(conc, conc_unit, name, accepts)
    unit = q.units
    if _is_mass_conc(unit):
        if molecular_weight is None:
            offered = [f"`{o}=`" for o in ("inhibitor", "molecular_weight") if accepts is None or o in accepts]
            how = (
                f"pass {' or '.join(offered)} so it can be converted to molar, or give molar units"
                if offered
                else "give it in molar units (convert with mp.units.mass_to_molar(value, molecular_weight))"
            )
            raise UnitError(f"`{name}` is a mass concentration ({unit!s}); {how}.")
        mw = molecular_weight() if callable(molecular_weight) else molecular_weight
        q = mass_to_molar(q, mw, unit="uM")
        unit = q.units
    elif not _is_molar(unit):
        hint = _unit_hint(f"{unit:~}")
        if conc_unit is not None and not isinstance(conc, pint.Quantity | str):
            raise UnitError(
                f"`conc_unit` must be a unit of concentration (e.g. 'uM'); got {conc_unit!r} "
                f"({unit.dimensionality}).{hint}"
            )
        raise UnitError(
            f"`{name}` must have units of concentration (e.g. 'uM'); got {unit!s} "
            f"({unit.dimensionality}).{hint}"
        )
    try:
        values = np.array(q.magnitude, dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        raise UnitError(f"`{name}` must hold numbers; got {q.magnitude!r}.") from None
    return values, unit


def from_log10(x: Any, log_unit: str = "M", *, unit: str = "uM") -> Quantity:
    """Concentrations given as log10 values, as in GraphPad Prism's X column (log10 of molar).

    Nothing in mtor_pharm guesses that a column is logarithmic: a negative
    concentration is refused.  Convert explicitly with this function.

    Parameters
    ----------
    x : array_like
        ``log10`` of the concentration in `log_unit` (``-9`` is 1 nM when `log_unit` is ``"M"``).
        ``-inf`` gives 0 (a vehicle well); NaN stays NaN.
    log_unit : str, default "M"
        The unit the logarithm was taken in.
    unit : str, default "uM"
        Unit of the result.

    Returns
    -------
    pint.Quantity
        ``10**x`` `log_unit`, in `unit`.

    Examples
    --------
    >>> mp.units.from_log10([-9, -7.5, -6], unit="nM").magnitude.round(1).tolist()
    [1.0, 31.6, 1000.0]
    """
    try:
        values = np.array(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"`x` must be numbers (log10 concentrations); got {x!r}.") from None
    if np.any(np.isposinf(values)) or np.any(values > 300):
        raise ValueError(f"`x` must be log10 concentrations (finite, below 300); got {x!r}.")
    src = _parse_unit(log_unit, name="log_unit")
    dst = _parse_unit(unit, name="unit")
    if not _is_molar(src) and not _is_mass_conc(src):
        raise UnitError(f"`log_unit` must be a concentration unit such as 'M'; got {log_unit!r}.")
    registry = _registry()
    with np.errstate(under="ignore"):
        linear = np.power(10.0, values)
    try:
        return registry.Quantity(linear, src).to(dst)
    except pint.errors.DimensionalityError:
        raise UnitError(f"`unit` must be of the same kind as `log_unit` ({log_unit!r}); got {unit!r}.") from None


def dilution_series(top: ConcentrationLike, *, factor: float, n: int) -> Quantity:
    """A serial dilution, highest concentration first.

    Parameters
    ----------
    top : Quantity or str
        Highest concentration, e.g. ``"10 uM"``.
    factor : float
        Dilution factor between neighbours (> 1), e.g. 3 for a 3-fold series.
    n : int
        Number of concentrations (≥ 1).

    Returns
    -------
    pint.Quantity
        ``top / factor**k`` for ``k = 0 … n-1``, in the unit of `top`.

    Examples
    --------
    >>> mp.dilution_series("10 uM", factor=10, n=3)
    <Quantity([10.   1.   0.1], 'micromolar')>
    """
    if isinstance(factor, bool) or not (isinstance(factor, int | float) and math.isfinite(factor) and factor > 1):
        raise ValueError(f"`factor` must be a finite number > 1; got {factor!r}.")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"`n` must be a positive integer; got {n!r}.")
    values, unit = as_concentration(top, name="top")
    if values.ndim != 0 or not (np.isfinite(values) and values > 0):
        raise ValueError(f"`top` must be one positive finite concentration; got {top!r}.")
    series = float(values) / float(factor) ** np.arange(int(n), dtype=np.float64)
    return _registry().Quantity(series, unit)


def pic50(ic50: ConcentrationLike, *, conc_unit: str | None = None) -> FloatArray | float:
    """pIC50 = −log10(IC50 / 1 M).

    Examples
    --------
    >>> float(mp.pic50("10 nM"))
    8.0
    """
    values, unit = as_concentration(ic50, conc_unit=conc_unit, name="ic50")
    molar = values * _registry().Quantity(1.0, unit).to("M").magnitude
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -np.log10(molar)
    return float(out) if out.ndim == 0 else out


def from_pic50(p: Any, *, unit: str = "nM") -> Quantity:
    """The concentration whose pIC50 is `p`, in `unit`.

    Examples
    --------
    >>> round(mp.from_pic50(8.0, unit="nM").magnitude, 9)
    10.0
    """
    registry = _registry()
    u = _parse_unit(unit, name="unit")
    if not _is_molar(u):
        raise UnitError(f"`unit` must be a molar unit such as 'nM'; got {unit!r}.")
    arr = np.asarray(p, dtype=np.float64)
    molar = 10.0 ** (-arr)
    out = registry.Quantity(molar if arr.ndim else float(molar), "M").to(u)
    return out
