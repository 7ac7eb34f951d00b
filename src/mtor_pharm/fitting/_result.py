"""Fit results: a frozen dataclass whose array fields carry the batch shape."""

from __future__ import annotations

import enum
import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from .._arrays import readonly as _readonly
from .._typing import FloatArray, IntArray, Quantity
from ..errors import ShapeError, UnitError
from ..models import Model, _param_hint
from ..units import _pint, _registry, as_concentration, parse_unit
from ._quality import AMBIGUITY_RULE

if TYPE_CHECKING:  # loaded on use: the module stays light to import
    import pandas as pd
    import xarray as xr

__all__ = ["STATUS_MESSAGES", "ConfidenceInterval", "FitResult", "FitStatus", "information_criterion"]


class FitStatus(enum.IntFlag):
    """Per-curve outcome bits; ``OK`` (0) is a clean fit.

    Examples
    --------
    >>> mp.FitStatus(4 | 8)
    <FitStatus.FLAT_RESPONSE|IC50_OUTSIDE_RANGE: 12>
    >>> print(mp.FitStatus(4 | 8), int(mp.FitStatus(4 | 8)))
    FLAT_RESPONSE|IC50_OUTSIDE_RANGE 12
    """

    OK = 0
    NOT_CONVERGED = 1
    AT_BOUND = 2
    FLAT_RESPONSE = 4
    IC50_OUTSIDE_RANGE = 8
    TOO_FEW_POINTS = 16
    PLATE_QC_FAILED = 32
    AMBIGUOUS = 64
    INVALID_DATA = 128

    def __str__(self) -> str:
        """The flag names (``"NOT_CONVERGED|FLAT_RESPONSE"``, ``"OK"``), as ``print`` shows them;
        ``int(status)`` is the number."""
        return str(self.name) if self.name else str(int(self))


#: One sentence per status bit.
STATUS_MESSAGES: Mapping[FitStatus, str] = MappingProxyType(
    {
        FitStatus.OK: "Converged inside the bounds with a significant response.",
        FitStatus.NOT_CONVERGED: "The optimizer stopped before reaching the least-squares optimum.",
        FitStatus.AT_BOUND: "At least one parameter ended on a bound; the estimate is bound-limited.",
        FitStatus.FLAT_RESPONSE: "The fit is not significantly better than a flat line "
        "(extra-sum-of-squares F test); the IC50 is undetermined and reported as NaN.",
        FitStatus.IC50_OUTSIDE_RANGE: "The IC50 lies outside the tested concentration range (extrapolated).",
        FitStatus.TOO_FEW_POINTS: "Too few data to determine the free parameters and their errors (no more "
        "points with positive weight than free parameters, or fewer distinct concentrations than free "
        "parameters); the curve was not fitted.",
        FitStatus.PLATE_QC_FAILED: "The plate this curve comes from failed quality control.",
        FitStatus.AMBIGUOUS: "The data do not determine every parameter (ambiguous fit, as GraphPad Prism "
        f"calls it): {AMBIGUITY_RULE}; the estimates are reported but should not be trusted.",
        FitStatus.INVALID_DATA: "The curve's data are invalid (an infinite response, responses beyond ±1e153 or "
        "all below 1e-150 in magnitude, or a negative, infinite or missing concentration where there is a "
        "response); the curve was not fitted (with TOO_FEW_POINTS), the rest of the batch was.",
    }
)

#: Status bits under which derived concentrations (IC50, ICx) are reported as NaN.
_UNDETERMINED = FitStatus.FLAT_RESPONSE | FitStatus.TOO_FEW_POINTS | FitStatus.NOT_CONVERGED

_ICX = re.compile(r"^ic(\d+(?:\.\d+)?)$")


def information_criterion(kind: str, rss: ArrayLike, n: ArrayLike, n_free: ArrayLike) -> FloatArray:
    """AIC ``n ln(RSS/n) + 2k``, AICc ``AIC + 2k(k+1)/(n-k-1)`` or BIC ``n ln(RSS/n) + k ln n``,
    with ``k = n_free + 1`` (the residual variance counts as a parameter), for least squares
    with Gaussian errors; the one definition used by every result class.  `n` and `n_free`
    are the points used and the parameters estimated (one number, or one per fit)."""
    nf = np.asarray(n, dtype=np.float64)
    k = np.asarray(n_free, dtype=np.float64) + 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        base = nf * np.log(np.asarray(rss, dtype=np.float64) / nf)
        if kind == "aic":
            out: FloatArray = base + 2.0 * k
        elif kind == "aicc":
            out = base + 2.0 * k + 2.0 * k * (k + 1) / (nf - k - 1)
        elif kind == "bic":
            out = base + np.log(nf) * k
        else:
            raise ValueError(f"`kind` must be 'aic', 'aicc' or 'bic'; got {kind!r}.")
    return out


class _Sized(Protocol):
    """What the information criteria need of a result."""

    @property
    def rss(self) -> FloatArray: ...
    @property
    def n(self) -> IntArray: ...
    @property
    def n_free(self) -> int: ...


class InformationCriteria:
    """``aic``, ``aicc`` and ``bic`` of a least-squares result from its ``rss``, ``n`` and
    ``n_free`` (for :class:`FitResult`, the shared fits and the fits read back from a
    Dataset alike)."""

    __slots__ = ()

    @property
    def aic(self: _Sized) -> FloatArray:
        """Akaike information criterion, ``n ln(RSS/n) + 2(p + 1)`` (Gaussian likelihood, σ counted)."""
        return information_criterion("aic", self.rss, self.n, self.n_free)

    @property
    def aicc(self: _Sized) -> FloatArray:
        """Small-sample corrected AIC."""
        return information_criterion("aicc", self.rss, self.n, self.n_free)

    @property
    def bic(self: _Sized) -> FloatArray:
        """Bayesian information criterion."""
        return information_criterion("bic", self.rss, self.n, self.n_free)


