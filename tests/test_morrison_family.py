"""The Morrison tight-binding family ``"morrison"`` (issue #13): Morrison's quadratic written
here from the textbook (Morrison 1969; Prism's "Morrison Ki"), in 60-digit decimal arithmetic
and in complex arithmetic for exact derivatives, checked against closed forms and against
tight ``scipy.optimize.least_squares`` fits of that formula."""

from __future__ import annotations

import dataclasses
import decimal
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import least_squares

import mtor_pharm as mp
from mtor_pharm.errors import UnitError

M = mp.models.MODELS["morrison"]
X = np.r_[0.0, 0.0, 100.0 / 3.0 ** np.arange(11)]  # two no-inhibitor wells + 11 concentrations (nM)


# ---------------------------------------------------------------- the formula, from the textbook
def textbook(i: np.ndarray, top: complex, k: complex, e: complex, bottom: complex = 0.0) -> np.ndarray:
    """Morrison's equation as printed: v = bottom + (top - bottom) (1 - ((E+I+K) - sqrt((E+I+K)^2 - 4EI)) / 2E).
    Works in complex arithmetic (for complex-step derivatives)."""
    q = e + i + k
    return bottom + (top - bottom) * (1.0 - (q - np.sqrt(q * q - 4.0 * e * i)) / (2.0 * e))


def exact_fraction_bound(i: float, k: float, e: float) -> float:
    """The bound fraction from the textbook formula in 60-digit decimal arithmetic."""
    with decimal.localcontext() as ctx:
        ctx.prec = 60
        inh, K, E = decimal.Decimal(i), decimal.Decimal(k), decimal.Decimal(e)
        q = E + inh + K
        return float((q - (q * q - 4 * E * inh).sqrt()) / (2 * E))


