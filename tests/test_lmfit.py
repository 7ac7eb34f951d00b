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


@pytest.mark.parametrize("model", sorted(mp.models.MODELS))
def test_lmfit_model_exists_for_every_family(model: str) -> None:
    m = mp.models.get_model(model)
    lm = mp.lmfit_model(model)
    assert lm.param_names == list(m.param_names)
    params = lm.make_params()
    for name in (*m.default_fixed, *m.required_fixed):
        assert not params[name].vary, name
    for name in m.conc_params:
        assert params[name].min == 0.0, name


def test_lmfit_model_refuses_an_unknown_family() -> None:
    with pytest.raises(mp.errors.UnknownModelError, match=r"`model` must be one of '4pl', .*; got 'biphasc'"):
        mp.lmfit_model("biphasc")


@pytest.mark.parametrize(
    ("model", "truth"),
    [
        ("lognormal", {"bottom": 5.0, "top": 100.0, "ic50": 0.1, "hill": 1.2}),
        ("biphasic", {"bottom": 2.0, "top": 100.0, "ic50_1": 0.003, "hill_1": 1.5, "ic50_2": 1.0, "hill_2": 1.2,
                      "frac": 0.4}),
        ("morrison", {"top": 100.0, "ki_app": 0.05, "enzyme": 0.2}),
    ],
)
def test_lmfit_model_of_a_generic_family_agrees_with_mp_fit_on_exact_data(model: str, truth: dict[str, float]) -> None:
    m = mp.models.get_model(model)
    x = 10.0 / 2.0 ** np.arange(16)
    y = m(x, **truth)
    fixed = {name: truth[name] for name in m.required_fixed}
    res = mp.fit(x, y, conc_unit="uM", model=model, fixed=fixed or None)
    start = {name: value * (1.0 if name in fixed else 1.1) for name, value in truth.items()}
    out = mp.lmfit_model(model).fit(y, x=x, fit_kws={"xtol": 1e-14, "ftol": 1e-14, "gtol": 1e-14}, **start)
    assert out.chisqr < 1e-18 and float(res.rss) < 1e-18
    for name in truth:
        assert out.params[name].value == pytest.approx(float(res.params[name]), rel=1e-9), name
        assert out.params[name].value == pytest.approx(truth[name], rel=1e-9), name
    for name in fixed:  # the Morrison enzyme concentration: given, held
        assert not out.params[name].vary
