"""Model families: closed forms, analytic Jacobians, inverses."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtor_pharm as mp
from mtor_pharm.errors import UnknownModelError
from mtor_pharm.models import MODELS, five_pl, four_pl, get_model, weibull1, weibull2

FAMILIES = ["4pl", "5pl", "weibull1", "weibull2"]


def test_four_pl_closed_form_values() -> None:
    x = np.array([0.0, 0.5, 1.0, 2.0])
    # y = 10 + 90 / (1 + (x/1)^2)
    expected = [100.0, 10 + 90 / 1.25, 55.0, 10 + 90 / 5.0]
    assert four_pl(x, 10.0, 100.0, 1.0, 2.0) == pytest.approx(expected, rel=1e-15)


def test_vehicle_gives_zero_dose_plateau_for_either_sign_of_hill() -> None:
    assert float(four_pl(0.0, 10.0, 100.0, 1.0, 1.5)) == 100.0
    assert float(four_pl(0.0, 10.0, 100.0, 1.0, -1.5)) == 10.0
    for kernel in (weibull1, weibull2):
        assert float(kernel(0.0, 10.0, 100.0, 1.0, 1.5)) == pytest.approx(100.0, abs=1e-12)


def test_five_pl_with_s_one_is_four_pl() -> None:
    x = np.geomspace(1e-3, 1e3, 25)
    assert five_pl(x, 3.0, 97.0, 0.7, 1.3, 1.0) == pytest.approx(four_pl(x, 3.0, 97.0, 0.7, 1.3), rel=1e-13)


def test_five_pl_matches_drc_ll5_form() -> None:
    # drc LL.5: c + (d - c) / (1 + exp(b (log x - log e)))^f
    b, c, d, e, f = 1.7, 5.0, 95.0, 0.3, 0.6
    x = np.geomspace(1e-3, 1e2, 11)
    drc = c + (d - c) / (1 + np.exp(b * (np.log(x) - np.log(e)))) ** f
    assert five_pl(x, c, d, e, b, f) == pytest.approx(drc, rel=1e-13)


def test_weibull_forms_match_drc_w14_and_w24() -> None:
    b, c, d, e = 1.4, 2.0, 90.0, 0.5
    x = np.geomspace(1e-2, 1e2, 9)
    w14 = c + (d - c) * np.exp(-np.exp(b * (np.log(x) - np.log(e))))
    w24 = c + (d - c) * (1 - np.exp(-np.exp(b * (np.log(x) - np.log(e)))))
    assert weibull1(x, c, d, e, b) == pytest.approx(w14, rel=1e-13)
    # our weibull2 uses hill = -b so that hill > 0 falls
    assert weibull2(x, c, d, e, -b) == pytest.approx(w24, rel=1e-13)


def test_get_model_lists_known_names_for_unknown_ones() -> None:
    with pytest.raises(UnknownModelError, match="'4pl'.*'weibull2'"):
        get_model("6pl")
    assert get_model("HILL").name == "2pl"


params = st.tuples(
    st.floats(-20, 20),
    st.floats(50, 150),
    st.floats(-5, 5),
    st.floats(0.3, 4) | st.floats(-4, -0.3),
    st.floats(-1.5, 1.5),
)


@pytest.mark.parametrize("name", FAMILIES)
@given(p=params)
def test_analytic_jacobian_matches_central_differences(name: str, p: tuple[float, ...]) -> None:
    m = MODELS[name]
    P = np.array([p[: m.n_params]])
    lx = np.linspace(-8, 8, 17)[None, :]
    _, cols = m.evaluate(lx, P, jacobian=True)
    for j in range(m.n_params):
        h = 1e-6 * max(1.0, abs(P[0, j]))
        Pp, Pm = P.copy(), P.copy()
        Pp[0, j] += h
        Pm[0, j] -= h
        fd = (m.evaluate(lx, Pp, jacobian=False)[0] - m.evaluate(lx, Pm, jacobian=False)[0]) / (2 * h)
        scale = max(1.0, float(np.abs(fd).max()))
        assert np.abs(cols[j] - fd).max() <= 1e-6 * scale, (name, j)


@pytest.mark.parametrize("name", FAMILIES)
@given(p=params)
def test_dlogx_matches_central_differences(name: str, p: tuple[float, ...]) -> None:
    m = MODELS[name]
    P = np.array([p[: m.n_params]])
    lx = np.linspace(-6, 6, 13)[None, :]
    h = 1e-6
    fd = (m.evaluate(lx + h, P, jacobian=False)[0] - m.evaluate(lx - h, P, jacobian=False)[0]) / (2 * h)
    assert np.abs(m.dlogx(lx, P) - fd).max() <= 1e-6 * max(1.0, float(np.abs(fd).max()))


@pytest.mark.parametrize("name", FAMILIES)
@given(S=st.floats(1e-9, 1 - 1e-9), log_s=st.floats(-1.5, 1.5))
def test_inverse_shape_round_trip(name: str, S: float, log_s: float) -> None:
    m = MODELS[name]
    ls = np.array([log_s]) if m.has_s else None
    z = m.inverse_shape(np.array([S]), ls)
    back, _ = m.shape(z, ls)
    assert back[0] == pytest.approx(S, rel=1e-9, abs=1e-15)


def test_jacobian_is_finite_at_vehicle() -> None:
    for name in FAMILIES:
        m = MODELS[name]
        P = np.array([[5.0, 95.0, 0.0, 1.2, 0.3][: m.n_params], [5.0, 95.0, 0.0, -1.2, 0.3][: m.n_params]])
        f, cols = m.evaluate(np.full((2, 1), -np.inf), P, jacobian=True)
        assert np.isfinite(f).all() and all(np.isfinite(c).all() for c in cols), name


def test_model_call_requires_all_parameters() -> None:
    with pytest.raises(TypeError, match="needs parameters"):
        mp.models.get_model("4pl")(1.0, bottom=0, top=100)
