"""compare_potency (#14): the F test of a shared IC50, the ratio, and an interval that agrees with the p-value;
Fieller never gives a finite interval through zero."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

import mtor_pharm as mp
from mtor_pharm import compare as cmp

CONC = np.repeat(1000.0 / 3.0 ** np.arange(8), 3)


def _four_pl(x: np.ndarray, bottom: float, top: float, ic50: float, hill: float) -> np.ndarray:
    return bottom + (top - bottom) / (1.0 + (x / ic50) ** hill)


def _table(ic50s: dict[str, float], seed: int = 1, bad: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for name, ic in ic50s.items():
        y = _four_pl(CONC, 5.0, 100.0, ic, 1.0) + rng.normal(0, 4, CONC.size)
        if bad and name == "sapanisertib":
            y[0] = 115.0
        rows += [{"compound": name, "conc": c, "response": v} for c, v in zip(CONC, y, strict=True)]
    df = pd.DataFrame(rows)
    df.attrs["conc_unit"] = "nM"
    return df


def _rss(x: np.ndarray, y: np.ndarray, p0: list[float]) -> float:
    popt, _ = optimize.curve_fit(_four_pl, x, y, p0=p0, maxfev=20000)
    return float(np.sum((y - _four_pl(x, *popt)) ** 2))


def test_f_test_matches_curve_fit_of_the_two_models() -> None:
    df = _table({"sapanisertib": 20.0, "Torin1": 3.0})
    out = cmp.compare_potency(df, "sapanisertib", "Torin1")
    xa, ya = CONC, df[df.compound == "sapanisertib"]["response"].to_numpy()
    xb, yb = CONC, df[df.compound == "Torin1"]["response"].to_numpy()
    rss_sep = _rss(xa, ya, [5, 100, 20, 1]) + _rss(xb, yb, [5, 100, 3, 1])

    def shared(_: np.ndarray, ba: float, ta: float, ha: float, bb: float, tb: float, hb: float,
               ic: float) -> np.ndarray:
        return np.concatenate([_four_pl(xa, ba, ta, ic, ha), _four_pl(xb, bb, tb, ic, hb)])

    popt, _ = optimize.curve_fit(shared, np.zeros(2 * CONC.size), np.concatenate([ya, yb]),
                                 p0=[5, 100, 1, 5, 100, 1, 8], maxfev=50000)
    rss_shared = float(np.sum((np.concatenate([ya, yb]) - shared(np.zeros(1), *popt)) ** 2))
    df2 = 2 * CONC.size - 8
    f = (rss_shared - rss_sep) / (rss_sep / df2)
    assert float(out.f_test.statistic) == pytest.approx(f, rel=1e-4)
    assert out.pvalue == pytest.approx(stats.f.sf(f, 1, df2), rel=1e-3)
    assert out.ratio == pytest.approx(
        optimize.curve_fit(_four_pl, xa, ya, p0=[5, 100, 20, 1])[0][2]
        / optimize.curve_fit(_four_pl, xb, yb, p0=[5, 100, 3, 1])[0][2], rel=1e-4)


@pytest.mark.parametrize(("ic_b", "seed"), [(3.0, 1), (12.0, 2), (19.0, 3)])
def test_pvalue_and_interval_agree(ic_b: float, seed: int) -> None:
    out = cmp.compare_potency(_table({"sapanisertib": 20.0, "Torin1": ic_b}, seed=seed), "sapanisertib", "Torin1")
    assert out.ci_low < out.ratio < out.ci_high
    excludes_one = not (out.ci_low <= 1.0 <= out.ci_high)
    assert excludes_one == (out.pvalue < 0.05)
    # at a limit, the F test of that ratio sits at the critical value: rescale b's concentrations
    df = _table({"sapanisertib": 20.0, "Torin1": ic_b}, seed=seed)
    moved = df.copy()
    moved.loc[moved.compound == "Torin1", "conc"] *= out.ci_low
    at_limit = cmp.compare_potency(moved, "sapanisertib", "Torin1")
    assert at_limit.pvalue == pytest.approx(0.05, abs=0.003)


def test_labels_are_checked_with_a_suggestion() -> None:
    with pytest.raises(LookupError, match="Did you mean 'Torin1'"):
        cmp.compare_potency(_table({"sapanisertib": 20.0, "Torin1": 3.0}), "sapanisertib", "torin")


def test_bad_well_comparison_says_the_fit_is_ambiguous_issue_14() -> None:
    out = cmp.compare_potency(_table({"sapanisertib": 20.0, "Torin1": 3.0}, bad=True), "sapanisertib", "Torin1")
    assert out.status_a & mp.FitStatus.AMBIGUOUS
    assert "sapanisertib is ambiguous" in out.note and "Note:" in out.summary()
    assert out.to_dataframe()["pvalue"].iloc[0] == out.pvalue


def test_fieller_never_returns_a_finite_interval_through_zero_issue_14() -> None:
    # numerator not distinguishable from zero: the Fieller set reaches below 0 -> unbounded
    r = mp.compare.Ratio(
        estimate=np.array(0.5), numerator=np.array(0.5), denominator=np.array(1.0), log_se=np.array(1.0),
        covariance=np.array([[0.3, 0.0], [0.0, 0.001]]), df=np.array(20.0), statistic=np.array(0.0),
        pvalue=np.array(0.5), percent=50.0, conc_unit="nM",
    )
    t = stats.t.ppf(0.975, 20)
    assert t**2 * 0.3 > 0.5**2  # premise: a² < t² v_a, so the closed-form lower root is negative
    low, high = r.ci(method="fieller")
    assert np.isinf(low) and np.isinf(high)
    ok = mp.compare.Ratio(
        estimate=np.array(0.5), numerator=np.array(0.5), denominator=np.array(1.0), log_se=np.array(0.1),
        covariance=np.array([[0.001, 0.0], [0.0, 0.001]]), df=np.array(20.0), statistic=np.array(0.0),
        pvalue=np.array(0.5), percent=50.0, conc_unit="nM",
    )
    low, high = ok.ci(method="fieller")
    assert 0 < low < 0.5 < high < np.inf


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=200, deadline=None)
@given(
    st.floats(-5, 5), st.floats(-5, 5), st.floats(1e-3, 2.0), st.floats(1e-3, 2.0), st.integers(2, 60),
    st.sampled_from([0.9, 0.95, 0.99]),
)
def test_ratio_pvalue_agrees_with_its_delta_interval_issue_14(
    la: float, lb: float, sa: float, sb: float, dof: int, level: float
) -> None:
    from mtor_pharm.compare._ratio import _assemble

    r = _assemble(np.array(la), np.array(sa**2), np.array(lb), np.array(sb**2), np.zeros(()), np.array(float(dof)),
                  0.5, "nM")
    low, high = r.ci(level=level)
    excludes = not (float(low) <= 1.0 <= float(high))
    p = float(r.pvalue)
    if abs(p - (1 - level)) > 1e-9:  # away from the boundary the two must agree
        assert excludes == (p < 1 - level)
    flow, fhigh = r.ci(level=level, method="fieller")
    assert not (np.isfinite(flow) and flow <= 0)  # never a finite interval reaching zero
