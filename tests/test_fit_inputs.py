"""mp.fit's input boundary and honest statuses (issue #17): each reproducer of the issue."""

from __future__ import annotations

import numpy as np
import pytest

import mtor_pharm as mp
from mtor_pharm.errors import ShapeError

CONC = mp.dilution_series("10 uM", factor=3, n=8)
Y = [99.0, 97, 88, 67, 36, 15, 5, 3]


def test_two_distinct_concentrations_for_four_parameters_are_too_few_points() -> None:
    res = mp.fit(mp.Q_([0, 0, 0, 0, 1], "uM"), [90, 91, 89, 92, 10])
    assert res.status == mp.FitStatus.TOO_FEW_POINTS
    assert np.isnan(res.ic50.magnitude)


def test_a_curve_with_no_residual_degree_of_freedom_is_not_reported_ok() -> None:
    res = mp.fit(mp.dilution_series("10 uM", factor=3, n=4), [90.0, 60, 30, 10])
    assert res.status & mp.FitStatus.TOO_FEW_POINTS
    assert np.isnan(res.ic50.magnitude)


@pytest.mark.parametrize("n", [4, 8])
def test_a_constant_response_never_yields_a_finite_ic50(n: int) -> None:
    res = mp.fit(mp.dilution_series("10 uM", factor=3, n=n), np.zeros(n))
    assert res.status != mp.FitStatus.OK
    assert np.isnan(res.ic50.magnitude)


def test_zero_weights_do_not_count_as_points() -> None:
    res = mp.fit(CONC, Y, weights=[1, 1, 1, 1, 1, 1, 0, 0])
    alone = mp.fit(CONC[:6], Y[:6])
    assert int(res.n) == 6 and int(res.dof) == 2
    assert float(res.rss) == pytest.approx(float(alone.rss), rel=1e-9)
    assert float(res.ic50.magnitude) == pytest.approx(float(alone.ic50.magnitude), rel=1e-7)


def test_a_masked_response_is_missing_where_masked() -> None:
    y = np.ma.masked_array(Y, mask=[0, 0, 0, 0, 0, 0, 0, 1])
    res = mp.fit(CONC, y)
    ref = mp.fit(CONC, np.where(y.mask, np.nan, y.data))
    assert int(res.n) == 7
    assert float(res.ic50.magnitude) == float(ref.ic50.magnitude)


def test_fit_does_not_mutate_a_masked_response() -> None:
    y = np.ma.masked_array(np.array(Y), mask=[0, 0, 0, 0, 0, 0, 0, 1])
    before = (y.data.copy(), y.mask.copy())
    mp.fit(CONC, y)
    assert np.array_equal(y.data, before[0]) and np.array_equal(y.mask, before[1])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"response": np.array(Y) + 1j}, "`response` must be real"),
        ({"conc": mp.Q_(CONC.magnitude + 0j, "uM")}, "`conc` must be real"),
        ({"weights": ["a"] * 8}, "`weights` must be an array of real numbers"),
        ({"share": 5}, "`share` must be a sequence"),
        ({"response": np.array(["a"] * 8)}, "`response` must be an array of real numbers"),
    ],
)
def test_fit_rejects_non_real_input_naming_the_argument(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"conc": CONC, "response": Y, **kwargs}
    with pytest.raises(TypeError, match=match):
        mp.fit(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [2.5, None, "50", 0, -3, True, 10**9])
def test_fit_rejects_a_max_iter_that_is_not_a_positive_integer(bad: object) -> None:
    with pytest.raises(ValueError, match="`max_iter` must be an integer"):
        mp.fit(CONC, Y, max_iter=bad)  # type: ignore[arg-type]


def test_fit_rejects_a_fixed_value_outside_its_own_bounds() -> None:
    with pytest.raises(ValueError, match=r"`fixed\['hill'\]` = 7 lies outside `bounds\['hill'\]`"):
        mp.fit(CONC, Y, fixed={"hill": 7}, bounds={"hill": (0, 5)})


