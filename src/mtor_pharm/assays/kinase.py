"""In vitro kinase assays: percent activity, Cheng–Prusoff Ki, and the Morrison tight-binding fit.

The typical mTOR kinase assay measures phospho-4E-BP1 (or phospho-S6K1) made by
recombinant mTOR at a fixed ATP concentration, with no-inhibitor (100 %) and
no-enzyme / full-inhibition (0 %) controls.  :func:`percent_activity` turns the
signal into percent activity; :func:`mtor_pharm.fit` gives the IC50; this module
converts IC50 to Ki.

Cheng–Prusoff assumes the free inhibitor concentration equals the total, which
holds only when the enzyme concentration is far below the IC50.  Second-generation
TORKi such as Torin1 or sapanisertib reach sub-nanomolar potency in assays that
use nanomolar enzyme; fit the Morrison equation (:func:`fit_morrison`) there.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np
import pint
from numpy.typing import ArrayLike, NDArray

from .._molecular_weight import molecular_weight_of
from .._morrison import bound_fraction
from .._typing import ConcentrationLike, FloatArray, IntArray
from .._validate import boolean, choice, real_number
from ..errors import MtorPharmWarning, ShapeError, UnitError
from ..fitting import ConfidenceInterval, FitResult, FitStatus, fit
from ..units import as_concentration
from ._common import (
    as_float,
    check_broadcast,
    first_value,
    quantity,
    quiet,
    unit_factor,
    where_text,
)
from .normalize import percent_activity, percent_inhibition

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "KiEstimate",
    "Mechanism",
    "MorrisonFit",
    "cheng_prusoff",
    "fit_morrison",
    "ki_from_fit",
    "morrison",
    "morrison_ic50",
    "percent_activity",
    "percent_inhibition",
]

#: Inhibition modes for which IC50 → Ki has a closed form.
Mechanism: TypeAlias = Literal["competitive", "noncompetitive", "uncompetitive"]
_MECHANISMS = ("competitive", "noncompetitive", "uncompetitive")


def _readonly(values: ArrayLike, dtype: Any = np.float64) -> NDArray[Any]:
    arr = np.array(values, dtype=dtype, copy=True)
    arr.flags.writeable = False
    return arr


def _molar(value: ConcentrationLike, name: str) -> FloatArray:
    """A concentration argument as float64 molar magnitudes, checked > 0."""
    values, unit = as_concentration(value, name=name, accepts=frozenset())
    molar = values * unit_factor(unit, "M")
    bad = ~(molar > 0) & ~np.isnan(molar)
    if bad.any():
        raise ValueError(f"`{name}` must be > 0; got {value!r}.")
    return molar


def _factor(mechanism: str, substrate: ConcentrationLike | None, km: ConcentrationLike | None,
            **others: Any) -> FloatArray:
    """IC50 / Ki for the mechanism: 1 + [S]/Km, 1, or 1 + Km/[S].

    `others` are the caller's other array arguments by name: they, `substrate` and `km`
    must broadcast together (a ShapeError names them and their shapes)."""
    choice(mechanism, "mechanism", _MECHANISMS)
    if mechanism == "noncompetitive":
        check_broadcast(**others)
        return np.ones((), dtype=np.float64)
    missing = [n for n, v in (("substrate", substrate), ("km", km)) if v is None]
    if missing:
        raise ValueError(
            f"`{missing[0]}` is required for {mechanism} inhibition: pass the substrate "
            "concentration in the assay (e.g. substrate='10 uM' ATP) and its Km (e.g. km='5 uM')."
        )
    s = _molar(substrate, "substrate")
    k = _molar(km, "km")
    check_broadcast(**others, substrate=s, km=k)
    ratio = s / k
    out: FloatArray = 1.0 + ratio if mechanism == "competitive" else 1.0 + 1.0 / ratio
    return out


def _tight_binding_check(ic50_molar: FloatArray, enzyme: ConcentrationLike | None, ratio: float,
                         stacklevel: int, labels: tuple[Any, ...] | None = None) -> None:
    if enzyme is None:
        return
    e = _molar(enzyme, "enzyme")
    check_broadcast(ic50=ic50_molar, enzyme=e)
    with np.errstate(invalid="ignore", divide="ignore"):
        close = ic50_molar < ratio * e
    if np.any(close):
        where = where_text(np.atleast_1d(close))
        flat = np.atleast_1d(close).reshape(-1)
        values = f"IC50 {first_value(ic50_molar, close):.3g} M"
        if labels is not None and np.shape(close) == np.shape(ic50_molar) and len(labels) == flat.size:
            ic = np.atleast_1d(ic50_molar).reshape(-1)
            named = [(str(lab), v) for lab, c, v in zip(labels, flat, ic, strict=True) if c]
            where = f" for {', '.join(n for n, _ in named[:5])}{' …' if len(named) > 5 else ''}"
            values = "IC50 " + ", ".join(f"{v:.3g} M ({n})" for n, v in named[:5])
        warnings.warn(
            f"IC50 is within {ratio:g}× of the enzyme concentration{where}"
            f" ({values}; enzyme "
            f"{float(np.max(e)):.3g} M): Cheng–Prusoff assumes free ≈ total inhibitor, which "
            "fails for tight binders (IC50 = Ki_app + [E]/2; Morrison 1969). Fit the Morrison "
            "equation with mtor_pharm.assays.fit_morrison.",
            MtorPharmWarning,
            stacklevel=stacklevel,
        )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class KiEstimate:
    """An inhibition constant converted from an IC50.

    Attributes
    ----------
    ki : pint.Quantity
        Ki in the IC50's unit, of the IC50's shape.
    ci_low, ci_high : pint.Quantity
        Confidence limits carried through from the IC50's interval (NaN if none given).
    level : float
        Confidence level of that interval (NaN if unknown).
    stderr : pint.Quantity
        Standard error of Ki (NaN if the IC50's was not given).
    factor : ndarray
        ``IC50 / Ki`` (``1 + [S]/Km`` for competitive inhibition).
    mechanism : {"competitive", "noncompetitive", "uncompetitive"}
    labels : tuple, optional
        Curve labels carried over from a labelled :class:`~mtor_pharm.FitResult`.
    """

    ki: pint.Quantity[Any]
    ci_low: pint.Quantity[Any]
    ci_high: pint.Quantity[Any]
    level: float
    stderr: pint.Quantity[Any]
    factor: FloatArray
    mechanism: Mechanism
    labels: tuple[Any, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "factor", _readonly(self.factor))

    def to_dataframe(self, *, unit: str | None = None) -> pd.DataFrame:
        """One row per Ki: ``ki``, ``ki_ci_low``, ``ki_ci_high``, ``ki_stderr`` (unit in the
        column names, as in :meth:`mtor_pharm.FitResult.to_dataframe`), ``factor``,
        ``mechanism``; indexed by the labels of the fit when it had them.

        Examples
        --------
        >>> k = mp.assays.cheng_prusoff("30 nM", substrate="10 uM", km="5 uM")
        >>> k.to_dataframe()["ki [nM]"].round(2).tolist()
        [10.0]
        """
        import pandas as pd

        from ..fitting._result import _unit_label

        u = str(unit) if unit is not None else str(self.ki.units)
        cols: dict[str, Any] = {}
        for name, q in (("ki", self.ki), ("ki_ci_low", self.ci_low), ("ki_ci_high", self.ci_high),
                        ("ki_stderr", self.stderr)):
            values = np.asarray(q.to(u).magnitude, dtype=np.float64)
            cols[f"{name} [{_unit_label(u)}]"] = np.atleast_1d(values).reshape(-1)
        n = len(next(iter(cols.values())))
        cols["factor"] = np.broadcast_to(self.factor, np.shape(self.ki.magnitude)).reshape(-1) if n else []
        cols["mechanism"] = [self.mechanism] * n
        index = list(self.labels) if self.labels is not None and len(self.labels) == n else None
        df = pd.DataFrame(cols, index=index)
        df.attrs = {"confidence_level": self.level, "mechanism": self.mechanism}
        return df

    def ci(self) -> ConfidenceInterval:
        """The interval ``(ci_low, ci_high)`` as a :class:`~mtor_pharm.ConfidenceInterval`."""
        return ConfidenceInterval(self.ci_low, self.ci_high)


@quiet
def cheng_prusoff(
    ic50: ConcentrationLike, *, mechanism: Mechanism = "competitive",
    substrate: ConcentrationLike | None = None, km: ConcentrationLike | None = None,
    enzyme: ConcentrationLike | None = None, conc_unit: str | None = None,
    ci: Sequence[ConcentrationLike] | None = None, level: float | None = None,
    stderr: ConcentrationLike | None = None, tight_binding_ratio: float = 10.0,
) -> KiEstimate:
    """Convert an IC50 to Ki with the Cheng–Prusoff relations.

    Parameters
    ----------
    ic50 : Quantity, str or array_like
        IC50(s), e.g. ``"12 nM"`` or ``mp.Q_([12, 40], "nM")``.
    mechanism : {"competitive", "noncompetitive", "uncompetitive"}, default "competitive"
        Competitive with the varied substrate (ATP for TORKi such as Torin1 and
        sapanisertib), pure non-competitive, or uncompetitive.
    substrate : Quantity or str
        Substrate concentration in the assay (e.g. ``"10 uM"`` ATP); needed
        except for non-competitive inhibition.
    km : Quantity or str
        Michaelis constant of that substrate (e.g. ``Km,ATP``).
    enzyme : Quantity or str, optional
        Active enzyme concentration.  When given, a :class:`MtorPharmWarning` is
        issued if an IC50 is below ``tight_binding_ratio`` × enzyme.
    conc_unit : str, optional
        Unit of a bare `ic50` array.
    ci : (low, high), optional
        A confidence interval of the IC50 (e.g. ``res.ci("ic50")``), mapped through.
    level : float, optional
        The confidence level of `ci`, recorded in the result.
    stderr : Quantity, optional
        Standard error of the IC50, mapped through.
    tight_binding_ratio : float, default 10
        Warn when ``IC50 < tight_binding_ratio · [E]``.

    Returns
    -------
    KiEstimate
        Ki in the unit of `ic50`.

    Raises
    ------
    ValueError
        Unknown mechanism; missing `substrate`/`km`; non-positive concentrations; a
        `ci` with low > high or not containing the IC50; a negative `stderr`.
    UnitError
        Arguments that are not concentrations.
    ShapeError
        Array arguments whose shapes do not broadcast.

    Warns
    -----
    MtorPharmWarning
        IC50 within `tight_binding_ratio` of the enzyme concentration.

    Notes
    -----
    competitive ``Ki = IC50 / (1 + [S]/Km)``; non-competitive ``Ki = IC50``;
    uncompetitive ``Ki = IC50 / (1 + Km/[S])``.  The map is ``IC50 ↦ IC50/f`` with
    ``f`` fixed, so it is monotone and an IC50 interval maps to a Ki interval of the
    same level — exactly so only when ``[S]/Km`` is known exactly (the interval
    does not include the uncertainty of Km).

    References
    ----------
    Cheng Y, Prusoff WH. Relationship between the inhibition constant (KI) and the
    concentration of inhibitor which causes 50 per cent inhibition (I50) of an
    enzymatic reaction. Biochem Pharmacol 1973;22:3099–3108.

    Examples
    --------
    >>> k = mp.assays.cheng_prusoff("30 nM", substrate="10 uM", km="5 uM")
    >>> k.ki   # 30 / (1 + 10/5)
    <Quantity(10.0, 'nanomolar')>
    >>> mp.assays.cheng_prusoff("30 nM", mechanism="uncompetitive", substrate="10 uM", km="5 uM").ki
    <Quantity(20.0, 'nanomolar')>
    """
    return _cheng_prusoff(ic50, mechanism=mechanism, substrate=substrate, km=km, enzyme=enzyme,
                          conc_unit=conc_unit, ci=ci, level=level, stderr=stderr,
                          ratio=tight_binding_ratio, stacklevel=4)  # +1 for the @quiet wrapper


def _cheng_prusoff(
    ic50: ConcentrationLike, *, mechanism: str, substrate: Any, km: Any, enzyme: Any,
    conc_unit: str | None, ci: Any, level: float | None, stderr: Any, ratio: float, stacklevel: int,
    labels: tuple[Any, ...] | None = None,
) -> KiEstimate:
    values, unit = as_concentration(ic50, conc_unit=conc_unit, name="ic50")
    bad = ~(values > 0) & ~np.isnan(values)
    if bad.any():
        raise ValueError(f"`ic50` must be > 0; got {first_value(values, bad)!r}{where_text(bad)}.")
    ratio = real_number(ratio, "tight_binding_ratio", low=0.0, low_open=True, accepted="a positive number")
    if level is not None:
        level = real_number(level, "level", low=0.0, high=1.0, low_open=True, high_open=True,
                            accepted="a confidence level in (0, 1)")
    given: dict[str, FloatArray] = {}
    if ci is not None:
        try:
            lo_q, hi_q = ci
        except (TypeError, ValueError):
            raise ValueError(f"`ci` must be a (low, high) pair; got {ci!r}.") from None
        lo_v, lo_u = as_concentration(lo_q, name="ci[0]", conc_unit=None if _has_unit(lo_q) else str(unit))
        hi_v, hi_u = as_concentration(hi_q, name="ci[1]", conc_unit=None if _has_unit(hi_q) else str(unit))
        given["ci[0]"], given["ci[1]"] = lo_v * unit_factor(lo_u, unit), hi_v * unit_factor(hi_u, unit)
    if stderr is not None:
        se_v, se_u = as_concentration(stderr, name="stderr", conc_unit=None if _has_unit(stderr) else str(unit))
        given["stderr"] = se_v * unit_factor(se_u, unit)
    f = _factor(mechanism, substrate, km, ic50=values, **given)
    _check_interval(values, given, unit)
    _tight_binding_check(values * unit_factor(unit, "M"), enzyme, ratio, stacklevel + 1, labels)
    with np.errstate(invalid="ignore"):
        ki = values / f
        low = given["ci[0]"] / f if ci is not None else np.full(np.shape(ki), np.nan)
        high = given["ci[1]"] / f if ci is not None else np.full(np.shape(ki), np.nan)
        se = given["stderr"] / f if stderr is not None else np.full(np.shape(ki), np.nan)
    shape = np.broadcast_shapes(np.shape(ki), np.shape(low), np.shape(high), np.shape(se))
    return KiEstimate(
        ki=quantity(np.broadcast_to(ki, shape), unit),
        ci_low=quantity(np.broadcast_to(low, shape), unit),
        ci_high=quantity(np.broadcast_to(high, shape), unit),
        level=float("nan") if level is None else float(level),
        stderr=quantity(np.broadcast_to(se, shape), unit),
        factor=np.asarray(f, dtype=np.float64),
        mechanism=mechanism,  # type: ignore[arg-type]
        labels=labels if labels is not None and len(labels) == int(np.prod(shape)) else None,
    )


def _check_interval(ic50: FloatArray, given: dict[str, FloatArray], unit: Any) -> None:
    """`ci` ordered and containing the IC50, `stderr` ≥ 0 (NaN entries are not checked)."""
    tol = 1e-9  # relative: unit conversions round
    if "ci[0]" in given:
        lo, hi = given["ci[0]"], given["ci[1]"]
        lo_b, hi_b, x = np.broadcast_arrays(lo, hi, ic50)
        with np.errstate(invalid="ignore"):
            reversed_ = lo_b > hi_b
            outside = ~reversed_ & ((lo_b > x * (1 + tol)) | (hi_b < x * (1 - tol)))
        if reversed_.any():
            i = np.asarray(reversed_)
            raise ValueError(
                f"`ci` must be (low, high) with low ≤ high; got low {first_value(lo_b, i)!r} and high "
                f"{first_value(hi_b, i)!r} {unit:~P}{where_text(i)}."
            )
        if outside.any():
            i = np.asarray(outside)
            raise ValueError(
                f"`ci` must contain `ic50` (low ≤ ic50 ≤ high); got ({first_value(lo_b, i)!r}, "
                f"{first_value(hi_b, i)!r}) {unit:~P} for ic50 {first_value(x, i)!r} {unit:~P}"
                f"{where_text(i)}. Is it the interval of another curve or of another parameter?"
            )
    if "stderr" in given:
        se = given["stderr"]
        bad = np.asarray(se < 0)
        if bad.any():
            raise ValueError(
                f"`stderr` must be ≥ 0 (a standard error); got {first_value(se, bad)!r} {unit:~P}"
                f"{where_text(bad)}."
            )


def _has_unit(value: Any) -> bool:
    return isinstance(value, pint.Quantity | str)


@quiet
def ki_from_fit(
    res: FitResult, *, mechanism: Mechanism = "competitive",
    substrate: ConcentrationLike | None = None, km: ConcentrationLike | None = None,
    enzyme: ConcentrationLike | None = None, level: float = 0.95, tight_binding_ratio: float = 10.0,
) -> KiEstimate:
    """Ki with its confidence interval from a fitted IC50 (Cheng–Prusoff).

    Takes ``res.ic50``, ``res.ci("ic50", level=level)`` and ``res.stderr["ic50"]``
    and maps all three through :func:`cheng_prusoff`.

    Parameters
    ----------
    res : FitResult
        A 4PL-family fit of percent activity (or raw signal) against inhibitor concentration.
    mechanism, substrate, km, enzyme, tight_binding_ratio
        As in :func:`cheng_prusoff`.
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    KiEstimate

    References
    ----------
    Cheng Y, Prusoff WH. Biochem Pharmacol 1973;22:3099–3108.

    Examples
    --------
    >>> conc = mp.Q_([1, 3, 10, 30, 100, 300, 1000], "nM")
    >>> act = 100 / (1 + conc.magnitude / 30.0)
    >>> k = mp.assays.ki_from_fit(mp.fit(conc, act), substrate="10 uM", km="5 uM")
    >>> round(float(k.ki.magnitude), 2), k.ki.units
    (10.0, <Unit('nanomolar')>)
    """
    if not isinstance(res, FitResult):
        raise TypeError(f"`res` must be a FitResult (from mp.fit); got {type(res).__name__}.")
    level = real_number(level, "level", low=0.0, high=1.0, low_open=True, high_open=True,
                        accepted="a confidence level in (0, 1)")
    if "ic50" not in res.params:
        raise ValueError(
            f"`res` must be a 4PL-family fit with an 'ic50' parameter; got model {res.model!r}. "
            "Pass res.icx(50) to cheng_prusoff instead."
        )
    low, high = res.ci("ic50", level=level)
    se = quantity(np.asarray(res.stderr["ic50"]), res.ic50.units)
    labels = res.labels if res.labels is not None and len(res.shape) <= 1 else None
    out = _cheng_prusoff(res.ic50, mechanism=mechanism, substrate=substrate, km=km, enzyme=enzyme,
                         conc_unit=None, ci=(low, high), level=level, stderr=se,
                         ratio=tight_binding_ratio, stacklevel=4, labels=labels)  # +1 for the @quiet wrapper
    return out


# ----------------------------------------------------------------------------- Morrison
@quiet
def morrison(x: ArrayLike, ki_app: ArrayLike, enzyme: ArrayLike, v0: ArrayLike = 1.0) -> FloatArray:
    """Morrison's quadratic velocity equation for a tight-binding inhibitor.

    Parameters
    ----------
    x : array_like
        Total inhibitor concentration ``[I]`` (≥ 0).
    ki_app : array_like
        Apparent inhibition constant (``Ki (1 + [S]/Km)`` for competitive inhibition),
        same unit as `x`.
    enzyme : array_like
        Total active enzyme concentration ``[E]``, same unit; 0 gives the classic
        hyperbola ``v0 · K/(K + I)``.
    v0 : array_like, default 1
        Uninhibited velocity (or signal).

    Returns
    -------
    ndarray
        ``v = v0 · (1 − ((E + I + K) − sqrt((E + I + K)² − 4 E I)) / (2 E))``.

    Notes
    -----
    The curve of the ``"morrison"`` model family (:data:`mtor_pharm.models.MODELS`) with
    ``bottom = 0``, ``top = v0``: evaluated without cancellation (the bound fraction as
    ``2 I / (q + sqrt(q² − 4 E I))``, ``q = E + I + K``, and its complement rationalised
    too), exact at ``E = 0`` and at ``I = 0``.  Half-maximal velocity is at ``I = K + E/2``.

    References
    ----------
    Morrison JF. Kinetics of the reversible inhibition of enzyme-catalysed
    reactions by tight-binding inhibitors. Biochim Biophys Acta 1969;185:269–286.

    Examples
    --------
    >>> mp.assays.morrison([0.0, 1.5, 3.0], ki_app=1.0, enzyme=1.0).round(3).tolist()
    [1.0, 0.5, 0.303]

    (At ``I = 3``: ``1 − (5 − sqrt(25 − 12))/2 = 0.3028``; at ``I = K + E/2 = 1.5``: one half.)
    """
    i, k, e, v = _morrison_args(x, ki_app, enzyme, v0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore", under="ignore"):
        _, free_fraction = bound_fraction(np.log(i), np.log(k), np.log(e), derivatives=False)
        out: FloatArray = v * free_fraction
    return out


def _morrison_args(x: Any, ki_app: Any, enzyme: Any, v0: Any) -> tuple[FloatArray, ...]:
    """Concentrations in one unit (all Quantities, converted to the unit of `x`, or all bare)."""
    conc = {"x": x, "ki_app": ki_app, "enzyme": enzyme}
    with_units = [n for n, v in conc.items() if isinstance(v, pint.Quantity)]
    if with_units and len(with_units) < 3:
        bare = [n for n in conc if n not in with_units]
        raise UnitError(
            f"`{with_units[0]}` is a Quantity but `{bare[0]}` is a bare number; give `x`, `ki_app` "
            "and `enzyme` all as Quantities (converted to one unit) or all as numbers in one unit."
        )
    arrays: dict[str, FloatArray] = {}
    for n, v in conc.items():
        if isinstance(v, pint.Quantity):
            try:
                factor = unit_factor(v.units, x.units)
            except pint.errors.DimensionalityError:
                raise UnitError(
                    f"`{n}` must have the units of `x` ({x.units!s}); got {v.units!s}."
                ) from None
            arrays[n] = as_float(v.magnitude, n) * factor
        else:
            arrays[n] = as_float(v, n)
    if isinstance(v0, pint.Quantity):
        raise UnitError(f"`v0` must be a plain number (a velocity or signal); got a Quantity in {v0.units!s}.")
    arrays["v0"] = as_float(v0, "v0")
    for n, rule, bad in (("x", "≥ 0", arrays["x"] < 0), ("ki_app", "> 0", arrays["ki_app"] <= 0),
                         ("enzyme", "≥ 0", arrays["enzyme"] < 0)):
        if np.any(bad):
            raise ValueError(f"`{n}` must be {rule}; got {first_value(arrays[n], np.asarray(bad))!r}"
                             f"{where_text(np.asarray(bad))}.")
    try:
        np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError:
        listed = ", ".join(f"`{n}` {a.shape}" for n, a in arrays.items())
        raise ShapeError(f"the arguments of morrison must broadcast; got shapes {listed}.") from None
    return arrays["x"], arrays["ki_app"], arrays["enzyme"], arrays["v0"]


@quiet
def morrison_ic50(
    ki: ConcentrationLike, *, enzyme: ConcentrationLike, mechanism: Mechanism = "competitive",
    substrate: ConcentrationLike | None = None, km: ConcentrationLike | None = None,
) -> pint.Quantity[Any]:
    """IC50 of a tight-binding inhibitor: ``IC50 = Ki · f + [E]/2`` (Morrison).

    Parameters
    ----------
    ki : Quantity or str
        True inhibition constant.
    enzyme : Quantity or str
        Total active enzyme concentration.
    mechanism, substrate, km
        As in :func:`cheng_prusoff`; ``f`` is the Cheng–Prusoff factor.

    Returns
    -------
    pint.Quantity
        In the unit of `ki`.  As ``[E] → 0`` this is the Cheng–Prusoff relation.

    Raises
    ------
    ValueError
        A `ki`, `enzyme`, `substrate` or `km` ≤ 0; an unknown mechanism.
    ShapeError
        Array arguments whose shapes do not broadcast.

    References
    ----------
    Morrison JF. Biochim Biophys Acta 1969;185:269–286; Copeland RA. Evaluation of
    Enzyme Inhibitors in Drug Discovery, 2nd ed. Wiley 2013, ch. 7.

    Examples
    --------
    >>> mp.assays.morrison_ic50("1 nM", enzyme="4 nM", substrate="10 uM", km="10 uM")
    <Quantity(4.0, 'nanomolar')>
    """
    values, unit = as_concentration(ki, name="ki")
    bad = ~(values > 0) & ~np.isnan(values)
    if bad.any():
        raise ValueError(f"`ki` must be > 0; got {first_value(values, bad)!r}{where_text(bad)}.")
    choice(mechanism, "mechanism", _MECHANISMS)
    e = _molar(enzyme, "enzyme") * unit_factor("M", unit)
    f = _factor(mechanism, substrate, km, ki=values, enzyme=e)
    return quantity(values * f + e / 2.0, unit)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class MorrisonFit:
    """A Morrison tight-binding fit of one curve (batch shape ``()``) or a batch.

    Attributes
    ----------
    ki : pint.Quantity
        True Ki, ``ki_app / factor``, in the caller's concentration unit.
    stderr : pint.Quantity
        Standard error of `ki` (delta method from the SE of ``ln ki_app``).
    ki_app : pint.Quantity
        Fitted apparent Ki.
    enzyme : pint.Quantity
        Active enzyme concentration, fixed (also on curves that were not fitted) or fitted.
    enzyme_stderr : pint.Quantity
        Its standard error (0 when fixed; NaN on curves that were not fitted).
    v0, v0_stderr : ndarray
        Uninhibited velocity (the ``top`` of the ``"morrison"`` family) and its standard
        error (0 when fixed).
    factor : ndarray
        ``ki_app / ki`` (``1 + [S]/Km`` for competitive inhibition).
    mechanism : str
    rss : ndarray
    n, dof : ndarray of int
    status : ndarray of uint8
        :class:`~mtor_pharm.FitStatus` bits, decided by the engine's rules (the same as
        ``mp.fit(..., model="morrison")``).
    log_ki_stderr : ndarray
        Standard error of ``ln ki`` (used by :meth:`ci`).
    result : FitResult
        The engine's fit of the ``"morrison"`` family (parameters ``bottom``, ``top``,
        ``ki_app``, ``enzyme`` in the unit of `conc`).
    """

    ki: pint.Quantity[Any]
    stderr: pint.Quantity[Any]
    ki_app: pint.Quantity[Any]
    enzyme: pint.Quantity[Any]
    enzyme_stderr: pint.Quantity[Any]
    v0: FloatArray
    v0_stderr: FloatArray
    factor: FloatArray
    mechanism: Mechanism
    rss: FloatArray
    n: IntArray
    dof: IntArray
    status: NDArray[np.uint8]
    log_ki_stderr: FloatArray = field(repr=False)
    result: FitResult = field(repr=False)

    def __post_init__(self) -> None:
        for name in ("v0", "v0_stderr", "factor", "rss", "log_ki_stderr"):
            object.__setattr__(self, name, _readonly(getattr(self, name)))
        for name in ("n", "dof"):
            object.__setattr__(self, name, _readonly(getattr(self, name), dtype=np.int64))
        object.__setattr__(self, "status", _readonly(self.status, dtype=np.uint8))

    @property
    def converged(self) -> NDArray[np.bool_]:
        """True where the solver converged (no ``NOT_CONVERGED``/``TOO_FEW_POINTS`` bit)."""
        bad = int(FitStatus.NOT_CONVERGED | FitStatus.TOO_FEW_POINTS)
        out: NDArray[np.bool_] = (self.status & bad) == 0
        return out

    def ci(self, *, level: float = 0.95) -> ConfidenceInterval:
        """Wald interval of Ki on the log scale with the t distribution (asymmetric, > 0):
        the engine's interval of ``ki_app`` divided by :attr:`factor` (NaN where the fit is
        undetermined: flat, not converged or too few points).

        Examples
        --------
        >>> conc = mp.Q_([0, 0.3, 1, 3, 10, 30], "nM")
        >>> v = mp.assays.morrison(conc.magnitude, ki_app=2.0, enzyme=2.0) * 100
        >>> v = v + np.array([0.5, -0.4, 0.3, -0.2, 0.1, -0.3])
        >>> res = mp.assays.fit_morrison(conc, v, enzyme="2 nM", mechanism="noncompetitive")
        >>> low, high = res.ci()
        >>> bool(low < res.ki < high)
        True
        """
        low, high = self.result.ci("ki_app", level=level)
        f = float(self.factor)
        unit = self.ki.units
        return ConfidenceInterval(quantity(low.magnitude / f, unit), quantity(high.magnitude / f, unit))

    def predict(self, conc: ConcentrationLike, *, conc_unit: str | None = None) -> FloatArray:
        """Fitted velocity at `conc` (shape ``batch + conc.shape`` for 1-D `conc`)."""
        return self.result.predict(conc, conc_unit=conc_unit)


@quiet
def fit_morrison(
    conc: ConcentrationLike, response: ArrayLike, *, enzyme: ConcentrationLike,
    mechanism: Mechanism = "competitive", substrate: ConcentrationLike | None = None,
    km: ConcentrationLike | None = None, conc_unit: str | None = None, v0: float | None = None,
    fit_enzyme: bool = False, inhibitor: Any = None,
) -> MorrisonFit:
    """Fit Morrison's equation to a tight-binding inhibition curve and recover Ki with its SE.

    Parameters
    ----------
    conc : Quantity or array_like, shape (m,) or (..., m)
        Total inhibitor concentrations; 0 (no-inhibitor wells) is allowed and helps.
    response : array_like, shape (..., m)
        Velocity, signal or percent activity; NaN marks a missing well.
    enzyme : Quantity or str
        Total active enzyme concentration in the assay, fixed in the fit (Prism's
        ``Et``).  With ``fit_enzyme=True`` it is checked but not used: the fit starts
        from its own grid (see Notes).
    mechanism, substrate, km
        As in :func:`cheng_prusoff`; give the factor ``Ki_app = Ki · f``.
    conc_unit : str, optional
        Unit of a bare `conc` array.
    v0 : float, optional
        Fix the uninhibited velocity (> 0, e.g. 100 for percent activity); fitted by default.
    fit_enzyme : bool, default False
        Also fit the active enzyme concentration (often below the nominal one).
    inhibitor : str or Inhibitor, optional
        Registry inhibitor whose molecular weight converts mass concentrations
        (µg/mL) to molar; molar input is used as is.

    Returns
    -------
    MorrisonFit
        Ki and its standard error in the unit of `conc`; one fit per curve.

    Raises
    ------
    ValueError, UnitError, ShapeError
        Bad concentrations, units or shapes; a `v0` ≤ 0.
    TypeError
        A `fit_enzyme` that is not True or False.

    Notes
    -----
    A thin layer over ``mp.fit(conc, response, model="morrison", fixed={"enzyme": enzyme})``
    (``fixed["top"] = v0`` when `v0` is given; no enzyme in `fixed` with
    ``fit_enzyme=True``): the batched engine's Levenberg–Marquardt on ``ln Ki_app``
    [, ``ln E``] [, ``v0``] with ``bottom = 0``, started from a grid in ``ln Ki_app``
    (× ``ln E`` when it is fitted) with ``v0`` solved in closed form per cell, and
    the engine's covariance ``s² (JᵀJ)⁻¹``, ``s² = RSS/(n − p)``, and status rules
    (``TOO_FEW_POINTS``, ``NOT_CONVERGED``, ``AT_BOUND``: ``Ki_app`` or ``E`` at 10⁶×
    beyond the tested range, ``FLAT_RESPONSE``, ``IC50_OUTSIDE_RANGE`` for
    ``IC50 = Ki_app + E/2``, ``AMBIGUOUS``), exactly as from :func:`mtor_pharm.fit`.
    ``SE(Ki) = SE(Ki_app) / f`` (``f`` exact).  The engine's result is kept as
    :attr:`MorrisonFit.result` (IC50 with its interval, AIC, ``to_dataframe``, plots).

    References
    ----------
    Morrison JF. Biochim Biophys Acta 1969;185:269–286; Copeland RA. Evaluation of
    Enzyme Inhibitors in Drug Discovery, 2nd ed. Wiley 2013, ch. 7.

    Examples
    --------
    >>> conc = mp.Q_([0, 0.3, 1, 3, 10, 30], "nM")
    >>> truth = mp.assays.morrison(conc.magnitude, ki_app=2.0, enzyme=2.0) * 100
    >>> res = mp.assays.fit_morrison(conc, truth, enzyme="2 nM", substrate="10 uM", km="10 uM")
    >>> round(float(res.ki.magnitude), 3), res.ki.units   # Ki_app / (1 + 10/10)
    (1.0, <Unit('nanomolar')>)
    >>> res.result.model, round(float(res.result.ic50.magnitude), 3)   # IC50 = Ki_app + [E]/2
    ('morrison', 3.0)
    """
    x, unit = as_concentration(conc, conc_unit=conc_unit, molecular_weight=molecular_weight_of(inhibitor))
    y = as_float(response, "response")
    if x.ndim == 0 or y.ndim == 0 or x.shape[-1] != y.shape[-1]:
        raise ShapeError(
            f"`conc` and `response` must share their last (concentration) axis; got shapes "
            f"{x.shape} and {y.shape}."
        )
    bad = ~(x >= 0)
    if bad.any():
        raise ValueError(f"`conc` must be ≥ 0; got {first_value(x, bad)!r}{where_text(bad)}.")
    f = float(np.asarray(_factor(mechanism, substrate, km)))
    e_val = _molar(enzyme, "enzyme")
    if e_val.ndim != 0 or not np.isfinite(e_val):
        raise ValueError(f"`enzyme` must be one positive finite concentration; got {enzyme!r}.")
    # the enzyme as given: the engine converts it to the unit of `conc` as it does for mp.fit
    fit_enzyme = boolean(fit_enzyme, "fit_enzyme")
    fixed: dict[str, Any] = {} if fit_enzyme else {"enzyme": enzyme}
    if v0 is not None:
        fixed["top"] = real_number(v0, "v0", low=0.0, low_open=True,
                                   accepted="a positive finite number (the uninhibited velocity) or None")
    res = fit(quantity(x, unit), y, model="morrison_e" if fit_enzyme else "morrison", fixed=fixed)
    k_app = np.asarray(res.params["ki_app"])
    with np.errstate(invalid="ignore", divide="ignore"):
        log_se = np.asarray(res.stderr["ki_app"]) / k_app
    return MorrisonFit(
        ki=quantity(k_app / f, unit), stderr=quantity(np.asarray(res.stderr["ki_app"]) / f, unit),
        ki_app=quantity(k_app, unit), enzyme=quantity(res.params["enzyme"], unit),
        enzyme_stderr=quantity(res.stderr["enzyme"], unit), v0=res.params["top"], v0_stderr=res.stderr["top"],
        factor=np.asarray(f), mechanism=mechanism, rss=res.rss, n=res.n, dof=res.dof, status=res.status,
        log_ki_stderr=log_se, result=res,
    )
