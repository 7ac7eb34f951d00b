"""The family contract and the new families (issue #13): log-normal (compiled), Brain-Cousens,
Cedergreen-Ritz-Streibig and biphasic (generic batched solver), each against formulas written
here from drc's / Prism's documentation and fitted by tight scipy least squares."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special
from scipy.optimize import least_squares

import mtor_pharm as mp
from mtor_pharm.errors import UnknownModelError

LETTUCE = json.loads((Path(__file__).parent / "data" / "drc_lettuce.json").read_text())
LX = np.array(LETTUCE["conc"], dtype=float)
LY = np.array(LETTUCE["weight"], dtype=float)

XS = np.r_[0.0, 0.0, 10.0 ** np.linspace(-3, 2, 11)]  # vehicle + 11 concentrations (uM)


# ---------------------------------------------------------------- formulas written from the documentation
def bc(x: np.ndarray, b: float, c: float, d: float, e: float, f: float) -> np.ndarray:
    """drc braincousens: c + (d - c + f x) / (1 + exp(b (log x - log e)))."""
    with np.errstate(divide="ignore", over="ignore"):
        return c + (d - c + f * x) / (1.0 + np.exp(b * (np.log(x) - np.log(e))))


def crs(x: np.ndarray, b: float, c: float, d: float, e: float, f: float) -> np.ndarray:
    """drc cedergreen, alpha = 1: c + (d - c + f exp(-1/x)) / (1 + exp(b (log x - log e)))."""
    with np.errstate(divide="ignore", over="ignore"):
        return c + (d - c + f * np.exp(-1.0 / x)) / (1.0 + np.exp(b * (np.log(x) - np.log(e))))


def ln4(x: np.ndarray, b: float, c: float, d: float, e: float) -> np.ndarray:
    """drc LN.4: c + (d - c) Phi(b (log x - log e)) (falling for b < 0)."""
    with np.errstate(divide="ignore"):
        return c + (d - c) * special.ndtr(b * (np.log(x) - np.log(e)))


def biphasic(
    x: np.ndarray, bottom: float, top: float, l1: float, h1: float, l2: float, h2: float, fr: float
) -> np.ndarray:
    """Prism's biphasic: Bottom + Span [Frac / (1 + (x/IC50_1)^h1) + (1 - Frac) / (1 + (x/IC50_2)^h2)]."""
    with np.errstate(divide="ignore", over="ignore"):
        s1 = 1.0 / (1.0 + (x / np.exp(l1)) ** h1)
        s2 = 1.0 / (1.0 + (x / np.exp(l2)) ** h2)
    return bottom + (top - bottom) * (fr * s1 + (1.0 - fr) * s2)


def tight(f: Callable[..., np.ndarray], x: np.ndarray, y: np.ndarray, p0: list[float]) -> least_squares:
    return least_squares(lambda p: f(x, *p) - y, p0, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=50000)


def se_of(ref: least_squares, n: int) -> np.ndarray:
    J = ref.jac
    s2 = 2 * ref.cost / (n - J.shape[1])
    return np.sqrt(np.diag(np.linalg.inv(J.T @ J)) * s2)


# ---------------------------------------------------------------- the registry and the contract
def test_every_registered_family_satisfies_the_contract_and_names_its_counterpart() -> None:
    for name, m in mp.models.MODELS.items():
        assert isinstance(m, mp.models.ModelFamily), name
        assert len(m.kinds) == len(m.param_names)
        assert set(m.kinds) <= set(mp.models.PARAM_KINDS)
        assert m.param_names[:2] == ("bottom", "top")
        assert "drc" in m.description or "Prism" in m.description or name == "2pl", name
    assert {"lognormal", "bc4", "bc5", "crs4", "crs5", "biphasic"} <= set(mp.models.MODELS)
    assert mp.models.MODELS["lognormal"].compiled == "lognormal"
    assert mp.models.MODELS["biphasic"].compiled is None


