"""Model comparison: nested F tests, information criteria, lack of fit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from .._arrays import readonly
from .._typing import FloatArray, IntArray
from ..fitting import FitResult, FitStatus
from ..fitting._result import InformationCriteria
from ..models import get_model
from ._common import as_fit_result, check_same_data, curve_data
from ._shared import SharedFit

__all__ = ["Criterion", "FTest", "LackOfFit", "Selection", "f_test", "lack_of_fit", "select"]

#: Information criteria accepted by :func:`select`.
Criterion: TypeAlias = Literal["aic", "aicc", "bic"]

_FAMILY = {"4pl": "logistic", "3pl": "logistic", "2pl": "logistic", "5pl": "logistic"}


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class FTest:
    """Extra-sum-of-squares F test of a reduced model against a fuller one it is nested in.

    Attributes
    ----------
    statistic : ndarray
        ``F = ((RSS_r − RSS_f)/df1) / (RSS_f/df2)``, batch shape.
    df1, df2 : ndarray of int
        ``dof_r − dof_f`` and ``dof_f``.
    pvalue : ndarray
        ``P(F(df1, df2) ≥ F)``; small values favour the fuller model.
    rss_reduced, rss_full : ndarray
        The two residual sums of squares.
    """

    statistic: FloatArray
    df1: IntArray
    df2: IntArray
    pvalue: FloatArray
    rss_reduced: FloatArray
    rss_full: FloatArray

    def __post_init__(self) -> None:
        for name in ("statistic", "df1", "df2", "pvalue", "rss_reduced", "rss_full"):
            object.__setattr__(self, name, readonly(getattr(self, name)))


class _DatasetFit(InformationCriteria):
    """The per-curve summary of an ``mp.fit`` Dataset, with the attributes the tests here read."""

    def __init__(self, ds: Any, name: str) -> None:
        for needed in ("rss", "n", "dof"):
            if needed not in ds.data_vars:
                raise ValueError(f"`{name}` must be a Dataset from mp.fit (with {needed!r}); it has no {needed!r}.")
        if "model" not in ds.attrs:
            raise ValueError(f"`{name}` must be a Dataset from mp.fit; its attrs have no 'model'.")
        self.family = get_model(str(ds.attrs["model"]))
        self.model = self.family.name
        self.param_names = self.family.param_names
        self.fixed = tuple(str(ds.attrs.get("fixed", "")).split())
        self.dims = tuple(ds["rss"].dims)
        self.params = {p: np.asarray(ds[p].transpose(*self.dims).values) for p in self.param_names if p in ds}
        self.rss = np.asarray(ds["rss"].values, dtype=np.float64)
        self.n = np.asarray(ds["n"].transpose(*self.dims).values)
        self.dof = np.asarray(ds["dof"].transpose(*self.dims).values)
        self.status = np.asarray(ds["status"].transpose(*self.dims).values) if "status" in ds else None
        self.shape = tuple(self.rss.shape)
        self.conc_unit = str(ds.attrs.get("conc_unit"))
        self.conc_min = self.conc_max = np.full(self.shape, np.nan)
        self.n_free = len(self.param_names) - len(self.fixed)


def _is_dataset(obj: Any) -> bool:
    return type(obj).__name__ == "Dataset" and type(obj).__module__.startswith("xarray")


def _as_fit(obj: Any, name: str) -> Any:
    """FitResult and SharedFit as they are; an mp.fit Dataset through its summary."""
    if _is_dataset(obj):
        return _DatasetFit(obj, name)
    return obj


def _fixed_values(res: Any, name: str) -> FloatArray:
    return np.asarray(res.params[name], dtype=np.float64)


def _check_nested_fits(reduced: Any, full: Any) -> None:
    fam_r, fam_f = _FAMILY.get(reduced.model, reduced.model), _FAMILY.get(full.model, full.model)
    if fam_r != fam_f:
        raise ValueError(
            f"`reduced` (model {reduced.model!r}) is not nested in `full` (model {full.model!r}); "
            "compare non-nested models with select()."
        )
    rename = {"ic50": "xmid"} if (reduced.family.loc_name, full.family.loc_name) == ("ic50", "xmid") else {}
    names_f = set(full.param_names)
    free_r = {rename.get(p, p) for p in reduced.param_names if p not in reduced.fixed}
    free_f = {p for p in full.param_names if p not in full.fixed}
    if not free_r <= free_f:
        raise ValueError(
            f"`reduced` must fit a subset of the parameters of `full`; `reduced` ({reduced.model!r}) fits "
            f"{sorted(free_r)} but `full` ({full.model!r}) only {sorted(free_f)}."
        )
    for p in full.fixed:
        back = {v: k for k, v in rename.items()}.get(p, p)
        value_f = _fixed_values(full, p)
        if back in reduced.param_names:
            if back not in reduced.fixed or not np.allclose(_fixed_values(reduced, back), value_f, rtol=1e-12):
                raise ValueError(
                    f"`reduced` is not nested in `full`: `full` fixes {p!r} at {value_f.ravel()[:3]}, "
                    "which `reduced` does not fix at the same value."
                )
        elif p == "s" and not np.allclose(value_f, 1.0):
            raise ValueError(f"`reduced` ({reduced.model!r}) is nested in a 5PL only with s = 1; `full` fixes s.")
    missing = names_f - {rename.get(p, p) for p in reduced.param_names}
    for p in missing:  # a 4PL is the 5PL with s = 1
        if p != "s":
            raise ValueError(f"`reduced` has no parameter {p!r} of `full`; the models are not nested.")


def _curves_used(sf: SharedFit) -> NDArray[np.bool_]:
    """Curves whose points entered a global fit (fitted, or attached to a fitted curve), (..., k)."""
    fitted = (np.asarray(sf.status) & FitStatus.TOO_FEW_POINTS) == 0
    return np.asarray(fitted | (np.asarray(sf.attached_to) >= 0))


def _check_same_curves(a: SharedFit, b: SharedFit, names: tuple[str, str]) -> None:
    """Global fits compared by RSS, AIC or BIC must have used the same curves: a curve left out
    of one (``TOO_FEW_POINTS``) but fitted in the other makes them fits of different points."""
    if a.labels != b.labels or a.shape != b.shape:
        return  # reported by the callers' own checks
    ua, ub = _curves_used(a), _curves_used(b)
    if not np.array_equal(ua, ub):
        idx = np.argwhere(ua != ub)[0]
        j = int(idx[-1])
        left_out, kept = (names[0], names[1]) if not ua[tuple(idx)] else (names[1], names[0])
        raise ValueError(
            f"`{names[0]}` and `{names[1]}` must be fits of the same points; curve {a.labels[j]!r} was left out "
            f"of `{left_out}` (TOO_FEW_POINTS: too few points for the parameters it would have of its own) but "
            f"fitted in `{kept}`. Information criteria compare fits of the same data only: drop that curve "
            "from both fits, or share more of its parameters in both."
        )


def _check_same_fits(a: Any, b: Any, names: tuple[str, str]) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"`{names[0]}` and `{names[1]}` must be fits of the same data; got batch shapes {a.shape} and {b.shape}."
        )
    if isinstance(a, SharedFit) and isinstance(b, SharedFit):
        _check_same_curves(a, b, names)
    na, nb = np.asarray(a.n), np.asarray(b.n)
    if not np.array_equal(na, nb):
        raise ValueError(
            f"`{names[0]}` and `{names[1]}` must be fits of the same data; their numbers of points differ "
            f"({na.ravel()[:3]} vs {nb.ravel()[:3]})."
        )
    if getattr(a, "dims", None) != getattr(b, "dims", None) and hasattr(a, "dims") and hasattr(b, "dims"):
        raise ValueError(
            f"`{names[0]}` and `{names[1]}` must be fits of the same data; got dimensions {a.dims} and {b.dims}."
        )
    if a.conc_unit != b.conc_unit:
        raise ValueError(
            f"`{names[0]}` and `{names[1]}` must be fits of the same data; got units {a.conc_unit!r} and "
            f"{b.conc_unit!r}. Fit both from the same arrays."
        )
    with np.errstate(invalid="ignore"):
        same = np.allclose(a.conc_min, b.conc_min, equal_nan=True) and np.allclose(
            a.conc_max, b.conc_max, equal_nan=True
        )
    if not same:
        raise ValueError(f"`{names[0]}` and `{names[1]}` must be fits of the same data; their tested ranges differ.")
    # the data themselves, where both fits record them: each curve's SS about its mean
    ta = np.asarray(getattr(a, "tss", np.nan), dtype=np.float64)
    tb = np.asarray(getattr(b, "tss", np.nan), dtype=np.float64)
    if ta.shape == tb.shape:
        with np.errstate(invalid="ignore"):
            differ = np.abs(ta - tb) > 1e-8 * np.maximum(np.abs(ta), np.abs(tb)) + 1e-300
        if differ.any():
            i = _first(differ)
            raise ValueError(
                f"`{names[0]}` and `{names[1]}` must be fits of the same data; their responses differ{_at(i)}: "
                f"the sum of squares of the responses about their mean is {float(ta[i]):.6g} in `{names[0]}` "
                f"and {float(tb[i]):.6g} in `{names[1]}` (other responses or weights)."
            )


def _first(mask: NDArray[np.bool_]) -> tuple[int, ...]:
    """Batch index of the first True of `mask`."""
    return tuple(int(j) for j in np.unravel_index(int(np.flatnonzero(mask)[0]), mask.shape))


def _at(index: tuple[int, ...]) -> str:
    """`` at curve i`` for a batch index (nothing for a single curve)."""
    if not index:
        return ""
    return f" at curve {index[0] if len(index) == 1 else index}"


#: Status bits of a fit that may not have reached its least-squares optimum.
_UNSETTLED = (
    FitStatus.NOT_CONVERGED | FitStatus.AT_BOUND | FitStatus.FLAT_RESPONSE | FitStatus.TOO_FEW_POINTS
    | FitStatus.AMBIGUOUS
)


def _check_rss_order(reduced: Any, full: Any) -> None:
    """A fit nested in a settled fit of the same data cannot have a smaller RSS (beyond rounding):
    the check of "same data" for fits that do not record their responses' sum of squares.

    Only where every curve of `full` reached its optimum: a fit that did not converge, sits on
    a bound or is flat or ambiguous may stop above the reduced fit's RSS on the same data.
    """
    rss_r = np.asarray(reduced.rss, dtype=np.float64)
    rss_f = np.asarray(full.rss, dtype=np.float64)
    recorded = [np.asarray(getattr(r, "tss", np.nan), dtype=np.float64) for r in (reduced, full)]
    if all(np.isfinite(t).all() for t in recorded):
        # the responses were compared by `_check_same_fits`; an inversion is then a fit that
        # stopped short on one curve, which must not fail the batch (its F is reported as is)
        return
    if full.status is None:
        return
    status = np.asarray(full.status).reshape(*rss_f.shape, -1)
    settled = np.all((status & _UNSETTLED) == 0, axis=-1)
    # rounding: a relative 1e-6 of the RSS, and residuals of 1e-6 of the response level
    level = np.zeros(rss_f.shape)
    for res in (reduced, full):
        for name in ("bottom", "top"):
            if name in res.params:
                v = np.abs(np.asarray(res.params[name], dtype=np.float64)).reshape(*rss_f.shape, -1)
                with np.errstate(invalid="ignore"):
                    level = np.fmax(level, np.nanmax(np.where(np.isfinite(v), v, np.nan), axis=-1, initial=0.0))
    with np.errstate(invalid="ignore", over="ignore"):
        tol = 1e-6 * rss_f + 1e-12 * np.asarray(full.n) * level**2
        smaller = settled & (rss_r < rss_f - tol)
    if smaller.any():
        i = _first(smaller)
        raise ValueError(
            f"`reduced` and `full` must be nested fits of the same data;{_at(i)} `reduced` has the smaller "
            f"residual sum of squares ({float(rss_r[i]):.6g} < {float(rss_f[i]):.6g}), which a fit nested in "
            "`full` cannot have when `full` reached its optimum (as its status says). Fit both models to the "
            "same responses and weights."
        )


def f_test(reduced: FitResult | SharedFit | Any, full: FitResult | SharedFit | Any) -> FTest:
    """Extra-sum-of-squares F test of nested fits of the same data.

    Typical uses: 3PL vs 4PL, 4PL vs 5PL (each from :func:`mtor_pharm.fit`), and
    "do these inhibitors differ in potency?" — a global fit sharing ``ic50`` vs
    one with separate ``ic50`` (each from :func:`fit_shared`).

    Parameters
    ----------
    reduced : FitResult, SharedFit or xarray.Dataset
        The simpler fit (fewer free parameters).  A Dataset from
        ``mp.fit(data_array, dim=...)`` works as a FitResult; the result's arrays
        then follow the Dataset's dimension order (``ds["rss"].dims``).
    full : FitResult, SharedFit or xarray.Dataset
        The fuller fit of the same data, in which `reduced` is nested.

    Returns
    -------
    FTest
        Batch-shaped statistic and p-value.

    Raises
    ------
    TypeError
        Arguments that are not both FitResults or both SharedFits.
    ValueError
        Fits of different data (batch shape, points, units or tested ranges
        differ), or models that are not nested.

    Notes
    -----
    ``F = ((RSS_r − RSS_f)/(dof_r − dof_f)) / (RSS_f/dof_f)`` on
    ``(dof_r − dof_f, dof_f)`` degrees of freedom (Motulsky & Christopoulos,
    *Fitting models to biological data*, 2004; drc ``anova``; Prism's
    extra-sum-of-squares comparison).  Nesting is checked on the parameter
    sets: the reduced model's free parameters must be free in the full model,
    and every parameter the full model fixes must be fixed at the same value.

    Examples
    --------
    >>> from mtor_pharm import compare as cmp
    >>> x = 10.0 / 3.0 ** np.arange(10)
    >>> y = mp.models.four_pl(x, 20, 100, 0.1, 1.0) + np.random.default_rng(0).normal(0, 2, 10)
    >>> t = cmp.f_test(mp.fit(x, y, conc_unit="uM", model="3pl"), mp.fit(x, y, conc_unit="uM"))
    >>> int(t.df1), int(t.df2), bool(t.pvalue < 0.001)
    (1, 6, True)
    """
    reduced, full = _as_fit(reduced, "reduced"), _as_fit(full, "full")
    single = (FitResult, _DatasetFit)
    if isinstance(reduced, SharedFit) and isinstance(full, SharedFit):
        _check_same_fits(reduced, full, ("reduced", "full"))
        if reduced.model != full.model or reduced.labels != full.labels:
            raise ValueError(
                "`reduced` and `full` must be global fits of the same curves with the same model; got "
                f"{reduced.model!r} over {list(reduced.labels)} and {full.model!r} over {list(full.labels)}."
            )
        if not set(full.share) <= set(reduced.share) or set(reduced.fixed) != set(full.fixed):
            raise ValueError(
                f"`reduced` must share every parameter `full` shares; got share={list(reduced.share)} for "
                f"`reduced` and share={list(full.share)} for `full`."
            )
    elif isinstance(reduced, single) and isinstance(full, single):
        _check_same_fits(reduced, full, ("reduced", "full"))
        _check_nested_fits(reduced, full)
    else:
        raise TypeError(
            "`reduced` and `full` must both be FitResults (mp.fit, or its Dataset) or both SharedFits (fit_shared); "
            f"got {type(reduced).__name__} and {type(full).__name__}."
        )
    dof_r = np.asarray(reduced.dof)
    dof_f = np.asarray(full.dof)
    df1 = dof_r - dof_f
    if np.any(df1 <= 0):
        # the parameters each fit estimated (for global fits, curves left out are not counted)
        k_r = np.asarray(reduced.n) - dof_r
        k_f = np.asarray(full.n) - dof_f
        raise ValueError(
            "`reduced` must have fewer free parameters than `full`; got "
            f"{k_r.ravel()[:3].tolist()} and {k_f.ravel()[:3].tolist()} estimated."
        )
    _check_rss_order(reduced, full)
    rss_r = np.asarray(reduced.rss)
    rss_f = np.asarray(full.rss)
    with np.errstate(invalid="ignore", divide="ignore"):
        F = ((rss_r - rss_f) / df1) / (rss_f / np.where(dof_f > 0, dof_f, np.nan))
        p = np.where(np.isfinite(F), stats.f.sf(F, df1, np.maximum(dof_f, 1)), np.nan)
    return FTest(statistic=F, df1=df1, df2=dof_f, pvalue=p, rss_reduced=rss_r, rss_full=rss_f)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Selection:
    """Ranking of candidate fits of the same curves by an information criterion.

    Attributes
    ----------
    names : tuple of str
        The candidates, in the order given; the last axis of every array.
    criterion : str
        ``"aic"``, ``"aicc"`` or ``"bic"``.
    values : ndarray, shape (..., k)
        The criterion per curve and candidate (NaN where a fit failed).
    delta : ndarray, shape (..., k)
        ``values − min(values)`` per curve.
    weights : ndarray, shape (..., k)
        Akaike weights ``exp(−Δ/2) / Σ exp(−Δ/2)``.
    rank : ndarray of int, shape (..., k)
        0 for the best candidate of each curve; failed fits rank last.
    best : ndarray of int, shape (...)
        Index into `names` of the best candidate (-1 where every fit failed).
    """

    names: tuple[str, ...]
    criterion: str
    values: FloatArray
    delta: FloatArray
    weights: FloatArray
    rank: IntArray
    best: IntArray

    def __post_init__(self) -> None:
        for name in ("values", "delta", "weights", "rank", "best"):
            object.__setattr__(self, name, readonly(getattr(self, name)))

    @property
    def best_name(self) -> NDArray[np.object_]:
        """Name of the best candidate per curve (``None`` where every fit failed)."""
        lookup = np.array([*self.names, None], dtype=object)
        return readonly(lookup[np.where(self.best >= 0, self.best, len(self.names))])


def select(results: Mapping[str, FitResult | SharedFit | Any], *, criterion: Criterion = "aicc") -> Selection:
    """Rank fits of the same curves (any models, nested or not) by AIC, AICc or BIC.

    Parameters
    ----------
    results : mapping of str to FitResult
        Candidate fits of the same data, e.g. ``{"4pl": mp.fit(x, y),
        "5pl": mp.fit(x, y, model="5pl")}``; SharedFits of the same curves, or
        Datasets from ``mp.fit(data_array, dim=...)`` (arrays then in the order
        of ``ds["rss"].dims``), work too.
    criterion : {"aicc", "aic", "bic"}, default "aicc"
        Information criterion (Gaussian likelihood, the variance counted as a
        parameter); lower is better.

    Returns
    -------
    Selection
        Per curve: values, differences to the best, Akaike weights, ranks and
        the best candidate.

    Raises
    ------
    ValueError
        Fewer than two candidates, fits of different data, unknown criterion.

    Notes
    -----
    AICc is the default because dose-response curves have few points
    (Burnham & Anderson, *Model selection and multimodel inference*, 2002);
    Prism compares models by AICc, drc's ``mselect`` by AIC.

    Examples
    --------
    >>> from mtor_pharm import compare as cmp
    >>> x = 10.0 / 3.0 ** np.arange(10)
    >>> y = mp.models.four_pl(x, 20, 100, 0.1, 1.0) + np.random.default_rng(1).normal(0, 2, 10)
    >>> fits = {name: mp.fit(x, y, conc_unit="uM", model=name) for name in ("3pl", "4pl")}
    >>> sel = cmp.select(fits)
    >>> str(sel.best_name), sel.weights.round(2).tolist()
    ('4pl', [0.0, 1.0])
    """
    if not isinstance(results, Mapping):
        raise TypeError(f"`results` must be a mapping of name to FitResult; got {type(results).__name__}.")
    if len(results) < 2:
        raise ValueError(f"`results` must hold at least two candidate fits; got {len(results)}.")
    if criterion not in ("aic", "aicc", "bic"):
        raise ValueError(f"`criterion` must be 'aicc', 'aic' or 'bic'; got {criterion!r}.")
    names = tuple(str(k) for k in results)
    fits = [_as_fit(r, f"results[{name!r}]") for name, r in zip(names, results.values(), strict=True)]
    for name, r in zip(names, fits, strict=True):
        if not isinstance(r, FitResult | SharedFit | _DatasetFit):
            raise TypeError(f"`results[{name!r}]` must be a FitResult; got {type(r).__name__}.")
    for name, r in zip(names[1:], fits[1:], strict=True):
        _check_same_fits(fits[0], r, (f"results[{names[0]!r}]", f"results[{name!r}]"))
    values = np.stack([np.asarray(getattr(r, criterion), dtype=np.float64) for r in fits], axis=-1)
    values = np.where(np.isfinite(values), values, np.nan)
    finite = np.isfinite(values)
    any_ok = np.asarray(finite.any(axis=-1))
    with np.errstate(invalid="ignore"):
        vmin = np.min(np.where(finite, values, np.inf), axis=-1)
        delta = np.where(finite, values - np.where(any_ok, vmin, np.nan)[..., None], np.nan)
        rel = np.where(finite, np.exp(-0.5 * np.where(finite, delta, 0.0)), 0.0)
        weights = np.where(any_ok[..., None], rel / rel.sum(axis=-1, keepdims=True), np.nan)
    order = np.argsort(np.where(finite, values, np.inf), axis=-1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(len(names)), axis=-1)
    best = np.where(any_ok, order[..., 0], -1)
    return Selection(
        names=names, criterion=criterion, values=values, delta=delta, weights=weights, rank=rank, best=best
    )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LackOfFit:
    """Lack-of-fit F test against the replicate means (pure error), per curve.

    Attributes
    ----------
    statistic : ndarray
        ``F = (SS_lof/df_lof) / (SS_pe/df_pe)``; NaN without replicates.
    df_lof, df_pe : ndarray of int
        ``groups − n_free`` and ``n − groups`` (groups = distinct concentrations).
    pvalue : ndarray
        Small values: the curve does not follow the replicate means closely enough.
    ss_lof, ss_pe : ndarray
        Lack-of-fit and pure-error sums of squares (``ss_lof + ss_pe = RSS``).
    """

    statistic: FloatArray
    df_lof: IntArray
    df_pe: IntArray
    pvalue: FloatArray
    ss_lof: FloatArray
    ss_pe: FloatArray

    def __post_init__(self) -> None:
        for name in ("statistic", "df_lof", "df_pe", "pvalue", "ss_lof", "ss_pe"):
            object.__setattr__(self, name, readonly(getattr(self, name)))


def lack_of_fit(
    res: FitResult,
    conc: Any,
    response: ArrayLike,
    *,
    conc_unit: str | None = None,
    weights: ArrayLike | None = None,
) -> LackOfFit:
    """Lack-of-fit test: does the curve pass close enough to the replicate means?

    Parameters
    ----------
    res : FitResult
        The fit (any batch shape).
    conc, response : array_like
        The data `res` was fitted to, with replicate points at equal concentrations.
    conc_unit : str, optional
        Unit of a bare `conc` array.
    weights : array_like, optional
        The weights `res` was fitted with.

    Returns
    -------
    LackOfFit
        NaN statistic and p-value for curves without replicates (``df_pe = 0``)
        or without spare distinct concentrations (``df_lof = 0``).

    Raises
    ------
    ShapeError, ValueError
        Data of the wrong shape, or not the data `res` was fitted to.

    Notes
    -----
    The classical test (Bates & Watts, *Nonlinear regression analysis and its
    applications*, 1988, §3.10; drc ``modelFit``; Prism's replicates test): the
    residual sum of squares splits into pure error ``Σ w (y − ȳ_group)²`` about
    the (weighted) mean of each concentration, on ``n − groups`` degrees of
    freedom, and lack of fit, on ``groups − n_free``.

    Examples
    --------
    >>> from mtor_pharm import compare as cmp
    >>> x = np.repeat(10.0 / 3.0 ** np.arange(8), 3)
    >>> y = mp.models.four_pl(x, 0, 100, 0.1, 1.0) + np.random.default_rng(2).normal(0, 3, 24)
    >>> res = mp.fit(x, y, conc_unit="uM")
    >>> lof = cmp.lack_of_fit(res, x, y, conc_unit="uM")
    >>> int(lof.df_lof), int(lof.df_pe), bool(lof.pvalue > 0.05)
    (4, 16, True)
    """
    res = as_fit_result(res, "res")
    x, y, w, valid = curve_data(res, conc, response, conc_unit=conc_unit, weights=weights)
    check_same_data(res, x, y, w, valid, "res")
    same = (x[:, :, None] == x[:, None, :]) & valid[:, :, None] & valid[:, None, :]
    wy = w * y
    sw_g = np.einsum("nij,nj->ni", same, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        ybar = np.einsum("nij,nj->ni", same, wy) / sw_g
        ss_pe = np.where(valid, w * (y - np.where(valid, ybar, 0.0)) ** 2, 0.0).sum(axis=1)
        groups = np.where(valid, 1.0 / np.maximum(same.sum(axis=2), 1), 0.0).sum(axis=1)
    groups_i = np.rint(groups).astype(np.int64)
    n = valid.sum(axis=1)
    df_pe = n - groups_i
    df_lof = groups_i - res.n_free
    rss = np.asarray(res.rss).reshape(-1)
    ss_lof = rss - ss_pe
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (df_pe > 0) & (df_lof > 0) & (ss_pe > 0)
        F = np.where(ok, (np.maximum(ss_lof, 0.0) / np.maximum(df_lof, 1)) / (ss_pe / np.maximum(df_pe, 1)), np.nan)
        p = np.where(ok, stats.f.sf(F, np.maximum(df_lof, 1), np.maximum(df_pe, 1)), np.nan)
    shape = res.shape
    return LackOfFit(
        statistic=F.reshape(shape),
        df_lof=df_lof.reshape(shape),
        df_pe=df_pe.reshape(shape),
        pvalue=p.reshape(shape),
        ss_lof=ss_lof.reshape(shape),
        ss_pe=ss_pe.reshape(shape),
    )