def test_fit_rejects_fixed_values_of_the_wrong_shape_naming_them() -> None:
    with pytest.raises(ShapeError, match=r"`fixed\['top'\]` must be a scalar or broadcast"):
        mp.fit(CONC, Y, fixed={"top": np.zeros((7, 3))})


def test_fit_rejects_bounds_that_are_not_scalars() -> None:
    with pytest.raises(ShapeError, match=r"`bounds\['hill'\]` must be a pair of scalars"):
        mp.fit(CONC, Y, bounds={"hill": (0, np.array([1, 2, 3]))})


def test_fit_refuses_a_batch_larger_than_memory_before_any_work() -> None:
    huge = np.broadcast_to(np.array(Y), (10**9, 8))  # a view: costs nothing to make
    with pytest.raises(ShapeError, match="1,000,000,000 curves"):
        mp.fit(CONC, huge)


@pytest.mark.parametrize(
    ("model", "rtol"),
    [("4pl", 1e-9), ("3pl", 1e-9), ("5pl", 3e-9), ("weibull1", 1e-9), ("weibull2", 1e-9), ("lognormal", 1e-9)],
)
def test_the_same_data_in_nm_and_um_give_the_same_fit(model: str, rtol: float) -> None:
    # issue #17: the solver works relative to each curve's tested range, so a change of unit
    # (ln x shifted by a constant) leaves the problem the same to within rounding, and both
    # loops end with Newton steps, converged to 1e-9 on the parameters' own scale (the 5PL's
    # ln s is that scale: 1e-9 of |ln s| is a few 1e-9 of s)
    from .helpers import CONC_TRIPLICATE, simulate_screen

    y, _ = simulate_screen(200, seed=5)
    um = mp.fit(mp.Q_(CONC_TRIPLICATE, "uM"), y, model=model)
    nm = mp.fit(mp.Q_(CONC_TRIPLICATE * 1000.0, "nM"), y, model=model)
    fitted = (um.status & (mp.FitStatus.FLAT_RESPONSE | mp.FitStatus.NOT_CONVERGED)) == 0
    determined = fitted & ((um.status & mp.FitStatus.AMBIGUOUS) == 0)
    assert determined.sum() > 100  # the 5PL's asymmetry is often not determined by 8 points
    # every status bit, flat and runaway curves included (a 5PL asymmetry creeping to its
    # bound is put on it in both units)
    np.testing.assert_array_equal(um.status, nm.status)
    for name, kind in zip(um.params, mp.models.get_model(model).kinds, strict=True):
        scale = 1000.0 if kind == "conc" else 1.0
        np.testing.assert_allclose(nm.params[name][determined] / scale, um.params[name][determined],
                                   rtol=rtol, atol=1e-9, err_msg=name)
        # a curve the data do not determine (its status says so) lies on a nearly flat valley
        np.testing.assert_allclose(nm.params[name][fitted] / scale, um.params[name][fitted],
                                   rtol=1e-6, atol=1e-9, err_msg=name)


@pytest.mark.parametrize("model", ["4pl", "5pl", "3pl"])
def test_shared_per_curve_weighted_and_permuted_designs_give_bitwise_the_same_fit(model: str) -> None:
    # issue #17: one pooling path (points in a canonical order) whatever form the design takes
    from .helpers import CONC_TRIPLICATE, simulate_screen

    y, _ = simulate_screen(300, seed=11)
    x = mp.Q_(CONC_TRIPLICATE, "uM")
    perm = np.random.default_rng(3).permutation(CONC_TRIPLICATE.size)
    fits = {
        "shared": mp.fit(x, y, model=model),
        "per-curve": mp.fit(mp.Q_(np.tile(CONC_TRIPLICATE, (300, 1)), "uM"), y, model=model),
        "weights=1": mp.fit(x, y, model=model, weights=np.ones(CONC_TRIPLICATE.size)),
        "permuted": mp.fit(x[perm], y[:, perm], model=model),
    }
    ref = fits.pop("shared")
    for name, res in fits.items():
        np.testing.assert_array_equal(res.status, ref.status, err_msg=name)
        np.testing.assert_array_equal(res.rss, ref.rss, err_msg=name)
        for k in ref.params:
            np.testing.assert_array_equal(res.params[k], ref.params[k], err_msg=f"{name} {k}")
            np.testing.assert_array_equal(res.stderr[k], ref.stderr[k], err_msg=f"{name} {k}")