def test_a_custom_shape_model_fits_through_the_generic_path_with_the_compiled_optimum() -> None:
    four = mp.models.MODELS["4pl"]
    custom = dataclasses.replace(four, name="my4pl", _shape=lambda z, s: four._shape(z, s))
    assert custom.compiled is None
    y = mp.models.four_pl(XS, 3, 97, 0.2, 1.1) + np.random.default_rng(3).normal(0, 2, XS.size)
    ref = mp.fit(XS, y, model="4pl", conc_unit="uM")
    res = mp.fit(XS, y, model=custom, conc_unit="uM")
    assert res.model == "my4pl"
    assert float(res.rss) == pytest.approx(float(ref.rss), rel=1e-9)
    for k in four.param_names:
        assert float(res.params[k]) == pytest.approx(float(ref.params[k]), rel=1e-6)
        assert float(res.stderr[k]) == pytest.approx(float(ref.stderr[k]), rel=1e-5)
    assert int(res.status) == int(ref.status)


def test_a_model_with_an_unknown_compiled_shape_is_refused_with_the_list_never_a_keyerror() -> None:
    @dataclasses.dataclass(frozen=True)
    class Odd:
        name: str = "odd"
        compiled: str = "tanh"

    from mtor_pharm.fitting import _engine

    with pytest.raises(UnknownModelError, match="(?i)compiled shapes: .*logistic.*registered families"):
        _engine.family_id(Odd())  # type: ignore[arg-type]


def test_the_compiled_solver_refuses_a_family_number_it_does_not_have() -> None:
    from mtor_pharm.fitting import _kernels

    z1, z2 = np.zeros((1, 2)), np.zeros((1, 4))
    out = (np.zeros((1, 4)), np.zeros(1), np.zeros(1, np.uint8), np.zeros(1), np.zeros((1, 4, 4)))
    with pytest.raises(ValueError, match="compiled shape families"):
        _kernels.solve_block(
            99, True, False, np.ones(1, bool), z1, z1, z1, np.zeros(1), np.zeros(1), z2, z2, z2,
            np.zeros(1), np.ones(4, bool), 0, False, 10, *out,
        )


# ---------------------------------------------------------------- log-normal (compiled)
def test_lognormal_matches_a_tight_fit_of_drcs_ln4_formula() -> None:
    y = ln4(XS, -1.3, 5, 95, 0.4) + np.random.default_rng(0).normal(0, 3, XS.size)
    res = mp.fit(XS, y, model="lognormal", conc_unit="uM")
    ref = tight(ln4, XS, y, [-1.3, 5, 95, 0.4])
    b, c, d, e = ref.x
    assert res.status == mp.FitStatus.OK
    assert float(res.rss) == pytest.approx(2 * ref.cost, rel=1e-10)
    assert float(res.params["hill"]) == pytest.approx(-b, rel=1e-6)  # hill = -b: hill > 0 falls
    assert float(res.params["bottom"]) == pytest.approx(c, rel=1e-6)
    assert float(res.params["top"]) == pytest.approx(d, rel=1e-6)
    assert float(res.params["ic50"]) == pytest.approx(e, rel=1e-6)
    se = se_of(ref, XS.size)
    assert float(res.stderr["hill"]) == pytest.approx(se[0], rel=1e-5)
    assert float(res.stderr["top"]) == pytest.approx(se[2], rel=1e-5)


def test_lognormal_icx_is_its_closed_form() -> None:
    y = ln4(XS, -0.9, 0, 100, 2.0) + np.random.default_rng(1).normal(0, 2, XS.size)
    res = mp.fit(XS, y, model="lognormal", conc_unit="uM")
    ic50, hill = float(res.params["ic50"]), float(res.params["hill"])
    assert float(res.ic50.magnitude) == pytest.approx(ic50, rel=1e-12)
    assert float(res.icx(90).magnitude) == pytest.approx(ic50 * np.exp(special.ndtri(0.9) / hill), rel=1e-10)


@pytest.mark.parametrize("falling", [True, False])
def test_lognormal_hill_above_zero_means_falling_with_top_above_bottom(falling: bool) -> None:
    y = ln4(XS, -1.0 if falling else 1.0, 10, 90, 0.3) + np.random.default_rng(2).normal(0, 2, XS.size)
    res = mp.fit(XS, y, model="lognormal", conc_unit="uM")
    assert float(res.params["top"]) >= float(res.params["bottom"])
    assert (float(res.params["hill"]) > 0) == falling


