"""Robust fits and ROUT-style outliers (mtor_pharm.compare.fit_robust, find_outliers)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import ArrayLike
from scipy.optimize import least_squares

import mtor_pharm as mp
from mtor_pharm import compare as cmp

CONC = np.repeat(10.0 / 3.0 ** np.arange(8), 2)  # uM, duplicates


def logistic4(x: np.ndarray, bottom: ArrayLike, top: ArrayLike, ic50: ArrayLike, hill: ArrayLike) -> np.ndarray:
    """The 4PL written from its formula (not the library kernel)."""
    b, t, c, h = (np.asarray(v, dtype=np.float64) for v in (bottom, top, ic50, hill))
    return np.asarray(b + (t - b) / (1.0 + (x / c) ** h))


def _contaminated(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = logistic4(CONC, 0, 100, 0.1, 1.0) + rng.normal(0, 2, (n, CONC.size))
    y[:, 9] += 45.0  # one gross outlier per curve
    return y


@pytest.mark.parametrize("loss", ["huber", "soft_l1", "cauchy"])
def test_fit_robust_with_a_fixed_scale_equals_scipy_least_squares(loss: str) -> None:
    y = _contaminated(0, 3)
    rob = cmp.fit_robust(CONC, y, conc_unit="uM", loss=loss, f_scale=3.0)  # type: ignore[arg-type]
    assert np.all(rob.converged)
    for i in range(3):

        def resid(p: np.ndarray, yi: np.ndarray = y[i]) -> np.ndarray:
            with np.errstate(over="ignore"):
                return np.asarray(logistic4(CONC, p[0], p[1], np.exp(p[2]), p[3]) - yi)

        best = None
        for start in ([0.0, 100.0, np.log(0.1), 1.0], [10.0, 90.0, np.log(1.0), 2.0]):
            sol = least_squares(resid, start, loss=loss, f_scale=3.0, xtol=1e-15, ftol=1e-15, gtol=1e-15)
            if best is None or sol.cost < best.cost:
                best = sol
        assert best is not None
        got = [float(rob.result.params[n][i]) for n in ("bottom", "top", "ic50", "hill")]
        want = [best.x[0], best.x[1], np.exp(best.x[2]), best.x[3]]
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_fit_robust_resists_a_gross_outlier_in_a_batch() -> None:
    y = _contaminated(1, 200)
    ols = mp.fit(CONC, y, conc_unit="uM")
    rob = cmp.fit_robust(CONC, y, conc_unit="uM", loss="cauchy")
    err_ols = np.abs(np.log(ols.params["ic50"] / 0.1))
    err_rob = np.abs(np.log(rob.result.params["ic50"] / 0.1))
    assert np.median(err_rob) < 0.5 * np.median(err_ols)
    assert rob.weights.shape == y.shape and np.all(rob.weights[:, 9] < 0.1)
    assert np.all(rob.converged)


def test_find_outliers_flags_the_planted_point_and_leaves_the_data_alone() -> None:
    y = _contaminated(2, 200)
    before = y.copy()
    out = cmp.find_outliers(CONC, y, conc_unit="uM", q=0.01)
    np.testing.assert_array_equal(y, before)
    assert out.mask.shape == y.shape
    assert np.mean(out.mask[:, 9]) > 0.95
    others = np.delete(out.mask, 9, axis=1)
    assert np.mean(others.any(axis=1)) < 0.05
    # the clean fit is the ordinary fit without the flagged points
    clean = mp.fit(CONC, np.where(out.mask, np.nan, y), conc_unit="uM")
    np.testing.assert_allclose(out.result.params["ic50"], clean.params["ic50"], rtol=1e-6)


def test_find_outliers_rarely_flags_gaussian_data() -> None:
    rng = np.random.default_rng(3)
    y = logistic4(CONC, 0, 100, 0.1, 1.0) + rng.normal(0, 3, (2000, CONC.size))
    out = cmp.find_outliers(CONC, y, conc_unit="uM", q=0.01)
    # Prism: one or more false outliers in about 1-3 % of Gaussian experiments at Q = 1 %
    assert np.mean(out.count > 0) < 0.03


def test_fit_robust_rejects_bad_options() -> None:
    y = _contaminated(4, 1)[0]
    with pytest.raises(ValueError, match="`loss` must be one of"):
        cmp.fit_robust(CONC, y, conc_unit="uM", loss="tukey")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`f_scale` must be positive"):
        cmp.fit_robust(CONC, y, conc_unit="uM", f_scale=0.0)
    with pytest.raises(ValueError, match="`q` must be in"):
        cmp.find_outliers(CONC, y, conc_unit="uM", q=5)
    with pytest.raises(mp.errors.UnitError):
        cmp.find_outliers(CONC, y)


def test_find_outliers_on_a_dataarray_equals_the_arrays() -> None:
    import xarray as xr

    y = _contaminated(5, 3)
    data = xr.DataArray(
        y.T,  # concentration first: the batch is whatever is left
        dims=("concentration", "well_set"),
        coords={"concentration": ("concentration", CONC * 1000, {"units": "nM"})},
    )
    labelled = cmp.find_outliers(data, dim="concentration")
    plain = cmp.find_outliers(CONC, y, conc_unit="uM")
    np.testing.assert_array_equal(labelled.mask, plain.mask)
    np.testing.assert_allclose(labelled.result.ic50.to("uM").magnitude, plain.result.ic50.magnitude, rtol=1e-6)
    with pytest.raises(TypeError, match="`response` must be None"):
        cmp.fit_robust(data, y, dim="concentration")
