"""Regression tests for #17 in the model functions: units honoured or refused, clear errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtor_pharm as mp
from mtor_pharm.errors import ShapeError, UnitError
from mtor_pharm.models import five_pl, four_pl, get_model, weibull1, weibull2


def test_four_pl_converts_quantities_to_one_unit_issue_17():
    # was 0.0999 (units stripped: 1000 "nM" against 1.0 "uM"), with pint's UnitStrippedWarning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = four_pl(mp.Q_([1000.0], "nM"), 0, 100, mp.Q_(1.0, "uM"), 1.0)
    np.testing.assert_allclose(out, [50.0], rtol=1e-12)


@given(ic50_nM=st.floats(1e-3, 1e6), hill=st.floats(0.2, 4.0),
       x_nM=st.lists(st.floats(1e-4, 1e7), min_size=1, max_size=5))
def test_model_values_do_not_depend_on_the_unit(ic50_nM, hill, x_nM):
    x = np.array(x_nM)
    for name in ("4pl", "5pl", "weibull1", "weibull2"):
        m = get_model(name)
        extra = {"s": 1.7} if m.has_s else {}
        plain = m(x, bottom=5.0, top=95.0, **{m.loc_name: ic50_nM}, hill=hill, **extra)
        mixed = m(mp.Q_(x, "nM"), bottom=5.0, top=95.0, **{m.loc_name: mp.Q_(ic50_nM / 1000, "uM")},
                  hill=hill, **extra)
        np.testing.assert_allclose(mixed, plain, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("func", [four_pl, weibull1, weibull2])
def test_model_functions_refuse_a_quantity_against_a_bare_number(func):
    with pytest.raises(UnitError, match="`x` of .* is a Quantity in nanomolar but `(ic50|xmid)` is a bare"):
        func(mp.Q_([1.0], "nM"), 0, 100, 1.0, 1.0)
    with pytest.raises(UnitError, match="`(ic50|xmid)` of .* is a Quantity"):
        func([1.0], 0, 100, mp.Q_(1.0, "nM"), 1.0)


def test_model_functions_refuse_incompatible_units_and_units_on_plateaus():
    with pytest.raises(UnitError, match="`x` and `ic50` of 4pl must have compatible units"):
        four_pl(mp.Q_([1.0], "s"), 0, 100, mp.Q_(1.0, "uM"), 1.0)
    with pytest.raises(UnitError, match="`top` of 4pl must be a plain number"):
        four_pl([1.0], 0, mp.Q_(100.0, "uM"), 1.0, 1.0)
    np.testing.assert_allclose(four_pl([1.0], 0, mp.Q_(100.0, ""), 1.0, 1.0), [50.0])


def test_model_functions_reject_a_string_as_x_issue_17():
    with pytest.raises(TypeError, match="`x` of 4pl must be numbers; got the string '1 uM'"):
        four_pl("1 uM", 0, 100, 1.0, 1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="`x` of 4pl must be numbers"):
        four_pl(np.array(["1", "2"]), 0, 100, 1.0, 1.0)


def test_model_functions_name_the_arguments_on_mismatched_shapes_issue_17():
    with pytest.raises(ShapeError, match=r"`x` \(3,\).*`ic50` \(2,\)"):
        four_pl(np.ones(3), 0, 100, np.ones(2), 1.0)
    with pytest.raises(ShapeError, match=r"`s` \(4,\)"):
        five_pl(np.ones(3), 0, 100, 1.0, 1.0, np.ones(4))


def test_model_call_converts_quantities_and_checks_shapes():
    m = get_model("4pl")
    np.testing.assert_allclose(m(mp.Q_([1.0], "uM"), bottom=0, top=100, ic50=mp.Q_(1000.0, "nM"), hill=1),
                               [50.0])
    with pytest.raises(ShapeError, match="`hill`"):
        m(np.ones(3), bottom=0, top=100, ic50=1.0, hill=np.ones(2))


def test_model_functions_refuse_complex_and_read_masked_as_nan():
    with pytest.raises(TypeError, match="`x` must hold real numbers"):
        four_pl(np.array([1.0 + 1j]), 0, 100, 1.0, 1.0)
    x = np.ma.masked_array([1.0, 2.0], mask=[False, True])
    out = four_pl(x, 0, 100, 1.0, 1.0)
    assert out[0] == 50.0 and np.isnan(out[1])
    with pytest.raises(TypeError, match="`hill`"):
        four_pl([1.0], 0, 100, 1.0, None)  # type: ignore[arg-type]


def test_model_functions_stay_introspectable_by_lmfit():
    import lmfit

    assert lmfit.Model(four_pl).param_names == ["bottom", "top", "ic50", "hill"]
    assert lmfit.Model(five_pl).param_names == ["bottom", "top", "xmid", "hill", "s"]


def test_get_model_names_its_own_argument_and_fit_names_model() -> None:
    # issue #17: each public function's error names the argument the caller passed
    with pytest.raises(mp.errors.UnknownModelError, match=r"^`name` must be one of"):
        mp.models.get_model(name="4ppl")
    with pytest.raises(mp.errors.UnknownModelError, match=r"^`name` must be a model name \(str\); got 4"):
        mp.models.get_model(4)  # type: ignore[arg-type]
    with pytest.raises(mp.errors.UnknownModelError, match=r"^`model` must be one of"):
        mp.fit([1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 3.0, 4.0, 5.0], model="4ppl", conc_unit="uM")