# ---------------------------------------------------------------- hormesis (generic)
def test_bc4_on_drcs_lettuce_matches_a_tight_fit_of_the_bc4_formula() -> None:
    res = mp.fit(LX, LY, model="bc4", conc_unit="uM")
    ref = tight(lambda x, b, d, e, f: bc(x, b, 0.0, d, e, f), LX, LY, [1.3, 1.0, 0.8, 1.5])
    b, d, e, f = ref.x
    assert res.status == mp.FitStatus.OK
    assert float(res.params["bottom"]) == 0.0 and res.fixed == ("bottom",)
    assert float(res.rss) == pytest.approx(2 * ref.cost, rel=1e-10)
    for name, v in (("hill", b), ("top", d), ("xmid", e), ("f", f)):
        assert float(res.params[name]) == pytest.approx(v, rel=1e-6), name
    se = se_of(ref, LX.size)
    for name, v in zip(("hill", "top", "xmid", "f"), se, strict=True):
        assert float(res.stderr[name]) == pytest.approx(v, rel=1e-5), name
    # the hormetic rise: the fitted curve peaks above the control level
    grid = mp.Q_(np.geomspace(0.01, 100, 200), "uM")
    assert res.predict(grid).max() > float(res.params["top"]) + 0.1


def test_bc4_on_lettuce_reaches_drcs_published_fit_or_a_lower_rss() -> None:
    """drc's printed BC.4 fit (?lettuce): our optimum is the exact one (scipy agrees to 1e-10
    above); drc stops slightly short of it, so its estimates agree to its precision and its
    RSS, recomputed from its printed estimates, is not below ours."""
    ref = LETTUCE["BC.4"]
    res = mp.fit(LX, LY, model="bc4", conc_unit="uM")
    assert float(res.rss) == pytest.approx(ref["rss"], abs=5e-7)  # printed to 6 digits
    assert float(res.sigma) == pytest.approx(ref["residual_se"], rel=1e-5)
    rss_drc = float(np.sum((bc(LX, ref["b"], 0.0, ref["d"], ref["e"], ref["f"]) - LY) ** 2))
    assert float(res.rss) <= rss_drc
    for name, key, rel in (("hill", "b", 1e-3), ("top", "d", 1e-3), ("xmid", "e", 3e-3), ("f", "f", 3e-3)):
        assert float(res.params[name]) == pytest.approx(ref[key], rel=rel), name
    # drc's standard errors come from optim's numerical Hessian of the RSS (second-order terms
    # included), ours from the Gauss-Newton JᵀJ (as R's nls): the same order, not the same digits
    for name, key in (("hill", "b"), ("top", "d"), ("xmid", "e"), ("f", "f")):
        assert 0.5 < float(res.stderr[name]) / ref["se"][key] < 2.0, name


def test_crs5b_on_lettuce_finds_a_lower_rss_than_drcs_local_fit_and_flags_it() -> None:
    """drc's CRS.5b fit of lettuce (?ml4b) is a local optimum (RSS 0.1227); the least-squares
    infimum lies further, with xmid -> 0 and f -> infinity: we find a lower RSS there and
    flag the fit instead of reporting such estimates as an optimum."""
    ref = LETTUCE["CRS.5b"]
    res = mp.fit(LX, LY, model="crs5b", conc_unit="uM")
    with np.errstate(divide="ignore"):
        drc_curve = ref["c"] + (ref["d"] - ref["c"] + ref["f"] * np.exp(-1.0 / np.sqrt(LX))) / (
            1.0 + np.exp(ref["b"] * (np.log(LX) - np.log(ref["e"])))
        )
    rss_drc = float(np.sum((drc_curve - LY) ** 2))
    assert rss_drc == pytest.approx(ref["residual_se"] ** 2 * ref["df"], rel=1e-5)  # the formula is drc's
    assert float(res.rss) < rss_drc
    assert res.status & mp.FitStatus.NOT_CONVERGED
    assert np.isnan(float(res.ic50.magnitude))