class ConfidenceInterval(NamedTuple):
    """A (low, high) pair, Quantities for concentrations, arrays otherwise."""

    low: Any
    high: Any


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class FitResult(InformationCriteria):
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
    tss : ndarray
        Total sum of squares of the responses about their (weighted) mean, per
        curve; the denominator of :attr:`r_squared`.  NaN where not recorded.
    labels : tuple, optional
        One label per curve of a one-dimensional batch (e.g. compound names,
        or tuples such as ``("Torin1", "MCF-7")`` for several keys), or one label
        for a single curve selected from a labelled batch.  ``res["Torin1"]``
        selects by label; see :meth:`__getitem__` and :meth:`with_labels`.
    label_names : tuple of str
        Names of the label keys (e.g. ``("compound",)``); the index names of
        :meth:`to_dataframe`.
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
    tss: FloatArray | None = None
    labels: tuple[Any, ...] | None = None
    label_names: tuple[str, ...] = ()

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
        if self.tss is None:
            tss: Any = np.full(self.rss.shape, np.nan)
        elif np.shape(self.tss) == self.rss.shape:
            tss = self.tss
        else:
            tss = np.broadcast_to(self.tss, self.rss.shape)
        object.__setattr__(self, "tss", _readonly(tss))
        if self.labels is not None:
            labels, names = _check_labels(self.labels, self.label_names, self.rss.shape)
            object.__setattr__(self, "labels", labels)
            object.__setattr__(self, "label_names", names)
        elif self.label_names:
            raise TypeError(f"`label_names` needs `labels`; got label_names={self.label_names!r} without labels.")

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

    # ------------------------------------------------------------------ the fit's own scale
    @property
    def family(self) -> Model:
        """The model family that was fitted (a :class:`mtor_pharm.models.ModelFamily`;
        :attr:`model` is its name): its curve, ICx, parameter kinds and bounds.

        Examples
        --------
        >>> res = mp.fit(mp.Q_(np.geomspace(0.01, 10, 7), "uM"), [99, 97, 88, 67, 36, 15, 5])
        >>> res.family.name, res.family.kinds
        ('4pl', ('plateau', 'plateau', 'conc', 'slope'))
        """
        return self._model

    def fit_scale_params(self) -> FloatArray:
        """The estimates on the scale the fit works on, shape (..., p) in the order of
        :attr:`param_names`: the natural log of every concentration and ``log``-kind
        parameter (``ln ic50`` in :attr:`conc_unit`, ``ln s``), the others as reported.

        This is the scale of the Wald intervals and of :meth:`fit_scale_covariance`; the
        comparisons (:mod:`mtor_pharm.compare`) and plots build on it.

        Examples
        --------
        >>> res = mp.fit(mp.Q_(np.geomspace(0.01, 10, 7), "uM"), [99, 97, 88, 67, 36, 15, 5])
        >>> bool(np.isclose(np.exp(res.fit_scale_params()[2]), res.params["ic50"]))
        True
        """
        cols = []
        log_params = self._model.log_params
        for name in self.param_names:
            v = np.asarray(self.params[name], dtype=np.float64)
            if name in log_params:
                with np.errstate(divide="ignore", invalid="ignore"):
                    v = np.log(v)
            cols.append(v)
        return np.stack(cols, axis=-1)

    def fit_scale_covariance(self) -> FloatArray:
        """The covariance of :meth:`fit_scale_params`, shape (..., p, p) (the reported
        :attr:`covariance` divided by the estimates of the log-scale parameters).

        Examples
        --------
        >>> res = mp.fit(mp.Q_(np.geomspace(0.01, 10, 7), "uM"), [99, 97, 88, 67, 36, 15, 5])
        >>> se_ln_ic50 = np.sqrt(res.fit_scale_covariance()[2, 2])
        >>> bool(np.isclose(se_ln_ic50, res.stderr["ic50"] / res.params["ic50"]))
        True
        """
        scale = np.ones(self.shape + (len(self.param_names),))
        for i, name in enumerate(self.param_names):
            if name in self._model.log_params:
                scale[..., i] = self.params[name]
        with np.errstate(divide="ignore", invalid="ignore"):
            out: FloatArray = self.covariance / (scale[..., :, None] * scale[..., None, :])
        return out

    # ------------------------------------------------------------------ derived potency
    def log_icx(self, p: float, *, with_se: bool = True) -> tuple[FloatArray, FloatArray | None]:
        """``ln ICx`` (in :attr:`conc_unit`) and its delta-method standard error.

        Parameters
        ----------
        p : float
            The response level in percent of the way from ``top`` to ``bottom`` (relative
            ICx; 50 is the IC50), strictly between 0 and 100.
        with_se : bool, default True
            Also compute the standard error (``None`` in its place otherwise).

        Returns
        -------
        (ndarray, ndarray or None)
            ``ln ICx`` and its standard error, each of the batch shape; NaN where the
            curve does not reach the level.

        Examples
        --------
        >>> res = mp.fit(mp.Q_(np.geomspace(0.01, 10, 7), "uM"), [99, 97, 88, 67, 36, 15, 5])
        >>> lx, se = res.log_icx(50)
        >>> bool(np.isclose(np.exp(lx), res.ic50.magnitude))
        True
        """
        q = _check_percent(p)
        P = self.fit_scale_params().reshape(-1, len(self.param_names))
        # the family's ICx (hill > 0 moves from top towards bottom) and d(target)/dP
        lx, dt = self._model.log_icx(P, q)
        if not with_se:
            return lx.reshape(self.shape), None
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
        C = self.fit_scale_covariance().reshape(-1, len(self.param_names), len(self.param_names))
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
        lx, _ = self.log_icx(p, with_se=False)
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
        if isinstance(response, bool) or not isinstance(response, int | float | np.integer | np.floating):
            raise TypeError(f"`response` must be a real number (a response level); got {response!r}.")
        if (isinstance(response, int) and abs(response) > 2**1000) or not math.isfinite(float(response)):
            raise ValueError(f"`response` must be a finite number; got {response!r:.40}.")
        P = self.fit_scale_params().reshape(-1, len(self.param_names))
        lx = self._model.log_conc_at(P, float(response))
        with np.errstate(over="ignore", invalid="ignore"):
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
        level = _check_level(level)
        if not isinstance(name, str):
            raise TypeError(f"`name` must be a parameter name or 'ic<p>' (str); got {name!r}.")
        with np.errstate(divide="ignore", invalid="ignore"):
            t = special.stdtrit(np.where(self.dof > 0, self.dof, np.nan), 0.5 + float(level) / 2.0)  # t quantile
        m = _ICX.match(name)
        if m is not None and name not in self.params:
            lx, se_ = self.log_icx(float(m.group(1)))
            assert se_ is not None
            se = se_
            bad = self._undetermined()
            with np.errstate(over="ignore", invalid="ignore"):
                low = np.where(bad, np.nan, np.exp(lx - t * se))
                high = np.where(bad, np.nan, np.exp(lx + t * se))
            return ConfidenceInterval(self._quantity(low), self._quantity(high))
        if name not in self.params:
            known = ", ".join(repr(k) for k in (*self.param_names, "ic<p>"))
            raise KeyError(f"`name` must be one of {known}; got {name!r}.{_param_hint(name, self.param_names)}")
        est = np.asarray(self.params[name])
        se = np.asarray(self.stderr[name])
        if name in self._model.log_params:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                se_log = se / est
                low = est * np.exp(-t * se_log)
                high = est * np.exp(t * se_log)
            if name not in self._model.conc_params:
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
        x, unit = as_concentration(conc, conc_unit=conc_unit, accepts=frozenset({"conc_unit"}))
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
        arr = np.asarray(flags) if not hasattr(flags, "units") else np.asarray("not bits")
        if arr.dtype.kind not in "iu":
            raise TypeError(
                f"`flags` must be FitStatus bits (integers 0-255), one or one per curve; got {flags!r:.80}."
            )
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            raise ValueError(f"`flags` must be FitStatus bits in 0-255; got {flags!r:.80}.")
        try:
            extra = np.broadcast_to(arr.astype(np.uint8), self.shape)
        except ValueError:
            raise ShapeError(
                f"`flags` must be one value or broadcast to the batch shape {self.shape}; got shape {arr.shape}."
            ) from None
        return replace(self, status=(self.status | extra).astype(np.uint8))

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a single-curve FitResult (batch shape ())")
        return int(self.shape[0])

    # ------------------------------------------------------------------ labels and selection
    @property
    def r_squared(self) -> FloatArray:
        """Coefficient of determination ``R² = 1 − RSS / TSS`` per curve.

        ``TSS`` is the (weighted) sum of squares of the responses about their
        mean, over every replicate point (GraphPad Prism's R² of a nonlinear
        fit).  It can be negative for a fit worse than a flat line, and is NaN
        where the curve was not fitted or all responses are equal.

        Examples
        --------
        >>> conc = mp.Q_([0.01, 0.03, 0.1, 0.3, 1, 3, 10], "uM")
        >>> res = mp.fit(conc, [99, 97, 88, 67, 36, 15, 5])
        >>> bool(0.99 < res.r_squared <= 1.0)
        True
        """
        tss = np.asarray(self.tss, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = 1.0 - self.rss / np.where(tss > 0, tss, np.nan)
        out: FloatArray = np.where(np.isfinite(self.rss), r2, np.nan)
        return out

    @property
    def label(self) -> Any:
        """The label of a single curve selected from a labelled batch (None if unlabelled)."""
        if self.shape or self.labels is None:
            return None
        return self.labels[0]

    def with_labels(self, labels: Any, *, names: Sequence[str] | str | None = None) -> FitResult:
        """A copy whose curves are named by `labels` (one per curve of a 1-D batch).

        Parameters
        ----------
        labels : sequence or pandas.Index
            Distinct labels, in the order of the batch.  Tuples label curves by
            several keys (e.g. compound and cell line).
        names : str or sequence of str, optional
            Names of the keys, e.g. ``"compound"``; default the names of a
            pandas Index, else none.

        Raises
        ------
        ShapeError
            The batch is not one-dimensional or the number of labels differs.
        ValueError
            Repeated labels.

        Examples
        --------
        >>> conc = mp.Q_([0.01, 0.1, 1, 10], "uM")
        >>> res = mp.fit(conc, [[99, 80, 30, 5], [100, 95, 70, 20]]).with_labels(["A", "B"], names="drug")
        >>> res["B"].label, res.labels
        ('B', ('A', 'B'))
        """
        if names is None:
            index_names = getattr(labels, "names", None)
            names = tuple(str(n) for n in index_names if n is not None) if index_names is not None else ()
        elif isinstance(names, str):
            names = (names,)
        if isinstance(labels, str) or not hasattr(labels, "__len__"):
            raise TypeError(f"`labels` must be a sequence with one label per curve; got {labels!r}.")
        return replace(self, labels=tuple(labels), label_names=tuple(names))

    def index(self, label: Any) -> int:
        """Position of the curve `label` on the (one) batch axis.

        An integer that is not a label is read as a position (negative counts
        from the end), as in :meth:`mtor_pharm.compare.SharedFit.index`.

        Raises
        ------
        LookupError
            `label` is neither a label nor a valid position; the message lists
            the labels and the closest matches.

        Examples
        --------
        >>> conc = mp.Q_([0.01, 0.1, 1, 10], "uM")
        >>> res = mp.fit(conc, [[99, 80, 30, 5], [100, 95, 70, 20]]).with_labels(["A", "B"])
        >>> res.index("B"), res.index(-2)
        (1, 0)
        """
        if len(self.shape) != 1:
            raise TypeError(f"curves are addressed by label only in a 1-D batch; this batch has shape {self.shape}.")
        n = self.shape[0]
        labels = self.labels or ()
        for i, lab in enumerate(labels):
            if _same_label(lab, label):
                return i
        if isinstance(label, int | np.integer) and not isinstance(label, bool):
            if -n <= int(label) < n:
                return int(label) % n
            raise LookupError(f"curve position must be in [{-n}, {n}) for a batch of {n} curves; got {label!r}.")
        if not labels:
            raise LookupError(
                f"this FitResult has no labels, so curves are chosen by position (0 to {n - 1}); got {label!r}. "
                "Name them with with_labels(...) or fit them with mp.fit_table(..., by=...)."
            )
        raise LookupError(f"curve label must be one of {list(labels)}; got {label!r}.{_did_you_mean(label, labels)}")

    def __getitem__(self, key: Any) -> FitResult:
        """The curves selected by `key`: a label, a position, a slice, a list of
        labels or positions, or a boolean mask (1-D batches); integers and slices
        on the batch axes of a multi-dimensional batch.

        A single label or position gives a one-curve result (batch shape ``()``)
        that keeps its :attr:`label`; the other keys keep the labels of the
        selected curves.

        Examples
        --------
        >>> conc = mp.Q_([0.01, 0.1, 1, 10], "uM")
        >>> y = [[99, 80, 30, 5], [100, 95, 70, 20], [98, 60, 20, 4]]
        >>> res = mp.fit(conc, y).with_labels(["A", "B", "C"], names="drug")
        >>> res["B"].shape, res[["C", "A"]].labels, res[1:].labels, res[0].label
        ((), ('C', 'A'), ('B', 'C'), 'A')
        """
        if not self.shape:
            raise TypeError("a single-curve FitResult (batch shape ()) cannot be indexed.")
        idx = self._resolve(key)
        return self._take(idx)

    def _resolve(self, key: Any) -> Any:
        """A numpy index for the leading batch axes."""
        nd = len(self.shape)
        if nd != 1:
            parts = key if isinstance(key, tuple) else (key,)
            ok = len(parts) <= nd and all(
                isinstance(k, slice) or (isinstance(k, int | np.integer) and not isinstance(k, bool)) for k in parts
            )
            if not ok:
                raise TypeError(
                    f"a FitResult of batch shape {self.shape} takes integers and slices, one per batch axis; "
                    f"got {key!r}."
                )
            for axis, k in enumerate(parts):
                if not isinstance(k, slice) and not -self.shape[axis] <= int(k) < self.shape[axis]:
                    raise LookupError(f"position {int(k)} is outside batch axis {axis} of length {self.shape[axis]}.")
            return parts
        if isinstance(key, slice):
            return key
        if isinstance(key, list | np.ndarray) or (
            isinstance(key, tuple) and not any(_same_label(lab, key) for lab in (self.labels or ()))
        ):
            arr = np.asarray(key) if not isinstance(key, tuple) else None
            if arr is not None and arr.dtype == np.bool_:
                if arr.shape != self.shape:
                    raise ShapeError(f"a boolean mask must have the batch shape {self.shape}; got {arr.shape}.")
                return np.flatnonzero(arr)
            lookup: dict[Any, int] = {}
            if self.labels is not None:
                try:
                    lookup = {lab: i for i, lab in enumerate(self.labels)}
                except TypeError:  # unhashable labels: one scan per key
                    lookup = {}

            def position(k: Any) -> int:
                try:
                    i = lookup.get(k)
                except TypeError:
                    i = None
                if i is not None and self.labels is not None and _same_label(self.labels[i], k):
                    return i
                return self.index(k)

            pos = np.array([position(k) for k in key], dtype=np.int64)
            if self.labels is not None and np.unique(pos).size != pos.size:
                raise ValueError(f"each curve of a labelled FitResult can be selected once; got {key!r}.")
            return pos
        return self.index(key)

    def _take(self, idx: Any) -> FitResult:
        def sub(a: ArrayLike) -> NDArray[Any]:
            return np.array(np.broadcast_to(np.asarray(a), self.shape)[idx])

        labels: tuple[Any, ...] | None = None
        if self.labels is not None:
            arr = np.empty(len(self.labels), dtype=object)
            for i, lab in enumerate(self.labels):
                arr[i] = lab
            if isinstance(idx, int | np.integer):
                labels = (arr[idx],)
            else:
                labels = tuple(arr[idx].tolist())
        return replace(
            self,
            params={k: sub(v) for k, v in self.params.items()},
            stderr={k: sub(v) for k, v in self.stderr.items()},
            covariance=np.array(np.asarray(self.covariance)[idx]),
            rss=sub(self.rss),
            n=sub(self.n),
            dof=sub(self.dof),
            status=sub(self.status),
            response_pvalue=sub(self.response_pvalue),
            conc_min=sub(self.conc_min),
            conc_max=sub(self.conc_max),
            iterations=sub(self.iterations),
            tss=sub(np.asarray(self.tss)),
            labels=labels,
            label_names=self.label_names if labels is not None else (),
        )

    def __repr__(self) -> str:
        n_curves = int(np.prod(self.shape)) if self.shape else 1
        if not self.shape:
            parts = ", ".join(
                f"{k}={float(v):.4g}" + (f"±{float(self.stderr[k]):.2g}" if k not in self.fixed else "")
                for k, v in self.params.items()
            )
            name = "" if self.label is None else f" {self.label!r}"
            return (
                f"<FitResult {self.model}{name}: {parts} ({self.conc_unit}); "
                f"status={FitStatus(int(self.status))!s}>"
            )
        ok = int(np.count_nonzero(self.status == 0))
        shown = ""
        if self.labels is not None:
            first = ", ".join(str(lab) for lab in self.labels[:5]) + (", …" if len(self.labels) > 5 else "")
            shown = f" [{first}]"
        return (
            f"<FitResult {self.model}: {n_curves} curves{shown}, shape {self.shape}, {ok} OK; unit {self.conc_unit}>"
        )

    # ------------------------------------------------------------------ results out (tables, xarray, notebooks)
    def _output_columns(self, *, level: float) -> dict[str, NDArray[Any]]:
        """Per-curve outputs named and ordered as the variables of :func:`mtor_pharm.xarray.fit`."""
        low, high = self.ci("ic50", level=level)
        out: dict[str, NDArray[Any]] = {}
        for p in self.param_names:
            value = self.ic50.magnitude if p == "ic50" else self.params[p]  # NaN where undetermined
            out[p] = np.broadcast_to(np.asarray(value, dtype=np.float64), self.shape)
            out[f"{p}_stderr"] = np.broadcast_to(np.asarray(self.stderr[p], dtype=np.float64), self.shape)
        if "ic50" not in self.param_names:
            out["ic50"] = np.broadcast_to(np.asarray(self.ic50.magnitude, dtype=np.float64), self.shape)
        out["ic50_ci_low"] = np.broadcast_to(np.asarray(low.magnitude, dtype=np.float64), self.shape)
        out["ic50_ci_high"] = np.broadcast_to(np.asarray(high.magnitude, dtype=np.float64), self.shape)
        out["status"] = self.status
        out["rss"] = self.rss
        out["n"] = self.n.astype(np.int64)
        out["dof"] = self.dof.astype(np.int64)
        out["response_pvalue"] = self.response_pvalue
        out["r_squared"] = np.broadcast_to(self.r_squared, self.shape)
        return out

    def to_dataframe(
        self,
        index: Any = None,
        *,
        dims: Sequence[str] | None = None,
        coords: Mapping[str, ArrayLike] | None = None,
        level: float = 0.95,
        unit: str | None = None,
    ) -> pd.DataFrame:
        """A tidy table: one row per curve, one column per estimate.

        Parameters
        ----------
        index : pandas.Index, optional
            Row labels of a one-dimensional batch, e.g. the index returned by
            :func:`mtor_pharm.fit_table`.  Give either `index` or `dims`/`coords`.
        dims : sequence of str, optional
            Names of the batch dimensions, one per axis of :attr:`shape`.  Default:
            the keys of `coords`, else ``"curve"`` (one axis) or ``"curve_0"``,
            ``"curve_1"``, … (several).
        coords : mapping of str to array_like, optional
            Labels along each named dimension (length of that axis); a dimension
            without labels is numbered from 0.
        level : float, default 0.95
            Confidence level of ``ic50_ci_low`` / ``ic50_ci_high``.
        unit : str, optional
            Concentration unit of the concentration columns; default `conc_unit`.

        Returns
        -------
        pandas.DataFrame
            One row per curve, in C order of the batch, indexed by `index`, by one
            dimension, or by a :class:`pandas.MultiIndex` over several.  Columns
            (the variables of :func:`mtor_pharm.xarray.fit`, in its order):
            each parameter and ``<name>_stderr``; ``ic50`` (the relative IC50, NaN
            where the status marks it undetermined; derived from all parameters
            outside the 4PL family); ``ic50_ci_low``, ``ic50_ci_high``;
            ``status`` (:class:`FitStatus` code), ``status_name`` (``"OK"`` or
            the flag names joined by ``|``); ``rss``, ``n``, ``dof``,
            ``response_pvalue``, ``r_squared``.  A labelled result (see
            :meth:`with_labels`) is indexed by its labels unless `index`,
            `dims` or `coords` is given.  Concentration-valued columns carry their unit in
            the name as its short ASCII symbol (``"ic50 [uM]"`` for ``"micromolar"``,
            ``"µM"`` or ``"uM"``: one scheme for every table); ``DataFrame.attrs`` records ``model``,
            ``conc_unit``, ``confidence_level`` and the ``fixed`` parameters.

        Raises
        ------
        ShapeError
            `index`, `dims` or `coords` do not match the batch shape.

        See Also
        --------
        to_xarray : the same values as an :class:`xarray.Dataset`.
        mtor_pharm.summary_table : a shorter table for people.

        Notes
        -----
        .. versionadded:: 0.1.0

        Examples
        --------
        >>> conc = mp.Q_([0.01, 0.03, 0.1, 0.3, 1, 3, 10], "uM")
        >>> res = mp.fit(conc, [[99, 97, 88, 67, 36, 15, 5], [100, 99, 97, 90, 70, 40, 20]])
        >>> df = res.to_dataframe(coords={"compound": ["A", "B"]})
        >>> df.index.name, df["ic50 [uM]"].round(2).tolist(), df["status_name"].tolist()
        ('compound', [0.57, 1.7], ['OK', 'OK'])
        >>> res.to_dataframe(unit="nM")["ic50 [nM]"].round(-1).tolist()
        [570.0, 1700.0]
        """
        import pandas as pd

        level = _check_level(level)
        if index is not None and (dims is not None or coords is not None):
            raise TypeError("`index` must not be given together with `dims` or `coords`; pass one of them.")
        u = self.conc_unit if unit is None else unit
        try:
            factor = float(_registry().Quantity(1.0, self.conc_unit).to(parse_unit(u, name="unit")).magnitude)
        except _pint().errors.DimensionalityError:
            raise UnitError(f"`unit` must be a concentration unit such as 'nM'; got {unit!r}.") from None
        if index is not None:
            n_rows = math.prod(self.shape)
            if (isinstance(index, str) or not hasattr(index, "__len__") or hasattr(index, "units")
                    or np.ndim(index) != 1):
                raise TypeError(f"`index` must be a pandas.Index or a sequence of row labels; got {index!r:.80}.")
            if len(self.shape) > 1 or len(index) != n_rows:
                raise ShapeError(
                    f"`index` must have one label per curve of a batch of shape {self.shape} ({n_rows} curves); "
                    f"got {len(index)} labels. Use dims=/coords= for several batch dimensions."
                )
            row_index: pd.Index = index if isinstance(index, pd.Index) else pd.Index(index)
        elif dims is None and coords is None and self.labels is not None:
            row_index = _label_index(self.labels, self.label_names)
        else:
            names, labels = _batch_labels(self.shape, dims, coords)
            if not names:
                row_index = pd.RangeIndex(1)
            elif len(names) == 1:
                row_index = pd.Index(labels[0], name=names[0])
            else:
                row_index = pd.MultiIndex.from_product(labels, names=names)
        conc_params = self._model.conc_params
        concentration = {*_CONC_VARIABLES, *conc_params, *(f"{p}_stderr" for p in ("ic50", "xmid", *conc_params))}
        columns: dict[str, Any] = {}
        for name, values in self._output_columns(level=level).items():
            flat = np.asarray(values).reshape(-1)
            if name in concentration:
                columns[f"{name} [{_unit_label(u)}]"] = flat * factor
            else:
                columns[name] = flat
            if name == "status":  # name each distinct code once
                codes, inverse = np.unique(flat, return_inverse=True)
                columns["status_name"] = np.array([_status_name(int(c)) for c in codes], dtype=object)[inverse]
        df = pd.DataFrame(columns, index=row_index)
        df.attrs = {"model": self.model, "conc_unit": u, "confidence_level": level, "fixed": " ".join(self.fixed)}
        return df

    def to_xarray(
        self,
        dims: Sequence[str] | None = None,
        coords: Mapping[str, ArrayLike] | None = None,
        *,
        level: float = 0.95,
        response_unit: str | None = None,
    ) -> xr.Dataset:
        """The results as an :class:`xarray.Dataset` laid out like :func:`mtor_pharm.xarray.fit`'s.

        Parameters
        ----------
        dims : sequence of str, optional
            Names of the batch dimensions.  Default: the keys of `coords`, else
            ``"curve"`` (one axis) or ``"curve_0"``, ``"curve_1"``, … (several).
        coords : mapping of str to array_like, optional
            Labels along the named dimensions (index coordinates).
        level : float, default 0.95
            Confidence level of ``ic50_ci_low`` / ``ic50_ci_high`` (recorded in
            their ``confidence_level`` attribute).
        response_unit : str, optional
            Unit of the responses, stored in the ``units`` attribute of ``bottom``
            and ``top``.

        Returns
        -------
        xarray.Dataset
            The variables, dtypes and attributes of :func:`mtor_pharm.xarray.fit`:
            parameters and ``<name>_stderr``, ``ic50``, ``ic50_ci_low``,
            ``ic50_ci_high``, ``status`` (uint8 with CF ``flag_masks`` /
            ``flag_meanings``), ``rss``, ``n``, ``dof``, ``response_pvalue``, ``r_squared``;
            concentration variables carry ``attrs["units"]``; Dataset attributes
            ``model``, ``conc_unit``, ``fixed``, ``mtor_pharm_version``.  There is
            no ``conc_dim`` attribute (the concentrations are not a dimension here).

        Raises
        ------
        ShapeError
            `dims` or `coords` do not match the batch shape.

        See Also
        --------
        to_dataframe : the same values as a table.

        Notes
        -----
        Write it with ``ds.to_netcdf(path)``.  netCDF-3 (``engine="scipy"``) has no
        unsigned bytes nor 64-bit integers: ``status`` reads back as ``int16`` and
        ``n``/``dof`` as ``int32``, with the same values; netCDF-4 (``h5netcdf`` or
        ``netCDF4``) keeps the dtypes.

        .. versionadded:: 0.1.0

        Examples
        --------
        >>> conc = mp.Q_([0.01, 0.03, 0.1, 0.3, 1, 3, 10], "uM")
        >>> res = mp.fit(conc, [[99, 97, 88, 67, 36, 15, 5], [100, 99, 97, 90, 70, 40, 20]])
        >>> ds = res.to_xarray(coords={"compound": ["A", "B"]})
        >>> ds["ic50"].dims, ds["ic50"].attrs["units"], ds["status"].values.tolist()
        (('compound',), 'micromolar', [0, 0])
        """
        import xarray as xr

        from .._version import __version__
        from ._schema import STATUS_ENCODING, status_attrs, variable_attrs

        level = _check_level(level)
        if (
            dims is None
            and coords is None
            and self.labels is not None
            and len(self.shape) == 1
            and len(self.label_names) <= 1
            and not any(isinstance(lab, tuple) for lab in self.labels)
        ):  # a labelled batch names its dimension and labels it
            coords = {(self.label_names[0] if self.label_names else "curve"): list(self.labels)}
        names, labels = _batch_labels(self.shape, dims, coords)
        variables: dict[str, xr.DataArray] = {}
        for name, values in self._output_columns(level=level).items():
            if name == "status":
                attrs = status_attrs()
            elif name in ("n", "dof"):
                attrs = dict(_INT_ATTRS[name])
            elif name == "r_squared":
                attrs = {"long_name": "coefficient of determination, 1 - RSS/TSS"}
            else:
                attrs = variable_attrs(name, self._model, self.conc_unit, response_unit)
            if name in ("ic50_ci_low", "ic50_ci_high"):
                side = "lower" if name.endswith("low") else "upper"
                attrs["long_name"] = f"{side} bound of the {100 * level:g}% Wald confidence interval of ic50"
                attrs["confidence_level"] = level
            variables[name] = xr.DataArray(np.array(values), dims=names, attrs=attrs)
            if name == "status":
                variables[name].encoding.update(STATUS_ENCODING)
        index_coords: dict[str, Any] = {
            name: lab for name, lab, given in zip(names, labels, _given(names, coords), strict=True) if given
        }
        if (
            dims is None and coords is None and self.labels is not None and len(self.shape) == 1
            and names == ("curve",) and len(self.label_names) > 1
            and all(isinstance(lab, tuple) and len(lab) == len(self.label_names) for lab in self.labels)
        ):  # curves labelled by several keys (fit_table by=[...]): one coordinate per key along `curve`
            for j, key in enumerate(self.label_names):
                index_coords[key] = ("curve", [lab[j] for lab in self.labels])
        attrs = {
            "model": self.model,
            "conc_unit": self.conc_unit,
            "fixed": " ".join(self.fixed),
            "mtor_pharm_version": __version__,
        }
        return xr.Dataset(variables, coords=index_coords, attrs=attrs)

    def _repr_html_(self) -> str:
        """Rich display in Jupyter: parameters with confidence intervals and statuses."""
        return _html_single(self) if not self.shape else _html_batch(self)


def _unit_label(unit: str) -> str:
    """The short ASCII symbol used in column names: ``"nM"``, ``"uM"``, ``"ug/ml"`` (one scheme for
    every table, whatever spelling the caller used)."""
    try:
        text = f"{_registry().Unit(unit):~}"
    except Exception:  # an unknown spelling is shown as given
        return str(unit)
    return text.replace("µ", "u").replace("μ", "u").replace(" ", "")


def _same_label(a: Any, b: Any) -> bool:
    """Label equality that never raises nor broadcasts (labels may be tuples or numpy scalars)."""
    if type(a) is not type(b) and not (
        isinstance(a, str | np.str_) and isinstance(b, str | np.str_)
    ) and not (isinstance(a, int | float | np.number) and isinstance(b, int | float | np.number)):
        return False
    if isinstance(a, bool | np.bool_) != isinstance(b, bool | np.bool_):
        return False
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _did_you_mean(value: Any, options: Sequence[Any]) -> str:
    """`` Did you mean 'x'?`` for the closest option(s) to `value` (case-insensitive), or ``""``."""
    import difflib

    text = str(value)
    by_lower = {str(o).lower(): str(o) for o in options}
    close = difflib.get_close_matches(text.lower(), list(by_lower), n=2, cutoff=0.6)
    if not close:
        return ""
    return " Did you mean " + " or ".join(repr(by_lower[c]) for c in close) + "?"


def _check_labels(
    labels: Any, names: Any, shape: tuple[int, ...]
) -> tuple[tuple[Any, ...], tuple[str, ...]]:
    labels = tuple(labels)
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise TypeError(f"`label_names` must be a tuple of str; got {names!r}.")
    expected = shape[0] if len(shape) == 1 else (1 if not shape else -1)
    if expected < 0 or len(labels) != expected:
        raise ShapeError(
            f"`labels` must hold one label per curve of a one-dimensional batch (batch shape {shape}); "
            f"got {len(labels)} labels."
        )
    for lab in labels:
        if lab is None or (isinstance(lab, float | np.floating) and math.isnan(lab)) or (
            isinstance(lab, str) and not lab.strip()
        ):
            shown = list(labels[:10])
            raise ValueError(f"`labels` must not hold missing or empty labels; got {lab!r} in {shown}.")
    try:
        counts: dict[Any, int] = {}
        for lab in labels:
            counts[lab] = counts.get(lab, 0) + 1
        repeated = [lab for lab, k in counts.items() if k > 1]
    except TypeError:
        raise TypeError("`labels` must be hashable (str, numbers or tuples of them).") from None
    if repeated:
        raise ValueError(f"`labels` must be distinct; {repeated[:5]} appear more than once.")
    return labels, tuple(names)


def _check_percent(p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, int | float | np.floating | np.integer):
        raise TypeError(f"`p` must be a percentage (number) in (0, 100); got {p!r}.")
    if isinstance(p, int) and abs(p) > 1000:  # also keeps float() from overflowing
        raise ValueError(f"`p` must be a percentage strictly between 0 and 100; got {p!r:.40}.")
    if not (0.0 < float(p) < 100.0) or not math.isfinite(float(p)):
        raise ValueError(f"`p` must be a percentage strictly between 0 and 100; got {p!r}.")
    return float(p) / 100.0


# ---------------------------------------------------------------------- results out: helpers
#: Concentration-valued output variables (their unit goes into the column name).
_CONC_VARIABLES: tuple[str, ...] = ("ic50", "xmid", "ic50_ci_low", "ic50_ci_high")
#: Attributes of the integer outputs, as :func:`mtor_pharm.xarray.fit` writes them.
_INT_ATTRS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "n": MappingProxyType({"long_name": "number of finite points"}),
        "dof": MappingProxyType({"long_name": "residual degrees of freedom (n - free parameters)"}),
    }
)
#: Rows shown by the HTML display of a batch.
_HTML_ROWS = 10


