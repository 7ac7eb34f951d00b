"""Asymmetric families keep their own shape (issue #13): weibull1 is drc's W1.4, weibull2 its W2.4."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import least_squares

import mtor_pharm as mp

DATA = json.loads((Path(__file__).parent / "data" / "drc_s_capricornutum.json").read_text())
X = np.array(DATA["conc"], dtype=float)
Y = np.array(DATA["response"], dtype=float)


def _w1(x: np.ndarray, b: float, c: float, d: float, e: float) -> np.ndarray:
    """drc's W1.4 written from its formula: c + (d - c) exp(-exp(b (log x - log e)))."""
    with np.errstate(divide="ignore"):
        return c + (d - c) * np.exp(-np.exp(b * (np.log(x) - np.log(e))))


def _w2(x: np.ndarray, b: float, c: float, d: float, e: float) -> np.ndarray:
    """drc's W2.4: c + (d - c) (1 - exp(-exp(b (log x - log e))))."""
    with np.errstate(divide="ignore"):
        return c + (d - c) * (1.0 - np.exp(-np.exp(b * (np.log(x) - np.log(e)))))


def _tight(f: object, p0: list[float]) -> least_squares:
    def resid(p: np.ndarray) -> np.ndarray:
        return f(X, p[0], p[1], p[2], np.exp(p[3])) - Y  # type: ignore[operator, no-any-return]

    return least_squares(resid, p0, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=20000)


def test_weibull1_gives_drcs_w14_optimum_on_s_capricornutum() -> None:
    res = mp.fit(X, Y, model="weibull1", conc_unit="uM")
    ref = DATA["W1.4"]
    assert res.status == mp.FitStatus.OK
    assert float(res.params["hill"]) == pytest.approx(ref["b"], abs=5e-4)
    assert float(res.params["bottom"]) == pytest.approx(ref["c"], abs=5e-4)
    assert float(res.params["top"]) == pytest.approx(ref["d"], abs=5e-3)
    assert float(res.params["xmid"]) == pytest.approx(ref["e"], abs=5e-4)
    assert float(res.rss) == pytest.approx(ref["rss"], abs=5e-3)


def test_weibull1_matches_a_tight_fit_of_the_w14_formula() -> None:
    res = mp.fit(X, Y, model="weibull1", conc_unit="uM")
    ref = _tight(_w1, [1.5, 7.0, 128.0, np.log(17.0)])
    assert float(res.rss) == pytest.approx(2 * ref.cost, rel=1e-9)
    assert float(res.params["xmid"]) == pytest.approx(np.exp(ref.x[3]), rel=1e-6)


def test_weibull2_gives_the_w24_optimum_and_stays_falling_with_positive_hill() -> None:
    res = mp.fit(X, Y, model="weibull2", conc_unit="uM")
    ref = _tight(_w2, [-1.3, -3.0, 126.0, np.log(10.0)])  # drc's falling W2.4: b < 0, d at x = 0
    assert float(res.rss) == pytest.approx(2 * ref.cost, rel=1e-9)
    assert float(res.rss) == pytest.approx(DATA["W2.4_rss"], abs=0.05)
    # the same curve in this library's convention: top >= bottom, hill > 0 for a falling curve
    assert float(res.params["hill"]) == pytest.approx(-ref.x[0], rel=1e-6)
    assert float(res.params["top"]) == pytest.approx(ref.x[2], rel=1e-6)
    assert float(res.params["bottom"]) == pytest.approx(ref.x[1], rel=1e-5)


def test_weibull1_and_weibull2_are_different_models_that_aic_can_tell_apart() -> None:
    w1 = mp.fit(X, Y, model="weibull1", conc_unit="uM")
    w2 = mp.fit(X, Y, model="weibull2", conc_unit="uM")
    assert float(w2.rss) < float(w1.rss) - 100
    assert float(w2.aic) < float(w1.aic)


@pytest.mark.parametrize("model", ["weibull1", "weibull2", "5pl", "4pl"])
@pytest.mark.parametrize("falling", [True, False])
def test_hill_above_zero_means_falling_with_top_above_bottom_in_every_family(model: str, falling: bool) -> None:
    y = Y if falling else Y.max() + Y.min() - Y  # a rising curve: the responses mirrored
    res = mp.fit(X, y, model=model, conc_unit="uM")
    assert float(res.params["top"]) >= float(res.params["bottom"])
    assert (float(res.params["hill"]) > 0) == falling
