"""Potency and selectivity ratios with delta-method and Fieller intervals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from .._arrays import readonly
from .._typing import FloatArray, Quantity
from ..fitting import ConfidenceInterval, FitResult, FitStatus
from ..units import _registry
from ._common import check_level, check_percent, log_icx_grad, t_quantile
from ._shared import SharedFit

__all__ = ["IntervalMethod", "Ratio", "potency_ratio"]

#: Interval methods of :meth:`Ratio.ci`.
IntervalMethod: TypeAlias = Literal["delta", "fieller"]

_UNDETERMINED = FitStatus.FLAT_RESPONSE | FitStatus.TOO_FEW_POINTS | FitStatus.NOT_CONVERGED
_JOINT_BAD = FitStatus.TOO_FEW_POINTS | FitStatus.NOT_CONVERGED


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Ratio:
    """A ratio of two ICx, ``ICx_a / ICx_b``, with its uncertainty; arrays broadcast over the batch.

    A ratio above 1 means `a` is *less* potent than `b` (it needs more drug);
    for a selectivity index ``IC50(p-Akt S473) / IC50(p-S6K1)``, above 1 means
    selective for mTORC1.

    Attributes
    ----------
    estimate : ndarray
        ``ICx_a / ICx_b``.
    numerator, denominator : ndarray
        ``ICx_a`` and ``ICx_b``, both in `conc_unit`.
    log_se : ndarray
        Delta-method standard error of ``ln(ICx_a / ICx_b)``:
        ``sqrt(var ln a + var ln b − 2 cov(ln a, ln b))``.
    covariance : ndarray, shape (..., 2, 2)
        Covariance of ``(ICx_a, ICx_b)`` on the concentration scale (delta method),
        used by the Fieller interval.
    df : ndarray
        Degrees of freedom of the t quantiles: the pooled ``dof`` of a joint fit,
        Welch–Satterthwaite for independent fits.
    statistic : ndarray
        ``ln(estimate) / log_se``.
    pvalue : ndarray
        Two-sided p-value of "ratio = 1" (equal potency) from that t statistic.
    percent : float
        The ``x`` of ICx (50 for the IC50).
    conc_unit : str
        Unit of `numerator` and `denominator`.
    """

    estimate: FloatArray
    numerator: FloatArray
    denominator: FloatArray
    log_se: FloatArray
    covariance: FloatArray
    df: FloatArray
    statistic: FloatArray
    pvalue: FloatArray
    percent: float
    conc_unit: str

    def __post_init__(self) -> None:
        for name in ("estimate", "numerator", "denominator", "log_se", "covariance", "df", "statistic", "pvalue"):
            object.__setattr__(self, name, readonly(getattr(self, name)))

    @property
    def shape(self) -> tuple[int, ...]:
        """Batch shape."""
        return tuple(self.estimate.shape)

    def ci(self, *, level: float = 0.95, method: IntervalMethod = "delta") -> ConfidenceInterval:
        """Confidence interval of the ratio.

        Parameters
        ----------
        level : float, default 0.95
            Confidence level in (0, 1).
        method : {"delta", "fieller"}, default "delta"
            ``"delta"``: ``exp(ln R ± t·log_se)``, symmetric on the log scale.
            ``"fieller"``: Fieller's interval from the concentration-scale
            estimates and covariance (drc ``EDcomp(interval="fieller")``);
            ``(-inf, inf)`` where it is unbounded, i.e. where ``g = t² v_b / b² ≥ 1``
            (the denominator is not significantly different from zero), and also
            where the Fieller set would reach zero or below (the numerator is not
            significantly different from zero): a ratio of concentrations is
            never given a finite interval that crosses zero.

        Returns
        -------
        ConfidenceInterval
            ``(low, high)`` arrays of the batch shape.

        Notes
        -----
        :attr:`pvalue` is the t test of ``ln R = 0``; it agrees with the
        ``"delta"`` interval (p < 1 − level exactly when that interval excludes
        1).  The Fieller interval is a different construction and may disagree
        with it near the boundary; report the delta interval with the p-value.

        Fieller: the limits are the roots in ρ of
        ``(a − ρ b)² = t² (v_a − 2ρ v_ab + ρ² v_b)``, i.e.
        ``ρ = [a b − t² v_ab ± sqrt((a b − t² v_ab)² − (b² − t² v_b)(a² − t² v_a))] / (b² − t² v_b)``.

        Examples
        --------
        >>> from mtor_pharm import compare as cmp
        >>> x = 10.0 / 3.0 ** np.arange(10)
        >>> y = mp.models.four_pl(x, 0, 100, np.array([[0.02], [0.2]]), 1.0)
        >>> y = y + np.random.default_rng(1).normal(0, 1, y.shape)
        >>> r = cmp.potency_ratio(0, 1, fit=mp.fit(x, y, conc_unit="uM"))
        >>> low, high = r.ci(method="fieller")
        >>> bool(low < 0.1 < high), bool(r.pvalue < 0.001)
        (True, True)
        """
        level = check_level(level)
        if method not in ("delta", "fieller"):
            raise ValueError(f"`method` must be 'delta' or 'fieller'; got {method!r}.")
        t = t_quantile(level, self.df)
        if method == "delta":
            with np.errstate(over="ignore", invalid="ignore"):
                lr = np.log(self.estimate)
                return ConfidenceInterval(
                    np.asarray(np.exp(lr - t * self.log_se)), np.asarray(np.exp(lr + t * self.log_se))
                )
        a, b = self.numerator, self.denominator
        va, vb, vab = self.covariance[..., 0, 0], self.covariance[..., 1, 1], self.covariance[..., 0, 1]
        t2 = t * t
        with np.errstate(invalid="ignore", divide="ignore"):
            den = b * b - t2 * vb
            mid = a * b - t2 * vab
            disc = mid * mid - den * (a * a - t2 * va)
            bounded = (den > 0) & (disc >= 0)
            root = np.sqrt(np.where(bounded, disc, 0.0))
            low = (mid - root) / den
            high = (mid + root) / den
            # a ratio of two concentrations is positive: a set reaching 0 or below means the
            # numerator is not distinguishable from 0, so the interval is reported unbounded
            bounded &= low > 0
            low = np.where(bounded, low, -np.inf)
            high = np.where(bounded, high, np.inf)
        nan = ~np.isfinite(self.estimate) | ~np.isfinite(t)
        return ConfidenceInterval(np.where(nan, np.nan, low), np.where(nan, np.nan, high))

    def to_dataframe(self, *, level: float = 0.95, index: Any = None) -> Any:
        """One row per ratio: ``ratio``, ``ratio_ci_low``/``ratio_ci_high`` (delta
        method, the interval that agrees with ``pvalue``), ``fieller_ci_low``/
        ``fieller_ci_high`` (infinite where unbounded), ``log_se``, ``df``,
        ``statistic``, ``pvalue``, and the two ICx (``numerator [<unit>]``,
        ``denominator [<unit>]``).

        Examples
        --------
        >>> from mtor_pharm import compare as cmp
        >>> x = 10.0 / 3.0 ** np.arange(10)
        >>> y = mp.models.four_pl(x, 0, 100, np.array([[0.02], [0.2]]), 1.0)
        >>> y = y + np.random.default_rng(1).normal(0, 1, y.shape)
        >>> cmp.potency_ratio(0, 1, fit=mp.fit(x, y, conc_unit="uM")).to_dataframe()["ratio"].round(1).tolist()
        [0.1]
        """
        import pandas as pd

        from ..fitting._result import _unit_label

        low, high = self.ci(level=level)
        flow, fhigh = self.ci(level=level, method="fieller")
        cols = {
            "ratio": self.estimate,
            "ratio_ci_low": low,
            "ratio_ci_high": high,
            "fieller_ci_low": flow,
            "fieller_ci_high": fhigh,
            "log_se": self.log_se,
            "df": self.df,
            "statistic": self.statistic,
            "pvalue": self.pvalue,
            f"numerator [{_unit_label(self.conc_unit)}]": self.numerator,
            f"denominator [{_unit_label(self.conc_unit)}]": self.denominator,
        }
        df = pd.DataFrame({k: np.atleast_1d(np.asarray(v, dtype=np.float64)).reshape(-1) for k, v in cols.items()},
                          index=index)
        df.attrs = {"confidence_level": level, "percent": self.percent, "conc_unit": self.conc_unit,
                    "pvalue": "two-sided t test of ln(ratio) = 0; agrees with the delta interval"}
        return df

    def quantities(self) -> tuple[Quantity, Quantity]:
        """``(ICx_a, ICx_b)`` as pint Quantities."""
        registry = _registry()
        return registry.Quantity(self.numerator, self.conc_unit), registry.Quantity(self.denominator, self.conc_unit)


def _welch_df(va: FloatArray, vb: FloatArray, dfa: ArrayLike, dfb: ArrayLike) -> FloatArray:
    da = np.asarray(dfa, dtype=np.float64)
    db = np.asarray(dfb, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        df = (va + vb) ** 2 / (va**2 / np.where(da > 0, da, np.nan) + vb**2 / np.where(db > 0, db, np.nan))
        # a term with zero variance contributes nothing
        only_a = vb == 0
        only_b = va == 0
        df = np.where(only_a, da, np.where(only_b, db, df))
    out: FloatArray = np.asarray(df, dtype=np.float64)
    return out


def _assemble(
    lx_a: FloatArray,
    va: FloatArray,
    lx_b: FloatArray,
    vb: FloatArray,
    cab: FloatArray,
    df: FloatArray,
    q: float,
    unit: str,
) -> Ratio:
    lx_a, va, lx_b, vb, cab, df = np.broadcast_arrays(lx_a, va, lx_b, vb, cab, df)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        a = np.exp(lx_a)
        b = np.exp(lx_b)
        lr = lx_a - lx_b
        var = va + vb - 2.0 * cab
        se = np.sqrt(np.where(var >= 0, var, np.nan))
        stat = lr / se
        p = 2.0 * stats.t.sf(np.abs(stat), np.where(df > 0, df, np.nan))
    cov = np.empty((*a.shape, 2, 2))
    cov[..., 0, 0] = a * a * va
    cov[..., 1, 1] = b * b * vb
    cov[..., 0, 1] = cov[..., 1, 0] = a * b * cab
    return Ratio(
        estimate=np.exp(lr),
        numerator=a,
        denominator=b,
        log_se=se,
        covariance=cov,
        df=df.astype(np.float64),
        statistic=stat,
        pvalue=p,
        percent=100.0 * q,
        conc_unit=unit,
    )


def _fit_log_icx(res: FitResult, q: float) -> tuple[FloatArray, FloatArray]:
    """ln ICx and its delta-method variance for every curve of a FitResult (NaN where undetermined)."""
    p = len(res.param_names)
    P = res.fit_scale_params().reshape(-1, p)
    lx, grad = log_icx_grad(res.family, P, q)
    free = np.array([name not in res.fixed for name in res.param_names])
    grad = np.where(free[None, :], grad, 0.0)
    C = res.fit_scale_covariance().reshape(-1, p, p)
    C = np.where(free[None, :, None] & free[None, None, :], C, 0.0)
    var = np.einsum("ni,nij,nj->n", grad, C, grad)
    bad = (np.asarray(res.status).reshape(-1) & _UNDETERMINED) != 0
    return np.where(bad, np.nan, lx).reshape(res.shape), np.where(bad, np.nan, var).reshape(res.shape)


def _unit_shift(unit_from: str, unit_to: str) -> float:
    """ln of the factor converting concentrations from `unit_from` to `unit_to`."""
    return float(np.log(_registry().Quantity(1.0, unit_from).to(unit_to).magnitude))


def _is_dataset(obj: Any) -> bool:
    return type(obj).__name__ == "Dataset" and type(obj).__module__.startswith("xarray")


def _dataset_log_ic50(ds: Any, name: str) -> tuple[FloatArray, FloatArray, FloatArray, str]:
    for needed in ("ic50", "dof"):
        if needed not in ds.data_vars:
            raise ValueError(f"`{name}` must be a Dataset from mp.fit with an {needed!r} variable; it has none.")
    if "ic50_stderr" not in ds.data_vars:
        raise ValueError(
            f"`{name}` is a {ds.attrs.get('model')!r} Dataset, which holds no standard error of the IC50; "
            "use the FitResult (mp.fit on arrays) for ratios in that model."
        )
    ic50 = np.asarray(ds["ic50"].values, dtype=np.float64)
    se = np.asarray(ds["ic50_stderr"].values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        lx = np.log(ic50)
        var = (se / ic50) ** 2
    unit_name = str(ds["ic50"].attrs.get("units", ds.attrs.get("conc_unit")))
    return lx, var, np.asarray(ds["dof"].values, dtype=np.float64), unit_name


def _indices(sel: Any, name: str, n: int) -> Any:
    arr = np.asarray(sel)
    if arr.dtype.kind not in "iu" or arr.ndim > 1:
        raise TypeError(f"`{name}` must be an integer index or a 1-D sequence of them; got {sel!r}.")
    if np.any((arr < -n) | (arr >= n)):
        raise LookupError(
            f"`{name}` must index the {n} curves along `axis` (an integer from {-n} to {n - 1}); got {sel!r}."
        )
    return arr


def _fit_indices(fit: FitResult, sel: Any, name: str, ax: int) -> Any:
    """Positions of the curves `sel` (labels or integer positions) along axis `ax` of `fit`."""
    items = list(sel) if isinstance(sel, list | np.ndarray) else [sel]
    by_label = any(not (isinstance(s, int | np.integer) and not isinstance(s, bool)) for s in items)
    if not by_label:
        return _indices(sel, name, fit.shape[ax])
    if fit.labels is None or len(fit.shape) != 1:
        raise TypeError(
            f"`{name}` must be an integer index of the FitResult's batch (it has no labels); got {sel!r}. "
            "Label the curves with fit.with_labels(...) or fit them with mp.fit_table(..., by=...)."
        )
    try:
        pos = [fit.index(s) for s in items]
    except LookupError as err:
        raise LookupError(f"`{name}`: {err}") from None
    return np.array(pos if isinstance(sel, list | np.ndarray) else pos[0], dtype=np.int64)


def potency_ratio(
    a: Any,
    b: Any,
    *,
    fit: FitResult | SharedFit | Any = None,
    axis: Any = 0,
    p: float = 50.0,
) -> Ratio:
    """Potency (or selectivity) ratio ``ICx_a / ICx_b`` with its standard error and the test of ratio = 1.

    Parameters
    ----------
    a, b : FitResult, Dataset, or curve selectors
        Without `fit`: two fits made separately (independent), e.g. the same
        inhibitors on two readouts; their batch shapes broadcast, so a whole
        screen of ratios is one call.  With `fit`: which curves of `fit` to
        compare — curve labels or integer indices (or 1-D sequences of them,
        pairwise) along `axis` of a FitResult (labels need a labelled 1-D
        batch, e.g. from :func:`mtor_pharm.fit_table`); labels or indices on the curve axis of a
        SharedFit; labels along dimension `axis` of a Dataset.
    fit : FitResult, SharedFit or xarray.Dataset, optional
        The fit holding both curves.  Curves of a :func:`fit_shared` global fit
        are correlated (shared parameters): the joint covariance enters the
        standard error.  Curves of one ``mp.fit`` batch are independent fits.
    axis : int or str, default 0
        Batch axis (FitResult) or dimension name (Dataset) of the curves.
    p : float, default 50
        The ICx compared (relative ICx: percent of the way between the plateaus).

    Returns
    -------
    Ratio
        ``estimate``, ``log_se``, ``pvalue`` of equal potency; intervals by
        :meth:`Ratio.ci` (``method="delta"`` or ``"fieller"``).

    Raises
    ------
    TypeError
        Arguments of the wrong kind.
    ValueError
        `p` outside (0, 100); a Dataset asked for an ICx other than the IC50.
    LookupError
        Unknown curve labels, or indices outside the curves of `fit`.

    Notes
    -----
    Delta method on the log scale: ``ln R = ln ICx_a − ln ICx_b`` with
    ``var ln R = gₐᵀ Cₐₐ gₐ + g_bᵀ C_bb g_b − 2 gₐᵀ Cₐ_b g_b``, ``g`` the gradient
    of ``ln ICx`` on the internal parameters (``Cₐ_b = 0`` for independent
    fits).  The test of ratio = 1 and the default interval use the t
    distribution on the joint fit's ``dof`` or, for independent fits, the
    Welch–Satterthwaite degrees of freedom.  Flat, unconverged or unfitted
    curves give NaN.

    Examples
    --------
    >>> from mtor_pharm import compare as cmp
    >>> x = 10.0 / 3.0 ** np.arange(10)                   # uM
    >>> rng = np.random.default_rng(1)
    >>> y = mp.models.four_pl(x, 0, 100, np.array([[0.01], [0.1]]), 1.0) + rng.normal(0, 1, (2, 10))
    >>> r = cmp.potency_ratio(0, 1, fit=mp.fit(x, y, conc_unit="uM"))
    >>> round(float(r.estimate), 2), bool(r.pvalue < 0.001)
    (0.1, True)
    >>> sf = cmp.fit_shared(x, y, conc_unit="uM", share=("hill", "top", "bottom"))
    >>> rj = cmp.potency_ratio(0, 1, fit=sf)              # joint covariance
    >>> bool(rj.log_se < r.log_se)
    True
    """
    q = check_percent(p)
    if fit is None:
        if _is_dataset(a) and _is_dataset(b):
            if q != 0.5:
                raise ValueError(f"`p` must be 50 with Datasets (they hold only the IC50's error); got {p!r}.")
            lxa, va, dfa, ua = _dataset_log_ic50(a, "a")
            lxb, vb, dfb, ub = _dataset_log_ic50(b, "b")
            lxb = lxb + _unit_shift(ub, ua)
            try:
                va_b, vb_b, dfa_b, dfb_b = np.broadcast_arrays(va, vb, dfa, dfb)
            except ValueError:
                raise ValueError("`a` and `b` Datasets must have broadcastable shapes.") from None
            return _assemble(lxa, va, lxb, vb, np.zeros(()), _welch_df(va_b, vb_b, dfa_b, dfb_b), q, ua)
        if not (isinstance(a, FitResult) and isinstance(b, FitResult)):
            raise TypeError(
                "Without `fit`, `a` and `b` must both be FitResults (or both mp.fit Datasets); got "
                f"{type(a).__name__} and {type(b).__name__}. To compare curves of one fit, pass fit=."
            )
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise ValueError(
                f"`a` and `b` must have broadcastable batch shapes; got {a.shape} and {b.shape}."
            ) from None
        lxa, va = _fit_log_icx(a, q)
        lxb, vb = _fit_log_icx(b, q)
        lxb = lxb + _unit_shift(b.conc_unit, a.conc_unit)
        va_b, vb_b = np.broadcast_arrays(va, vb)
        dfa_b, dfb_b = np.broadcast_arrays(np.asarray(a.dof), np.asarray(b.dof))
        df = _welch_df(va_b, vb_b, np.broadcast_to(dfa_b, va_b.shape), np.broadcast_to(dfb_b, va_b.shape))
        return _assemble(lxa, va, lxb, vb, np.zeros(()), df, q, a.conc_unit)

    if isinstance(fit, SharedFit):
        ia = _shared_indices(fit, a, "a")
        ib = _shared_indices(fit, b, "b")
        ia, ib = np.broadcast_arrays(ia, ib)
        lx, grad = fit.log_icx_gradient(q)  # (..., k), (..., k, pp)
        bad = (np.asarray(fit.status) & _JOINT_BAD) != 0
        lx = np.where(bad, np.nan, lx)
        lxa = np.take(lx, ia, axis=-1)
        lxb = np.take(lx, ib, axis=-1)
        gA = np.take(grad, ia, axis=-2)  # (..., *S, pp)
        gB = np.take(grad, ib, axis=-2)
        # blocks of the joint covariance for the pairs only (O(k), never the dense matrix)
        Caa = fit._internal_cov_pair(ia, ia)
        Cbb = fit._internal_cov_pair(ib, ib)
        Cab = fit._internal_cov_pair(ia, ib)
        va = np.einsum("...i,...ij,...j->...", gA, Caa, gA)
        vb = np.einsum("...i,...ij,...j->...", gB, Cbb, gB)
        cab = np.einsum("...i,...ij,...j->...", gA, Cab, gB)
        df = np.asarray(fit.dof, dtype=np.float64).reshape(fit.shape + (1,) * ia.ndim)
        return _assemble(lxa, va, lxb, vb, cab, df, q, fit.conc_unit)

    if isinstance(fit, FitResult):
        if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
            raise TypeError(f"`axis` must be an integer axis of the FitResult's batch; got {axis!r}.")
        nd = len(fit.shape)
        if not -nd <= int(axis) < nd:
            raise ValueError(f"`axis` must be an axis of the batch shape {fit.shape}; got {axis!r}.")
        ax = int(axis) % nd
        ia = _fit_indices(fit, a, "a", ax)
        ib = _fit_indices(fit, b, "b", ax)
        lx, var = _fit_log_icx(fit, q)
        lxa, lxb = np.take(lx, ia, axis=ax), np.take(lx, ib, axis=ax)
        va, vb = np.take(var, ia, axis=ax), np.take(var, ib, axis=ax)
        dof = np.asarray(fit.dof, dtype=np.float64)
        dfa, dfb = np.take(dof, ia, axis=ax), np.take(dof, ib, axis=ax)
        lxa, lxb, va, vb, dfa, dfb = np.broadcast_arrays(lxa, lxb, va, vb, dfa, dfb)
        return _assemble(lxa, va, lxb, vb, np.zeros(()), _welch_df(va, vb, dfa, dfb), q, fit.conc_unit)

    if _is_dataset(fit):
        if q != 0.5:
            raise ValueError(f"`p` must be 50 with a Dataset (it holds only the IC50's error); got {p!r}.")
        if axis not in fit.dims:
            raise ValueError(f"`axis` must be a dimension of the Dataset {tuple(fit.dims)}; got {axis!r}.")
        try:
            da_, db_ = fit.sel({axis: a}), fit.sel({axis: b})
        except KeyError:
            raise LookupError(f"`a` and `b` must be labels along {axis!r}; got {a!r} and {b!r}.") from None
        lxa, va, dfa, unit = _dataset_log_ic50(da_, "fit")
        lxb, vb, dfb, _ = _dataset_log_ic50(db_, "fit")
        lxa, lxb, va, vb, dfa, dfb = np.broadcast_arrays(lxa, lxb, va, vb, dfa, dfb)
        return _assemble(lxa, va, lxb, vb, np.zeros(()), _welch_df(va, vb, dfa, dfb), q, unit)
    raise TypeError(f"`fit` must be a FitResult, SharedFit or mp.fit Dataset; got {type(fit).__name__}.")


def _shared_indices(fit: SharedFit, sel: Any, name: str) -> Any:
    try:
        if isinstance(sel, list | tuple | np.ndarray):
            return np.array([fit.index(s) for s in sel], dtype=np.int64)
        return np.asarray(fit.index(sel), dtype=np.int64)
    except LookupError:
        raise LookupError(
            f"`{name}` must be a curve label of `fit` ({list(fit.labels)}) or an index; got {sel!r}."
        ) from None
