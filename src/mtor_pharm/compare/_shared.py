"""Global fits: several curves fitted jointly with chosen parameters shared."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pint
from numpy.typing import ArrayLike, NDArray

from .._arrays import is_dataarray, readonly
from .._typing import BoolArray, FloatArray, IntArray, Quantity
from ..errors import MtorPharmWarning, ShapeError, UnitError
from ..fitting import ConfidenceInterval, FitStatus, _global, _status, fit
from ..fitting._quality import ambiguous
from ..fitting._result import _UNDETERMINED, InformationCriteria, information_criterion
from ..models import Model, _lookup_model, _param_hint
from ..units import _registry, as_concentration
from ._common import (
    check_level,
    check_percent,
    dataarray_data,
    log_icx_grad,
    refuse_dimension_names,
    response_array,
    t_quantile,
)

__all__ = ["SharedFit", "fit_shared"]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SharedFit(InformationCriteria):
    """A global fit: ``k`` curves fitted jointly, some parameters shared.

    Every array carries the batch shape ``(...)`` of independent global fits,
    followed by the curve axis ``k`` where the quantity is per curve.

    Attributes
    ----------
    model : str
        Model family.
    param_names : tuple of str
        Reported parameter names, in model order.
    share : tuple of str
        Parameters shared by curves (by all of them, or by the groups of
        `share_groups`).
    share_groups : mapping of str to ndarray of int, shape (k,)
        For every shared parameter, the group of each curve along the curve
        axis: curves with the same group number share one value (all zeros when
        the parameter is common to all ``k`` curves).
    fixed : tuple of str
        Parameters held fixed.
    labels : tuple
        Curve labels along the curve axis (indices ``0..k-1`` unless given by
        `groups` or the xarray dimension).
    params, stderr : mapping of str to ndarray, shape (..., k)
        Estimates and asymptotic standard errors per curve; a shared parameter
        repeats its one value on every curve.  Concentrations in `conc_unit`.
    covariance : ndarray, shape (..., k, p, k, p)
        Joint covariance ``s² (JᵀWJ)⁻¹`` of every curve's parameters (reported
        scale): ``covariance[..., i, a, j, b]`` is ``Cov(param a of curve i,
        param b of curve j)``.  ``s² = RSS / dof`` is the pooled residual
        variance of the global fit (drc's convention).  Built on access from a
        block form that takes ``O(k)`` memory (:meth:`covariance_block` reads one
        pair of curves without building it); refused for more than 2²⁷ entries.
    rss : ndarray, shape (...)
        Residual sum of squares over all curves.
    n, dof : ndarray of int, shape (...)
        Points, and points minus free parameters, of each global fit.
    status : ndarray of uint8, shape (..., k)
        :class:`~mtor_pharm.FitStatus` bits per curve, decided by the rules of
        the per-curve fits (``mtor_pharm.fitting._status``): ``NOT_CONVERGED``
        when the global fit did not converge or the curve's plateaus run away
        (more than 10³ response ranges apart); ``AT_BOUND`` when a parameter the
        curve uses is on a bound; ``FLAT_RESPONSE`` from the F test of the
        curve's separate fit against a flat line (alpha 0.05; the test and
        p-value of ``mp.fit`` on that curve);
        ``IC50_OUTSIDE_RANGE``; ``TOO_FEW_POINTS`` for a curve whose data cannot
        determine its own parameters (it is left out; the others are fitted) or
        for every curve of a global fit with no residual degree of freedom.
    attached_to : ndarray of int, shape (..., k)
        For a control-only curve (every well at concentration 0): the curve
        whose fit its wells joined (drc's rule), else -1.
    conc_unit : str
        Unit of concentration parameters.
    conc_min, conc_max : ndarray, shape (..., k)
        Tested range of each curve.
    iterations : ndarray of int, shape (...)
        Levenberg–Marquardt iterations.
    tss : ndarray, shape (..., k)
        Total sum of squares of each curve's responses about their (weighted)
        mean, as :attr:`mtor_pharm.FitResult.tss`; NaN where not recorded.
    """

    model: str
    param_names: tuple[str, ...]
    share: tuple[str, ...]
    fixed: tuple[str, ...]
    labels: tuple[Any, ...]
    params: Mapping[str, FloatArray]
    stderr: Mapping[str, FloatArray]
    rss: FloatArray
    n: IntArray
    dof: IntArray
    status: NDArray[np.uint8]
    conc_unit: str
    conc_min: FloatArray
    conc_max: FloatArray
    iterations: IntArray
    share_groups: Mapping[str, IntArray] = field(default_factory=dict)
    attached_to: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    tss: FloatArray | None = None
    _model: Model = field(repr=False)
    # (JᵀWJ)⁻¹ in block form, internal scale: Cov(i, j) = [i == j] X_i + Y_i Sinv[g_i, g_j] Y_jᵀ
    _X: FloatArray = field(repr=False)  # (..., k, p, p)
    _Y: FloatArray = field(repr=False)  # (..., k, p, pg)
    _gcol: IntArray = field(repr=False)  # (..., k, pg)
    _Sinv: FloatArray = field(repr=False)  # (..., G, G)

    def __post_init__(self) -> None:
        for name in ("params", "stderr", "share_groups"):
            value = getattr(self, name)
            object.__setattr__(self, name, MappingProxyType({k: readonly(v) for k, v in value.items()}))
        if self.tss is None:
            object.__setattr__(self, "tss", np.full(np.shape(self.conc_min), np.nan))
        for name in ("rss", "n", "dof", "status", "conc_min", "conc_max", "iterations", "attached_to", "tss"):
            object.__setattr__(self, name, readonly(getattr(self, name)))

    # ------------------------------------------------------------------ basics
    @property
    def shape(self) -> tuple[int, ...]:
        """Batch shape of the independent global fits (without the curve axis)."""
        return tuple(self.rss.shape)

    @property
    def n_curves(self) -> int:
        """Curves per global fit (``k``)."""
        return len(self.labels)

    @property
    def n_free(self) -> int:
        """Free parameters of one global fit as specified, with every curve fitted (one per
        group of a shared parameter); :attr:`n_estimated` counts those actually estimated."""
        per_curve = [p for p in self.param_names if p not in self.fixed and p not in self.share]
        shared = [p for p in self.param_names if p not in self.fixed and p in self.share]
        n_shared = sum(int(np.unique(self.share_groups[p]).size) if p in self.share_groups else 1 for p in shared)
        return n_shared + self.n_curves * len(per_curve)

    @property
    def n_estimated(self) -> IntArray:
        """Parameters actually estimated by each global fit, shape (...): ``n − dof``.

        Fewer than :attr:`n_free` when curves are left out (``TOO_FEW_POINTS``, a
        control-only curve attached to another, a curve set aside): their own
        parameters, and shared groups that only they use, are not estimated.  0 for
        a global fit that was not fitted.  The information criteria count these
        parameters and the :attr:`n` points actually used.

        Examples
        --------
        >>> from mtor_pharm import compare as cmp
        >>> x = 10.0 / 3.0 ** np.arange(8)
        >>> y = mp.models.four_pl(x, 0, 100, np.array([[0.1], [1.0], [0.3]]), 1.0)
        >>> y = y + np.random.default_rng(0).normal(0, 2, y.shape)
        >>> y[2, 2:] = np.nan                      # curve 2: two points, left out
        >>> sf = cmp.fit_shared(x, y, conc_unit="uM", share=("hill",))
        >>> sf.status.tolist(), sf.n_free, int(sf.n_estimated), int(sf.n)
        ([0, 0, 16], 10, 7, 16)
        """
        out = np.where(self.n > 0, self.n - self.dof, 0).astype(np.int64)
        return readonly(out)

    @property
    def aic(self) -> FloatArray:
        """Akaike information criterion ``n ln(RSS/n) + 2(k + 1)``, ``k`` = :attr:`n_estimated`,
        ``n`` the points used, shape (...)."""
        return information_criterion("aic", self.rss, self.n, self.n_estimated)

    @property
    def aicc(self) -> FloatArray:
        """Small-sample corrected AIC, with the parameters estimated and points used, shape (...)."""
        return information_criterion("aicc", self.rss, self.n, self.n_estimated)

    @property
    def bic(self) -> FloatArray:
        """Bayesian information criterion, with the parameters estimated and points used, shape (...)."""
        return information_criterion("bic", self.rss, self.n, self.n_estimated)

    @property
    def converged(self) -> NDArray[np.bool_]:
        """True where the global fit reached its least-squares optimum, shape (..., k)."""
        return readonly((self.status & FitStatus.NOT_CONVERGED) == 0)

    @property
    def sigma(self) -> FloatArray:
        """Pooled residual standard deviation ``sqrt(RSS / dof)``, shape (...)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            out: FloatArray = np.sqrt(self.rss / np.where(self.dof > 0, self.dof, np.nan))
        return out

    def index(self, label: Any) -> int:
        """Position of a curve label on the curve axis.

        Examples
        --------
        >>> from mtor_pharm import compare as cmp
        >>> x = 10.0 / 3.0 ** np.arange(8)
        >>> y = mp.models.four_pl(x, 0, 100, np.array([[0.1], [1.0]]), 1.0)
        >>> sf = cmp.fit_shared(x, y, conc_unit="uM", share=("hill",))
        >>> sf.index(1)
        1
        """
        is_int = isinstance(label, int | np.integer) and not isinstance(label, bool)
        if is_int and label not in self.labels and -self.n_curves <= int(label) < self.n_curves:
            return int(label) % self.n_curves
        for i, lab in enumerate(self.labels):
            if lab == label:
                return i
        raise LookupError(f"curve label must be one of {list(self.labels)}; got {label!r}.")

    # ------------------------------------------------------------------ the fit's own scale
    @property
    def family(self) -> Model:
        """The model family that was fitted (:attr:`model` is its name)."""
        return self._model

    def fit_scale_params(self) -> FloatArray:
        """The estimates on the scale the fit works on (the natural log of every
        concentration and ``log``-kind parameter), shape (..., k, p)."""
        cols = []
        for name in self.param_names:
            v = np.asarray(self.params[name], dtype=np.float64)
            if name in self._model.log_params:
                with np.errstate(divide="ignore", invalid="ignore"):
                    v = np.log(v)
            cols.append(v)
        return np.stack(cols, axis=-1)

    def _scale(self) -> FloatArray:
        scale = np.ones((*self.shape, self.n_curves, len(self.param_names)))
        for i, name in enumerate(self.param_names):
            if name in self._model.log_params:
                scale[..., i] = self.params[name]
        return scale

    def _internal_cov_pair(self, ia: ArrayLike, ib: ArrayLike) -> FloatArray:
        """Covariance of the internal parameters of curves `ia` and `ib` (integer arrays of one
        shape ``S``), shape (..., *S, p, p), from the block form (never the dense matrix)."""
        ia_a, ib_a = np.broadcast_arrays(np.asarray(ia, dtype=np.int64), np.asarray(ib, dtype=np.int64))
        S = ia_a.shape
        p = len(self.param_names)
        k = self.n_curves
        Bf = int(np.prod(self.shape, dtype=np.int64))
        X = self._X.reshape(Bf, k, p, p)
        Y = self._Y.reshape(Bf, k, p, -1)
        g = self._gcol.reshape(Bf, k, -1)
        Sinv = self._Sinv.reshape(Bf, *self._Sinv.shape[-2:])
        a, b = ia_a.reshape(-1), ib_a.reshape(-1)
        same = (a == b)[None, :, None, None]
        with np.errstate(invalid="ignore"):
            out = np.where(same, X[:, a], 0.0)
            if Y.shape[-1]:
                rows = np.arange(Bf)[:, None, None, None]
                sel = Sinv[rows, g[:, a][:, :, :, None], g[:, b][:, :, None, :]]  # (Bf, s, pg, pg)
                out = out + np.einsum("nsap,nspq,nsbq->nsab", Y[:, a], sel, Y[:, b])
        return (
            np.asarray(out.reshape(*self.shape, *S, p, p), dtype=np.float64)
            * self._s2()[(...,) + (None,) * (len(S) + 2)]
        )

    def _s2(self) -> FloatArray:
        with np.errstate(invalid="ignore", divide="ignore"):
            out: FloatArray = np.where(self.dof > 0, self.rss / np.maximum(self.dof, 1), np.nan)
        return out

    def _internal_cov_diag(self) -> FloatArray:
        """Covariance of each curve's own internal parameters, shape (..., k, p, p)."""
        k = np.arange(self.n_curves)
        return self._internal_cov_pair(k, k)

    def fit_scale_covariance(self) -> FloatArray:
        """Joint covariance of :meth:`fit_scale_params`, shape (..., k, p, k, p) (dense:
        O(k²) numbers; refused beyond 2²⁷, use :meth:`covariance_block`)."""
        k, p = self.n_curves, len(self.param_names)
        size = int(np.prod(self.shape, dtype=np.int64)) * (k * p) ** 2
        if size > 2**27:
            raise ShapeError(
                f"The joint covariance of {k:,} curves would hold {size:,} numbers; read the covariance of "
                "the curves you need with `covariance_block(i, j)` instead."
            )
        i = np.arange(k)
        C = self._internal_cov_pair(i[:, None], i[None, :])  # (..., k, k, p, p)
        return np.asarray(np.swapaxes(C, -3, -2), dtype=np.float64)

    @property
    def covariance(self) -> FloatArray:
        """Joint covariance on the reported scale, shape (..., k, p, k, p) (see the class docs)."""
        s = self._scale()
        with np.errstate(invalid="ignore"):
            out = self.fit_scale_covariance() * (s[..., :, :, None, None] * s[..., None, None, :, :])
        return readonly(out)

    def covariance_block(self, i: Any, j: Any) -> FloatArray:
        """Covariance of the parameters of curve `i` with those of curve `j` (labels or
        indices), reported scale, shape (..., p, p); ``O(k)`` work, whatever ``k``.

        Examples
        --------
        >>> from mtor_pharm import compare as cmp
        >>> x = 10.0 / 3.0 ** np.arange(8)
        >>> rng = np.random.default_rng(0)
        >>> y = mp.models.four_pl(x, 0, 100, np.array([[0.1], [1.0]]), 1.0) + rng.normal(0, 2, (2, 8))
        >>> sf = cmp.fit_shared(x, y, conc_unit="uM", share=("hill",))
        >>> bool(np.allclose(sf.covariance_block(0, 1), sf.covariance[0, :, 1, :]))
        True
        """
        a, b = self.index(i), self.index(j)
        s = self._scale()
        C = self._internal_cov_pair(a, b)
        with np.errstate(invalid="ignore"):
            return readonly(C * s[..., a, :, None] * s[..., b, None, :])

    def log_icx_gradient(self, q: float) -> tuple[FloatArray, FloatArray]:
        """``ln ICx`` of each curve, shape (..., k), and its gradient with respect to the
        curve's :meth:`fit_scale_params`, shape (..., k, p) (zero for fixed parameters);
        `q` is the fraction of the way from ``top`` to ``bottom`` (0.5: the IC50).  With
        :meth:`covariance_block` this gives delta-method intervals across curves."""
        p = len(self.param_names)
        P = self.fit_scale_params().reshape(-1, p)
        lx, grad = log_icx_grad(self._model, P, q)
        free = np.array([name not in self.fixed for name in self.param_names])
        grad = np.where(free[None, :], grad, 0.0)
        return lx.reshape(*self.shape, self.n_curves), grad.reshape(*self.shape, self.n_curves, p)

    def _quantity(self, values: ArrayLike) -> Quantity:
        arr = np.asarray(values, dtype=np.float64)
        return _registry().Quantity(arr, self.conc_unit)

    # ------------------------------------------------------------------ derived
    @property
    def ic50(self) -> Quantity:
        """Relative IC50 of every curve, shape (..., k), in `conc_unit`."""
        return self.icx(50)

    def icx(self, p: float) -> Quantity:
        """Relative ICx of every curve (``p`` percent), shape (..., k).

        NaN where the curve's IC50 is undetermined (``NOT_CONVERGED``,
        ``FLAT_RESPONSE`` or ``TOO_FEW_POINTS``), as for :class:`FitResult`.
        """
        lx, _ = self.log_icx_gradient(check_percent(p))
        bad = (self.status & _UNDETERMINED) != 0
        with np.errstate(over="ignore"):
            return self._quantity(np.where(bad, np.nan, np.exp(lx)))

    def ci(self, name: str, *, level: float = 0.95) -> ConfidenceInterval:
        """Wald interval with the t distribution on the pooled ``dof``, per curve.

        Concentration parameters, the family's other log-scale parameters (``s``)
        and ``"ic<p>"`` use the log scale, as
        :meth:`FitResult.ci`.

        Examples
        --------
        >>> from mtor_pharm import compare as cmp
        >>> x = 10.0 / 3.0 ** np.arange(8)
        >>> rng = np.random.default_rng(0)
        >>> y = mp.models.four_pl(x, 0, 100, np.array([[0.1], [1.0]]), 1.0) + rng.normal(0, 2, (2, 8))
        >>> low, high = cmp.fit_shared(x, y, conc_unit="uM").ci("ic50")
        >>> bool(np.all(low.magnitude < [0.1, 1.0])), bool(np.all(high.magnitude > [0.1, 1.0]))
        (True, True)
        """
        level = check_level(level)
        t = t_quantile(level, self.dof)[..., None]
        bad = (self.status & _UNDETERMINED) != 0
        if name.startswith("ic") and name not in self.params:
            try:
                q = check_percent(float(name[2:]), "name")
            except ValueError:
                q = math.nan
            if not math.isnan(q):
                lx, grad = self.log_icx_gradient(q)
                diag = self._internal_cov_diag()
                se = np.sqrt(np.einsum("...i,...ij,...j->...", grad, diag, grad))
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
                low = np.where(bad, np.nan, est * np.exp(-t * se / est))
                high = np.where(bad, np.nan, est * np.exp(t * se / est))
            if name not in self._model.conc_params:
                return ConfidenceInterval(low, high)
            return ConfidenceInterval(self._quantity(low), self._quantity(high))
        return ConfidenceInterval(est - t * se, est + t * se)

    def __repr__(self) -> str:
        return (
            f"<SharedFit {self.model}: {int(np.prod(self.shape))} global fit(s) of {self.n_curves} curves, "
            f"shared {list(self.share)}; unit {self.conc_unit}>"
        )


# ============================================================================ input handling
def _from_dataarray(data: Any, dim: Any, over: Any) -> tuple[Any, FloatArray, tuple[Any, ...]]:
    """(conc Quantity, responses (..., k, m), labels) from a DataArray."""
    if dim is None or over is None:
        raise TypeError("With an xarray.DataArray, `dim` (concentrations) and `over` (curves) must both be given.")
    if over not in data.dims:
        raise ShapeError(f"`over` must be a dimension of the data; got {over!r}, dimensions {tuple(data.dims)}.")
    if dim == over:
        raise ValueError(f"`dim` and `over` must be different dimensions; got {dim!r} for both.")
    q, y = dataarray_data(data, dim, first=(over,))
    labels = tuple(data.coords[over].values.tolist()) if over in data.coords else tuple(range(data.sizes[over]))
    return q, y, labels


def _from_groups(
    conc: Any, response: Any, groups: Any, weights: Any, conc_unit: str | None
) -> tuple[FloatArray, Any, FloatArray, FloatArray | None, tuple[Any, ...], IntArray]:
    x, unit = as_concentration(conc, conc_unit=conc_unit)
    y = response_array(response)
    g = np.asarray(groups)
    if not (x.ndim == 1 and y.ndim == 1 and g.ndim == 1 and x.shape == y.shape == g.shape):
        raise ShapeError(
            "With `groups`, `conc`, `response` and `groups` must be 1-D and of equal length (one entry per point); "
            f"got shapes {x.shape}, {y.shape} and {g.shape}."
        )
    w = None if weights is None else np.broadcast_to(np.asarray(weights, dtype=np.float64), y.shape)
    uniq, first, inverse = np.unique(g, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    cid = rank[inverse.reshape(-1)]
    k = uniq.size
    counts = np.bincount(cid, minlength=k)
    m = int(counts.max())
    pos = np.zeros(y.size, dtype=np.int64)
    for j in range(k):  # k is the number of curves of one global fit: small
        sel = np.flatnonzero(cid == j)
        pos[sel] = np.arange(sel.size)
    X = np.full((k, m), np.nan)
    Y = np.full((k, m), np.nan)
    X[cid, pos] = x
    Y[cid, pos] = y
    W = None
    if w is not None:
        W = np.zeros((k, m))
        W[cid, pos] = w
    labels = tuple(uniq[order].tolist())
    return X, unit, Y, W, labels, np.asarray(cid, dtype=np.int64)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the all-NaN warnings of nan-reductions over curves without data."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


# ============================================================================ sharing
def _group_ids(values: Any, name: str, k: int, point_curve: IntArray | None) -> IntArray:
    """Group numbers (0 … G-1, in order of first appearance) of the `k` curves from a
    per-curve label array (or, for tidy data, a per-point one constant within each curve)."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ShapeError(f"`share[{name!r}]` must be a 1-D array of group labels; got shape {arr.shape}.")
    if point_curve is not None and arr.size == point_curve.size and arr.size != k:
        _, inv = np.unique(arr, return_inverse=True)
        inv = inv.reshape(-1)
        first = np.full(k, -1, dtype=np.int64)
        first[point_curve[::-1]] = inv[::-1]
        if np.any(first[point_curve] != inv):
            bad = int(point_curve[np.flatnonzero(first[point_curve] != inv)[0]])
            raise ValueError(
                f"`share[{name!r}]` gives different groups to the points of one curve (curve {bad}); "
                "a shared parameter's group must be constant within a curve."
            )
        arr = first
    if arr.size != k:
        raise ShapeError(
            f"`share[{name!r}]` must hold one group label per curve ({k} curves"
            + (" or one per point" if point_curve is not None else "")
            + f"); got {arr.size} labels."
        )
    _, first_idx, inv = np.unique(arr, return_index=True, return_inverse=True)
    order = np.argsort(first_idx)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return np.asarray(rank[inv.reshape(-1)], dtype=np.int64)


def check_share_kind(share: Any, *, groups: bool = True) -> None:
    """Refuse a `share` that is not a collection of parameter names (a str would be split into
    letters), or, with ``groups=False``, a mapping (whose group labels would be dropped)."""
    kinds: tuple[type, ...] = (Sequence, set, frozenset, *((Mapping,) if groups else ()))
    if isinstance(share, str) or not isinstance(share, kinds):
        alternative = ", or a mapping of parameter name to groups, e.g. {'hill': compound}" if groups else ""
        raise TypeError(
            f"`share` must be a sequence of parameter names, e.g. ('hill',){alternative}; got {share!r}."
        )


def _share_spec(
    share: Any, names: tuple[str, ...], model_name: str, k: int, point_curve: IntArray | None, coords: Any
) -> dict[str, IntArray]:
    """``{parameter: group of every curve}`` from `share` (a sequence of names, or a mapping)."""
    check_share_kind(share)
    items: list[tuple[Any, Any]] = list(share.items()) if isinstance(share, Mapping) else [(s, True) for s in share]
    unknown = [s for s, _ in items if s not in names]
    if unknown:
        raise ValueError(
            f"`share` names unknown parameter(s) {unknown} for model {model_name!r}; known: {list(names)}."
            f"{_param_hint(unknown[0], list(names))}"
        )
    out: dict[str, IntArray] = {}
    for name, spec in items:
        if spec is True:
            out[name] = np.zeros(k, dtype=np.int64)
        elif spec is False or spec is None:
            continue
        elif isinstance(spec, str):
            if coords is None or spec not in coords:
                known = [] if coords is None else list(coords)
                raise ValueError(
                    f"`share[{name!r}]` = {spec!r} names a coordinate along the curve dimension, which only a "
                    f"DataArray has (its coordinates along `over`: {known}); with arrays pass one group label "
                    "per curve."
                )
            out[name] = _group_ids(coords[spec], name, k, None)
        else:
            out[name] = _group_ids(spec, name, k, point_curve)
    return out


def _group_median(values: FloatArray, key: IntArray, n_keys: int) -> FloatArray:
    """Median of `values` by integer `key` (NaN ignored; NaN for a key with no value)."""
    ok = np.isfinite(values) & (key >= 0)
    v, kk = values[ok], key[ok]
    out = np.full(n_keys, np.nan)
    if v.size == 0:
        return out
    order = np.lexsort((v, kk))
    v, kk = v[order], kk[order]
    counts = np.bincount(kk, minlength=n_keys)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    has = counts > 0
    lo_i = starts[has] + (counts[has] - 1) // 2
    hi_i = starts[has] + counts[has] // 2
    out[has] = 0.5 * (v[lo_i] + v[hi_i])
    return out


# ============================================================================ public function
def fit_shared(
    conc: Any,
    response: ArrayLike | None = None,
    *,
    share: Sequence[str] | Mapping[str, Any] = ("hill", "top", "bottom"),
    axis: int = -2,
    groups: ArrayLike | None = None,
    dim: Any = None,
    over: Any = None,
    model: str | Model = "4pl",
    conc_unit: str | None = None,
    fixed: Mapping[str, Any] | None = None,
    weights: ArrayLike | None = None,
    max_iter: int = 200,
) -> SharedFit:
    """Fit several curves jointly, with the parameters named in `share` common to all of them.

    Three ways to say which curves form one global fit:

    - arrays: `response` of shape ``(..., m)``; the curves of one global fit lie
      along `axis` (default ``-2``, the axis before the concentrations); every
      other batch index is a separate global fit, all solved together;
    - ``groups=``: tidy data, `conc`, `response` and `groups` 1-D with one entry
      per point; the curves are the distinct group labels (drc's ``curveid``);
    - xarray: `conc` is a DataArray of responses with a concentration coordinate
      `dim` (carrying ``attrs["units"]``); the curves lie along dimension `over`.

    Parameters
    ----------
    conc : Quantity, array_like or xarray.DataArray
        Concentrations, shape ``(m,)`` or that of `response` (NaN-padded ragged
        designs); or a DataArray of responses (with `dim` and `over`).
    response : array_like, optional
        Responses; NaN marks a missing point.
    share : sequence of str or mapping, default ("hill", "top", "bottom")
        Parameters common to the curves of a global fit; the others are
        estimated per curve.  ``()`` fits the curves separately (with a pooled
        variance); adding ``"ic50"`` gives the model of equal potency.  A
        mapping shares a parameter within groups of curves (drc's ``pmodels``):
        ``{"hill": compound, "top": cell_line}`` with one group label per curve
        along the curve axis (with `groups=`, one per point, constant within
        each curve; with a DataArray, the name of a coordinate along `over`);
        ``True`` shares it among all curves.
    axis : int, default -2
        Axis of `response` along which curves share parameters (not the last).
    groups : array_like, optional
        Curve label of every point (tidy data).
    dim, over : hashable, optional
        With a DataArray: the concentration dimension and the curve dimension.
    model : str, default "4pl"
        As in :func:`mtor_pharm.fit`.
    conc_unit : str, optional
        Unit of a bare `conc` array.
    fixed : mapping, optional
        Fixed parameters; values scalar or broadcastable to the per-curve shape
        ``(..., k)`` of the result.
    weights : array_like, optional
        Per-point weights (RSS = Σ w·r²), broadcastable to `response`.
    max_iter : int, default 200
        Levenberg–Marquardt iterations.

    Returns
    -------
    SharedFit

    Raises
    ------
    ShapeError
        Shapes that do not fit together, `axis` on the concentration axis.
    UnitError
        Concentrations without a unit.
    ValueError
        Unknown parameter names in `share` or `fixed`; a shared parameter fixed
        to different values on different curves; group labels that change
        within a curve.

    Notes
    -----
    The stacked problem (all curves of a global fit, parameters on the internal
    scale ``(bottom, top, ln ic50, hill[, ln s])``) is solved by a batched
    Levenberg–Marquardt that eliminates each curve's parameter block by a Schur
    complement (``mtor_pharm.fitting._global``), so ``k`` curves cost ``O(k)``
    time and memory, with the per-curve engine's damping, convergence tests and
    default bounds; it starts from the separate fits (a shared parameter at the
    median of its group) and from the pooled fit, and keeps the best optimum.
    With nothing free shared, the curves are fitted by the per-curve engine
    (same estimates and statuses as :func:`mtor_pharm.fit`).  Standard errors
    use the pooled residual variance ``RSS / (n − n_free)`` of the global fit,
    as drc's ``drm`` with ``curveid``.

    A curve whose data cannot determine its own parameters is flagged
    ``TOO_FEW_POINTS`` and left out; the others are fitted.  A vehicle-only
    curve (every well at concentration 0) joins the first curve that shares its
    ``top``, as drc attaches control groups (``attached_to``); without a shared
    ``top`` it is left out with a :class:`~mtor_pharm.errors.MtorPharmWarning`.
    Statuses follow the per-curve rules (``mtor_pharm.fitting._status``); a
    curve whose own parameters drift while its data look flat (or whose
    plateaus run away) is set aside with no estimates, as :func:`mtor_pharm.fit`
    reports it, and the others are fitted without it.

    Examples
    --------
    >>> from mtor_pharm import compare as cmp
    >>> x = 10.0 / 3.0 ** np.arange(8)                       # uM
    >>> true_ic50 = np.array([[0.05], [0.5]])                 # two inhibitors
    >>> rng = np.random.default_rng(1)
    >>> y = mp.models.four_pl(x, 5, 100, true_ic50, 1.2) + rng.normal(0, 2, (2, 8))
    >>> sf = cmp.fit_shared(x, y, conc_unit="uM", share=("hill", "top", "bottom"))
    >>> sf.ic50.magnitude.round(2).tolist(), float(sf.params["hill"][0]) == float(sf.params["hill"][1])
    ([0.05, 0.5], True)
    """
    labels: tuple[Any, ...]
    W_in: Any = weights
    point_curve: IntArray | None = None
    coords: dict[str, Any] | None = None
    if not is_dataarray(conc):
        refuse_dimension_names(
            "With arrays, the curves of one global fit lie along `axis` (an int, default -2) of `response`, "
            "or are named per point by `groups=`.",
            dim=dim,
            over=over,
        )
    if is_dataarray(conc):
        if response is not None:
            raise TypeError("`response` must be None when `conc` is an xarray.DataArray of responses.")
        if groups is not None:
            raise TypeError("`groups` cannot be combined with a DataArray; the curves lie along `over`.")
        q, Y, labels = _from_dataarray(conc, dim, over)
        coords = {name: np.asarray(c.values) for name, c in conc.coords.items() if c.dims == (over,) and name != over}
        X, unit = as_concentration(q)
        if weights is not None:
            raise TypeError("`weights` are not supported with a DataArray yet; pass numpy arrays.")
        if conc_unit is not None:
            raise TypeError(
                f"`conc_unit` does not apply when `conc` is an xarray.DataArray; got conc_unit={conc_unit!r}: the "
                f"unit comes from the attrs['units'] of the concentration coordinate {dim!r}."
            )
    elif groups is not None:
        if response is None:
            raise TypeError("fit_shared() missing `response`.")
        X, unit, Y, W_in, labels, point_curve = _from_groups(conc, response, groups, weights, conc_unit)
    else:
        if response is None:
            raise TypeError("fit_shared() missing `response`: pass fit_shared(conc, response) or a DataArray.")
        X, unit = as_concentration(conc, conc_unit=conc_unit)
        Y0 = response_array(response)
        if Y0.ndim < 2:
            raise ShapeError(
                f"`response` must have a curve axis and a concentration axis for a global fit (`share`); "
                f"got shape {Y0.shape}. One curve has nothing to share: fit it without `share`."
            )
        if isinstance(axis, bool) or not isinstance(axis, int | np.integer) or not -Y0.ndim <= axis < Y0.ndim:
            raise ShapeError(f"`axis` must be an axis of `response` (ndim {Y0.ndim}); got {axis!r}.")
        ax = int(axis) % Y0.ndim
        if ax == Y0.ndim - 1:
            raise ShapeError("`axis` must index curves, not the last (concentration) axis of `response`.")
        if X.ndim not in (1, Y0.ndim):
            raise ShapeError(
                f"`conc` must be 1-D (shared) or have the dimensions of `response`; "
                f"got shapes {X.shape} and {Y0.shape}."
            )
        Y = np.moveaxis(Y0, ax, -2)
        if X.ndim > 1:
            X = np.moveaxis(X, ax, -2)
        if weights is not None:
            w_arr = np.asarray(weights, dtype=np.float64)
            try:
                W_in = np.moveaxis(np.broadcast_to(w_arr, Y0.shape), ax, -2)
            except ValueError:
                raise ShapeError(f"`weights` of shape {w_arr.shape} must broadcast to `response` {Y0.shape}.") from None
        labels = tuple(range(Y.shape[-2]))
    return _fit_shared_arrays(
        X, unit, Y, W_in, labels, share, model, fixed, max_iter, point_curve=point_curve, coords=coords
    )


def _fit_shared_arrays(
    X: FloatArray,
    unit: Any,
    Y: FloatArray,
    W_in: Any,
    labels: tuple[Any, ...],
    share: Any,
    model: str | Model,
    fixed: Mapping[str, Any] | None,
    max_iter: int,
    point_curve: IntArray | None = None,
    coords: Any = None,
) -> SharedFit:
    m = _lookup_model(model)
    names = m.param_names
    p = len(names)
    k, n_pts = Y.shape[-2], Y.shape[-1]
    groups = _share_spec(share, names, m.name, k, point_curve, coords)
    if fixed is not None and not isinstance(fixed, Mapping):
        raise TypeError(f"`fixed` must be a mapping of parameter name to value; got {type(fixed).__name__}.")
    fixed_d = {**m.default_fixed, **(dict(fixed) if fixed else {})}
    unknown = [s for s in fixed_d if s not in names]
    if unknown:
        raise ValueError(
            f"`fixed` names unknown parameter(s) {unknown} for model {m.name!r}; known: {list(names)}."
            f"{_param_hint(unknown[0], list(names))}"
        )
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"`max_iter` must be a positive integer; got {max_iter!r}.")
    if np.isinf(X).any():
        raise ValueError("`conc` must be finite.")
    with np.errstate(invalid="ignore"):
        if (X < 0).any():
            raise ValueError(f"`conc` must be non-negative (0 marks vehicle; "
                f"log10 values: use mp.units.from_log10); got {X[X < 0][0]} {unit!s}.")
    if X.shape[-1] != n_pts:
        raise ShapeError(f"`conc` and `response` must have the same last axis; got {X.shape[-1]} and {n_pts}.")
    try:
        full = np.broadcast_shapes(X.shape, Y.shape)
    except ValueError:
        raise ShapeError(f"`conc` of shape {X.shape} does not broadcast to `response` {Y.shape}.") from None
    batch = full[:-2]
    B = math.prod(batch)
    Xb = np.broadcast_to(X, full).reshape(B, k, n_pts)
    Yb = np.broadcast_to(Y, full).reshape(B, k, n_pts)
    if W_in is None:
        Wb = np.ones((B, k, n_pts))
    else:
        Wb = np.broadcast_to(np.asarray(W_in, dtype=np.float64), full).reshape(B, k, n_pts)
        if not np.all(np.isfinite(Wb) & (Wb >= 0)):
            raise ValueError("`weights` must be finite and non-negative.")
    nan_x = np.isnan(Xb) & ~np.isnan(Yb)
    if nan_x.any():
        raise ValueError("`conc` is NaN where `response` is measured; NaN concentrations may only pad ragged designs.")
    valid = ~np.isnan(Yb) & ~np.isnan(Xb) & (Wb > 0)
    unit_str = str(unit)

    # fixed values on the internal scale, shape (B, k)
    fixed_int: dict[str, FloatArray] = {}
    for name, value in fixed_d.items():
        if name in m.conc_params and isinstance(value, pint.Quantity | str):
            mag, u = as_concentration(value, name=f"fixed[{name!r}]")
            arr = mag * float(_registry().Quantity(1.0, u).to(unit).magnitude)
        elif isinstance(value, pint.Quantity | str):
            raise UnitError(f"`fixed[{name!r}]` must be a plain number; got {value!r}.")
        else:
            arr = np.asarray(value, dtype=np.float64)
        try:
            arr_b = np.broadcast_to(arr, (*batch, k)).reshape(B, k)
        except ValueError:
            raise ShapeError(
                f"`fixed[{name!r}]` of shape {np.shape(arr)} must broadcast to the per-curve shape {(*batch, k)}."
            ) from None
        if np.isnan(arr_b).any():
            raise ValueError(f"`fixed[{name!r}]` must not be NaN.")
        if name in m.log_params:
            if (arr_b <= 0).any():
                raise ValueError(f"`fixed[{name!r}]` must be positive; got {value!r}.")
            arr_b = np.log(arr_b)
        if name in groups:
            gid = groups[name]
            first = np.zeros((B, int(gid.max()) + 1))
            first[:, gid[::-1]] = arr_b[:, ::-1]
            if not np.all(first[:, gid] == arr_b):
                raise ValueError(
                    f"`share` names {name!r}, which `fixed` sets to different values on different curves that share it."
                )
        fixed_int[name] = arr_b
    fixed_t = tuple(s for s in names if s in fixed_d)
    # a parameter shared by groups of one curve each is a per-curve parameter
    groups = {n: g for n, g in groups.items() if int(g.max()) + 1 < k}
    share_t = tuple(s for s in names if s in groups)
    local = tuple(a for a, n in enumerate(names) if n not in fixed_d and n not in groups)
    glob = tuple(a for a, n in enumerate(names) if n not in fixed_d and n in groups)
    P_fixed = np.zeros((B, k, p))
    for a, name in enumerate(names):
        if name in fixed_int:
            P_fixed[:, :, a] = fixed_int[name]

    # per-curve facts
    with np.errstate(divide="ignore"):
        lxv = np.where(valid & (Xb > 0), np.log(np.where(valid & (Xb > 0), Xb, 1.0)), np.nan)
    with _quiet():
        lx_lo = np.nanmin(lxv, axis=2)
        lx_hi = np.nanmax(lxv, axis=2)
        yv = np.where(valid, Yb, np.nan)
        yrange = np.nanmax(yv, axis=2) - np.nanmin(yv, axis=2)
    n_curve = valid.sum(axis=2)
    xs = np.sort(np.where(valid, Xb, np.inf), axis=2)
    with np.errstate(invalid="ignore"):
        steps = (np.diff(xs, axis=2) > 0) & np.isfinite(xs[:, :, 1:])
    distinct = np.where(n_curve > 0, 1 + np.sum(steps, axis=2), 0)
    control = (n_curve > 0) & ~np.isfinite(lx_lo)  # every well at concentration 0
    with np.errstate(over="ignore"):
        conc_min, conc_max = np.exp(lx_lo), np.exp(lx_hi)

    # separate fits: starts, and the whole answer when nothing free is shared
    sep = fit(
        np.where(valid, Xb, np.nan).reshape(B * k, n_pts),
        np.where(valid, Yb, np.nan).reshape(B * k, n_pts),
        model=m,
        conc_unit=unit_str,
        fixed={name: (np.exp(v) if name in m.log_params else v).reshape(B * k) for name, v in fixed_int.items()}
        or None,
        weights=None if W_in is None else np.where(valid, Wb, 0.0).reshape(B * k, n_pts),
    )
    common = dict(
        model=m.name,
        param_names=names,
        share=share_t,
        fixed=fixed_t,
        labels=labels,
        conc_unit=str(sep.conc_unit),
        conc_min=conc_min.reshape(*batch, k),
        conc_max=conc_max.reshape(*batch, k),
        tss=np.asarray(sep.tss, dtype=np.float64).reshape(*batch, k),
        _model=m,
        share_groups={n: groups[n] for n in share_t},
    )
    if not glob:
        return _from_separate(sep, B, k, batch, common, control)

    # ------------------------------------------------------------------ the global fit proper
    ql, pg = len(local), len(glob)
    n_g = [int(groups[names[a]].max()) + 1 for a in glob]
    offsets = np.concatenate([[0], np.cumsum(n_g)[:-1]]).astype(np.int64)
    G = int(sum(n_g))
    gcol_c = np.stack([offsets[i] + groups[names[a]] for i, a in enumerate(glob)], axis=-1)  # (k, pg)
    usable = (n_curve >= ql) & (distinct >= ql) & np.isfinite(lx_lo) & (n_curve > 0)
    # control-only curves join the first usable curve that shares their vehicle plateau (drc)
    attached = np.full((B, k), -1, dtype=np.int64)
    top_shared = 1 in glob and names[1] == "top"
    if control.any():
        refused = []
        for b, c in zip(*np.nonzero(control), strict=True):
            j = -1
            if top_shared:
                same = np.flatnonzero(usable[b] & (groups["top"] == groups["top"][c]))
                j = int(same[0]) if same.size else -1
            if j >= 0:
                attached[b, c] = j
            else:
                refused.append(labels[c])
        if refused:
            warnings.warn(
                f"Curve(s) {sorted(set(map(str, refused)))} hold only vehicle wells (concentration 0): they have "
                "no dose-response of their own and were left out (TOO_FEW_POINTS). To let vehicle wells inform "
                "the plateau, share 'top' with the curves they control (share=('top', ...), or a group in "
                "share={'top': ...}), or give them the label of the curve they belong to.",
                MtorPharmWarning,
                stacklevel=4,
            )
    in_fit = usable | (attached >= 0)
    # the whole global fit needs more points than free parameters
    cols_used = np.zeros((B, G), dtype=bool)
    bb, jj = np.nonzero(usable)
    cols_used[bb[:, None], gcol_c[jj]] = True
    n_total = np.where(in_fit, n_curve, 0).sum(axis=1)
    q_total = usable.sum(axis=1) * ql + cols_used.sum(axis=1)
    fit_ok = n_total > q_total
    usable &= fit_ok[:, None]
    attached = np.where(fit_ok[:, None], attached, -1)
    in_fit = usable | (attached >= 0)

    # units (usable curves) and rows (their data and attached controls), over all B fits
    unit_id = np.full((B, k), -1, dtype=np.int64)
    unit_id[usable] = np.arange(int(usable.sum()))
    U = int(usable.sum())
    ub, uj = np.nonzero(usable)
    rb, rj = np.nonzero(in_fit)
    row_unit = np.where(usable[rb, rj], unit_id[rb, rj], unit_id[rb, np.maximum(attached[rb, rj], 0)])
    # the family's default bounds by parameter kind (the per-curve engine's)
    lo_f, hi_f = m.default_bounds(lx_lo.reshape(-1), lx_hi.reshape(-1))
    lo_c, hi_c = lo_f.reshape(B, k, p), hi_f.reshape(B, k, p)
    lo_g = np.full((B, G), np.inf)
    hi_g = np.full((B, G), -np.inf)
    for i, a in enumerate(glob):
        np.minimum.at(lo_g, (ub, gcol_c[uj, i]), lo_c[ub, uj, a])
        np.maximum.at(hi_g, (ub, gcol_c[uj, i]), hi_c[ub, uj, a])
    lo_g = np.where(cols_used & fit_ok[:, None], lo_g, -np.inf)
    hi_g = np.where(cols_used & fit_ok[:, None], hi_g, np.inf)
    with np.errstate(divide="ignore"):
        lx_rows = np.where(valid[rb, rj], np.log(np.where(valid[rb, rj], Xb[rb, rj], 1.0)), 0.0)
    prob = _global.Problem(
        model=m,
        lx=lx_rows,
        y=np.where(valid[rb, rj], Yb[rb, rj], 0.0),
        sw=np.sqrt(np.where(valid[rb, rj], Wb[rb, rj], 0.0)),
        unit_of=row_unit,
        fit_u=ub,
        local=local,
        glob=glob,
        gcol=gcol_c[uj],
        G=G,
        P_fixed=P_fixed[rb, rj],
        lo_l=lo_c[ub, uj][:, list(local)],
        hi_l=hi_c[ub, uj][:, list(local)],
        lo_g=lo_g,
        hi_g=hi_g,
        unused_g=~cols_used,
    )

    # starts: separate fits (shared columns at the median of their group), and the pooled fit
    P_sep = _internal(sep, names).reshape(B, k, p)
    with _quiet():
        by_kind = {"conc": 0.5 * (lx_lo + lx_hi), "slope": np.ones((B, k)), "fraction": np.full((B, k), 0.5)}
        defaults = np.stack(
            [
                np.nanmin(yv, axis=2) if a == 0 else np.nanmax(yv, axis=2) if a == 1
                else by_kind.get(kind, np.zeros((B, k)))
                for a, kind in enumerate(m.kinds)
            ],
            axis=-1,
        )
    P0 = np.where(np.isfinite(P_sep), P_sep, defaults)
    P0 = np.where(np.isfinite(P0), P0, 0.0)
    tl0 = P0[ub, uj][:, list(local)]
    tg_med = np.zeros((B, G))
    for i, a in enumerate(glob):
        key = ub * G + gcol_c[uj, i]
        med = _group_median(P_sep[ub, uj, a], key, B * G).reshape(B, G)
        fallback = _group_median(P0[ub, uj, a], key, B * G).reshape(B, G)
        cols = np.zeros((B, G), dtype=bool)
        cols[:, offsets[i] : offsets[i] + n_g[i]] = True
        tg_med = np.where(cols, np.where(np.isfinite(med), med, fallback), tg_med)
    tg_med = np.where(np.isfinite(tg_med), tg_med, 0.0)
    starts = [(tl0, tg_med)]
    constant = all(bool(np.all(v == v[:, :1])) for v in fixed_int.values())
    if constant and k > 1:
        Xp, Yp, Wp = _pool_by_conc(Xb, Yb, np.where(in_fit[:, :, None] & valid, Wb, 0.0))
        pooled = fit(
            Xp,
            Yp,
            model=m,
            conc_unit=unit_str,
            fixed={n: (np.exp(v[:, 0]) if n in m.log_params else v[:, 0]) for n, v in fixed_int.items()} or None,
            weights=Wp,
        )
        P_pool = _internal(pooled, names).reshape(B, p)
        tg_pool = np.zeros((B, G))
        for i, a in enumerate(glob):
            tg_pool[:, offsets[i] : offsets[i] + n_g[i]] = P_pool[:, a : a + 1]
        tg_pool = np.where(np.isfinite(tg_pool), tg_pool, tg_med)
        tl_pool = np.where(np.isfinite(P_pool[ub][:, list(local)]), P_pool[ub][:, list(local)], tl0)
        starts += [(tl_pool, tg_pool), (tl0, tg_pool)]
    n_s = len(starts)
    stacked = _stack(prob, n_s)
    sol = _global.solve(
        stacked,
        np.concatenate([s[0] for s in starts]),
        np.concatenate([s[1] for s in starts]),
        np.tile(fit_ok, n_s),
        max_iter,
    )
    tl, tg = starts[0][0].copy(), starts[0][1].copy()
    rss = np.full(B, np.inf)
    converged = np.zeros(B, dtype=bool)
    unit_conv = np.zeros(U, dtype=bool)
    iterations = np.zeros(B, dtype=np.int64)
    for s in range(n_s):
        rss_s = sol.rss[s * B : (s + 1) * B]
        better = np.isfinite(rss_s) & ~(rss_s >= rss * (1.0 - 1e-12))
        tg[better] = sol.tg[s * B : (s + 1) * B][better]
        tl[better[ub]] = sol.tl[s * U : (s + 1) * U][better[ub]]
        unit_conv[better[ub]] = sol.unit_converged[s * U : (s + 1) * U][better[ub]]
        rss[better], converged[better] = rss_s[better], sol.converged[s * B : (s + 1) * B][better]
        iterations += sol.iterations[s * B : (s + 1) * B]

    w_v = np.where(valid, Wb, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ybar = (w_v * np.where(valid, Yb, 0.0)).sum(axis=2) / w_v.sum(axis=2)
        rss0 = (w_v * (np.where(valid, Yb, 0.0) - ybar[:, :, None]) ** 2).sum(axis=2)
    # A curve whose data look flat (or whose plateaus run away) while its own parameters
    # drift keeps its whole global fit from converging: the Gauss-Newton step of every
    # other curve follows it through the shared columns.  Such a curve is set aside (no
    # estimates, NOT_CONVERGED, as the per-curve engine reports it) and its global fit is
    # solved again without it, from where it stopped.
    dead = np.zeros((B, k), dtype=bool)
    dead_p = np.full((B, k), np.nan)
    dead_run = np.zeros((B, k), dtype=bool)
    own = usable[rb, rj]
    for _ in range(2):
        if ql == 0 or converged[fit_ok].all():
            break
        r_rows, _ = prob.rss(tl, tg)
        P_rows = prob.params(tl, tg)
        u_own = unit_id[rb[own], rj[own]]
        rss_u = np.zeros(U)
        rss_u[u_own] = r_rows[own]
        bot_u, top_u = np.zeros(U), np.zeros(U)
        bot_u[u_own], top_u[u_own] = P_rows[own, 0], P_rows[own, 1]
        p_u = _status.flat_pvalue(rss_u, rss0[ub, uj], n_curve[ub, uj], ql + pg)
        run_u = _status.runaway(bot_u, top_u, yrange[ub, uj])
        cand = ~converged[ub] & ~unit_conv & (_status.flat(p_u) | run_u) & ~dead[ub, uj] & fit_ok[ub]
        if not cand.any():
            break
        dead[ub[cand], uj[cand]] = True
        dead_p[ub[cand], uj[cand]] = p_u[cand]
        dead_run[ub[cand], uj[cand]] = run_u[cand]
        dead_u = dead[ub, uj]
        alive_cols = np.zeros((B, G), dtype=bool)
        alive_cols[ub[~dead_u][:, None], gcol_c[uj[~dead_u]]] = True
        prob = dataclasses.replace(
            prob,
            sw=np.where(dead_u[prob.unit_of][:, None], 0.0, prob.sw),
            dead_u=dead_u,
            unused_g=~alive_cols,
        )
        redo = np.zeros(B, dtype=bool)
        redo[ub[cand]] = True
        sol = _global.solve(prob, tl, tg, redo & fit_ok, max_iter)
        tl[redo[ub]] = sol.tl[redo[ub]]
        tg[redo] = sol.tg[redo]
        unit_conv[redo[ub]] = sol.unit_converged[redo[ub]]
        rss[redo], converged[redo] = sol.rss[redo], sol.converged[redo]
        iterations += sol.iterations
    if dead.any():
        usable_all = usable
        alive = usable & ~dead
        in_alive = alive | ((attached >= 0) & np.take_along_axis(alive, np.maximum(attached, 0), axis=1))
        n_total = np.where(in_alive, n_curve, 0).sum(axis=1)
        alive_cols = np.zeros((B, G), dtype=bool)
        ab, aj = np.nonzero(alive)
        alive_cols[ab[:, None], gcol_c[aj]] = True
        q_total = alive.sum(axis=1) * ql + alive_cols.sum(axis=1)
    else:
        usable_all = usable
        alive = usable

    # the family's reported form of each curve (a symmetric sigmoid with top >= bottom; biphasic
    # sites in order), where the change touches only the curve's own columns and stays in bounds
    if U:
        P_u = P_fixed[ub, uj].copy()
        P_u[:, list(local)] = tl
        for i, a in enumerate(glob):
            P_u[:, a] = tg[ub, gcol_c[uj, i]]
        free_cols = np.array([name not in fixed_d for name in names])
        T = m.canonical(P_u, free_cols)
        if T is not None:
            moved = np.eye(p) != T
            touched = moved.any(axis=1) | moved.any(axis=2)  # (U, p): columns the map involves
            new_l = P_u[:, list(local)]
            inside = np.all((new_l >= prob.lo_l) & (new_l <= prob.hi_l), axis=1)
            take = touched.any(axis=1) & ~touched[:, list(glob)].any(axis=1) & inside
            tl[take] = new_l[take]

    jc = _global.joint_covariance(prob, tl, tg)
    # per-curve internal parameters and block covariance factors
    P = P_fixed.copy()
    free_idx = [a for a in range(p) if names[a] not in fixed_d]
    P[:, :, free_idx] = np.nan
    X_c = np.zeros((B, k, p, p))
    Y_c = np.zeros((B, k, p, pg))
    g_c = np.zeros((B, k, pg), dtype=np.int64)
    for i, a in enumerate(local):
        P[ub, uj, a] = tl[:, i]
        for i2, a2 in enumerate(local):
            X_c[ub, uj, a, a2] = jc.X[:, i, i2]
        Y_c[ub, uj, a] = jc.Y[:, i]
    for i, a in enumerate(glob):
        Y_c[ub, uj, a] = jc.Y[:, ql + i]
    g_c[:, :] = gcol_c[None, :, :]
    att_b, att_c = np.nonzero(attached >= 0)
    for i, a in enumerate(glob):
        P[ub, uj, a] = tg[ub, gcol_c[uj, i]]
        tgt = attached[att_b, att_c]
        P[att_b, att_c, a] = tg[att_b, gcol_c[tgt, i]]
        Y_c[att_b, att_c, a] = Y_c[att_b, tgt, a]
        g_c[att_b, att_c] = gcol_c[tgt]
    for a in free_idx:  # no estimate: NaN covariance on its rows
        nan_rows = ~np.isfinite(P[:, :, a])
        X_c[:, :, a, :] = np.where(nan_rows[:, :, None], np.nan, X_c[:, :, a, :])
        X_c[:, :, :, a] = np.where(nan_rows[:, :, None], np.nan, X_c[:, :, :, a])
        Y_c[:, :, a, :] = np.where(nan_rows[:, :, None], np.nan, Y_c[:, :, a, :])

    # per-curve RSS on the curve's own points, for the F test against a flat line
    row_rss = np.zeros((B, k))
    r_rows, _ = prob.rss(tl, tg)
    row_rss[rb, rj] = r_rows
    rss_fit = np.where(fit_ok, np.bincount(rb, weights=r_rows, minlength=B), np.nan)
    if ql:
        # FLAT_RESPONSE means what it means from mp.fit: the curve's own data show no
        # dose-response, i.e. its separate fit of this family is no better than a flat line
        # (F test).  The shared model's curve is not nested with a flat line (a curve held
        # to shared plateaus can fit worse than its own mean), so it is used only where the
        # curve cannot be fitted alone
        alone = (np.asarray(sep.status).reshape(B, k) & FitStatus.TOO_FEW_POINTS) == 0
        pval = np.where(
            alone,
            np.asarray(sep.response_pvalue, dtype=np.float64).reshape(B, k),
            _status.flat_pvalue(row_rss, rss0, n_curve, np.full((B, k), ql + pg)),
        )
    else:  # no parameter of its own: the pooled data of the global fit are tested, for every curve
        w_in = np.where(in_fit[:, :, None], w_v, 0.0)
        yy = np.where(valid, Yb, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            ybar_fit = (w_in * yy).sum(axis=(1, 2)) / w_in.sum(axis=(1, 2))
            rss0_fit = (w_in * (yy - ybar_fit[:, None, None]) ** 2).sum(axis=(1, 2))
        pval = np.broadcast_to(_status.flat_pvalue(rss_fit, rss0_fit, n_total, q_total)[:, None], (B, k))
    lo_P = np.where(np.isfinite(lo_c), lo_c, -np.inf)
    hi_P = np.where(np.isfinite(hi_c), hi_c, np.inf)
    for i, a in enumerate(glob):  # a shared column's bounds are its group's
        lo_P[:, :, a] = lo_g[np.arange(B)[:, None], g_c[:, :, i]]
        hi_P[:, :, a] = hi_g[np.arange(B)[:, None], g_c[:, :, i]]
    bound = np.zeros((B, k), dtype=bool)
    for a in free_idx:
        bound |= _status.at_bound(P[:, :, a], lo_P[:, :, a], hi_P[:, :, a])
    # converged: the whole global fit, or else this curve's own parameters and the shared
    # columns settled (a curve whose own parameters drift is flagged alone)
    curve_conv = np.zeros((B, k), dtype=bool)
    curve_conv[ub, uj] = unit_conv
    att_t = np.maximum(attached, 0)
    curve_conv = np.where(attached >= 0, np.take_along_axis(curve_conv, att_t, axis=1), curve_conv)
    plateaus_free = "bottom" not in fixed_d or "top" not in fixed_d
    run = _status.runaway(P[:, :, 0], P[:, :, 1], yrange) & alive if plateaus_free else np.zeros((B, k), bool)
    run |= dead_run
    pval = np.where(dead, dead_p, pval)
    status = _status.combine(
        fitted=usable_all,
        converged=curve_conv & ~dead,
        bound=bound & alive,
        is_runaway=run,
        pvalue=np.where(usable_all, pval, np.nan),
    )
    status = np.where(attached >= 0, np.uint8(FitStatus.TOO_FEW_POINTS), status).astype(np.uint8)
    drop = (_status.undetermined_estimates(status, run) & usable) | dead
    for a in free_idx:
        P[:, :, a] = np.where(drop, np.nan, P[:, :, a])
    X_c[drop] = np.nan
    Y_c[drop] = np.nan
    lx50, _ = log_icx_grad(m, np.where(np.isfinite(P), P, np.nan).reshape(B * k, p), 0.5)
    with np.errstate(over="ignore", invalid="ignore"):
        ic50 = np.exp(lx50.reshape(B, k))
    status |= np.where(_status.outside_range(ic50, conc_min, conc_max, status), FitStatus.IC50_OUTSIDE_RANGE, 0).astype(
        np.uint8
    )
    n_fit = np.where(fit_ok, n_total, 0)
    dof = np.where(fit_ok, n_total - q_total, 0)
    return _assemble_shared(
        P, X_c, Y_c, g_c, jc.Sinv, rss_fit, n_fit, dof, status, attached, iterations, B, k, batch, common
    )


def _pool_by_conc(X: FloatArray, Y: FloatArray, W: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """All the curves of each fit as one curve, replicates at equal concentrations pooled
    (weighted means, summed weights: the same least-squares optimum), shape (B, c)."""
    B = X.shape[0]
    ok = W > 0
    b_idx = np.broadcast_to(np.arange(B)[:, None, None], X.shape)[ok]
    x, y, w = X[ok], Y[ok], W[ok]
    # the distinct (fit, concentration) pairs in order, and each point's pair (a lexsort:
    # np.unique over rows sorts a structured view, ~20x slower at 10^5 points)
    order = np.lexsort((x, b_idx))
    bs, xs = b_idx[order], x[order]
    first = np.ones(bs.size, dtype=bool)
    first[1:] = (bs[1:] != bs[:-1]) | (xs[1:] != xs[:-1])
    inv = np.empty(bs.size, dtype=np.int64)
    inv[order] = np.cumsum(first) - 1
    n_pairs = int(first.sum())
    sw = np.bincount(inv, weights=w, minlength=n_pairs)
    swy = np.bincount(inv, weights=w * y, minlength=n_pairs)
    ub = bs[first].astype(np.int64)
    ux = xs[first]
    counts = np.bincount(ub, minlength=B)
    c = max(int(counts.max()) if counts.size else 1, 1)
    pos = np.arange(ub.size) - np.concatenate([[0], np.cumsum(counts)[:-1]])[ub]
    Xp, Yp, Wp = np.full((B, c), np.nan), np.full((B, c), np.nan), np.zeros((B, c))
    Xp[ub, pos], Yp[ub, pos], Wp[ub, pos] = ux, swy / sw, sw
    return Xp, Yp, Wp


def _internal(res: Any, names: tuple[str, ...]) -> FloatArray:
    """Internal-scale parameters (N, p) of a FitResult."""
    cols = []
    for name in names:
        v = np.asarray(res.params[name], dtype=np.float64).reshape(-1)
        if name in res.family.log_params:
            with np.errstate(divide="ignore", invalid="ignore"):
                v = np.log(v)
        cols.append(v)
    return np.stack(cols, axis=-1)


def _stack(prob: _global.Problem, n: int) -> _global.Problem:
    """`n` copies of the problem as one (for several starts solved together)."""
    if n == 1:
        return prob
    B, U = prob.B, prob.U
    return _global.Problem(
        model=prob.model,
        lx=np.tile(prob.lx, (n, 1)),
        y=np.tile(prob.y, (n, 1)),
        sw=np.tile(prob.sw, (n, 1)),
        unit_of=np.concatenate([prob.unit_of + s * U for s in range(n)]),
        fit_u=np.concatenate([prob.fit_u + s * B for s in range(n)]),
        local=prob.local,
        glob=prob.glob,
        gcol=np.tile(prob.gcol, (n, 1)),
        G=prob.G,
        P_fixed=np.tile(prob.P_fixed, (n, 1)),
        lo_l=np.tile(prob.lo_l, (n, 1)),
        hi_l=np.tile(prob.hi_l, (n, 1)),
        lo_g=np.tile(prob.lo_g, (n, 1)),
        hi_g=np.tile(prob.hi_g, (n, 1)),
        unused_g=np.tile(prob.unused_g, (n, 1)),
    )


def _from_separate(
    sep: Any, B: int, k: int, batch: tuple[int, ...], common: dict[str, Any], control: BoolArray
) -> SharedFit:
    """Nothing free is shared: the separate fits of the compiled engine, with the pooled
    residual variance of the global fit (same estimates and statuses as ``mp.fit``)."""
    names = common["param_names"]
    p = len(names)
    status = np.asarray(sep.status).reshape(B, k)
    fitted = (status & FitStatus.TOO_FEW_POINTS) == 0
    rss_c = np.asarray(sep.rss).reshape(B, k)
    dof_c = np.asarray(sep.dof).reshape(B, k)
    n_c = np.asarray(sep.n).reshape(B, k)
    rss = np.where(fitted, rss_c, 0.0).sum(axis=1)
    dof = np.where(fitted, dof_c, 0).sum(axis=1)
    n = np.where(fitted, n_c, 0).sum(axis=1)
    rss = np.where(fitted.any(axis=1), rss, np.nan)
    P = _internal(sep, names).reshape(B, k, p)
    # (JᵀWJ)⁻¹ of each curve: its covariance without the curve's own s², on the internal scale
    C = np.asarray(sep.covariance, dtype=np.float64).reshape(B, k, p, p)
    scale = np.ones((B, k, p))
    for a, name in enumerate(names):
        if name in sep.family.log_params:
            scale[:, :, a] = np.exp(P[:, :, a])
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = rss_c / np.where(dof_c > 1, dof_c, 1)
        X = C / (scale[..., :, None] * scale[..., None, :]) / np.where(s2 > 0, s2, 1.0)[..., None, None]
    attached = np.full((B, k), -1, dtype=np.int64)
    if control.any() and k > 1:
        warnings.warn(
            "A curve holding only vehicle wells (concentration 0) has no dose-response of its own and was "
            "left out (TOO_FEW_POINTS); share 'top' with the curves it controls so that its wells inform "
            "their plateau, or give them the label of the curve they belong to.",
            MtorPharmWarning,
            stacklevel=4,
        )
    return _assemble_shared(
        P,
        X,
        np.zeros((B, k, p, 0)),
        np.zeros((B, k, 0), dtype=np.int64),
        np.zeros((B, 0, 0)),
        rss,
        n,
        dof,
        status,
        attached,
        np.asarray(sep.iterations).reshape(B, k).sum(axis=1).astype(np.int64),
        B,
        k,
        batch,
        common,
    )


def _assemble_shared(
    P: FloatArray,
    X: FloatArray,
    Yf: FloatArray,
    gcol: IntArray,
    Sinv: FloatArray,
    rss: FloatArray,
    n: IntArray,
    dof: IntArray,
    status: NDArray[np.uint8],
    attached: IntArray,
    iterations: IntArray,
    B: int,
    k: int,
    batch: tuple[int, ...],
    common: dict[str, Any],
) -> SharedFit:
    names = common["param_names"]
    fixed_t = common["fixed"]
    p = len(names)
    report = P.copy()
    for a, name in enumerate(names):
        if name in common["_model"].log_params:
            with np.errstate(over="ignore"):
                report[:, :, a] = np.exp(P[:, :, a])
    G = Sinv.shape[-1]
    sf = SharedFit(
        params={name: report[:, :, a].reshape(*batch, k) for a, name in enumerate(names)},
        stderr={},
        rss=np.asarray(rss, dtype=np.float64).reshape(batch),
        n=np.asarray(n, dtype=np.int64).reshape(batch),
        dof=np.asarray(dof, dtype=np.int64).reshape(batch),
        status=np.asarray(status, dtype=np.uint8).reshape(*batch, k),
        iterations=np.asarray(iterations, dtype=np.int64).reshape(batch),
        attached_to=attached.reshape(*batch, k),
        _X=X.reshape(*batch, k, p, p),
        _Y=Yf.reshape(*batch, k, p, Yf.shape[-1]),
        _gcol=gcol.reshape(*batch, k, gcol.shape[-1]),
        _Sinv=Sinv.reshape(*batch, G, G),
        **common,
    )
    diag = sf._internal_cov_diag().reshape(B, k, p, p)
    scale = sf._scale().reshape(B, k, p)
    bad = (np.asarray(status).reshape(B, k) & FitStatus.TOO_FEW_POINTS) != 0
    stderr: dict[str, FloatArray] = {}
    for a, name in enumerate(names):
        with np.errstate(invalid="ignore"):
            se = np.sqrt(np.maximum(diag[:, :, a, a], 0.0)) * scale[:, :, a]
        se = np.where(np.isnan(diag[:, :, a, a]), np.nan, se)
        if name in fixed_t:
            se = np.where(bad, np.nan, 0.0)
        stderr[name] = se.reshape(*batch, k)
    object.__setattr__(sf, "stderr", MappingProxyType({k_: readonly(v) for k_, v in stderr.items()}))
    # the ambiguity rule of mp.fit (#14), per curve on its marginal covariance
    status_bk = np.asarray(status, dtype=np.uint8).reshape(B, k).copy()
    free_mask = np.array([name not in fixed_t for name in names])
    cov_rep = diag * scale[:, :, :, None] * scale[:, :, None, :]
    se_all = np.stack([np.asarray(stderr[name]).reshape(B, k) for name in names], axis=-1)
    dof_bk = np.broadcast_to(np.asarray(dof, dtype=np.int64).reshape(B, 1), (B, k)).reshape(B * k)
    determined = (status_bk.reshape(B * k) & _UNDETERMINED) == 0
    vague = ambiguous(
        names, free_mask, report.reshape(B * k, p), se_all.reshape(B * k, p), cov_rep.reshape(B * k, p, p), dof_bk,
        determined,
    )
    status_bk |= np.where(vague, FitStatus.AMBIGUOUS, 0).astype(np.uint8).reshape(B, k)
    object.__setattr__(sf, "status", readonly(status_bk.reshape(*batch, k)))
    return sf
