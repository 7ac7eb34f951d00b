"""The input contract of the public functions, fuzzed (#17).

Bad input gives a clean error that names the argument (a library error, or a
``ValueError``/``TypeError``/``LookupError``); nothing else escapes, no warning
leaks and no input is mutated.  The catalogue (``catalogue.py``) lists the
functions, a valid call of each and the arguments fuzzed.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

matplotlib.use("Agg")


def _load_catalogue() -> Any:
    name = "mtor_fuzz_catalogue"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("catalogue.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


cat = _load_catalogue()
TARGETS = {t.name: t for t in (*cat.targets(), *cat.plot_targets())}

#: (function, argument) pairs whose errors name a different word, with the reason.
NAMED_OTHERWISE = {
    # get_model(name) is the look-up behind mp.fit(model=...): its message names `model`.
    ("get_model", "name"): "model",
}


def _check(target: Any, arg: str, value: Any) -> None:
    outcome, detail = cat.classify(target, arg, value)
    if outcome == "unnamed" and (target.name, arg) in NAMED_OTHERWISE:
        assert f"`{NAMED_OTHERWISE[target.name, arg]}`" in detail
        return
    assert outcome in ("ok", "clean"), f"{target.name}({arg}={value!r:.60}): {outcome}: {detail}"


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_catalogued_odd_value_gives_a_result_or_a_clean_error(name):
    target = TARGETS[name]
    for arg in target.fuzz:
        for key in cat.keys_for(target, arg):
            _check(target, arg, cat.odd_value(target, arg, key))


# values hypothesis makes up, beyond the catalogue's fixed list
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**500), max_value=10**500),
    st.floats(allow_nan=True, allow_infinity=True), st.complex_numbers(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["10 uM", "uM", "nM", "5 s", "1e-400 uM", "µM ** 2", "M/M", "%"]),
)
_ARRAYS = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.complex128]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
)
_VALUES = st.one_of(_SCALARS, _ARRAYS, st.lists(st.floats(allow_nan=True), max_size=6),
                    st.lists(st.text(max_size=4), min_size=1, max_size=3))


@pytest.mark.parametrize("name", sorted(TARGETS))
@given(data=st.data())
def test_generated_values_give_a_result_or_a_clean_error(name, data):
    target = TARGETS[name]
    arg = data.draw(st.sampled_from(target.fuzz), label="arg")
    if arg in target.files:
        return  # the readers take files; the catalogue's files cover them
    value = data.draw(_VALUES, label="value")
    _check(target, arg, value)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_valid_calls_leave_their_inputs_unchanged(name):
    target = TARGETS[name]
    kwargs = {k: cat._fresh(v) for k, v in target.kwargs.items()}
    before = {}
    for k, v in kwargs.items():
        if isinstance(v, np.ndarray | list | dict) or hasattr(v, "magnitude"):
            try:
                before[k] = copy.deepcopy(v)
            except TypeError:  # e.g. a list of FitResults (frozen, read-only arrays)
                continue
    target.func(**kwargs)
    cat._close_figures()
    for k, old in before.items():
        new = kwargs[k]
        if hasattr(old, "magnitude"):
            np.testing.assert_array_equal(np.asarray(new.magnitude), np.asarray(old.magnitude), err_msg=k)
            assert new.units == old.units, k
        elif isinstance(old, np.ndarray):
            np.testing.assert_array_equal(new, old, err_msg=k)
            assert new.flags.writeable == old.flags.writeable, k
        else:
            assert repr(new) == repr(old), k