def _check_level(level: Any) -> float:
    if isinstance(level, bool) or not isinstance(level, int | float | np.floating) or (
            isinstance(level, int) and level != 0) or not 0.0 < float(level) < 1.0:
        raise ValueError(f"`level` must be a number in (0, 1); got {level!r}.")
    return float(level)


def _status_name(code: int) -> str:
    """``"OK"`` or the names of the set :class:`FitStatus` bits joined by ``|``."""
    if code == 0:
        return "OK"
    return "|".join(str(f.name) for f in FitStatus if f and (code & f))


def _batch_labels(
    shape: tuple[int, ...], dims: Sequence[str] | None, coords: Mapping[str, ArrayLike] | None
) -> tuple[tuple[str, ...], list[NDArray[Any]]]:
    """Validated dimension names and per-dimension labels (0, 1, … where none are given)."""
    if coords is not None and not isinstance(coords, Mapping):
        raise TypeError(f"`coords` must be a mapping of dimension name to labels; got {type(coords).__name__}.")
    if dims is None:
        if coords:
            names = tuple(str(k) for k in coords)
            if len(names) != len(shape):
                raise ShapeError(
                    f"`coords` must label every batch dimension when `dims` is not given; got {list(names)} "
                    f"for batch shape {shape}. Pass dims= with {len(shape)} names."
                )
        elif len(shape) == 1:
            names = ("curve",)
        else:
            names = tuple(f"curve_{i}" for i in range(len(shape)))
    else:
        if isinstance(dims, str) or not isinstance(dims, Sequence) or not all(isinstance(d, str) for d in dims):
            raise TypeError(f"`dims` must be a sequence of str, one per batch dimension; got {dims!r}.")
        names = tuple(dims)
        if len(names) != len(shape) or len(set(names)) != len(names):
            raise ShapeError(
                f"`dims` must name each of the {len(shape)} batch dimensions once (batch shape {shape}); "
                f"got {list(names)}."
            )
    given = dict(coords or {})
    unknown = [k for k in given if k not in names]
    if unknown:
        raise ShapeError(f"`coords` must be keyed by the batch dimensions {list(names)}; got {unknown}.")
    labels: list[NDArray[Any]] = []
    for axis, name in enumerate(names):
        if name not in given:
            labels.append(np.arange(shape[axis]))
            continue
        lab = np.asarray(given[name])
        if lab.ndim != 1 or lab.shape[0] != shape[axis]:
            raise ShapeError(
                f"`coords[{name!r}]` must hold {shape[axis]} labels (batch shape {shape}); got shape {lab.shape}."
            )
        labels.append(lab)
    return names, labels


