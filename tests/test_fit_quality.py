"""R² and the AMBIGUOUS status bit (#14)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

import mtor_pharm as mp
from mtor_pharm.fitting._quality import ambiguous

NAMES = ("bottom", "top", "ic50", "hill")
FREE = np.ones(4, dtype=bool)


def _four_pl(x: np.ndarray, bottom: float, top: float, ic50: float, hill: float) -> np.ndarray:
    return bottom + (top - bottom) / (1.0 + (x / ic50) ** hill)


def test_r_squared_matches_curve_fit_residuals_over_replicates() -> None:
    rng = np.random.default_rng(11)
    x = np.repeat(1000.0 / 3.0 ** np.arange(8), 3)
    y = _four_pl(x, 5.0, 100.0, 20.0, 1.0) + rng.normal(0, 4, x.size)
    popt, _ = optimize.curve_fit(_four_pl, x, y, p0=[5, 100, 20, 1])
    rss = float(np.sum((y - _four_pl(x, *popt)) ** 2))
    expected = 1.0 - rss / float(np.sum((y - y.mean()) ** 2))
    res = mp.fit(mp.Q_(x, "nM"), y)
    assert float(res.r_squared) == pytest.approx(expected, rel=1e-8)


def test_r_squared_is_weighted_with_weights_and_kept_by_selection() -> None:
    rng = np.random.default_rng(12)
    x = 1000.0 / 3.0 ** np.arange(8)
    y = _four_pl(x, 5.0, 100.0, 20.0, 1.0) + rng.normal(0, 3, x.size)
    w = rng.uniform(0.5, 2.0, x.size)
    res = mp.fit(mp.Q_(x, "nM"), y, weights=w)
    fitted = res.predict(mp.Q_(x, "nM"))
    mean = np.sum(w * y) / np.sum(w)
    expected = 1.0 - np.sum(w * (y - fitted) ** 2) / np.sum(w * (y - mean) ** 2)
    assert float(res.r_squared) == pytest.approx(expected, rel=1e-6)
    batch = mp.fit(mp.Q_(x, "nM"), np.stack([y, y[::-1]]))
    assert float(batch[1].r_squared) == float(batch.r_squared[1])


def test_r_squared_is_in_the_table_and_the_dataset() -> None:
    x = mp.Q_(1000.0 / 3.0 ** np.arange(8), "nM")
    res = mp.fit(x, _four_pl(x.magnitude, 0.0, 100.0, 20.0, 1.0) + np.linspace(-1, 1, 8))
    assert res.to_dataframe()["r_squared"].iloc[0] == pytest.approx(float(res.r_squared))
    assert float(res.to_xarray()["r_squared"]) == pytest.approx(float(res.r_squared))


def test_ambiguous_when_dependency_exceeds_prisms_threshold() -> None:
    # for two parameters the dependency is rho² (closed form): 0.99998 > 0.9999, 0.81 is fine
    def one(rho: float) -> bool:
        se = np.array([[1.0, 1.0, 0.1, 0.05]])
        cov = np.diag(se[0] ** 2)
        cov[0, 1] = cov[1, 0] = rho * se[0, 0] * se[0, 1]
        params = np.array([[0.0, 100.0, 10.0, 1.0]])
        return bool(ambiguous(NAMES, FREE, params, se, cov[None], np.array([20]), np.array([True]))[0])

    assert one(math.sqrt(0.99998))
    assert not one(0.9)


def test_ambiguous_when_the_hill_interval_includes_zero() -> None:
    t = stats.t.ppf(0.975, 10)
    params = np.array([[0.0, 100.0, 10.0, 0.5]] * 2)
    se = np.array([[1.0, 1.0, 0.1, 0.5 / t * 1.01], [1.0, 1.0, 0.1, 0.5 / t * 0.99]])
    cov = np.stack([np.diag(s**2) for s in se])
    out = ambiguous(NAMES, FREE, params, se, cov, np.array([10, 10]), np.array([True, True]))
    assert out.tolist() == [True, False]


def test_ambiguous_when_the_ic50_interval_spans_more_than_two_decades() -> None:
    t = stats.t.ppf(0.975, 12)
    # ln-width of the interval is 2 t se/ic50; two decades is ln(100)
    se_edge = math.log(100.0) / (2 * t) * 10.0
    params = np.array([[0.0, 100.0, 10.0, 1.0]] * 2)
    se = np.array([[1.0, 1.0, se_edge * 1.01, 0.1], [1.0, 1.0, se_edge * 0.99, 0.1]])
    cov = np.stack([np.diag(s**2) for s in se])
    out = ambiguous(NAMES, FREE, params, se, cov, np.array([12, 12]), np.array([True, True]))
    assert out.tolist() == [True, False]


def test_ambiguous_rule_skips_undetermined_fits_and_perfect_fits() -> None:
    params = np.array([[0.0, 100.0, 10.0, 1.0]] * 2)
    se = np.array([[np.nan] * 4, [0.0] * 4])
    cov = np.zeros((2, 4, 4))
    out = ambiguous(NAMES, FREE, params, se, cov, np.array([0, 4]), np.array([False, True]))
    assert out.tolist() == [False, False]


def test_a_clean_curve_is_ok_and_one_bad_well_makes_it_ambiguous_issue_14() -> None:
    # issue 14: one bad well turned sapanisertib into IC50 ~ 21 nM with a hill CI across 0, reported OK
    rng = np.random.default_rng(1)
    conc = np.repeat(1000.0 / 3.0 ** np.arange(8), 3)
    y = _four_pl(conc, 5.0, 100.0, 20.0, 1.0) + rng.normal(0, 4, conc.size)
    bad = y.copy()
    bad[0] = 115.0  # a top-dose well that reads like vehicle
    res = mp.fit(mp.Q_(np.stack([conc, conc]), "nM"), np.stack([y, bad]))
    low, high = res.ci("hill")
    assert low[1] < 0 < high[1]  # the premise: Prism would call this ambiguous
    assert res.status[0] == mp.FitStatus.OK
    assert res.status[1] & mp.FitStatus.AMBIGUOUS
    assert "ambiguous" in mp.STATUS_MESSAGES[mp.FitStatus.AMBIGUOUS]
    assert res.to_dataframe()["status_name"].tolist() == ["OK", "AMBIGUOUS"]


def test_zero_dof_curve_is_not_reported_ok_issue_17() -> None:
    res = mp.fit(mp.Q_([0.1, 1, 10, 100], "uM"), [90, 70, 30, 10])
    assert int(res.dof) == 0 and res.status != mp.FitStatus.OK


def test_ambiguity_reaches_the_xarray_path() -> None:
    import xarray as xr

    rng = np.random.default_rng(1)
    conc = np.repeat(1000.0 / 3.0 ** np.arange(8), 3)
    y = _four_pl(conc, 5.0, 100.0, 20.0, 1.0) + rng.normal(0, 4, conc.size)
    y[0] = 115.0
    da = xr.DataArray(y, dims="conc", coords={"conc": ("conc", conc, {"units": "nM"})})
    ds = mp.fit(da, dim="conc")
    assert int(ds["status"]) & mp.FitStatus.AMBIGUOUS
    assert "ambiguous" in ds["status"].attrs["flag_meanings"]


def test_ambiguity_reaches_shared_fits() -> None:
    from mtor_pharm import compare as cmp

    rng = np.random.default_rng(1)
    conc = np.repeat(1000.0 / 3.0 ** np.arange(8), 3)
    y = _four_pl(conc, 5.0, 100.0, 20.0, 1.0) + rng.normal(0, 4, conc.size)
    bad = y.copy()
    bad[0] = 115.0
    # one global fit per curve (batch axis first): each has its own residual variance, as mp.fit
    sf = cmp.fit_shared(conc, np.stack([y, bad])[:, None, :], share=(), conc_unit="nM")
    assert sf.status.shape == (2, 1)
    assert not sf.status[0, 0] & mp.FitStatus.AMBIGUOUS
    assert sf.status[1, 0] & mp.FitStatus.AMBIGUOUS


def test_inverse_diagonal_matches_numpy_inverse() -> None:
    from mtor_pharm.fitting._quality import _inverse_diagonal

    rng = np.random.default_rng(3)
    for q in (1, 2, 3, 4, 5):
        a = rng.normal(size=(200, q, q))
        c = a @ np.swapaxes(a, 1, 2) + 0.1 * np.eye(q)
        np.testing.assert_allclose(_inverse_diagonal(c), np.einsum("nii->ni", np.linalg.inv(c)), rtol=1e-10)
    singular = np.ones((1, 2, 2))
    assert np.isinf(_inverse_diagonal(singular)).all()
