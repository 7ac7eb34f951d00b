"""Is there a response?  The F test against a flat line, optionally calibrated by simulation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from .._arrays import readonly
from .._typing import FloatArray, IntArray
from ..fitting import FitResult, fit
from ._common import as_fit_result, check_same_data, curve_data, rng_from

__all__ = ["ResponseTest", "response_test"]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ResponseTest:
    """Extra-sum-of-squares F test of a fitted curve against a flat line, per curve.

    Attributes
    ----------
    statistic : ndarray
        ``F = ((RSS₀ − RSS)/df1) / (RSS/df2)``, RSS₀ the (weighted) sum of squares
        about the (weighted) mean.  Batch shape.
    df1, df2 : ndarray of int
        ``n_free − 1`` and the fit's residual degrees of freedom.
    pvalue : ndarray
        From the F(df1, df2) distribution; equals ``FitResult.response_pvalue``.
    calibrated_pvalue : ndarray
        ``(1 + #{F_null ≥ F}) / (n_null + 1)`` against flat curves simulated with
        the same design and fitted by the same engine; NaN when not calibrated.
    null_statistic : ndarray, shape (n_designs, n_null)
        The simulated null F statistics, one row per distinct design (empty
        when not calibrated).
    design : ndarray of int
        Row of `null_statistic` used for each curve (-1 when not calibrated).
    """

    statistic: FloatArray
    df1: IntArray
    df2: IntArray
    pvalue: FloatArray
    calibrated_pvalue: FloatArray
    null_statistic: FloatArray
    design: IntArray

    def __post_init__(self) -> None:
        for name in ("statistic", "df1", "df2", "pvalue", "calibrated_pvalue", "null_statistic", "design"):
            object.__setattr__(self, name, readonly(getattr(self, name)))

    @property
    def n_null(self) -> int:
        """Simulated null curves per design (0 when not calibrated)."""
        return int(self.null_statistic.shape[-1])


def _f_statistic(rss0: FloatArray, rss: FloatArray, df1: int, df2: NDArray[Any]) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        F: FloatArray = ((rss0 - rss) / df1) / (rss / np.where(df2 > 0, df2, np.nan))
    return F


def _flat_rss(y: FloatArray, w: FloatArray) -> FloatArray:
    sw = w.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (w * y).sum(axis=-1) / sw
    out: FloatArray = (w * (y - mean[..., None]) ** 2).sum(axis=-1)
    return out


def response_test(
    res: FitResult,
    conc: Any,
    response: ArrayLike,
    *,
    conc_unit: str | None = None,
    weights: ArrayLike | None = None,
    n_null: int = 0,
    rng: Any = None,
) -> ResponseTest:
    """Is there a response?  F test of every fitted curve against a flat line.

    Parameters
    ----------
    res : FitResult
        The fit of the curves (any batch shape).
    conc, response : array_like
        The data `res` was fitted to (checked: the fit's residual sum of squares
        must be reproduced), with `conc` in any concentration unit.
    conc_unit : str, optional
        Unit of a bare `conc` array.
    weights : array_like, optional
        The weights `res` was fitted with.
    n_null : int, default 0
        When positive, calibrate the test for the actual design: simulate
        `n_null` flat curves (Gaussian noise, the same concentrations, missing
        points and weights) per distinct design, fit them with the same model
        and fixed parameters in one batched call, and compare each observed F
        with that empirical null.
    rng : int or numpy.random.Generator, optional
        Seed or generator for the simulation.

    Returns
    -------
    ResponseTest
        Batch-shaped statistics and p-values.

    Raises
    ------
    ShapeError
        `response` does not have the batch shape of `res`.
    ValueError
        The data are not those `res` was fitted to; `n_null` negative; calibration
        asked for a model with a fixed plateau (``"3pl"``, ``"2pl"``, or ``fixed=``
        ``bottom``/``top``), whose null distribution depends on the unknown flat
        level.

    Notes
    -----
    With free plateaus the model family is closed under ``y → a + b·y``, so the
    null distribution of F does not depend on the flat level or the noise
    amplitude, only on the design: one simulation serves every curve measured
    with that design.  The nominal F(df1, df2) reference is only approximate for
    a sigmoid (``ic50`` and ``hill`` are not identified under the flat null);
    for a 10-point, single-replicate 4PL design it gives a false-positive rate
    of about 3 % at α = 0.05, and the calibrated p-value restores 5 %.  This is
    the idea of CurveCurator's recalibrated F statistic (Bayer et al., Nat.
    Commun. 2023), done on the fly for the user's own design.

    Examples
    --------
    >>> from mtor_pharm import compare as cmp
    >>> conc = mp.Q_([0.01, 0.03, 0.1, 0.3, 1, 3, 10], "uM")
    >>> y = np.array([[99, 97, 88, 67, 36, 15, 5], [97, 101, 99, 103, 98, 100, 99]])
    >>> res = mp.fit(conc, y)
    >>> t = cmp.response_test(res, conc, y, n_null=500, rng=0)
    >>> (t.pvalue < 0.05).tolist(), (t.calibrated_pvalue < 0.05).tolist()
    ([True, False], [True, False])
    """
    res = as_fit_result(res, "res")
    if isinstance(n_null, bool) or not isinstance(n_null, int | np.integer) or n_null < 0:
        raise ValueError(f"`n_null` must be a non-negative integer (0: no calibration); got {n_null!r}.")
    if n_null and ("bottom" in res.fixed or "top" in res.fixed):
        raise ValueError(
            f"`n_null` calibration needs free plateaus; got a {res.model!r} fit with fixed "
            f"{[p for p in ('bottom', 'top') if p in res.fixed]}. Fit a model with free bottom and top, "
            "or use the nominal p-value."
        )
    generator = rng_from(rng)
    x, y, w, valid = curve_data(res, conc, response, conc_unit=conc_unit, weights=weights)
    check_same_data(res, x, y, w, valid, "res")
    df1 = res.n_free - 1
    dof = np.asarray(res.dof).reshape(-1)
    rss = np.asarray(res.rss).reshape(-1)
    rss0 = _flat_rss(y, w)
    F = _f_statistic(rss0, rss, max(df1, 1), dof)
    testable = (df1 > 0) & (dof > 0) & np.isfinite(F)
    with np.errstate(invalid="ignore"):
        pvalue = np.where(testable, stats.f.sf(F, max(df1, 1), np.maximum(dof, 1)), np.nan)
        pvalue = np.where(testable & (rss0 <= 1e-300), 1.0, pvalue)

    N = y.shape[0]
    calibrated = np.full(N, np.nan)
    design = np.full(N, -1, dtype=np.int64)
    null_rows: list[FloatArray] = []
    if n_null and N:
        fixed_names = [p for p in res.fixed if p not in ("bottom", "top")]
        fixed_cols = [np.broadcast_to(np.asarray(res.params[p]), res.shape).reshape(-1) for p in fixed_names]
        key = np.concatenate(
            [np.where(valid, x, -1.0), np.where(valid, w, -1.0), *(c[:, None] for c in fixed_cols)], axis=1
        )
        unique, inverse = np.unique(key, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        m = y.shape[1]
        for d, row in enumerate(unique):
            members = np.flatnonzero(inverse == d)
            if not testable[members].any():
                null_rows.append(np.full(n_null, np.nan))
                continue
            v = row[:m] >= 0
            x_d = np.where(v, row[:m], np.nan)
            w_d = np.where(v, row[m : 2 * m], 0.0)
            with np.errstate(divide="ignore"):
                sd = np.where(v & (w_d > 0), 1.0 / np.sqrt(np.where(w_d > 0, w_d, 1.0)), 0.0)
            y_sim = np.where(v, generator.standard_normal((n_null, m)) * sd, np.nan)
            fixed = {p: float(row[2 * m + i]) for i, p in enumerate(fixed_names)}
            null_fit = fit(
                x_d if v.all() else np.broadcast_to(x_d, y_sim.shape),
                y_sim,
                model=res.family,
                conc_unit=res.conc_unit,
                fixed=fixed or None,
                weights=None if weights is None else np.broadcast_to(w_d, y_sim.shape),
            )
            rss0_null = _flat_rss(np.where(v, y_sim, 0.0), np.broadcast_to(w_d, y_sim.shape))
            F_null = _f_statistic(rss0_null, np.asarray(null_fit.rss), max(df1, 1), np.asarray(null_fit.dof))
            F_null = np.where(np.isfinite(F_null), F_null, 0.0)
            null_rows.append(F_null)
            design[members] = d
            F_m = F[members]
            ordered = np.sort(F_null)
            counts = n_null - np.searchsorted(ordered, np.where(np.isfinite(F_m), F_m, np.inf) * (1.0 - 1e-12))
            calibrated[members] = np.where(testable[members], (1.0 + counts) / (n_null + 1.0), np.nan)
    null = np.stack(null_rows) if null_rows else np.zeros((0, n_null))
    shape = res.shape
    return ResponseTest(
        statistic=np.where(testable, F, np.nan).reshape(shape),
        df1=np.broadcast_to(np.int64(df1), shape).copy(),
        df2=dof.reshape(shape),
        pvalue=pvalue.reshape(shape),
        calibrated_pvalue=calibrated.reshape(shape),
        null_statistic=null,
        design=design.reshape(shape),
    )