@pytest.mark.parametrize(
    ("model", "formula", "truth"),
    [
        ("bc5", bc, dict(b=2.0, c=10.0, d=100.0, e=1.0, f=60.0)),
        ("crs5", crs, dict(b=2.5, c=10.0, d=100.0, e=2.0, f=80.0)),
        ("crs4", crs, dict(b=2.0, c=0.0, d=100.0, e=2.0, f=90.0)),
    ],
)
def test_hormesis_families_match_tight_fits_of_drcs_formulas(
    model: str, formula: Callable[..., np.ndarray], truth: dict[str, float]
) -> None:
    x = np.repeat(np.r_[0.0, 10.0 ** np.linspace(-2, 2, 9)], 2)
    y = formula(x, **truth) + np.random.default_rng(4).normal(0, 2.0, x.size)
    res = mp.fit(x, y, model=model, conc_unit="uM")
    if model == "crs4":
        ref = tight(lambda x, b, d, e, f: formula(x, b, 0.0, d, e, f), x, y, [truth[k] for k in "bdef"])
        names = ("hill", "top", "xmid", "f")
    else:
        ref = tight(formula, x, y, [truth[k] for k in "bcdef"])
        names = ("hill", "bottom", "top", "xmid", "f")
    assert res.status & ~mp.FitStatus.IC50_OUTSIDE_RANGE == 0
    assert float(res.rss) == pytest.approx(2 * ref.cost, rel=1e-9)
    for name, v in zip(names, ref.x, strict=True):
        assert float(res.params[name]) == pytest.approx(v, rel=1e-5, abs=1e-8), name


def test_hormesis_is_the_same_fit_in_any_concentration_unit() -> None:
    y = bc(XS, 1.5, 5.0, 100.0, 1.0, 40.0) + np.random.default_rng(5).normal(0, 2, XS.size)
    um = mp.fit(XS, y, model="bc5", conc_unit="uM")
    nm = mp.fit(XS * 1000, y, model="bc5", conc_unit="nM")
    assert float(nm.rss) == pytest.approx(float(um.rss), rel=1e-9)
    assert float(nm.params["xmid"]) == pytest.approx(1000 * float(um.params["xmid"]), rel=1e-6)
    assert float(nm.params["f"]) == pytest.approx(float(um.params["f"]) / 1000, rel=1e-6)  # f is per concentration
    assert float(nm.ic50.to("uM").magnitude) == pytest.approx(float(um.ic50.magnitude), rel=1e-6)


def test_hormesis_icx_lies_on_the_falling_branch_at_the_target_response() -> None:
    y = bc(XS, 1.5, 5.0, 100.0, 1.0, 40.0) + np.random.default_rng(6).normal(0, 2, XS.size)
    res = mp.fit(XS, y, model="bc5", conc_unit="uM")
    top, bottom = float(res.params["top"]), float(res.params["bottom"])
    for p in (20, 50, 80):
        c = res.icx(p)
        assert float(res.predict(c)) == pytest.approx(top + p / 100 * (bottom - top), abs=1e-8)
        peak = np.geomspace(1e-4, float(c.magnitude), 2000)
        assert res.predict(mp.Q_(peak, "uM")).max() > top  # the rise comes before it
    lo, hi = res.ci("ic50")
    assert float(lo.magnitude) < float(res.ic50.magnitude) < float(hi.magnitude)
    assert float(res.conc_at(top).magnitude) < float(res.ic50.magnitude)  # top is first crossed on the rise


# ---------------------------------------------------------------- biphasic (generic)
TRUTH_BI = [5.0, 100.0, np.log(0.003), 1.2, np.log(3.0), 1.0, 0.4]


