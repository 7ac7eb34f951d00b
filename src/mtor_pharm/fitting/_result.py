"""Fit results: a frozen dataclass whose array fields carry the batch shape."""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from .._typing import FloatArray, IntArray, Quantity
from ..models import Model, get_model
from ..units import _registry, as_concentration

__all__ = ["STATUS_MESSAGES", "ConfidenceInterval", "FitResult", "FitStatus"]


class FitStatus(enum.IntFlag):
    """Per-curve outcome bits; ``OK`` (0) is a clean fit.

    Examples
    --------
    >>> mp.FitStatus(4 | 8)
    <FitStatus.FLAT_RESPONSE|IC50_OUTSIDE_RANGE: 12>
    """

    OK = 0
    NOT_CONVERGED = 1
    AT_BOUND = 2
    FLAT_RESPONSE = 4
    IC50_OUTSIDE_RANGE = 8
    TOO_FEW_POINTS = 16
    PLATE_QC_FAILED = 32


#: One sentence per status bit.
STATUS_MESSAGES: Mapping[FitStatus, str] = MappingProxyType(
    {
        FitStatus.OK: "Converged inside the bounds with a significant response.",
        FitStatus.NOT_CONVERGED: "The optimizer stopped before reaching the least-squares optimum.",
        FitStatus.AT_BOUND: "At least one parameter ended on a bound; the estimate is bound-limited.",
        FitStatus.FLAT_RESPONSE: "The fit is not significantly better than a flat line "
        "(extra-sum-of-squares F test); the IC50 is undetermined and reported as NaN.",
        FitStatus.IC50_OUTSIDE_RANGE: "The IC50 lies outside the tested concentration range (extrapolated).",
        FitStatus.TOO_FEW_POINTS: "Fewer finite points than free parameters; the curve was not fitted.",
        FitStatus.PLATE_QC_FAILED: "The plate this curve comes from failed quality control.",
    }
)

#: Status bits under which derived concentrations (IC50, ICx) are reported as NaN.
_UNDETERMINED = FitStatus.FLAT_RESPONSE | FitStatus.TOO_FEW_POINTS | FitStatus.NOT_CONVERGED

_ICX = re.compile(r"^ic(\d+(?:\.\d+)?)$")


class ConfidenceInterval(NamedTuple):
    """A (low, high) pair, Quantities for concentrations, arrays otherwise."""

    low: Any
    high: Any