def residual_and_jacobian(theta: np.ndarray, x: np.ndarray, y: np.ndarray, layout: str
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Residuals of the textbook formula and their exact Jacobian (complex step) on
    theta = (top, ln K[, ln E][, bottom]) with `layout` one of "tk", "tke", "tkb"."""

    def model(th: np.ndarray) -> np.ndarray:
        top, lk = th[0], th[1]
        le = th[2] if layout == "tke" else np.log(ENZYME)
        bottom = th[2] if layout == "tkb" else 0.0
        return textbook(x.astype(complex), top, np.exp(lk), np.exp(le), bottom)

    r = model(theta.astype(complex)).real - y
    h = 1e-30
    J = np.empty((x.size, theta.size))
    for j in range(theta.size):
        th = theta.astype(complex)
        th[j] += 1j * h
        J[:, j] = model(th).imag / h
    return r, J


ENZYME = 2.0  # nM, fixed in the "tk" and "tkb" layouts


def tight(x: np.ndarray, y: np.ndarray, theta0: list[float], layout: str) -> np.ndarray:
    """The least-squares optimum: scipy's Levenberg-Marquardt at xtol = ftol = gtol = 1e-15, then
    Gauss-Newton steps until they vanish (scipy's xtol stops it early in a flat valley)."""
    ref = least_squares(
        lambda th: residual_and_jacobian(th, x, y, layout)[0], np.asarray(theta0, dtype=float),
        jac=lambda th: residual_and_jacobian(th, x, y, layout)[1],
        method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=20000,
    )
    theta = ref.x
    for _ in range(20):
        r, J = residual_and_jacobian(theta, x, y, layout)
        step = np.linalg.lstsq(J, -r, rcond=None)[0]
        theta = theta + step
        if np.all(np.abs(step) <= 1e-15 * np.maximum(np.abs(theta), 1.0)):
            break
    return theta


def gauss_newton_se(theta: np.ndarray, x: np.ndarray, y: np.ndarray, layout: str) -> np.ndarray:
    """Standard errors from s² (JᵀJ)⁻¹ at the reference optimum, on the reported scale."""
    r, J = residual_and_jacobian(theta, x, y, layout)
    s2 = float(r @ r) / (x.size - theta.size)
    cov = np.linalg.inv(J.T @ J) * s2
    scale = np.ones(theta.size)
    scale[1] = math.exp(theta[1])  # K = exp(ln K): delta method
    if layout == "tke":
        scale[2] = math.exp(theta[2])
    return np.sqrt(np.diag(cov)) * scale


def simulate(seed: int, *, k: float = 0.6, e: float = ENZYME, top: float = 100.0, bottom: float = 0.0,
             noise: float = 1.5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return textbook(X, top, k, e, bottom).real + rng.normal(0.0, noise, X.size)


# ---------------------------------------------------------------- registry and closed forms
def test_the_family_is_registered_with_its_counterparts_and_defaults() -> None:
    assert isinstance(M, mp.models.ModelFamily)
    assert M.param_names == ("bottom", "top", "ki_app", "enzyme")
    assert M.kinds == ("plateau", "plateau", "conc", "conc")
    assert dict(M.default_fixed) == {"bottom": 0.0}
    assert M.compiled is None and not M.symmetric
    assert "Prism" in M.description and "Morrison" in M.description and "Copeland" in M.description
    assert mp.models.get_model("Morrison Ki") is M


@given(i=st.floats(0.0, 1e4), k=st.floats(1e-3, 1e3), e=st.floats(1e-3, 1e3))
def test_curve_matches_the_textbook_formula_in_exact_arithmetic(i: float, k: float, e: float) -> None:
    v = M(np.array([i]), top=1.0, ki_app=k, enzyme=e)[0]
    assert v == pytest.approx(1.0 - exact_fraction_bound(i, k, e), rel=1e-12, abs=1e-15)


def test_curve_is_accurate_where_the_printed_formula_cancels() -> None:
    # I >> E, K: 1 - phi ~ K/I, lost to cancellation in the printed form
    i, k, e = 1e7, 1e-3, 1.0
    exact = 1.0 - exact_fraction_bound(i, k, e)
    assert float(M(np.array([i]), top=1.0, ki_app=k, enzyme=e)[0]) == pytest.approx(exact, rel=1e-12)
    with np.errstate(all="ignore"):
        printed = float(textbook(np.array([i]), 1.0, k, e)[0])
    assert abs(printed - exact) > 1e-3 * exact  # (the reason for the rationalised form)


@given(k=st.floats(1e-3, 1e3), e=st.floats(1e-3, 1e3), q=st.floats(0.01, 0.99))
def test_icx_is_its_closed_form(k: float, e: float, q: float) -> None:
    P = np.array([[0.0, 100.0, math.log(k), math.log(e)]])
    lx, dt = M.log_icx(P, q)
    assert math.exp(lx[0]) == pytest.approx(k * q / (1.0 - q) + e * q, rel=1e-12)
    assert exact_fraction_bound(math.exp(lx[0]), k, e) == pytest.approx(q, rel=1e-10)
    assert (dt[0, 0], dt[0, 1], dt[0, 2], dt[0, 3]) == (q, 1.0 - q, 0.0, 0.0)
    if q == 0.5:
        assert math.exp(lx[0]) == pytest.approx(k + e / 2.0, rel=1e-14)
    # the inverse: the concentration where the curve has a given response
    assert M.log_conc_at(P, 100.0 * (1.0 - q))[0] == pytest.approx(lx[0], rel=1e-12, abs=1e-12)
    assert np.isnan(M.log_conc_at(P, 120.0)[0]) and np.isnan(M.log_conc_at(P, -1.0)[0])


def test_ic50_is_ki_app_plus_half_the_enzyme_in_a_fit() -> None:
    res = mp.fit(X, simulate(1), model="morrison", conc_unit="nM", fixed={"enzyme": "2 nM"})
    assert float(res.ic50.magnitude) == pytest.approx(float(res.params["ki_app"]) + 1.0, rel=1e-12)
    assert float(M(np.array([float(res.ic50.magnitude)]), top=float(res.params["top"]),
                   ki_app=float(res.params["ki_app"]), enzyme=2.0)[0]) == pytest.approx(
        float(res.params["top"]) / 2.0, rel=1e-12)


def test_without_enzyme_depletion_it_is_the_hill_1_log_logistic() -> None:
    x = np.geomspace(1e-3, 1e3, 25)
    four = mp.models.four_pl(x, 5.0, 95.0, 0.7, 1.0)
    np.testing.assert_allclose(M(x, bottom=5.0, top=95.0, ki_app=0.7, enzyme=0.0), four, rtol=1e-14)
    np.testing.assert_allclose(M(x, bottom=5.0, top=95.0, ki_app=0.7, enzyme=1e-9), four, rtol=2e-9)
    # and the fits agree: enzyme fixed at 0 against the 4PL with hill fixed at 1 and bottom at 0
    y = mp.models.four_pl(X, 0.0, 100.0, 0.6, 1.0) + np.random.default_rng(2).normal(0.0, 1.5, X.size)
    mor = mp.fit(X, y, model="morrison", conc_unit="nM", fixed={"enzyme": 0.0})
    ll = mp.fit(X, y, model="4pl", conc_unit="nM", fixed={"hill": 1.0, "bottom": 0.0})
    assert float(mor.rss) == pytest.approx(float(ll.rss), rel=1e-10)
    assert float(mor.params["ki_app"]) == pytest.approx(float(ll.params["ic50"]), rel=1e-8)
    assert float(mor.stderr["ki_app"]) == pytest.approx(float(ll.stderr["ic50"]), rel=1e-6)
    assert float(mor.params["enzyme"]) == 0.0 and int(mor.status) == int(ll.status) == 0


def test_vehicle_and_saturation_are_the_plateaus_with_finite_derivatives() -> None:
    P = np.array([[5.0, 95.0, math.log(0.5), math.log(2.0)], [5.0, 95.0, math.log(0.5), -np.inf]])
    lx = np.array([[-np.inf, 80.0], [-np.inf, 80.0]])
    f, cols = M.evaluate(lx, P, jacobian=True)
    np.testing.assert_allclose(f, [[95.0, 5.0], [95.0, 5.0]], rtol=1e-12)
    assert all(np.isfinite(c).all() for c in cols)
    assert np.isfinite(M.dlogx(lx, P)).all()


@given(
    bottom=st.floats(-20, 20), top=st.floats(30, 200), lk=st.floats(-6, 6), le=st.floats(-6, 6),
)
def test_jacobian_and_dlogx_are_the_exact_derivatives(bottom: float, top: float, lk: float, le: float) -> None:
    P = np.array([[bottom, top, lk, le]])
    x = np.r_[1e-3, 0.1, 1.0, 3.0, 30.0, 1e3]
    _, cols = M.evaluate(np.log(x)[None, :], P, jacobian=True)
    h = 1e-30
    base = np.array([bottom, top, lk, le], dtype=complex)
    for j in range(4):
        th = base.copy()
        th[j] += 1j * h
        exact = textbook(x.astype(complex), th[1], np.exp(th[2]), np.exp(th[3]), th[0]).imag / h
        np.testing.assert_allclose(cols[j][0], exact, rtol=1e-8, atol=1e-10 * (1 + abs(top - bottom)))
    xc = x.astype(complex) * np.exp(1j * h)  # d/d ln x
    exact = textbook(xc, top, math.exp(lk), math.exp(le), bottom).imag / h
    np.testing.assert_allclose(M.dlogx(np.log(x)[None, :], P)[0], exact, rtol=1e-8,
                               atol=1e-10 * (1 + abs(top - bottom)))


# ---------------------------------------------------------------- against a tight least-squares fit
@pytest.mark.parametrize(
    ("layout", "truth"),
    [
        ("tk", dict(k=0.6)),  # the usual fit: E known, bottom 0
        ("tke", dict(k=0.3, e=5.0)),  # the active enzyme concentration fitted too
        ("tkb", dict(k=0.6, bottom=4.0)),  # E known, bottom fitted
    ],
)
def test_estimates_rss_and_standard_errors_match_a_tight_least_squares_fit(layout: str, truth: dict) -> None:
    y = simulate(3, noise=0.8, **truth)
    fixed = None if layout == "tke" else {"enzyme": "2 nM"}
    # bottom free: the family without its default (a custom family through the same path)
    model = dataclasses.replace(M, name="morrison_b", default_fixed={}) if layout == "tkb" else M
    if layout == "tke":
        model = mp.models.MODELS["morrison_e"]  # the enzyme fitted too
    res = mp.fit(X, y, model=model, conc_unit="nM", fixed=fixed)
    theta0 = {"tk": [90.0, 0.0], "tke": [90.0, 0.0, 0.0], "tkb": [90.0, 0.0, 0.0]}[layout]
    theta = tight(X, y, theta0, layout)
    r, _ = residual_and_jacobian(theta, X, y, layout)
    assert res.status == mp.FitStatus.OK
    assert float(res.rss) == pytest.approx(float(r @ r), rel=1e-10)
    est = {"top": theta[0], "ki_app": math.exp(theta[1])}
    if layout == "tke":
        est["enzyme"] = math.exp(theta[2])
    if layout == "tkb":
        est["bottom"] = theta[2]
    se = gauss_newton_se(theta, X, y, layout)
    for j, (name, value) in enumerate(est.items()):
        # the generic solver ends with Newton steps: converged to ~1e-9 like the compiled one
        assert float(res.params[name]) == pytest.approx(value, rel=1e-9, abs=1e-9), name
        assert float(res.stderr[name]) == pytest.approx(se[j], rel=1e-6), name


def test_synthetic_batch_recovers_the_truth_with_calibrated_standard_errors() -> None:
    rng = np.random.default_rng(20)
    Y = textbook(X, 100.0, 0.6, ENZYME).real + rng.normal(0.0, 1.5, (300, X.size))
    res = mp.fit(X, Y, model="morrison", conc_unit="nM", fixed={"enzyme": "2 nM"})
    assert np.all(res.status & (mp.FitStatus.NOT_CONVERGED | mp.FitStatus.TOO_FEW_POINTS) == 0)
    z = (np.log(res.params["ki_app"]) - math.log(0.6)) / (res.stderr["ki_app"] / res.params["ki_app"])
    # z follows Student's t on 11 degrees of freedom (13 points, 2 free parameters): sd sqrt(11/9) = 1.106
    assert abs(float(np.median(z))) < 0.2
    assert 0.95 < float(np.std(z)) < 1.3
    low, high = res.ci("ki_app")
    covered = float(np.mean((low.magnitude < 0.6) & (high.magnitude > 0.6)))
    assert 0.9 < covered < 0.99


# ---------------------------------------------------------------- statuses: the engine's rules
def test_flat_too_few_and_bound_limited_curves_are_flagged_per_curve() -> None:
    rng = np.random.default_rng(5)
    good = simulate(6)
    flat = 80.0 + rng.normal(0.0, 2.0, X.size)
    few = np.full(X.size, np.nan)
    few[[0, 5]] = [100.0, 40.0]
    titration = textbook(X, 100.0, 1e-12, 20.0).real + rng.normal(0.0, 0.2, X.size)  # K far below anything
    res = mp.fit(X, np.stack([good, flat, few, titration]), model="morrison", conc_unit="nM",
                 fixed={"enzyme": "20 nM"})
    st_ = res.status
    assert st_[0] & (mp.FitStatus.FLAT_RESPONSE | mp.FitStatus.NOT_CONVERGED | mp.FitStatus.TOO_FEW_POINTS) == 0
    assert st_[1] & mp.FitStatus.FLAT_RESPONSE and np.isnan(res.ic50.magnitude[1])
    assert st_[2] == mp.FitStatus.TOO_FEW_POINTS and np.isnan(res.rss[2])
    assert st_[3] & mp.FitStatus.AT_BOUND  # ki_app on its lower bound: 1e-6 x the lowest concentration
    assert float(res.params["ki_app"][3]) == pytest.approx(X[X > 0].min() * 1e-6, rel=1e-6)


def test_ic50_outside_the_tested_range_is_flagged() -> None:
    x = np.r_[0.0, 0.01, 0.03, 0.1, 0.3, 1.0]
    y = textbook(x, 100.0, 50.0, 2.0).real + np.random.default_rng(7).normal(0.0, 0.5, x.size)
    res = mp.fit(x, y, model="morrison", conc_unit="nM", fixed={"enzyme": "2 nM"})
    assert res.status & mp.FitStatus.IC50_OUTSIDE_RANGE


# ---------------------------------------------------------------- units and bad input
@settings(max_examples=40, deadline=None)
@given(lk=st.floats(-2.0, 2.0), le=st.floats(-2.0, 1.5), seed=st.integers(0, 2**31 - 1))
def test_nanomolar_and_micromolar_data_give_the_same_ki_in_molar(lk: float, le: float, seed: int) -> None:
    k, e = 10.0**lk, 10.0**le
    y = textbook(X, 100.0, k, e).real + np.random.default_rng(seed).normal(0.0, 1.0, X.size)
    nm = mp.fit(X, y, model="morrison", conc_unit="nM", fixed={"enzyme": mp.Q_(e, "nM")})
    um = mp.fit(X / 1000.0, y, model="morrison", conc_unit="uM", fixed={"enzyme": mp.Q_(e / 1000.0, "uM")})
    assert nm.conc_unit != um.conc_unit
    assert int(nm.status) == int(um.status)
    k_nm = nm.params["ki_app"] * 1e-9
    k_um = um.params["ki_app"] * 1e-6
    assert float(k_um) == pytest.approx(float(k_nm), rel=1e-9)
    assert float(um.rss) == pytest.approx(float(nm.rss), rel=1e-9)
    assert float(um.stderr["ki_app"]) * 1e-6 == pytest.approx(float(nm.stderr["ki_app"]) * 1e-9, rel=1e-6)


@given(bad=st.sampled_from([-1.0, float("nan"), "1 s", "abc", 1 + 2j]))
def test_a_bad_enzyme_concentration_is_refused_naming_it(bad: object) -> None:
    with pytest.raises((ValueError, TypeError, UnitError)) as info:
        mp.fit(X, simulate(1), model="morrison", conc_unit="nM", fixed={"enzyme": bad})
    assert "enzyme" in str(info.value)


def test_the_curve_refuses_missing_parameters_and_fits_leave_no_warnings() -> None:
    with pytest.raises(TypeError, match="enzyme"):
        M(np.array([1.0]), top=100.0, ki_app=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Y = np.stack([simulate(9), np.full(X.size, 50.0), np.zeros(X.size)])
        res = mp.fit(X, Y, model="morrison", conc_unit="nM", fixed={"enzyme": 2.0})
    assert res.shape == (3,)


@pytest.mark.parametrize("model", ["morrison", "biphasic"])
def test_summary_table_names_concentration_parameters_with_their_unit(model: str) -> None:
    # (it looked for unitless 'ki_app' / 'ic50_1' columns and raised a KeyError)
    fixed = {"enzyme": "2 nM"} if model == "morrison" else None
    y = simulate(4) if model == "morrison" else mp.models.MODELS["biphasic"](
        X, bottom=0, top=100, ic50_1=0.05, hill_1=1, ic50_2=10.0, hill_2=1, frac=0.5)
    res = mp.fit(X, y, model=model, conc_unit="nM", fixed=fixed)
    table = mp.summary_table(res)
    conc = [n for n in res.param_names if n in M.conc_params or n.startswith("ic50_")]
    for name in conc:
        assert float(table[f"{name} [nM]"].iloc[0]) == pytest.approx(float(res.params[name]))
        assert f"{name}_stderr [nM]" in table