def _label_index(labels: tuple[Any, ...], names: tuple[str, ...]) -> pd.Index:
    import pandas as pd

    if len(names) > 1 and all(isinstance(lab, tuple) and len(lab) == len(names) for lab in labels):
        return pd.MultiIndex.from_tuples(list(labels), names=list(names))
    values = np.empty(len(labels), dtype=object)
    for i, lab in enumerate(labels):
        values[i] = lab
    return pd.Index(values, name=names[0] if len(names) == 1 else None, tupleize_cols=False)


def _given(names: tuple[str, ...], coords: Mapping[str, ArrayLike] | None) -> list[bool]:
    return [coords is not None and name in coords for name in names]


def _fmt(value: Any) -> str:
    v = float(value)
    return "NaN" if math.isnan(v) else f"{v:.4g}"


def _html_single(res: FitResult) -> str:
    cols = res._output_columns(level=0.95)
    unit = html.escape(f"{_registry().Unit(res.conc_unit):~P}")
    rows = []
    names = list(res.param_names) + ([] if "ic50" in res.param_names else ["ic50"])
    for p in names:
        is_conc = p in _CONC_VARIABLES or p in res.family.conc_params
        if p in res.fixed:
            se, interval = "fixed", "—"
        else:
            low, high = res.ci(p)
            lo = low.magnitude if is_conc and p != "s" else low
            hi = high.magnitude if is_conc and p != "s" else high
            se = _fmt(cols[f"{p}_stderr"]) if f"{p}_stderr" in cols else "—"
            interval = f"[{_fmt(lo)}, {_fmt(hi)}]"
        label = "ic50 (derived)" if p == "ic50" and p not in res.param_names else p
        rows.append(
            f"<tr><td>{html.escape(label)}</td><td>{_fmt(cols[p])}</td><td>{se}</td><td>{interval}</td>"
            f"<td>{unit if is_conc else ''}</td></tr>"
        )
    code = int(res.status)
    messages = (
        [STATUS_MESSAGES[FitStatus.OK]] if code == 0 else [STATUS_MESSAGES[f] for f in FitStatus if f and code & f]
    )
    return (
        '<div class="mtor-pharm-fitresult">'
        f"<p><strong>FitResult</strong> · {html.escape(res.model)} · one curve</p>"
        "<table><thead><tr><th>parameter</th><th>estimate</th><th>std. error</th><th>95% CI</th>"
        f"<th>unit</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<p>status <code>{html.escape(_status_name(code))}</code>: {html.escape(' '.join(messages))}</p>"
        f"<p>n = {int(res.n)}, dof = {int(res.dof)}, RSS = {_fmt(res.rss)}, "
        f"F test against a flat line p = {_fmt(res.response_pvalue)}</p>"
        f"{_sparkline_svg(res)}</div>"
    )