def _readonly(a: ArrayLike) -> NDArray[Any]:
    """A read-only array; an array that is already read-only is shared, not copied
    (so ``with_flags`` and ``dataclasses.replace`` do not duplicate a large batch)."""
    if isinstance(a, np.ndarray) and not a.flags.writeable:
        return a
    arr = np.array(a, copy=True)
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class FitResult:
    """The fit of one curve (batch shape ``()``) or of a batch of curves.

    Attributes
    ----------
    model : str
        Model family name.
    params : mapping of str to ndarray
        Estimates by parameter name (``bottom``, ``top``, ``ic50``/``xmid``,
        ``hill``[, ``s``]), each of the batch shape.  Location parameters are
        in `conc_unit`.  Fixed parameters hold their fixed value.
    stderr : mapping of str to ndarray
        Asymptotic standard errors, ``sqrt(diag(s² (JᵀWJ)⁻¹))`` (the Gauss–Newton
        covariance used by R's ``nls``, lmfit and NIST); 0 for fixed parameters.
    covariance : ndarray, shape (..., p, p)
        That covariance in the order of `param_names`.
    fixed : tuple of str
        Names of the parameters held fixed.
    rss : ndarray
        Residual sum of squares over all (replicate) points.
    n : ndarray of int
        Finite points per curve.
    dof : ndarray of int
        ``n - (number of free parameters)``.
    status : ndarray of uint8
        :class:`FitStatus` bits per curve.
    response_pvalue : ndarray
        p-value of the extra-sum-of-squares F test of the model against a flat line.
    conc_unit : str
        The caller's concentration unit.
    conc_min, conc_max : ndarray
        Smallest positive and largest tested concentration per curve.
    iterations : ndarray
        Solver iterations per curve.
    """

    model: str
    param_names: tuple[str, ...]
    params: Mapping[str, FloatArray]
    stderr: Mapping[str, FloatArray]
    covariance: FloatArray
    fixed: tuple[str, ...]
    rss: FloatArray
    n: IntArray
    dof: IntArray
    status: NDArray[np.uint8]
    response_pvalue: FloatArray
    conc_unit: str
    conc_min: FloatArray
    conc_max: FloatArray
    iterations: FloatArray
    _model: Model = field(repr=False)

    def __post_init__(self) -> None:
        for name in ("params", "stderr"):
            value = getattr(self, name)
            object.__setattr__(self, name, MappingProxyType({k: _readonly(v) for k, v in value.items()}))
        for name in (
            "covariance",
            "rss",
            "n",
            "dof",
            "status",
            "response_pvalue",
            "conc_min",
            "conc_max",
            "iterations",
        ):
            object.__setattr__(self, name, _readonly(getattr(self, name)))

    # ------------------------------------------------------------------ basics
    @property
    def shape(self) -> tuple[int, ...]:
        """The batch shape (``()`` for one curve)."""
        return tuple(self.rss.shape)

    @property
    def converged(self) -> NDArray[np.bool_]:
        """True where the optimizer reached the least-squares optimum."""
        return _readonly((self.status & FitStatus.NOT_CONVERGED) == 0)

    @property
    def ok(self) -> NDArray[np.bool_]:
        """True where the status is exactly ``FitStatus.OK``."""
        return _readonly(self.status == 0)

    @property
    def n_free(self) -> int:
        """Number of free (fitted) parameters."""
        return len(self.param_names) - len(self.fixed)

    @property
    def aic(self) -> FloatArray:
        """Akaike information criterion, ``n ln(RSS/n) + 2(p + 1)`` (Gaussian likelihood, σ counted)."""
        n = self.n.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            out: FloatArray = n * np.log(self.rss / n) + 2.0 * (self.n_free + 1)
        return out

    @property
    def aicc(self) -> FloatArray:
        """Small-sample corrected AIC."""
        n = self.n.astype(np.float64)
        k = self.n_free + 1
        with np.errstate(divide="ignore", invalid="ignore"):
            out: FloatArray = self.aic + 2.0 * k * (k + 1) / (n - k - 1)
        return out

    @property
    def bic(self) -> FloatArray:
        """Bayesian information criterion."""
        n = self.n.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            out: FloatArray = n * np.log(self.rss / n) + np.log(n) * (self.n_free + 1)
        return out

    @property
    def sigma(self) -> FloatArray:
        """Residual standard deviation ``sqrt(RSS / dof)``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            out: FloatArray = np.sqrt(self.rss / np.where(self.dof > 0, self.dof, np.nan))
        return out

    def _quantity(self, values: ArrayLike) -> Quantity:
        arr = np.asarray(values, dtype=np.float64)
        registry = _registry()
        return registry.Quantity(arr if arr.ndim else float(arr), self.conc_unit)

    def _undetermined(self) -> NDArray[np.bool_]:
        return np.asarray((self.status & _UNDETERMINED) != 0)

    # ------------------------------------------------------------------ internal params
    def _internal(self) -> FloatArray:
        """Internal parameters ``(bottom, top, ln loc, hill[, ln s])`` as (..., p)."""
        cols = []
        for name in self.param_names:
            v = np.asarray(self.params[name], dtype=np.float64)
            if name in ("ic50", "xmid", "s"):
                with np.errstate(divide="ignore", invalid="ignore"):
                    v = np.log(v)
            cols.append(v)
        return np.stack(cols, axis=-1)

    def _internal_cov(self) -> FloatArray:
        scale = np.ones(self.shape + (len(self.param_names),))
        for i, name in enumerate(self.param_names):
            if name in ("ic50", "xmid", "s"):
                scale[..., i] = self.params[name]
        with np.errstate(divide="ignore", invalid="ignore"):
            out: FloatArray = self.covariance / (scale[..., :, None] * scale[..., None, :])
        return out

    # ------------------------------------------------------------------ derived potency
    def _log_icx(self, p: float, *, with_se: bool = True) -> tuple[FloatArray, FloatArray | None]:
        """ln ICx and its delta-method standard error (relative ICx, p in percent)."""
        q = _check_percent(p)
        P = self._internal().reshape(-1, len(self.param_names))
        hill = P[:, 3]
        # S at the target: hill > 0 moves from top (S = 1) towards bottom (S = 0)
        S_target = np.where(hill > 0, 1.0 - q, q)
        log_s = P[:, 4] if self._model.has_s else None
        z = self._model.inverse_shape(S_target, log_s)
        with np.errstate(divide="ignore", invalid="ignore"):
            lx = P[:, 2] + z / hill
        if not with_se:
            return lx.reshape(self.shape), None
        # d(target)/dP for the implicit derivative
        dt = np.zeros_like(P)
        dt[:, 0] = np.where(hill > 0, q, 1.0 - q)
        dt[:, 1] = np.where(hill > 0, 1.0 - q, q)
        se = self._implicit_se(lx, P, dt)
        return lx.reshape(self.shape), se.reshape(self.shape)

    def _implicit_se(self, lx: FloatArray, P: FloatArray, dtarget: FloatArray) -> FloatArray:
        lx_finite = np.where(np.isfinite(lx), lx, 0.0)[:, None]
        _, cols = self._model.evaluate(lx_finite, P, jacobian=True)
        J = np.stack([c[:, 0] for c in cols], axis=1) - dtarget
        dfdx = self._model.dlogx(lx_finite, P)[:, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            grad = -J / dfdx[:, None]
        free = np.array([name not in self.fixed for name in self.param_names])
        grad = np.where(free[None, :], grad, 0.0)
        C = self._internal_cov().reshape(-1, len(self.param_names), len(self.param_names))
        C = np.where(free[None, :, None] & free[None, None, :], C, 0.0)
        var = np.einsum("ni,nij,nj->n", grad, C, grad)
        with np.errstate(invalid="ignore"):
            out: FloatArray = np.where(np.isfinite(lx), np.sqrt(var), np.nan)
        return out

    @property
    def ic50(self) -> Quantity:
        """Relative IC50 (half-way between the fitted plateaus), in the caller's unit.

        NaN for curves flagged flat, not converged or with too few points.
        """
        return self.icx(50)

    def icx(self, p: float) -> Quantity:
        """Concentration at which the response has moved `p` % of the way from the
        zero-dose plateau to the high-dose plateau (drc's *relative* ED).

        Parameters
        ----------
        p : float
            Percent, strictly between 0 and 100 (``icx(90)`` is the IC90).

        Returns
        -------
        pint.Quantity
            Batch shape, in `conc_unit`; NaN where the curve is undetermined.

        Examples
        --------
        >>> conc = mp.Q_([0.01, 0.03, 0.1, 0.3, 1, 3, 10], "uM")
        >>> res = mp.fit(conc, [99, 97, 88, 67, 36, 15, 5])
        >>> bool(res.icx(90) > res.icx(50))
        True
        """
        lx, _ = self._log_icx(p, with_se=False)
        with np.errstate(over="ignore"):
            value = np.where(self._undetermined(), np.nan, np.exp(lx))
        return self._quantity(value)

    def conc_at(self, response: float) -> Quantity:
        """Concentration at which the fitted curve equals `response` (absolute ICx).

        NaN where the curve never reaches `response` or is undetermined.

        Examples
        --------
        >>> conc = mp.Q_([0.01, 0.03, 0.1, 0.3, 1, 3, 10], "uM")
        >>> res = mp.fit(conc, [99, 97, 88, 67, 36, 15, 5])
        >>> bool(np.isnan(res.conc_at(200).magnitude))
        True
        """
        P = self._internal().reshape(-1, len(self.param_names))
        with np.errstate(divide="ignore", invalid="ignore"):
            S = (float(response) - P[:, 0]) / (P[:, 1] - P[:, 0])
            z = self._model.inverse_shape(S, P[:, 4] if self._model.has_s else None)
            lx = P[:, 2] + z / P[:, 3]
            value = np.exp(lx).reshape(self.shape)
        return self._quantity(np.where(self._undetermined(), np.nan, value))

    # ------------------------------------------------------------------ uncertainty
    def ci(self, name: str, *, level: float = 0.95) -> ConfidenceInterval:
        """Wald confidence interval with the t distribution on ``dof`` degrees of freedom.

        Concentration parameters (``ic50``, ``xmid``, and derived ``"ic<p>"`` such as
        ``"ic90"``) and ``s`` are handled on the log scale and back-transformed, so
        their intervals are asymmetric and never negative; derived ICx use the
        delta method.

        Parameters
        ----------
        name : str
            A parameter name or ``"ic<p>"``.
        level : float, default 0.95
            Confidence level in (0, 1).

        Examples
        --------
        >>> conc = mp.Q_([0.01, 0.03, 0.1, 0.3, 1, 3, 10], "uM")
        >>> res = mp.fit(conc, [99, 97, 88, 67, 36, 15, 5])
        >>> low, high = res.ci("ic50")
        >>> bool(low < res.ic50 < high)
        True
        """
        if not (isinstance(level, float | int) and 0.0 < float(level) < 1.0):
            raise ValueError(f"`level` must be a number in (0, 1); got {level!r}.")
        with np.errstate(divide="ignore", invalid="ignore"):
            t = stats.t.ppf(0.5 + float(level) / 2.0, np.where(self.dof > 0, self.dof, np.nan))
        m = _ICX.match(name)
        if m is not None and name not in self.params:
            lx, se_ = self._log_icx(float(m.group(1)))
            assert se_ is not None
            se = se_
            bad = self._undetermined()
            with np.errstate(over="ignore", invalid="ignore"):
                low = np.where(bad, np.nan, np.exp(lx - t * se))
                high = np.where(bad, np.nan, np.exp(lx + t * se))
            return ConfidenceInterval(self._quantity(low), self._quantity(high))
        if name not in self.params:
            known = ", ".join(repr(k) for k in (*self.param_names, "ic<p>"))
            raise KeyError(f"`name` must be one of {known}; got {name!r}.")
        est = np.asarray(self.params[name])
        se = np.asarray(self.stderr[name])
        if name in ("ic50", "xmid", "s"):
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                se_log = se / est
                low = est * np.exp(-t * se_log)
                high = est * np.exp(t * se_log)
            if name == "s":
                return ConfidenceInterval(low, high)
            bad = self._undetermined()
            return ConfidenceInterval(
                self._quantity(np.where(bad, np.nan, low)), self._quantity(np.where(bad, np.nan, high))
            )
        return ConfidenceInterval(est - t * se, est + t * se)

    # ------------------------------------------------------------------ prediction
    def predict(self, conc: Any, *, conc_unit: str | None = None) -> FloatArray:
        """Fitted response at `conc` (any concentration unit).

        Returns
        -------
        ndarray
            Shape ``batch_shape + conc.shape`` for 1-D `conc`.

        Examples
        --------
        >>> conc = mp.Q_([0.01, 0.03, 0.1, 0.3, 1, 3, 10], "uM")
        >>> res = mp.fit(conc, [99, 97, 88, 67, 36, 15, 5])
        >>> res.predict(mp.Q_([0, 1000], "uM")).round(0).tolist()[0] > 90
        True
        """
        x, unit = as_concentration(conc, conc_unit=conc_unit)
        x = x * _registry().Quantity(1.0, unit).to(self.conc_unit).magnitude
        expand = (Ellipsis,) + (None,) * max(x.ndim, 1)
        values = {k: np.asarray(v)[expand] for k, v in self.params.items()}
        return self._model(np.atleast_1d(x), **values) if x.ndim else self._model(x[None], **values)[..., 0]

    # ------------------------------------------------------------------ misc
    def with_flags(self, flags: ArrayLike) -> FitResult:
        """A copy with extra :class:`FitStatus` bits OR-ed into `status`.

        Examples
        --------
        >>> conc = mp.Q_([0.01, 0.1, 1, 10], "uM")
        >>> res = mp.fit(conc, [100, 90, 40, 10]).with_flags(mp.FitStatus.PLATE_QC_FAILED)
        >>> bool(res.status & mp.FitStatus.PLATE_QC_FAILED)
        True
        """
        extra = np.broadcast_to(np.asarray(flags, dtype=np.uint8), self.shape)
        return replace(self, status=(self.status | extra).astype(np.uint8))

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a single-curve FitResult (batch shape ())")
        return int(self.shape[0])

    def __repr__(self) -> str:
        n_curves = int(np.prod(self.shape)) if self.shape else 1
        if not self.shape:
            parts = ", ".join(
                f"{k}={float(v):.4g}" + (f"±{float(self.stderr[k]):.2g}" if k not in self.fixed else "")
                for k, v in self.params.items()
            )
            return f"<FitResult {self.model}: {parts} ({self.conc_unit}); status={FitStatus(int(self.status))!s}>"
        ok = int(np.count_nonzero(self.status == 0))
        return f"<FitResult {self.model}: {n_curves} curves, shape {self.shape}, {ok} OK; unit {self.conc_unit}>"


def _check_percent(p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, int | float | np.floating | np.integer):
        raise TypeError(f"`p` must be a percentage (number) in (0, 100); got {p!r}.")
    if not (0.0 < float(p) < 100.0) or not math.isfinite(float(p)):
        raise ValueError(f"`p` must be a percentage strictly between 0 and 100; got {p!r}.")
    return float(p) / 100.0


def _model_of(name: str) -> Model:
    return get_model(name)