def test_biphasic_matches_a_tight_fit_of_prisms_formula_curve_by_curve_in_a_batch() -> None:
    x = np.r_[0.0, 10.0 ** np.linspace(-4, 2, 13)]
    rng = np.random.default_rng(7)
    Y = biphasic(x, *TRUTH_BI) + rng.normal(0, 2, (6, x.size))
    res = mp.fit(x, Y, model="biphasic", conc_unit="uM")
    assert res.shape == (6,)
    for i in range(6):
        ref = tight(biphasic, x, Y[i], TRUTH_BI)
        assert float(res.rss[i]) == pytest.approx(2 * ref.cost, rel=1e-9)
        got = [float(res.params[k][i]) for k in res.param_names]
        got[2], got[4] = np.log(got[2]), np.log(got[4])
        np.testing.assert_allclose(got, ref.x, rtol=1e-5, atol=1e-7)
        se = se_of(ref, x.size)
        assert float(res.stderr["frac"][i]) == pytest.approx(se[6], rel=1e-4)
        assert float(res.stderr["ic50_2"][i]) == pytest.approx(np.exp(ref.x[4]) * se[4], rel=1e-4)
        one = mp.fit(x, Y[i], model="biphasic", conc_unit="uM")  # a curve's fit does not depend on the batch
        assert float(one.rss) == pytest.approx(float(res.rss[i]), rel=1e-12)
    assert np.all(res.status == 0)
    assert np.all(res.params["ic50_1"] < res.params["ic50_2"])  # sites reported in order


def test_biphasic_ic50_is_where_the_curve_is_half_way() -> None:
    x = np.r_[0.0, 10.0 ** np.linspace(-4, 2, 13)]
    y = biphasic(x, *TRUTH_BI) + np.random.default_rng(8).normal(0, 2, x.size)
    res = mp.fit(x, y, model="biphasic", conc_unit="uM")
    mid = 0.5 * (float(res.params["top"]) + float(res.params["bottom"]))
    assert float(res.predict(res.ic50)) == pytest.approx(mid, abs=1e-8)
    assert float(res.icx(90).magnitude) > float(res.ic50.magnitude)


def test_biphasic_accepts_fixed_and_bounds_by_name_with_units() -> None:
    x = np.r_[0.0, 10.0 ** np.linspace(-4, 2, 13)]
    y = biphasic(x, *TRUTH_BI) + np.random.default_rng(9).normal(0, 2, x.size)
    res = mp.fit(x, y, model="biphasic", conc_unit="uM", fixed={"frac": 0.5, "bottom": 0.0},
                 bounds={"ic50_2": (mp.Q_(100, "nM"), mp.Q_(100, "uM"))})
    assert float(res.params["frac"]) == 0.5 and float(res.stderr["frac"]) == 0.0
    assert 0.1 <= float(res.params["ic50_2"]) <= 100
    assert res.n_free == 5


# ---------------------------------------------------------------- statuses: the same rules as the compiled path
@pytest.mark.parametrize("model", ["bc5", "biphasic", "crs4"])
def test_generic_families_flag_flat_and_too_few_per_curve_without_failing_the_batch(model: str) -> None:
    x = np.r_[0.0, 10.0 ** np.linspace(-4, 2, 13)]
    rng = np.random.default_rng(10)
    good = biphasic(x, *TRUTH_BI) if model == "biphasic" else bc(x, 2.0, 10.0, 100.0, 0.5, 30.0)
    Y = np.stack([good + rng.normal(0, 1, x.size), 50 + rng.normal(0, 1, x.size), np.full(x.size, np.nan)])
    Y[2, :3] = [1.0, 2.0, 3.0]
    res = mp.fit(x, Y, model=model, conc_unit="uM")
    assert res.status[0] & (mp.FitStatus.FLAT_RESPONSE | mp.FitStatus.TOO_FEW_POINTS) == 0
    assert res.status[1] & mp.FitStatus.FLAT_RESPONSE
    assert np.isnan(float(res.ic50[1].magnitude))
    assert res.status[2] == mp.FitStatus.TOO_FEW_POINTS
    assert np.isnan(res.rss[2])