def test_fit_refuses_quantities_as_responses_or_weights_instead_of_stripping_them() -> None:
    with pytest.raises(TypeError, match=r"`response` must be plain numbers; got a Quantity"):
        mp.fit(CONC, mp.Q_(Y, "percent"))
    with pytest.raises(TypeError, match=r"`weights` must be plain numbers; got a Quantity"):
        mp.fit(CONC, Y, weights=mp.Q_(np.ones(8), "dimensionless"))


def test_fit_refuses_a_progress_that_is_not_callable_and_lets_the_callbacks_errors_through() -> None:
    with pytest.raises(TypeError, match=r"`progress` must be a callable"):
        mp.fit(CONC, Y, progress="yes")  # type: ignore[arg-type]

    def broken(done: int, total: int) -> None:
        raise RuntimeError("from the callback")

    with pytest.raises(RuntimeError, match="from the callback"):
        mp.fit(CONC, Y, progress=broken)


@pytest.mark.parametrize("model", ["4pl", "5pl", "3pl", "weibull2"])
def test_the_compiled_ambiguity_pass_follows_the_stated_rule(model: str) -> None:
    # the rule is written once in numpy (fitting/_quality.ambiguous) and compiled into the
    # engine's results pass; both must flag exactly the same curves
    from mtor_pharm.fitting._quality import ambiguous
    from mtor_pharm.fitting._result import _UNDETERMINED

    from .helpers import CONC, simulate_screen

    y, _ = simulate_screen(400, seed=21)
    y = y[:, ::3] + np.random.default_rng(5).normal(0, 12, (400, 10))  # single points, noisy: many vague
    res = mp.fit(mp.Q_(CONC, "uM"), y, model=model)
    names = res.param_names
    free = np.array([n not in res.fixed for n in names])
    P = np.stack([np.asarray(res.params[k]) for k in names], axis=-1)
    se = np.stack([np.asarray(res.stderr[k]) for k in names], axis=-1)
    determined = (res.status & _UNDETERMINED) == 0
    want = ambiguous(names, free, P, se, np.asarray(res.covariance), np.asarray(res.dof), determined)
    got = (res.status & mp.FitStatus.AMBIGUOUS) != 0
    assert 5 < want.sum() < 395
    np.testing.assert_array_equal(got, want)


def test_mp_fit_passes_partial_sharing_to_the_global_fit() -> None:
    # mp.fit(share={parameter: groups}) is fit_shared's partial sharing (drc's pmodels)
    from mtor_pharm import compare as cmp

    x = 10 / 3.0 ** np.arange(8)
    y = np.stack([mp.models.four_pl(x, 0, 100, ic, 1.2) for ic in (0.1, 0.3, 1.0, 3.0)])
    y = y + np.random.default_rng(0).normal(0, 2, (4, 8))
    groups = ["a", "a", "b", "b"]
    via_fit = mp.fit(mp.Q_(x, "uM"), y, share={"hill": groups})
    direct = cmp.fit_shared(mp.Q_(x, "uM"), y, share={"hill": groups})
    np.testing.assert_array_equal(via_fit.params["hill"], direct.params["hill"])
    assert via_fit.params["hill"][0] == via_fit.params["hill"][1] != via_fit.params["hill"][2]


def test_negative_concentrations_point_to_the_explicit_log10_conversion() -> None:
    # issue #14: Prism's log10(M) column is never guessed; the error says how to convert it
    with pytest.raises(ValueError, match=r"non-negative.*mp\.units\.from_log10"):
        mp.fit([-9, -8, -7, -6, -5], [99, 90, 50, 10, 2], conc_unit="M")
