"""The lmfit path agrees with the batched engine on the same curve."""

from __future__ import annotations

import numpy as np
import pytest

import mtor_pharm as mp

CONC = 10.0 / 3.0 ** np.arange(10)


@pytest.mark.parametrize("model", ["4pl", "3pl", "5pl", "weibull1", "weibull2"])
def test_lmfit_model_agrees_with_mp_fit(model: str) -> None:
    rng = np.random.default_rng(2)
    m = mp.models.get_model(model)
    truth = {"bottom": 0.0 if model == "3pl" else 5.0, "top": 100.0, m.loc_name: 0.1, "hill": 1.2}
    if m.has_s:
        truth["s"] = 0.8
    x = np.repeat(CONC, 3)
    y = m(x, **truth) + rng.normal(0, 2, x.size)
    res = mp.fit(x, y, conc_unit="uM", model=model)
    lm = mp.lmfit_model(model)
    names = [k for k in truth if k not in m.default_fixed]
    tight = {"xtol": 1e-14, "ftol": 1e-14, "gtol": 1e-14}
    # lmfit is local: start it from the truth and from mp.fit's answer, keep the better optimum
    outs = [
        lm.fit(y, x=x, fit_kws=tight, **{k: truth[k] for k in names}),
        lm.fit(y, x=x, fit_kws=tight, **{k: float(res.params[k]) for k in names}),
    ]
    out = min(outs, key=lambda o: o.chisqr)
    assert float(res.rss) <= out.chisqr * (1 + 1e-9)
    for name in names:
        assert out.params[name].value == pytest.approx(float(res.params[name]), rel=1e-5), name
        assert out.params[name].stderr == pytest.approx(float(res.stderr[name]), rel=1e-3), name
