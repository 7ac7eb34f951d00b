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
==============  ==================================  ========================

Prism's ``HillSlope`` has the opposite sign to ``hill`` for inhibition curves.
The location parameter ``x_c`` is called ``ic50`` in the 4PL family, where it
*is* the half-way concentration, and ``xmid`` in the 5PL and Weibull families,
where it is not (their IC50 comes from :meth:`FitResult.icx`).

The plain kernels (:func:`four_pl`, :func:`five_pl`, :func:`weibull1`,
:func:`weibull2`) take ``x`` first and named parameters, so ``lmfit.Model``
and ``xarray.DataArray.curvefit`` can use them directly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from ._typing import FloatArray
from .errors import ShapeError, UnitError, UnknownModelError
from .units import _pint, as_float_array, is_quantity

__all__ = [
    "MODELS",
    "Model",
    "five_pl",
    "four_pl",
    "get_model",
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


_ShapeFn = Callable[[FloatArray, FloatArray | None], tuple[FloatArray, FloatArray]]
_InvFn = Callable[[FloatArray, FloatArray | None], FloatArray]


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
    symmetric : bool
        ``S(−z) = 1 − S(z)``: (hill, bottom, top) → (−hill, top, bottom) is the
        same curve, so results are reported with ``top ≥ bottom``.
    """

    name: str
    param_names: tuple[str, ...]
    loc_name: str
    default_fixed: Mapping[str, float] = field(default_factory=dict)
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
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = hill * (np.log(xa) - np.log(loc))
        # x = 0 (vehicle): the zero-dose plateau for either sign of hill
        z = np.where(xa == 0.0, -np.inf * np.sign(hill), z)
        s = shaped["s"] if model.has_s else None
        S, _ = model._shape(z, s)
        out: FloatArray = bottom + (top - bottom) * S
    return out


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
    }.items()
}
#: Prism names that need a fixed parameter rather than another family.
_FIXED_SLOPE_NAMES = frozenset(
    _normalize_name(k)
    for k in (
        "standard slope",
        "three parameters",
        "log(inhibitor) vs. response (three parameters)",
        "log(agonist) vs. response (three parameters)",
        "log(inhibitor) vs. normalized response",
    )
)


def get_model(name: str | Model) -> Model:
    """Look a model family up by name.

    Parameters
    ----------
    name : str or Model
        One of ``"4pl"``, ``"3pl"``, ``"2pl"`` (alias ``"hill"``), ``"5pl"``,
        ``"weibull1"``, ``"weibull2"`` (case-insensitive), or a GraphPad Prism /
        drc name: ``"variable slope"``, ``"log(inhibitor) vs. response -- variable
        slope (four parameters)"``, ``"four parameters"``, ``"LL.4"`` → ``4pl``;
        ``"log(inhibitor) vs. normalized response -- variable slope"`` → ``2pl``
        (bottom 0, top 100); ``"asymmetric sigmoidal"``, ``"five parameters"``,
        ``"LL.5"`` → ``5pl``; ``"LL.3"`` → ``3pl``; ``"W1.4"``/``"W2.4"`` → the
        Weibull families.  Prism's "standard slope" (Hill slope fixed at 1) is
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
    if isinstance(name, Model):
        return name
    if not isinstance(name, str):
        raise UnknownModelError(f"`model` must be a model name (str); got {name!r}.")
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
            f"`model` {name!r} is Prism's fixed-slope model (Hill slope 1; bottom 0 and top 100 if "
            "normalized): use model='4pl' (or '2pl') with fixed={'hill': 1}."
        )
    import difflib

    pool = {**{k: k for k in (*MODELS, *_ALIASES)}, **dict(_PRISM_ALIASES)}
    close = difflib.get_close_matches(prism, list(pool), n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r} ({pool[close[0]]})?" if close else ""
    raise UnknownModelError(
        f"`model` must be one of {known}, or a GraphPad Prism name such as 'variable slope' or "
        f"'log(inhibitor) vs. response -- variable slope (four parameters)'; got {name!r}.{hint}"
    )
