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
import re
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._typing import ConcentrationLike, FloatArray, Quantity, Unit
from .errors import ShapeError, UnitError

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


def _pint() -> Any:
    """The pint module, imported on first use (``import mtor_pharm`` does not load pint)."""
    import pint

    return pint


def _registry() -> Any:
    """pint's application registry, looked up at call time."""
    return _pint().get_application_registry()


def is_quantity(obj: object) -> bool:
    """Whether `obj` is a pint Quantity (without importing pint: if pint is not loaded, no
    object can be one)."""
    pint = sys.modules.get("pint")
    return pint is not None and isinstance(obj, pint.Quantity)


def _is_unit(obj: object) -> bool:
    pint = sys.modules.get("pint")
    return pint is not None and isinstance(obj, pint.Unit)


#: pint's application registry (a wrapper that follows ``pint.set_application_registry``);
#: provided by the module ``__getattr__`` below, so that ``import mtor_pharm`` loads no pint.
ureg: Any


def __getattr__(name: str) -> Any:
    # ``ureg``: pint's application registry (a wrapper that follows
    # ``pint.set_application_registry``), made on first access so that import stays light
    if name == "ureg":
        return _registry()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

_MOLAR = "[substance] / [length] ** 3"
_MASS_CONC = "[mass] / [length] ** 3"
_MOLAR_MASS = "[mass] / [substance]"


# ----------------------------------------------------------------------------- parsing
# pint evaluates unit strings as Python expressions: malformed text surfaces
# AssertionError, tokenize.TokenError, KeyError ('uM ** 0'), ZeroDivisionError
# ('1/0'), and arithmetic such as '(1 + 1) uM' is slow.  Strings are therefore
# checked against a small grammar first (a number, then unit names joined by
# '*', '/' or spaces, each with an optional non-zero integer power), and any
# exception pint still raises becomes a UnitError naming the argument.
_MAX_STRING = 200
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NAME = (r"[A-Za-z\u00b5\u03bc\u00b0%\u00c5\u2126_][A-Za-z0-9\u00b5\u03bc_]*"
         r"[\u00b2\u00b3\u00b9\u2070\u2074-\u2079\u207b]*")
_TERM = rf"{_NAME}(?:\s*(?:\*\*|\^)\s*[+-]?[1-9]\d?)?"
_UNIT_EXPR = rf"(?:1\s*/\s*)?{_TERM}(?:(?:\s*[*/\u00b7]\s*|\s+){_TERM})*"
_UNIT_RE = re.compile(rf"\s*(?P<unit>{_UNIT_EXPR})\s*")
_QUANTITY_RE = re.compile(rf"\s*(?P<num>{_NUMBER})?\s*(?P<unit>{_UNIT_EXPR})?\s*")
_ACCEPTED = "a number and a unit such as '10 uM' (no arithmetic, no parentheses)"


def _check_text(text: str, *, name: str) -> None:
    if len(text) > _MAX_STRING:
        raise UnitError(
            f"`{name}` must be a short unit string (at most {_MAX_STRING} characters); got "
            f"{len(text)} characters starting {text[:40]!r}."
        )


_UNIT_CACHE: dict[tuple[int, str], tuple[Any, Unit]] = {}
_UNIT_CACHE_SIZE = 512


def _pint_unit(text: str, *, name: str, what: str) -> Unit:
    """pint's Unit for `text`, already checked by the grammar; any pint failure is a UnitError.

    Cached per underlying registry (a later ``set_application_registry`` is followed).
    """
    registry = _registry()
    inner = registry.get() if hasattr(registry, "get") else registry
    key = (id(inner), text)
    cached = _UNIT_CACHE.get(key)
    if cached is not None and cached[0] is inner:  # the same registry, not a new one at a reused id
        return cached[1]
    try:
        unit: Unit = registry.Unit(text)
    except Exception as exc:  # pint raises many unrelated types for unparsable text
        raise UnitError(
            f"`{name}` must be {what}; got {text!r}, which pint cannot parse "
            f"({type(exc).__name__}: {exc}).{_unit_hint(text)}"
        ) from None
    if len(_UNIT_CACHE) >= _UNIT_CACHE_SIZE:
        _UNIT_CACHE.clear()
    _UNIT_CACHE[key] = (inner, unit)
    return unit