def _html_batch(res: FitResult) -> str:
    df = res.to_dataframe()
    u = res.conc_unit
    u = _unit_label(res.conc_unit)
    keep = [f"ic50 [{u}]", f"ic50_ci_low [{u}]", f"ic50_ci_high [{u}]", "hill", "status_name"]
    codes = np.asarray(res.status).reshape(-1)
    counts = [f"{int(np.count_nonzero(codes == 0))} OK"]
    for flag in FitStatus:
        if flag:
            k = int(np.count_nonzero(codes & flag))
            if k:
                counts.append(f"{k} {flag.name}")
    n = codes.size
    more = f"<p>first {_HTML_ROWS} of {n} curves</p>" if n > _HTML_ROWS else ""
    table = df[[c for c in keep if c in df.columns]].head(_HTML_ROWS).to_html(float_format=_fmt, border=0, na_rep="NaN")
    return (
        '<div class="mtor-pharm-fitresult">'
        f"<p><strong>FitResult</strong> · {html.escape(res.model)} · {n} curves, shape {res.shape} · "
        f"{html.escape(', '.join(counts))}</p>{table}{more}</div>"
    )


def _sparkline_svg(res: FitResult, *, width: int = 180, height: int = 60) -> str:
    """A small inline SVG of the fitted curve on a log axis (empty where it cannot be drawn)."""
    lo, hi = float(res.conc_min), float(res.conc_max)
    if not (math.isfinite(lo) and math.isfinite(hi) and 0.0 < lo < hi):
        return ""
    lx = np.linspace(math.log10(lo) - 0.5, math.log10(hi) + 0.5, 60)
    y = np.asarray(res.family(10.0**lx, **{k: np.asarray(v) for k, v in res.params.items()}), dtype=np.float64)
    if not np.isfinite(y).all():
        return ""
    ymin, ymax = float(y.min()), float(y.max())
    span = ymax - ymin if ymax > ymin else 1.0
    px = 4.0 + (lx - lx[0]) / (lx[-1] - lx[0]) * (width - 8)
    py = height - 4.0 - (y - ymin) / span * (height - 8)
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True))
    return (
        f'<svg width="{width}" height="{height}" role="img" aria-label="fitted curve, log concentration axis">'
        f'<polyline points="{points}" fill="none" stroke="currentColor" stroke-width="1.5"/></svg>'
    )