# ---------------------------------------------------------------- the math
@given(
    st.floats(-20, 20), st.floats(30, 200), st.floats(-3, 3), st.floats(0.3, 4), st.floats(-3, 3),
    st.floats(0.3, 4), st.floats(0.05, 0.95), st.sampled_from(["biphasic", "bc5", "crs5"]),
)
def test_jacobian_columns_match_finite_differences(
    b: float, t: float, l1: float, h1: float, l2: float, h2: float, fr: float, model: str
) -> None:
    m = mp.models.MODELS[model]
    P = np.array([[b, t, l1, h1, l2, h2, fr]]) if model == "biphasic" else np.array([[b, t, l1, h1, 10 * fr]])
    lx = np.log(np.r_[1e-3, 0.1, 1.0, 3.0, 30.0])[None, :]
    _, cols = m.evaluate(lx, P, jacobian=True)
    for j in range(P.shape[1]):
        step = 1e-6 * max(1.0, abs(P[0, j]))
        Pp, Pm = P.copy(), P.copy()
        Pp[0, j] += step
        Pm[0, j] -= step
        fd = (m.evaluate(lx, Pp, jacobian=False)[0] - m.evaluate(lx, Pm, jacobian=False)[0]) / (2 * step)
        np.testing.assert_allclose(cols[j], fd, rtol=1e-5, atol=1e-6 * max(1.0, abs(t - b)))
    g = m.dlogx(lx, P)
    fd = (m.evaluate(lx + 1e-6, P, jacobian=False)[0] - m.evaluate(lx - 1e-6, P, jacobian=False)[0]) / 2e-6
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6 * max(1.0, abs(t - b)))


@given(st.floats(-50, 50), st.floats(-50, 150), st.floats(0.01, 100), st.floats(0.2, 5), st.floats(0.01, 0.99))
def test_vehicle_response_is_top_and_high_dose_response_is_bottom(
    bottom: float, top: float, ic50: float, hill: float, frac: float
) -> None:
    bi = mp.models.MODELS["biphasic"]
    v = bi(
        np.array([0.0, np.inf]), bottom=bottom, top=top, ic50_1=ic50, hill_1=hill, ic50_2=10 * ic50, hill_2=hill,
        frac=frac,
    )
    np.testing.assert_allclose(v, [top, bottom], atol=1e-9 * (1 + abs(top) + abs(bottom)))
    for name in ("bc5", "crs5"):
        v0 = mp.models.MODELS[name](0.0, bottom=bottom, top=top, xmid=ic50, hill=hill, f=frac)
        assert float(v0) == pytest.approx(top)


def test_model_call_refuses_missing_parameters_with_their_names() -> None:
    with pytest.raises(TypeError, match="frac"):
        mp.models.MODELS["biphasic"](1.0, bottom=0, top=100, ic50_1=1, hill_1=1, ic50_2=10, hill_2=1)


@given(
    st.floats(0.5, 3.0), st.floats(0.02, 50.0), st.floats(0.0, 30.0), st.floats(5.0, 95.0),
    st.sampled_from(["bc5", "crs5", "biphasic"]),
)
def test_icx_and_conc_at_invert_the_curve(hill: float, loc: float, f: float, p: float, model: str) -> None:
    m = mp.models.MODELS[model]
    if model == "biphasic":
        P = np.array([[10.0, 100.0, np.log(loc), hill, np.log(loc) + 4.0, 1.0, min(f / 30.0, 1.0)]])
    else:
        P = np.array([[10.0, 100.0, np.log(loc), hill + 1.0, f]])  # hill > 1: the curve comes down to bottom
    lx, dt = m.log_icx(P, p / 100)
    target = 100.0 + p / 100 * (10.0 - 100.0)
    assert np.isfinite(lx[0])
    assert float(m.evaluate(lx[:, None], P, jacobian=False)[0][0, 0]) == pytest.approx(target, abs=1e-7)
    assert dt[0, 0] == pytest.approx(p / 100) and dt[0, 1] == pytest.approx(1 - p / 100)
    back = m.log_conc_at(P, target)
    assert back[0] == pytest.approx(lx[0], abs=1e-9)
    # nothing below the lowest crossing: the curve stays above the target before it
    grid = np.linspace(lx[0] - 30, lx[0] - 1e-6, 500)[None, :]
    assert np.all(m.evaluate(grid, P, jacobian=False)[0] > target - 1e-7)