def _split_quantity(text: str, *, name: str) -> tuple[float, Unit | None]:
    """``'<number> <unit>'`` as (magnitude, unit or None for a bare number)."""
    _check_text(text, name=name)
    match = _QUANTITY_RE.fullmatch(text)
    if match is None or (match["num"] is None and match["unit"] is None):
        raise UnitError(f"`{name}` must be {_ACCEPTED}; got {text!r}.")
    magnitude = float(match["num"]) if match["num"] is not None else 1.0
    if not math.isfinite(magnitude):
        raise UnitError(f"`{name}` must be a finite number with a unit; got {text!r}.")
    if match["unit"] is None:
        return magnitude, None
    return magnitude, _pint_unit(match["unit"], name=name, what=_ACCEPTED)


def parse_unit(unit: Any, *, name: str = "unit") -> Unit:
    """Parse a unit string defensively (internal; ``name`` is used in error messages)."""
    if _is_unit(unit):
        return unit
    if not isinstance(unit, str):
        raise UnitError(
            f"`{name}` must be a unit string such as 'uM' or 'nM'; got a {type(unit).__name__} "
            f"({unit!r})."
        )
    _check_text(unit, name=name)
    if unit.strip() == "":
        raise UnitError(f"`{name}` must be a unit string such as 'uM' or 'nM'; got an empty string.")
    if _UNIT_RE.fullmatch(unit) is None:
        raise UnitError(
            f"`{name}` must be a unit such as 'uM', 'nM' or 'ug/mL' (unit names joined by '*' or "
            f"'/', integer powers other than 0); got {unit!r}.{_unit_hint(unit) if len(unit) <= 20 else ''}"
        )
    return _pint_unit(unit, name=name, what="a unit such as 'uM', 'nM' or 'ug/mL'")


def parse_quantity(text: str, *, name: str = "value") -> Quantity:
    """Parse ``'<number> <unit>'`` defensively and fast (internal).

    The number is read by ``float`` and the unit by pint (which caches it), so
    thousands of strings parse quickly.  Anything outside the grammar, and any
    error pint raises, is a :class:`~mtor_pharm.errors.UnitError` naming `name`.
    """
    magnitude, unit = _split_quantity(text, name=name)
    registry = _registry()
    if unit is None:
        return registry.Quantity(magnitude)
    return registry.Quantity(magnitude, unit)


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
    if unit is None:
        if isinstance(value, str):
            return parse_quantity(value, name="value")
        return registry.Quantity(value)
    if isinstance(unit, str) and unit.strip() == "":
        unit = "dimensionless"  # pint's reading of an empty unit
    u = parse_unit(unit, name="unit")
    if isinstance(value, str):
        raise UnitError(
            f"`value` must be a number or an array when `unit` is given; got the string {value!r}. "
            "Pass the string alone, e.g. mp.Q_('10 uM')."
        )
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"`value` must be a number or an array of numbers; got {value!r}.")
    try:
        return registry.Quantity(value, u)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`value` must be a number or an array of numbers; got {value!r:.80} ({exc}).") from None


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


_KIND_CACHE: dict[tuple[int, Any], str] = {}


def _unit_kind(unit: Unit) -> str:
    """``"molar"``, ``"mass"`` (mass per volume) or ``"other"``; remembered per registry
    and unit (pint's dimensionality look-ups cost ~20 µs a call)."""
    registry = _registry()
    inner = registry.get() if hasattr(registry, "get") else registry
    key = (id(inner), unit)
    kind = _KIND_CACHE.get(key)
    if kind is None:
        dim = unit.dimensionality
        if dim == registry.get_dimensionality(_MOLAR):
            kind = "molar"
        elif dim == registry.get_dimensionality(_MASS_CONC):
            kind = "mass"
        else:
            kind = "other"
        if len(_KIND_CACHE) >= 512:
            _KIND_CACHE.clear()
        _KIND_CACHE[key] = kind
    return kind


def _is_molar(unit: Unit) -> bool:
    return _unit_kind(unit) == "molar"


