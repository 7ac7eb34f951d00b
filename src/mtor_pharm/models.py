"""Dose-response model families.

Every family here has the form

.. math:: y = \\mathrm{bottom} + (\\mathrm{top} - \\mathrm{bottom})\\, S(z), \\qquad
          z = \\mathrm{hill}\\,(\\ln x - \\ln x_c)

with a *shape* ``S`` that falls from 1 (``z → −∞``) to 0 (``z → +∞``).  So in
every family ``hill > 0`` means the response falls with concentration (an
inhibition curve), and at ``x = 0`` (vehicle) the response is ``top``.

==============  ==================================  ========================
name            shape ``S(z)``                      drc equivalent
==============  ==================================  ========================
``"4pl"``       ``1 / (1 + e^z)``                   ``LL.4`` (``b = hill``)
``"3pl"``       4PL with ``bottom = 0``             ``LL.3``
``"2pl"``       4PL with ``bottom = 0, top = 100``  ``LL.2`` on 0–100 data
``"5pl"``       ``(1 + e^z)^(−s)``                  ``LL.5`` (``f = s``)
``"weibull1"``  ``exp(−e^z)``                       ``W1.4`` (``b = hill``)
``"weibull2"``  ``1 − exp(−e^(−z))``                ``W2.4`` (``b = −hill``)
``"lognormal"`` ``Φ(−z)``                           ``LN.4`` (``b = −hill``)
==============  ==================================  ========================

Families that are not of this form (fitted by the generic batched solver, see
:class:`ModelFamily`): ``"bc5"``/``"bc4"`` (Brain–Cousens hormesis, drc ``BC.5``/``BC.4``),
``"crs5"``/``"crs4"`` (Cedergreen–Ritz–Streibig, drc ``CRS.5a``/``CRS.4a``) and
``"biphasic"`` (Prism's "Biphasic dose-response"); ``hill > 0`` is falling there too.
``"morrison"`` (Morrison's tight-binding quadratic, Prism's "Morrison Ki"; parameters
``bottom`` (fixed at 0 by default), ``top``, ``ki_app`` and ``enzyme``, the last two
concentrations; ``enzyme`` must be given in ``fixed``, or fitted too with
``"morrison_e"``) has no hill and falls from ``top`` to ``bottom``.

Prism's ``HillSlope`` has the opposite sign to ``hill`` for inhibition curves.
The location parameter ``x_c`` is called ``ic50`` in the 4PL family, where it
*is* the half-way concentration, and ``xmid`` in the 5PL and Weibull families,
where it is not (their IC50 comes from :meth:`FitResult.icx`).

The plain kernels (:func:`four_pl`, :func:`five_pl`, :func:`weibull1`,
:func:`weibull2`) take ``x`` first and named parameters, so ``lmfit.Model``
and ``xarray.DataArray.curvefit`` can use them directly.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from ._layout import ASYM, BOTTOM, HILL, LOC, TOP
from ._typing import BoolArray, FloatArray
from .errors import ShapeError, UnitError, UnknownModelError
from .units import _pint, as_float_array, is_quantity

__all__ = [
    "MODELS",
    "PARAM_KINDS",
    "Model",
    "ModelFamily",
    "five_pl",
    "four_pl",
    "get_model",
    "linear_cells",
    "weibull1",
    "weibull2",
]


# --------------------------------------------------------------------------------------
# Shape functions S(z; s) and their derivatives.  All are written so that the limits
# z = ±inf give exact 0/1 values and zero derivatives without NaN or warnings.
# --------------------------------------------------------------------------------------


def _shape_logistic(z: FloatArray, s: FloatArray | None) -> tuple[FloatArray, FloatArray]:
    S = 1.0 / (1.0 + np.exp(z))  # exp overflow to inf gives exactly 0 (callers ignore 'over')
    return S, S * (S - 1.0)


def _inv_logistic(S: FloatArray, s: FloatArray | None) -> FloatArray:
    out: FloatArray = special.logit(1.0 - S)
    return out


def _shape_richards(z: FloatArray, s: FloatArray | None) -> tuple[FloatArray, FloatArray]:
    assert s is not None
    S = np.exp(s * special.log_expit(-z))
    return S, -s * S * special.expit(z)


def _dshape_ds_richards(z: FloatArray, S: FloatArray) -> FloatArray:
    # dS/ds = S * log(expit(-z)); exactly 0 where S underflows to 0.
    out: FloatArray = np.where(S > 0.0, S * special.log_expit(-z), 0.0)
    return out


def _inv_richards(S: FloatArray, s: FloatArray | None) -> FloatArray:
    assert s is not None
    out: FloatArray = -special.logit(S ** (1.0 / s))
    return out


def _shape_weibull1(z: FloatArray, s: FloatArray | None) -> tuple[FloatArray, FloatArray]:
    ez = np.exp(z)
    # exp(z - e^z) -> 0 as z -> +inf (avoid inf - inf)
    return np.exp(-ez), -np.exp(np.where(np.isinf(ez), -np.inf, z - ez))


def _inv_weibull1(S: FloatArray, s: FloatArray | None) -> FloatArray:
    out: FloatArray = np.log(-np.log(S))
    return out


def _shape_weibull2(z: FloatArray, s: FloatArray | None) -> tuple[FloatArray, FloatArray]:
    emz = np.exp(-z)
    return -np.expm1(-emz), -np.exp(np.where(np.isinf(emz), -np.inf, -z - emz))


def _inv_weibull2(S: FloatArray, s: FloatArray | None) -> FloatArray:
    out: FloatArray = -np.log(-np.log1p(-S))
    return out


def _shape_lognormal(z: FloatArray, s: FloatArray | None) -> tuple[FloatArray, FloatArray]:
    # S = Phi(-z) (drc LN.4 with b = -hill); dS/dz = -phi(z), exactly 0 at z = +-inf
    out: FloatArray = special.ndtr(-z)
    return out, -np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def _inv_lognormal(S: FloatArray, s: FloatArray | None) -> FloatArray:
    out: FloatArray = -special.ndtri(S)
    return out


_ShapeFn = Callable[[FloatArray, FloatArray | None], tuple[FloatArray, FloatArray]]
_InvFn = Callable[[FloatArray, FloatArray | None], FloatArray]


@functools.lru_cache(maxsize=256)
def _kinds(names: tuple[str, ...]) -> tuple[str, ...]:
    """The kinds of the sigmoid families' parameters, by name (remembered: the properties of
    :class:`Model` are asked on every fit)."""
    by_name = {"bottom": "plateau", "top": "plateau", "hill": "slope", "s": "log"}
    return tuple(by_name.get(n, "conc") for n in names)


@functools.lru_cache(maxsize=256)
def _scales(names: tuple[str, ...], kinds: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(log-scale parameters, concentration parameters) of a family with these kinds."""
    log = tuple(n for n, k in zip(names, kinds, strict=True) if k in ("conc", "log"))
    conc = tuple(n for n, k in zip(names, kinds, strict=True) if k == "conc")
    return log, conc


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Model:
    """A dose-response model family.

    The numerical engine works on *internal* parameters
    ``(bottom, top, log_loc, hill[, log_s])``: the location (``ic50`` or
    ``xmid``) and the asymmetry ``s`` are fitted on the natural-log scale,
    which keeps them positive and makes unit changes a pure shift.

    Attributes
    ----------
    name : str
        Model name as accepted by :func:`mtor_pharm.fit`.
    param_names : tuple of str
        Reported parameter names, in internal order.
    loc_name : str
        Name of the location parameter (``"ic50"`` or ``"xmid"``).
    default_fixed : mapping
        Parameters this model fixes (``"3pl"``: ``bottom = 0``).
    required_fixed : tuple of str
        Parameters the caller must fix (an assay constant such as the Morrison
        family's enzyme concentration); a fit without them is refused.
    symmetric : bool
        ``S(−z) = 1 − S(z)``: (hill, bottom, top) → (−hill, top, bottom) is the
        same curve, so results are reported with ``top ≥ bottom``.
    """

    name: str
    param_names: tuple[str, ...]
    loc_name: str
    default_fixed: Mapping[str, float] = field(default_factory=dict)
    required_fixed: tuple[str, ...] = ()
    symmetric: bool
    description: str
    _shape: _ShapeFn
    _inverse: _InvFn

    @property
    def has_s(self) -> bool:
        """Whether the family has the asymmetry parameter ``s``."""
        return "s" in self.param_names

    @property
    def n_params(self) -> int:
        """Number of parameters, fixed ones included."""
        return len(self.param_names)

    # ---------------------------------------------------------------- family contract
    @property
    def kinds(self) -> tuple[str, ...]:
        """What each parameter is, in internal order (see :data:`PARAM_KINDS`)."""
        return _kinds(self.param_names)

    @property
    def log_params(self) -> tuple[str, ...]:
        """Parameters fitted on the natural-log scale (concentrations and ``s``)."""
        return _scales(self.param_names, self.kinds)[0]

    @property
    def conc_params(self) -> tuple[str, ...]:
        """Parameters that are concentrations (in the caller's unit; log scale inside)."""
        return _scales(self.param_names, self.kinds)[1]

    @property
    def compiled(self) -> str | None:
        """Name of the compiled shape the engine dispatches on, or ``None`` (generic path)."""
        return _COMPILED_SHAPES.get(self._shape)

    def default_bounds(self, lx_lo: FloatArray, lx_hi: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Internal (low, high) bounds per curve, shape ``(n, p)`` each, from the ln of the
        smallest positive and the largest tested concentration (see :data:`PARAM_KINDS`)."""
        return _default_bounds(self.kinds, lx_lo, lx_hi)

    def start(
        self, lx: FloatArray, y: FloatArray, w: FloatArray, P_fixed: FloatArray, free: BoolArray
    ) -> FloatArray:
        """Start candidates for the generic solver, shape ``(c, n, p)``: a (location × hill)
        grid with the plateaus solved by weighted linear least squares in every cell."""
        return _shape_starts(self, lx, y, w, P_fixed, free)

    def log_icx(self, P: FloatArray, q: float) -> tuple[FloatArray, FloatArray]:
        """``ln`` of the concentration where the curve has moved the fraction `q` of the way
        from its zero-dose plateau to its high-dose plateau, and the derivative of that
        target response with respect to the internal parameters (for the delta method).

        ``hill > 0``: from ``top`` to ``bottom``; ``hill < 0``: from ``bottom`` to ``top``.
        """
        hill = P[:, HILL]
        S_target = np.where(hill > 0, 1.0 - q, q)
        z = self.inverse_shape(S_target, P[:, ASYM] if self.has_s else None)
        with np.errstate(divide="ignore", invalid="ignore"):
            lx = P[:, LOC] + z / hill
        return lx, _target_grad(P, hill, q)

    def log_conc_at(self, P: FloatArray, response: float) -> FloatArray:
        """``ln`` of the concentration where the curve equals `response` (NaN if never)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            S = (float(response) - P[:, BOTTOM]) / (P[:, TOP] - P[:, BOTTOM])
            z = self.inverse_shape(S, P[:, ASYM] if self.has_s else None)
            out: FloatArray = P[:, LOC] + z / P[:, HILL]
        return out

    def canonical(self, P: FloatArray, free: BoolArray) -> FloatArray | None:
        """Bring `P` (n, p), in place, to the reported form of the same curve; returns the
        linear maps ``T`` (n, p, p) applied, or ``None``.  A symmetric family with both
        plateaus and hill free is reported with ``top ≥ bottom`` (plateaus swapped, hill
        negated); used by the generic solver (the compiled one does the same itself)."""
        if not (self.symmetric and free[BOTTOM] and free[TOP] and free[HILL]):
            return None
        n, p = P.shape
        F = np.eye(p)
        F[[BOTTOM, TOP]] = F[[TOP, BOTTOM]]
        F[HILL, HILL] = -1.0
        flip = P[:, TOP] < P[:, BOTTOM]
        P[flip] = P[flip] @ F.T
        T = np.broadcast_to(np.eye(p), (n, p, p)).copy()
        T[flip] = F
        return T

    # ---------------------------------------------------------------- internal API
    def shape(self, z: FloatArray, log_s: FloatArray | None) -> tuple[FloatArray, FloatArray]:
        """``S(z)`` and ``dS/dz``."""
        return self._shape(z, None if log_s is None else np.exp(log_s))

    def inverse_shape(self, S: FloatArray, log_s: FloatArray | None) -> FloatArray:
        """``z`` such that ``S(z) = S`` (NaN outside ``(0, 1)``)."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            inside = (S > 0.0) & (S < 1.0)
            z = self._inverse(np.where(inside, S, 0.5), None if log_s is None else np.exp(log_s))
        out: FloatArray = np.where(inside, z, np.nan)
        return out

    def evaluate(self, lx: FloatArray, P: FloatArray, *, jacobian: bool) -> tuple[FloatArray, list[FloatArray]]:
        """Model value and (optionally) its Jacobian columns on internal parameters.

        Parameters
        ----------
        lx : ndarray, shape (n, k)
            ``ln x``; ``-inf`` for vehicle (x = 0).
        P : ndarray, shape (n, p)
            Internal parameters per curve.
        jacobian : bool
            Also return ``d f / d P_j`` for every internal parameter.

        Returns
        -------
        f : ndarray, shape (n, k)
        columns : list of ndarray, shape (n, k) each (empty without `jacobian`)
        """
        bottom = P[:, 0:1]
        top = P[:, 1:2]
        loc = P[:, 2:3]
        hill = P[:, 3:4]
        log_s = P[:, 4:5] if self.has_s else None
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            d = lx - loc
            z = hill * d
            S, Sz = self.shape(z, log_s)
            amp = top - bottom
            f = bottom + amp * S
            if not jacobian:
                return f, []
            aSz = amp * Sz
            d_hill = aSz * d
            # at x = 0 (d = -inf) Sz is exactly 0; the limit of Sz * d is 0 too
            d_hill = np.where(np.isfinite(d), d_hill, 0.0)
            cols = [1.0 - S, S, -hill * aSz, d_hill]
            if log_s is not None:
                cols.append(amp * np.exp(log_s) * _dshape_ds_richards(z, S))
        return f, cols

    def dlogx(self, lx: FloatArray, P: FloatArray) -> FloatArray:
        """``d f / d ln x``."""
        with np.errstate(over="ignore", invalid="ignore"):
            z = P[:, 3:4] * (lx - P[:, 2:3])
            _, Sz = self.shape(z, P[:, 4:5] if self.has_s else None)
            out: FloatArray = (P[:, 1:2] - P[:, 0:1]) * Sz * P[:, 3:4]
        return out

    # ---------------------------------------------------------------- public kernel
    def __call__(self, x: ArrayLike, **params: ArrayLike) -> FloatArray:
        """Evaluate the model at concentrations `x` (any unit; location in the same unit).

        `x` and the location may both be Quantities (converted to one unit); see
        :func:`four_pl` for what is refused.

        Examples
        --------
        >>> m = mp.models.get_model("4pl")
        >>> float(m(1.0, bottom=0, top=100, ic50=1.0, hill=1))
        50.0
        """
        missing = [n for n in self.param_names if n not in params and n not in self.default_fixed]
        if missing:
            raise TypeError(f"{self.name} needs parameters {missing}; got {sorted(params)}.")
        values = {**self.default_fixed, **params}
        return _kernel(self, x, values)


def _plain(value: Any, name: str, model: Model) -> FloatArray:
    """A float64 array of a model argument; strings, complex numbers and non-numbers refused."""
    if isinstance(value, str | bytes):
        hint = " Use mp.Q_(...) for a concentration with its unit." if name in ("x", model.loc_name) else ""
        raise TypeError(f"`{name}` of {model.name} must be numbers; got the string {value!r}.{hint}")
    if (isinstance(value, np.ndarray) and value.dtype.kind in "USO" and value.size
            and any(isinstance(v, str | bytes) for v in value.ravel()[:1000])):
        raise TypeError(f"`{name}` of {model.name} must be numbers; got an array of strings.")
    return as_float_array(value, name=name)


def _unitless(value: Any, name: str, model: Model) -> Any:
    """The magnitude of a dimensionless Quantity; other Quantities refused."""
    if is_quantity(value):
        if not value.dimensionless:
            raise UnitError(
                f"`{name}` of {model.name} must be a plain number (it has no unit); got a Quantity in "
                f"{value.units!s}."
            )
        return value.to("dimensionless").magnitude
    return value


def _concentrations(model: Model, x: Any, loc: Any) -> tuple[Any, Any]:
    """x and the location in one unit: both Quantities (converted), or both plain numbers."""
    xq, lq = is_quantity(x), is_quantity(loc)
    name = model.loc_name
    if xq and lq:
        try:
            factor = float(loc.units._REGISTRY.Quantity(1.0, x.units).to(loc.units).magnitude)
        except _pint().errors.DimensionalityError:
            raise UnitError(
                f"`x` and `{name}` of {model.name} must have compatible units; got {x.units!s} and "
                f"{loc.units!s}."
            ) from None
        return _plain(x.magnitude, "x", model) * factor, loc.magnitude
    if xq or lq:
        with_unit, without = ("x", name) if xq else (name, "x")
        unit = x.units if xq else loc.units
        raise UnitError(
            f"`{with_unit}` of {model.name} is a Quantity in {unit!s} but `{without}` is a bare number; "
            f"give both with units (they are converted to one unit) or both as plain numbers in the "
            "same unit."
        )
    return x, loc


def _kernel(model: Model, x: ArrayLike, values: Mapping[str, Any]) -> FloatArray:
    x_in, loc_in = _concentrations(model, x, values[model.loc_name])
    xa = _plain(x_in, "x", model)
    loc = _plain(loc_in, model.loc_name, model)
    bottom = _plain(_unitless(values["bottom"], "bottom", model), "bottom", model)
    top = _plain(_unitless(values["top"], "top", model), "top", model)
    hill = _plain(_unitless(values["hill"], "hill", model), "hill", model)
    shaped = {"x": xa, "bottom": bottom, "top": top, model.loc_name: loc, "hill": hill}
    if model.has_s:
        shaped["s"] = _plain(_unitless(values["s"], "s", model), "s", model)
    try:
        np.broadcast_shapes(*(a.shape for a in shaped.values()))
    except ValueError:
        listed = ", ".join(f"`{k}` {a.shape}" for k, a in shaped.items())
        raise ShapeError(
            f"the arguments of {model.name} must broadcast against each other; got shapes {listed}."
        ) from None
    # outside the model's domain the curve is not defined (NaN passes through as NaN; 0 is the
    # limit of the curve, which an optimizer with a bound at 0, e.g. lmfit's, may evaluate)
    for name, what in (("x", "non-negative concentrations (0 is vehicle)"),
                       (model.loc_name, "a non-negative concentration"), ("s", "non-negative")):
        if name not in shaped:
            continue
        with np.errstate(invalid="ignore"):
            bad = shaped[name] < 0.0
        if np.any(bad):
            raise ValueError(f"`{name}` of {model.name} must be {what}; got {shaped[name][bad].flat[0]:g}.")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = hill * (np.log(xa) - np.log(loc))
        # x = 0 (vehicle): the zero-dose plateau for either sign of hill
        z = np.where(xa == 0.0, -np.inf * np.sign(hill), z)
        s = shaped["s"] if model.has_s else None
        S, _ = model._shape(z, s)
        out: FloatArray = bottom + (top - bottom) * S
    return out


# --------------------------------------------------------------------------------------
# The family contract: what the engine, the results and the docs need of a family.
# --------------------------------------------------------------------------------------

#: What a parameter can be (:attr:`ModelFamily.kinds`), and its default bounds:
#: ``"plateau"`` a response level, enters linearly, unbounded;
#: ``"conc"`` a concentration, fitted as ``ln``, within 10⁶× of the tested range on either side;
#: ``"slope"`` a Hill-type slope, ``|hill| ≤ 50``;
#: ``"log"`` a positive shape parameter fitted as ``ln``, between 1e-3 and 1e3;
#: ``"linear"`` a coefficient entering linearly, unbounded;
#: ``"fraction"`` a fraction in [0, 1].
PARAM_KINDS: tuple[str, ...] = ("plateau", "conc", "slope", "log", "linear", "fraction")

_LOC_DECADES = 6.0  # location within 10^6 of the tested range on either side
_HILL_MAX = 50.0
_LOG_S_MAX = math.log(1e3)


@runtime_checkable
class ModelFamily(Protocol):
    """The contract of a dose-response model family (every entry of :data:`MODELS`).

    One declaration per family says what the engine, the results and the plots need:

    * ``name``, ``description`` (naming the drc / Prism counterpart), ``param_names``
      (reported order = internal column order; ``bottom`` and ``top`` are columns 0 and 1
      in every family) and ``kinds`` (one of :data:`PARAM_KINDS` per parameter: which are
      concentrations fitted as ``ln``, which enter linearly);
    * ``default_fixed`` and :meth:`default_bounds` (internal scale); ``required_fixed``,
      the parameters a fit must be given (assay constants);
    * the curve and its derivatives on internal parameters (:meth:`evaluate`,
      :meth:`dlogx`) and on reported ones (``__call__``);
    * ``compiled``: the name of the compiled shape in
      :data:`mtor_pharm.fitting._layout.COMPILED` that the engine dispatches on, or
      ``None`` for the generic batched solver, which uses :meth:`start` (start candidates)
      and :meth:`evaluate`;
    * ICx and its inverse (:meth:`log_icx`, :meth:`log_conc_at`);
    * the direction convention: ``hill > 0`` is a curve falling from ``top`` (zero dose)
      to ``bottom`` (high dose); ``symmetric`` families are reported with ``top ≥ bottom``.

    Examples
    --------
    >>> isinstance(mp.models.MODELS["biphasic"], mp.models.ModelFamily)
    True
    """

    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def param_names(self) -> tuple[str, ...]: ...
    @property
    def kinds(self) -> tuple[str, ...]: ...
    @property
    def default_fixed(self) -> Mapping[str, float]: ...
    @property
    def required_fixed(self) -> tuple[str, ...]: ...
    @property
    def symmetric(self) -> bool: ...
    @property
    def compiled(self) -> str | None: ...
    def default_bounds(self, lx_lo: FloatArray, lx_hi: FloatArray) -> tuple[FloatArray, FloatArray]: ...
    def evaluate(self, lx: FloatArray, P: FloatArray, *, jacobian: bool) -> tuple[FloatArray, list[FloatArray]]: ...
    def dlogx(self, lx: FloatArray, P: FloatArray) -> FloatArray: ...
    def start(
        self, lx: FloatArray, y: FloatArray, w: FloatArray, P_fixed: FloatArray, free: BoolArray
    ) -> FloatArray: ...
    def log_icx(self, P: FloatArray, q: float) -> tuple[FloatArray, FloatArray]: ...
    def log_conc_at(self, P: FloatArray, response: float) -> FloatArray: ...
    def canonical(self, P: FloatArray, free: BoolArray) -> FloatArray | None: ...
    def __call__(self, x: ArrayLike, **params: ArrayLike) -> FloatArray: ...


def _default_bounds(kinds: tuple[str, ...], lx_lo: FloatArray, lx_hi: FloatArray) -> tuple[FloatArray, FloatArray]:
    n = np.shape(lx_lo)[0]
    lo = np.full((n, len(kinds)), -np.inf)
    hi = np.full((n, len(kinds)), np.inf)
    dec = _LOC_DECADES * math.log(10.0)
    for j, kind in enumerate(kinds):
        if kind == "conc":
            with np.errstate(invalid="ignore"):
                lo[:, j] = lx_lo - dec
                hi[:, j] = lx_hi + dec
        elif kind == "slope":
            lo[:, j], hi[:, j] = -_HILL_MAX, _HILL_MAX
        elif kind == "log":
            lo[:, j], hi[:, j] = -_LOG_S_MAX, _LOG_S_MAX
        elif kind == "fraction":
            lo[:, j], hi[:, j] = 0.0, 1.0
    return lo, hi


def _target_grad(P: FloatArray, hill: FloatArray, q: float) -> FloatArray:
    """d(target response)/dP for ICx: the target moves `q` of the way between the plateaus."""
    dt = np.zeros_like(P)
    dt[:, BOTTOM] = np.where(hill > 0, q, 1.0 - q)
    dt[:, TOP] = np.where(hill > 0, 1.0 - q, q)
    return dt


def linear_cells(design: FloatArray, y: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Weighted linear least squares in every start cell at once (for start strategies).

    Parameters
    ----------
    design : ndarray, shape (c, n, k, m)
        Columns of the linear coefficients per cell ``c`` and curve ``n``.
    y : ndarray, shape (c, n, k)
        Responses (minus the contribution of fixed coefficients).
    w : ndarray, shape (n, k)
        Weights (0: no data).

    Returns
    -------
    coef : ndarray, shape (c, n, m)
    rss : ndarray, shape (c, n)
    """
    try:
        design, y, w = (np.asarray(v, dtype=np.float64) for v in (design, y, w))
    except (TypeError, ValueError):
        raise TypeError("`design`, `y` and `w` must be arrays of real numbers.") from None
    if design.ndim != 4 or y.shape != design.shape[:3] or w.shape != design.shape[1:3]:
        raise ShapeError(
            "`design` must have shape (c, n, k, m), `y` (c, n, k) and `w` (n, k); got "
            f"{design.shape}, {y.shape} and {w.shape}."
        )
    A = np.einsum("cnkm,nk,cnkl->cnml", design, w, design)
    b = np.einsum("cnkm,nk,cnk->cnm", design, w, y)
    coef = np.einsum("cnml,cnl->cnm", np.linalg.pinv(A), b)
    r = y - np.einsum("cnkm,cnm->cnk", design, coef)
    rss = np.einsum("nk,cnk->cn", w, r * r)
    return coef, np.where(np.isfinite(rss), rss, np.inf)


#: start grid of the generic path: fractions of the tested log range, and |hill|
START_T = np.linspace(-0.1, 1.1, 6)
START_HILL = np.array([0.7, 1.6, 4.0])


def _tested_range(lx: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray]:
    """ln of the smallest positive and of the largest concentration with data, per curve."""
    ok = (w > 0) & np.isfinite(lx)
    lo = np.where(ok, lx, np.inf).min(axis=1)
    hi = np.where(ok, lx, -np.inf).max(axis=1)
    return np.where(np.isfinite(lo), lo, 0.0), np.where(np.isfinite(hi), hi, 0.0)


def _plateau_cells(S: FloatArray, y: FloatArray, w: FloatArray, P_fixed: FloatArray, free: BoolArray,
                   extra: FloatArray | None = None, extra_col: int = -1) -> tuple[FloatArray, FloatArray]:
    """Linear least squares for the free ones of (bottom, top[, an extra linear column])
    given ``S`` (c, n, k); fixed ones go into the offset.  Returns P (c, n, p) and RSS (c, n)."""
    cols = [1.0 - S, S]
    idx = [0, 1]
    if extra is not None:
        cols.append(extra)
        idx.append(extra_col)
    offset = np.zeros_like(S)
    use = []
    for col, j in zip(cols, idx, strict=True):
        if free[j]:
            use.append((col, j))
        else:
            offset = offset + P_fixed[None, :, j, None] * col
    P = np.broadcast_to(P_fixed, (S.shape[0], *P_fixed.shape)).copy()
    if use:
        D = np.stack([c for c, _ in use], axis=-1)
        coef, rss = linear_cells(D, y[None] - offset, w)
        for a, (_, j) in enumerate(use):
            P[..., j] = coef[..., a]
    else:
        r = y[None] - offset
        rss = np.einsum("nk,cnk->cn", w, r * r)
    return P, rss


def _shape_starts(m: Model, lx: FloatArray, y: FloatArray, w: FloatArray, P_fixed: FloatArray,
                  free: BoolArray) -> FloatArray:
    lo_x, hi_x = _tested_range(lx, w)
    locs = [lo_x + t * (hi_x - lo_x) for t in START_T] if free[LOC] else [P_fixed[:, LOC]]
    hills = [*START_HILL, *(-START_HILL)] if free[HILL] else [P_fixed[:, HILL]]
    log_s = (np.zeros(len(lx)) if free[ASYM] else P_fixed[:, ASYM]) if m.has_s else None
    out = []
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for loc in locs:
            for hill in hills:
                h = np.broadcast_to(hill, lo_x.shape)
                S, _ = m.shape(h[:, None] * (lx - loc[:, None]), None if log_s is None else log_s[:, None])
                P, _ = _plateau_cells(S[None], y, w, P_fixed, free)
                P = P[0]
                P[:, LOC], P[:, HILL] = loc, h
                if log_s is not None:
                    P[:, ASYM] = log_s
                out.append(P)
    return np.stack(out)


def four_pl(x: ArrayLike, bottom: ArrayLike, top: ArrayLike, ic50: ArrayLike, hill: ArrayLike) -> FloatArray:
    """Four-parameter log-logistic (Hill) curve.

    ``y = bottom + (top - bottom) / (1 + (x / ic50) ** hill)``; ``hill > 0``
    falls with dose (drc ``LL.4`` ``b``; the opposite sign of Prism's HillSlope).

    `x` and `ic50` are plain numbers in one unit, or both pint Quantities (then
    `x` is converted to the unit of `ic50`); a Quantity against a bare number is
    refused (:class:`~mtor_pharm.errors.UnitError`), as are strings, complex
    numbers and shapes that do not broadcast (:class:`~mtor_pharm.errors.ShapeError`).
    Masked entries of `x` give NaN.  The same holds for every model function.

    .. versionchanged:: 0.2.0
       Quantities are converted (their units were stripped).

    Examples
    --------
    >>> mp.models.four_pl(np.array([0.0, 1.0, 1e9]), 0, 100, 1.0, 1.0).round(3).tolist()
    [100.0, 50.0, 0.0]
    >>> mp.models.four_pl(mp.Q_([1000.0], "nM"), 0, 100, mp.Q_(1.0, "uM"), 1.0).tolist()
    [50.0]
    """
    return _kernel(MODELS["4pl"], x, {"bottom": bottom, "top": top, "ic50": ic50, "hill": hill})


def five_pl(
    x: ArrayLike, bottom: ArrayLike, top: ArrayLike, xmid: ArrayLike, hill: ArrayLike, s: ArrayLike
) -> FloatArray:
    """Five-parameter (Richards) log-logistic curve, drc ``LL.5``.

    ``y = bottom + (top - bottom) / (1 + (x / xmid) ** hill) ** s``; ``xmid``
    is the 50 % point only when ``s = 1``.

    Examples
    --------
    >>> float(mp.models.five_pl(1.0, 0, 100, 1.0, 1.0, 1.0))
    50.0
    """
    return _kernel(MODELS["5pl"], x, {"bottom": bottom, "top": top, "xmid": xmid, "hill": hill, "s": s})


def weibull1(x: ArrayLike, bottom: ArrayLike, top: ArrayLike, xmid: ArrayLike, hill: ArrayLike) -> FloatArray:
    """Weibull type 1 (drc ``W1.4`` with ``b = hill``).

    ``y = bottom + (top - bottom) * exp(-exp(hill * (ln x - ln xmid)))``.

    Examples
    --------
    >>> round(float(mp.models.weibull1(1.0, 0, 100, 1.0, 2.0)), 4)  # 100/e
    36.7879
    """
    return _kernel(MODELS["weibull1"], x, {"bottom": bottom, "top": top, "xmid": xmid, "hill": hill})


def weibull2(x: ArrayLike, bottom: ArrayLike, top: ArrayLike, xmid: ArrayLike, hill: ArrayLike) -> FloatArray:
    """Weibull type 2 (drc ``W2.4`` with ``b = -hill``, so ``hill > 0`` falls).

    ``y = bottom + (top - bottom) * (1 - exp(-exp(-hill * (ln x - ln xmid))))``.

    Examples
    --------
    >>> round(float(mp.models.weibull2(1.0, 0, 100, 1.0, 2.0)), 4)  # 100 (1 - 1/e)
    63.2121
    """
    return _kernel(MODELS["weibull2"], x, {"bottom": bottom, "top": top, "xmid": xmid, "hill": hill})


_P4 = ("bottom", "top", "ic50", "hill")
_PW = ("bottom", "top", "xmid", "hill")

#: All model families by name.
MODELS: Mapping[str, Model] = {
    "4pl": Model(
        name="4pl",
        param_names=_P4,
        loc_name="ic50",
        symmetric=True,
        description="4-parameter log-logistic (Hill), drc LL.4",
        _shape=_shape_logistic,
        _inverse=_inv_logistic,
    ),
    "3pl": Model(
        name="3pl",
        param_names=_P4,
        loc_name="ic50",
        symmetric=True,
        default_fixed={"bottom": 0.0},
        description="3-parameter log-logistic, bottom fixed at 0 (drc LL.3)",
        _shape=_shape_logistic,
        _inverse=_inv_logistic,
    ),
    "2pl": Model(
        name="2pl",
        param_names=_P4,
        loc_name="ic50",
        symmetric=True,
        default_fixed={"bottom": 0.0, "top": 100.0},
        description="2-parameter log-logistic for 0-100 normalized data",
        _shape=_shape_logistic,
        _inverse=_inv_logistic,
    ),
    "5pl": Model(
        name="5pl",
        param_names=(*_PW, "s"),
        loc_name="xmid",
        symmetric=False,
        description="5-parameter asymmetric log-logistic (Richards), drc LL.5",
        _shape=_shape_richards,
        _inverse=_inv_richards,
    ),
    "weibull1": Model(
        name="weibull1",
        param_names=_PW,
        loc_name="xmid",
        symmetric=False,
        description="Weibull type 1, drc W1.4",
        _shape=_shape_weibull1,
        _inverse=_inv_weibull1,
    ),
    "weibull2": Model(
        name="weibull2",
        param_names=_PW,
        loc_name="xmid",
        symmetric=False,
        description="Weibull type 2, drc W2.4 (hill = -b)",
        _shape=_shape_weibull2,
        _inverse=_inv_weibull2,
    ),
}

#: The compiled shapes (:data:`mtor_pharm.fitting._layout.COMPILED`) by shape function.
_COMPILED_SHAPES: Mapping[_ShapeFn, str] = {
    _shape_logistic: "logistic",
    _shape_richards: "richards",
    _shape_weibull1: "weibull1",
    _shape_weibull2: "weibull2",
    _shape_lognormal: "lognormal",
}

from . import _families, _morrison  # noqa: E402  (the generic families build on Model, defined above)

MODELS = {
    **MODELS,
    "lognormal": Model(
        name="lognormal",
        param_names=_P4,
        loc_name="ic50",
        symmetric=True,
        description="4-parameter log-normal, drc LN.4 (hill = -b): bottom + (top - bottom) Phi(-hill ln(x/ic50))",
        _shape=_shape_lognormal,
        _inverse=_inv_lognormal,
    ),
    **_families.FAMILIES,
    **_morrison.FAMILIES,
}
_ALIASES = {"hill": "2pl"}


def _normalize_name(name: str) -> str:
    """Lower case, letters and digits only, single spaces: Prism's menu names match however typed."""
    text = name.lower().replace("–", "-").replace("—", "-")
    text = re.sub(r"x is log\(?concentration\)?", " ", text)
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


#: GraphPad Prism's (and drc's) names for the families, normalized by :func:`_normalize_name`.
#: Prism's "log(inhibitor) vs. normalized response -- variable slope" fixes bottom 0 and top 100:
#: that is ``2pl``.  Prism's "standard slope" / "three parameters" (Hill slope fixed at 1) has
#: no family of its own here: fit ``4pl`` with ``fixed={"hill": 1}``.
_PRISM_ALIASES: Mapping[str, str] = {
    _normalize_name(k): v
    for k, v in {
        "variable slope": "4pl",
        "variable slope (four parameters)": "4pl",
        "four parameters": "4pl",
        "four parameter logistic": "4pl",
        "4 parameter logistic": "4pl",
        "4-parameter logistic": "4pl",
        "log(inhibitor) vs. response -- variable slope (four parameters)": "4pl",
        "log(inhibitor) vs. response - variable slope": "4pl",
        "log(agonist) vs. response -- variable slope (four parameters)": "4pl",
        "log(agonist) vs. response - variable slope": "4pl",
        "sigmoidal, 4PL, X is log(concentration)": "4pl",
        "sigmoidal dose-response (variable slope)": "4pl",
        "LL.4": "4pl",
        "LL.3": "3pl",
        "LL.2": "2pl",
        "normalized response variable slope": "2pl",
        "log(inhibitor) vs. normalized response -- variable slope": "2pl",
        "log(agonist) vs. normalized response -- variable slope": "2pl",
        "asymmetric sigmoidal": "5pl",
        "asymmetric (five parameters)": "5pl",
        "five parameters": "5pl",
        "5 parameter logistic": "5pl",
        "asymmetric sigmoidal, 5PL, X is log(concentration)": "5pl",
        "LL.5": "5pl",
        "W1.4": "weibull1",
        "W2.4": "weibull2",
        "Morrison Ki": "morrison",
        "Morrison equation": "morrison",
        "tight inhibition (Morrison equation)": "morrison",
    }.items()
}
#: Prism names that need a fixed parameter rather than another family.
_FIXED_SLOPE_NAMES = frozenset(
    _normalize_name(k)
    for k in (
        "standard slope",
        "three parameters",
        "log(inhibitor) vs. response",
        "log(agonist) vs. response",
        "log(inhibitor) vs. response (three parameters)",
        "log(agonist) vs. response (three parameters)",
        "log(inhibitor) vs. normalized response",
        "log(agonist) vs. normalized response",
        "sigmoidal dose-response",
    )
)


def get_model(name: str | Model) -> Model:
    """Look a model family up by name.

    Parameters
    ----------
    name : str or Model
        A key of :data:`MODELS` (case-insensitive): ``"4pl"``, ``"3pl"``, ``"2pl"``
        (alias ``"hill"``), ``"5pl"``, ``"weibull1"``, ``"weibull2"``, ``"lognormal"``,
        ``"bc5"``, ``"bc4"``, ``"crs5"``, ``"crs4"`` (and ``"crs5b"``, ``"crs4b"``, ``"crs5c"``,
        ``"crs4c"``), ``"biphasic"``, ``"morrison"``, ``"morrison_e"``; or a GraphPad Prism /
        drc name: ``"variable slope"``, ``"log(inhibitor) vs. response -- variable
        slope (four parameters)"``, ``"four parameters"``, ``"LL.4"`` → ``4pl``;
        ``"log(inhibitor) vs. normalized response -- variable slope"`` → ``2pl``
        (bottom 0, top 100); ``"asymmetric sigmoidal"``, ``"five parameters"``,
        ``"LL.5"`` → ``5pl``; ``"LL.3"`` → ``3pl``; ``"W1.4"``/``"W2.4"`` → the
        Weibull families; ``"Morrison Ki"`` → ``morrison``.  Prism's "standard slope" (Hill slope fixed at 1) is
        ``4pl`` with ``fixed={"hill": 1}``; its name is refused with that advice.

    Raises
    ------
    UnknownModelError
        The name is not known; the message lists the known ones.

    Examples
    --------
    >>> mp.models.get_model("4PL").param_names
    ('bottom', 'top', 'ic50', 'hill')
    >>> mp.models.get_model("log(inhibitor) vs. response -- Variable slope (four parameters)").name
    '4pl'
    """
    return _lookup_model(name, "name")


def _lookup_model(name: object, argument: str = "model") -> Model:
    """:func:`get_model` for a caller whose own argument is `argument` (named in the errors)."""
    if isinstance(name, Model):
        return name
    if not isinstance(name, str):
        raise UnknownModelError(f"`{argument}` must be a model name (str); got {name!r}.")
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key in MODELS:
        return MODELS[key]
    prism = _normalize_name(name)
    if prism in _PRISM_ALIASES:
        return MODELS[_PRISM_ALIASES[prism]]
    known = ", ".join(repr(k) for k in (*MODELS, *_ALIASES))
    if prism in _FIXED_SLOPE_NAMES:
        raise UnknownModelError(
            f"`{argument}` {name!r} is Prism's standard-slope model (HillSlope fixed at -1 for an inhibitor, "
            "+1 for an agonist; bottom 0 and top 100 if normalized). Here hill has the opposite sign: use "
            "model='4pl' (or '2pl' if normalized) with fixed={'hill': 1} for a falling curve, "
            "fixed={'hill': -1} for a rising one."
        )
    import difflib

    pool = {**{k: k for k in (*MODELS, *_ALIASES)}, **dict(_PRISM_ALIASES)}
    close = difflib.get_close_matches(prism, list(pool), n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r} ({pool[close[0]]})?" if close else ""
    raise UnknownModelError(
        f"`{argument}` must be one of {known}, or a GraphPad Prism name such as 'variable slope' or "
        f"'log(inhibitor) vs. response -- variable slope (four parameters)'; got {name!r}.{hint}"
    )


#: GraphPad Prism's (and common) parameter names, normalized to letters and digits, with the
#: name used here and what differs.
_PARAM_SYNONYMS: Mapping[str, tuple[str, str]] = {
    "bottom": ("bottom", ""),
    "top": ("top", ""),
    "ic50": ("ic50", ""),
    "ec50": ("ic50", ""),
    "logic50": ("ic50", ", the IC50 itself in the unit of conc (log10 it for Prism's LogIC50)"),
    "logec50": ("ic50", ", the IC50 itself in the unit of conc (log10 it for Prism's LogEC50)"),
    "hillslope": ("hill", ", whose sign is the opposite of Prism's HillSlope"),
    "slope": ("hill", ", whose sign is the opposite of Prism's HillSlope"),
    "b": ("hill", " (drc's b)"),
    "c": ("bottom", " (drc's c)"),
    "d": ("top", " (drc's d)"),
    "e": ("ic50", " (drc's e)"),
}


def _param_hint(name: object, param_names: tuple[str, ...] | list[str]) -> str:
    """`` Did you mean 'x'?`` for a parameter name typed another way: another case, GraphPad
    Prism's or drc's name (``HillSlope``, ``LogIC50``, ``b``), or a close misspelling; ``""``."""
    import difflib

    text = str(name)
    key = re.sub(r"[^a-z0-9]", "", text.lower())
    target, note = _PARAM_SYNONYMS.get(key, ("", ""))
    if target in param_names:
        return f" Did you mean {target!r}{note}?"
    by_lower = {p.lower(): p for p in param_names}
    if text.lower() in by_lower:
        return f" Did you mean {by_lower[text.lower()]!r}?"
    close = difflib.get_close_matches(text.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" Did you mean {by_lower[close[0]]!r}?" if close else ""