def test_a_generic_family_is_fitted_globally_from_both_entry_points() -> None:
    # mp.fit(share=...) and compare.fit_shared take the same families (the global solver
    # evaluates a family without a compiled shape through its own curve and Jacobian)
    x = np.r_[0.0, 10.0 ** np.linspace(-4, 2, 12)]
    y = bc(x, 1.2, 5.0, 100.0, 1.0, 3.0) + np.random.default_rng(11).normal(0, 2, (3, x.size))
    via_fit = mp.fit(x, y, model="bc5", conc_unit="uM", share=("hill",))
    via_compare = mp.compare.fit_shared(x, y, model="bc5", conc_unit="uM", share=("hill",))
    assert via_fit.status.tolist() == via_compare.status.tolist() == [0, 0, 0]
    np.testing.assert_array_equal(via_fit.params["hill"], via_compare.params["hill"])
    assert np.ptp(via_fit.params["hill"]) == 0.0  # one hill for the three curves
    separate = mp.fit(x, y, model="bc5", conc_unit="uM")
    assert float(via_fit.rss) >= float(np.sum(separate.rss))  # the constrained fit cannot fit better


def test_generic_fits_do_not_depend_on_the_batch_or_the_workers() -> None:
    x = np.r_[0.0, 10.0 ** np.linspace(-4, 2, 12)]
    rng = np.random.default_rng(12)
    Y = bc(x, 1.5, 5.0, 100.0, 0.5, 20.0) + rng.normal(0, 2, (1200, x.size))
    Y[3] = 50.0  # an exactly flat curve (singular steps) in the same block
    res = mp.fit(x, Y, model="bc5", conc_unit="uM", workers=2)
    for i in (0, 3, 700, 1199):
        one = mp.fit(x, Y[i], model="bc5", conc_unit="uM")
        assert int(one.status) == int(res.status[i])
        np.testing.assert_array_equal(
            [float(one.params[k]) for k in one.param_names], [float(res.params[k][i]) for k in res.param_names]
        )


def test_potency_ratio_of_two_hormesis_curves_is_the_ratio_of_their_ic50s() -> None:
    from mtor_pharm import compare as cmp

    x = np.r_[0.0, 10.0 ** np.linspace(-3, 2, 12)]
    y = bc(x, 1.5, 5.0, 100.0, np.array([[0.3], [3.0]]), 30.0) + np.random.default_rng(13).normal(0, 2, (2, x.size))
    res = mp.fit(x, y, model="bc5", conc_unit="uM")
    ratio = cmp.potency_ratio(0, 1, fit=res)
    ic50 = res.ic50.magnitude
    assert float(np.asarray(ratio.estimate)) == pytest.approx(ic50[0] / ic50[1], rel=1e-9)
    assert np.isfinite(float(np.asarray(ratio.log_se))) and float(np.asarray(ratio.log_se)) > 0


@pytest.mark.parametrize("name", ["weibull1", "weibull2", "5pl"])
def test_a_custom_asymmetric_shape_keeps_its_own_shape_on_the_generic_path(name: str) -> None:
    # issue #13: a custom Model whose shape has no compiled counterpart is fitted by the
    # generic solver with the compiled engine's rule for asymmetric shapes (top >= bottom,
    # hill's sign the direction): a copy of a compiled family gives that family's fit
    import dataclasses

    ref = mp.models.get_model(name)
    custom = dataclasses.replace(ref, name=f"my_{name}", _shape=lambda z, s: ref._shape(z, s))
    assert custom.compiled is None
    rng = np.random.default_rng(1)
    x = np.geomspace(0.001, 100, 16)
    shape = {"s": 1.5} if name == "5pl" else {}
    y = ref(x, bottom=5, top=100, xmid=0.5, hill=1.3, **shape) + rng.normal(0, 2, (60, 16))
    y[::3] = ref(x, bottom=5, top=100, xmid=0.5, hill=-1.3, **shape) + rng.normal(0, 2, (20, 16))  # rising
    a = mp.fit(mp.Q_(x, "uM"), y, model=ref)
    b = mp.fit(mp.Q_(x, "uM"), y, model=custom)
    assert np.all(b.params["top"] >= b.params["bottom"])
    ok = (a.status & (mp.FitStatus.NOT_CONVERGED | mp.FitStatus.AMBIGUOUS)) == 0
    assert ok.sum() > 40
    np.testing.assert_allclose(b.rss[ok], a.rss[ok], rtol=1e-9)
    np.testing.assert_allclose(b.params["hill"][ok], a.params["hill"][ok], rtol=1e-5)