def _is_mass_conc(unit: Unit) -> bool:
    return _unit_kind(unit) == "mass"


def _to_quantity(
    conc: ConcentrationLike, conc_unit: str | None, name: str, accepts: frozenset[str] | None = None
) -> Quantity:
    registry = _registry()
    if is_quantity(conc):
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
        q = parse_quantity(conc, name=name)
        if q.dimensionless:
            raise UnitError(f"`{name}` must carry a unit of concentration such as '10 uM'; got {conc!r}.")
        return q
    if (
        isinstance(conc, Sequence)
        and not isinstance(conc, str)
        and len(conc) > 0
        and all(isinstance(c, str) or is_quantity(c) for c in conc)
    ):
        if conc_unit is not None:
            raise UnitError(f"`conc_unit` must be None when `{name}` holds strings or Quantities; got {conc_unit!r}.")
        return _sequence_to_quantity(conc, name)
    if conc_unit is None:
        tail = ", or name the unit with conc_unit='uM'" if accepts is None or "conc_unit" in accepts else ""
        raise UnitError(
            f"`{name}` has no unit: got a bare {type(conc).__name__} ({conc!r}). Pass a Quantity "
            f"(mp.Q_(values, 'uM')) or a string such as '10 uM'{tail}."
        )
    unit = parse_unit(conc_unit, name="conc_unit")
    return registry.Quantity(as_float_array(conc, name=name), unit)


def _sequence_to_quantity(conc: Sequence[Any], name: str) -> Quantity:
    """Strings/Quantities -> one Quantity; each distinct unit is converted once."""
    registry = _registry()
    mags = np.empty(len(conc), dtype=np.float64)
    units: list[Any] = []
    for i, c in enumerate(conc):
        if isinstance(c, str):
            mag_i, u_i = _split_quantity(c, name=f"{name}[{i}]")
            if u_i is None or u_i.dimensionless:
                raise UnitError(f"`{name}[{i}]` must carry a unit of concentration such as '10 uM'; got {c!r}.")
            mags[i] = mag_i
            units.append(u_i)
            continue
        q = _to_quantity(c, None, f"{name}[{i}]")
        mag = np.asarray(q.magnitude)
        if mag.ndim != 0:
            raise UnitError(f"`{name}[{i}]` must be one concentration; got an array of shape {mag.shape}.")
        mags[i] = as_float_array(mag, name=f"{name}[{i}]")
        units.append(q.units)
    target = units[0]
    factors: dict[Any, float] = {}
    out = np.empty_like(mags)
    for i, u in enumerate(units):
        if u not in factors:
            try:
                factors[u] = float(registry.Quantity(1.0, u).to(target).magnitude)
            except _pint().errors.DimensionalityError:
                raise UnitError(
                    f"`{name}` must hold concentrations of one kind; got {u!s} at index {i} and "
                    f"{target!s} at index 0."
                ) from None
        out[i] = mags[i] * factors[u]
    return registry.Quantity(out, target)


def _holds_none(values: Any) -> bool:
    """Whether a (nested) list/tuple or object array holds None, which numpy turns into NaN."""
    if isinstance(values, list | tuple):
        return any(_holds_none(v) if isinstance(v, list | tuple) else v is None for v in values)
    if isinstance(values, np.ndarray) and values.dtype == object:
        return any(v is None for v in values.ravel())
    return False


def is_complex(values: Any, name: str) -> bool:
    """Whether `values` are complex (internal); a ragged nested sequence is refused here, naming
    `name` (numpy's own error would not)."""
    try:
        return bool(np.iscomplexobj(values))
    except ValueError:
        raise ShapeError(
            f"`{name}` must be a rectangular array; got a ragged sequence (rows of different lengths). "
            "Pad a ragged design with NaN."
        ) from None


def as_float_array(values: Any, *, name: str) -> FloatArray:
    """A new float64 array of `values`; complex, text and huge integers are refused,
    masked entries become NaN (internal)."""
    if values is None:
        raise TypeError(f"`{name}` must hold real numbers; got None.")
    if is_quantity(values):
        raise TypeError(
            f"`{name}` must be plain numbers here; got a Quantity in {values.units!s}. Pass its .magnitude "
            "in the expected unit."
        )
    if isinstance(values, np.ma.MaskedArray):
        if np.iscomplexobj(values):
            raise TypeError(f"`{name}` must hold real numbers; got a complex array.")
        try:
            return np.ma.filled(values.astype(np.float64), np.nan)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"`{name}` must hold real numbers; got {values!r}.") from None
    if _holds_none(values):
        raise ValueError(f"`{name}` must hold real numbers; got None among them (use NaN for a missing value).")
    if is_complex(values, name):
        raise TypeError(
            f"`{name}` must hold real numbers; got complex values (dtype "
            f"{np.asarray(values).dtype}). Pass the real part explicitly if that is what you mean."
        )
    try:
        arr = np.array(values, dtype=np.float64, copy=True)
    except OverflowError:
        raise ValueError(f"`{name}` must hold numbers within float64 range; got {values!r:.80}.") from None
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must hold real numbers; got {values!r:.80}.") from None
    return arr


def _molecular_weight_g_per_mol(molecular_weight: Any) -> float:
    if (isinstance(molecular_weight, str) or is_quantity(molecular_weight)):
        q = (parse_quantity(molecular_weight, name="molecular_weight") if isinstance(molecular_weight, str)
             else molecular_weight)
        try:
            value = float(q.to("g/mol").magnitude)
        except (_pint().errors.DimensionalityError, TypeError, ValueError):
            raise UnitError(f"`molecular_weight` must be a molar mass such as '914.19 g/mol'; got {q!s}.") from None
    else:
        if isinstance(molecular_weight, bool) or np.iscomplexobj(molecular_weight):
            raise UnitError(f"`molecular_weight` must be a positive finite molar mass; got {molecular_weight!r}.")
        try:
            value = float(molecular_weight)
        except (TypeError, ValueError, OverflowError):
            raise UnitError(
                f"`molecular_weight` must be a positive finite molar mass (g/mol, or a string such as "
                f"'914.19 g/mol'); got {molecular_weight!r}."
            ) from None
    if not (math.isfinite(value) and value > 0):
        raise UnitError(f"`molecular_weight` must be a positive finite molar mass; got {value!r} g/mol.")
    return value


def _non_negative(values: FloatArray, unit: Any) -> FloatArray:
    """`values` (of `conc`), refused where negative (NaN passes)."""
    with np.errstate(invalid="ignore"):
        negative = values < 0
    if np.any(negative):
        raise ValueError(f"`conc` must be non-negative; got {values[negative].flat[0]:g} {unit!s}.")
    return values


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
    target = parse_unit(unit, name="unit")
    if not _is_molar(target):
        raise UnitError(f"`unit` must be a molar unit such as 'uM'; got {unit!r}.")
    mw = _molecular_weight_g_per_mol(molecular_weight)
    registry = _registry()
    with np.errstate(over="ignore", under="ignore"):
        _non_negative(as_float_array(q.magnitude, name="conc"), q.units)
        molar = as_float_array(q.to("g/L").magnitude, name="conc") / mw
    if np.isinf(molar).any():
        raise UnitError(f"`molecular_weight` {mw!r} g/mol is too small: the molar concentration overflows float64.")
    return registry.Quantity(molar if molar.ndim else float(molar), "M").to(target)


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
    target = parse_unit(unit, name="unit")
    if not _is_mass_conc(target):
        raise UnitError(f"`unit` must be a mass concentration unit such as 'ug/mL'; got {unit!r}.")
    mw = _molecular_weight_g_per_mol(molecular_weight)
    registry = _registry()
    with np.errstate(over="ignore", under="ignore"):
        _non_negative(as_float_array(q.magnitude, name="conc"), q.units)
        mass = as_float_array(q.to("M").magnitude, name="conc") * mw
    if np.isinf(mass).any():
        raise UnitError(f"`molecular_weight` {mw!r} g/mol is too large: the mass concentration overflows float64.")
    return registry.Quantity(mass if mass.ndim else float(mass), "g/L").to(target)


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
        if conc_unit is not None and not (isinstance(conc, str) or is_quantity(conc)):
            raise UnitError(
                f"`conc_unit` must be a unit of concentration (e.g. 'uM'); got {conc_unit!r} "
                f"({unit.dimensionality}).{hint}"
            )
        raise UnitError(
            f"`{name}` must have units of concentration (e.g. 'uM'); got {unit!s} "
            f"({unit.dimensionality}).{hint}"
        )
    values = as_float_array(q.magnitude, name=name)
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
    if x is None or _holds_none(x):
        raise TypeError(f"`x` must be numbers (log10 concentrations; NaN for a missing value); got {x!r}.")
    try:
        values = np.array(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"`x` must be numbers (log10 concentrations); got {x!r}.") from None
    if np.any(np.isposinf(values)) or np.any(values > 300):
        raise ValueError(f"`x` must be log10 concentrations (finite, below 300); got {x!r}.")
    src = parse_unit(log_unit, name="log_unit")
    dst = parse_unit(unit, name="unit")
    if not _is_molar(src) and not _is_mass_conc(src):
        raise UnitError(f"`log_unit` must be a concentration unit such as 'M'; got {log_unit!r}.")
    registry = _registry()
    with np.errstate(under="ignore"):
        linear = np.power(10.0, values)
    try:
        return registry.Quantity(linear, src).to(dst)
    except _pint().errors.DimensionalityError:
        raise UnitError(f"`unit` must be of the same kind as `log_unit` ({log_unit!r}); got {unit!r}.") from None


#: Longest dilution series :func:`dilution_series` makes (the factor underflows long before).
MAX_DILUTION_STEPS = 100_000


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
    if isinstance(factor, bool) or not isinstance(factor, int | float | np.integer | np.floating):
        raise ValueError(f"`factor` must be a finite number > 1; got {factor!r:.80}.")
    try:
        factor = float(factor)
    except OverflowError:
        raise ValueError(f"`factor` must be a finite number > 1; got {factor!r:.80}.") from None
    if not (math.isfinite(factor) and factor > 1):
        raise ValueError(f"`factor` must be a finite number > 1; got {factor!r}.")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"`n` must be a positive integer; got {n!r}.")
    if n > MAX_DILUTION_STEPS:
        size = f"{8 * int(n) // 2**30:,} GiB" if int(n).bit_length() < 1000 else "more memory than exists"
        raise ValueError(
            f"`n` must be at most {MAX_DILUTION_STEPS:,} concentrations; got {n!r:.40} ({size} of float64). "
            "A dilution series that long is almost certainly a mistake."
        )
    values, unit = as_concentration(top, name="top", accepts=frozenset())
    if values.ndim != 0 or not (np.isfinite(values) and values > 0):
        raise ValueError(f"`top` must be one positive finite concentration; got {top!r}.")
    with np.errstate(over="ignore", under="ignore"):
        series = float(values) / float(factor) ** np.arange(int(n), dtype=np.float64)  # underflows to 0
    return _registry().Quantity(series, unit)


def pic50(ic50: ConcentrationLike, *, conc_unit: str | None = None) -> FloatArray | float:
    """pIC50 = −log10(IC50 / 1 M).

    Examples
    --------
    >>> float(mp.pic50("10 nM"))
    8.0
    """
    values, unit = as_concentration(ic50, conc_unit=conc_unit, name="ic50", accepts=frozenset({"conc_unit"}))
    with np.errstate(invalid="ignore"):
        bad = values <= 0
    if np.any(bad):
        raise ValueError(
            f"`ic50` must be positive (NaN, an undetermined IC50, stays NaN); got {values[bad].flat[0]:g} {unit!s}."
        )
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
    u = parse_unit(unit, name="unit")
    if not _is_molar(u):
        raise UnitError(f"`unit` must be a molar unit such as 'nM'; got {unit!r}.")
    if isinstance(p, str | bytes | bool | np.bool_):
        raise TypeError(f"`p` must be pIC50 values (numbers); got {p!r}.")
    arr = as_float_array(p, name="p")
    with np.errstate(over="ignore", under="ignore"):
        molar = 10.0 ** (-arr)
    out = registry.Quantity(molar if arr.ndim else float(molar), "M").to(u)
    return out
