"""The fuzz catalogue (#17): public functions with one valid call each, and odd values to
substitute for their arguments.

Shared by the hypothesis contract tests (``tests/fuzz/test_contract.py``) and the counting
script (``scripts/fuzz_report.py``).  A call's outcome is one of

- ``ok``: it returned, leaked no warning and mutated no input;
- ``clean``: it raised a library error (:class:`~mtor_pharm.errors.MtorPharmError`) or a
  ``ValueError``/``TypeError``/``LookupError`` whose message names the substituted argument;
- ``unnamed``: such an exception, but its message does not name the argument;
- ``foreign``: any other exception (``AttributeError``, ``ZeroDivisionError``, pint's ``AssertionError``...);
- ``warning``: it leaked a warning that is not a ``MtorPharmWarning``;
- ``mutated``: it changed one of its inputs.
"""

from __future__ import annotations

import copy
import inspect
import io
import tempfile
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

import mtor_pharm as mp
from mtor_pharm import assays, pathway
from mtor_pharm.errors import MtorPharmError, MtorPharmWarning

CLEAN_TYPES = (MtorPharmError, ValueError, TypeError, LookupError)
OUTCOMES = ("ok", "clean", "unnamed", "foreign", "warning", "mutated")


# ----------------------------------------------------------------------------- odd values
def _odd_values() -> dict[str, Callable[[], Any]]:
    """Fresh odd values per call (factories, so a mutation cannot leak between calls)."""
    return {
        "none": lambda: None,
        "empty_str": lambda: "",
        "text": lambda: "abc",
        "unit_semicolon": lambda: "uM; x",
        "unit_pow0": lambda: "uM ** 0",
        "one_over_zero": lambda: "1/0",
        "arith": lambda: "(1 + 1) uM",
        "conc_text": lambda: "1 uM",
        "neg": lambda: -1.0,
        "zero": lambda: 0,
        "nan": lambda: float("nan"),
        "inf": lambda: float("inf"),
        "huge_float": lambda: 1e308,
        "huge_int": lambda: 10**400,
        "bool": lambda: True,
        "complex": lambda: 1 + 2j,
        "complex_array": lambda: np.array([1 + 1j, 2.0, 3.0]),
        "empty_list": lambda: [],
        "nested_empty": lambda: [[]],
        "masked": lambda: np.ma.masked_array([1.0, 2.0, 3.0], mask=[False, True, False]),
        "matrix": lambda: np.zeros((7, 3)),
        "str_array": lambda: np.array(["a", "b", "c"]),
        "object": lambda: object(),
        "dict": lambda: {"a": 1},
        "time_quantity": lambda: mp.Q_(1.0, "s"),
        "conc_quantity": lambda: mp.Q_([1.0, 2.0], "uM"),
        "callable": lambda: (lambda: 0),
        "int_array": lambda: np.arange(3),
        "huge_array": lambda: np.full(3, 1e308),
        "nan_array": lambda: np.full(3, np.nan),
        "neg_array": lambda: -np.ones(3),
        "big_n": lambda: 10**9,
        "half": lambda: 2.5,
    }


ODD: dict[str, Callable[[], Any]] = _odd_values()

#: Files for the readers: name -> text (wrapped in a StringIO per call).
ODD_FILES: dict[str, str] = {
    "empty": "",
    "comment_only": "# nothing here\n",
    "misspelt_table": "plate_format = 96\n[[well]]\nwell = 'A1'\nrole = 'blank'\n",
    "table_not_array": "[wells]\nwell = 'A1'\nrole = 'blank'\n",
    "nested_inline": "a = {b = {c = {d = 1}}}\n",
    "bad_plate_format": "plate_format = 'x'\n[[wells]]\nwell = 'A1'\nrole = 'blank'\n",
    "huge_conc_toml": "[[wells]]\nwell = 'A1'\nrole = 'sample'\ncompound = 'X'\nconc = 1" + "0" * 400 + "\n",
    "huge_int_toml": "[[wells]]\nwell = 'A1'\nrole = 'sample'\ncompound = 'X'\nconc = 1" + "0" * 5000 + "\n",
    "bad_toml": "[[wells]\nwell = \n",
    "csv_unknown_well": "well,role\nZ99,blank\n",
    "csv_no_well": "role,compound\nblank,\n",
    "csv_bad_unit": "well,role,compound,conc,conc_unit\nA1,sample,X,1,uM; x\n",
    "csv_ragged": "well,role\nA1,blank,extra,more\n\"unterminated\n",
    "grid_short": "A570,1,2\nA,1,2\n",
    "grid_text": "A570,1,2,3,4,5,6,7,8,9,10,11,12\n" + "".join(
        f"{r}," + ",".join(["x"] * 12) + "\n" for r in "ABCDEFGH"),
    "binary_like": "\x00\x01\x02",
}


# ----------------------------------------------------------------------------- targets
@dataclass(frozen=True)
class Target:
    """One public function, a valid call, and the arguments to fuzz."""

    name: str
    func: Callable[..., Any]
    kwargs: Mapping[str, Any]
    fuzz: tuple[str, ...]
    files: tuple[str, ...] = field(default=())  # arguments that take a file/stream

    def call(self, **override: Any) -> Any:
        kwargs = {**{k: _fresh(v) for k, v in self.kwargs.items()}, **override}
        return self.func(**kwargs)


def _fresh(value: Any) -> Any:
    """Valid values are given as factories (lambdas or private helpers) and made per call."""
    name = getattr(value, "__name__", "")
    if callable(value) and (name == "<lambda>" or name.startswith("_")) and \
            not inspect.signature(value).parameters:
        return value()
    return value


CONC = [0.01, 0.1, 1.0, 10.0, 100.0]
RESP = [98.0, 91.0, 52.0, 11.0, 3.0]


@cache
def _fit() -> Any:
    return mp.fit(mp.Q_(CONC, "uM"), RESP)


@cache
def _batch_fit() -> Any:
    return mp.fit(mp.Q_(CONC, "uM"), [RESP, [99.0, 97.0, 80.0, 40.0, 10.0]])


def _layout_text() -> io.StringIO:
    return io.StringIO("well,role,compound,conc,conc_unit\nA1,blank,,,\nA2,sample,T,1,uM\nA3,vehicle,,0,uM\n")


def _qc() -> Any:
    return assays.plate_qc([1.0, 1.1, 0.95, 1.05], [0.1, 0.12, 0.09, 0.11], plate="P1")


def targets() -> list[Target]:
    """The catalogue: one valid call per function (values made fresh for every call)."""
    sig = lambda: np.array([0.5, 0.9, 0.4])  # noqa: E731
    rep = lambda: np.array([1.0, 1.1])  # noqa: E731
    conc = lambda: mp.Q_(list(CONC), "uM")  # noqa: E731
    resp = lambda: np.array(RESP)  # noqa: E731
    res = _fit
    return [
        # units
        Target("Q_", mp.Q_, {"value": 1.0, "unit": "uM"}, ("value", "unit")),
        Target("as_concentration", mp.units.as_concentration, {"conc": lambda: [1.0, 10.0], "conc_unit": "nM"},
               ("conc", "conc_unit")),
        Target("dilution_series", mp.dilution_series, {"top": "10 uM", "factor": 3, "n": 5},
               ("top", "factor", "n")),
        Target("pic50", mp.pic50, {"ic50": lambda: [10.0], "conc_unit": "nM"}, ("ic50", "conc_unit")),
        Target("from_pic50", mp.from_pic50, {"p": 8.0, "unit": "nM"}, ("p", "unit")),
        Target("mass_to_molar", mp.units.mass_to_molar,
               {"conc": "1 ug/mL", "molecular_weight": 914.19, "unit": "nM"},
               ("conc", "molecular_weight", "unit")),
        Target("molar_to_mass", mp.units.molar_to_mass,
               {"conc": "1 uM", "molecular_weight": "914.19 g/mol", "unit": "ng/mL"},
               ("conc", "molecular_weight", "unit")),
        # models
        Target("four_pl", mp.models.four_pl,
               {"x": lambda: np.array([0.1, 1.0, 10.0]), "bottom": 0.0, "top": 100.0, "ic50": 1.0, "hill": 1.0},
               ("x", "bottom", "top", "ic50", "hill")),
        Target("five_pl", mp.models.five_pl,
               {"x": lambda: np.array([0.1, 1.0, 10.0]), "bottom": 0.0, "top": 100.0, "xmid": 1.0, "hill": 1.0,
                "s": 1.0}, ("x", "xmid", "hill", "s")),
        Target("weibull1", mp.models.weibull1,
               {"x": lambda: np.array([0.1, 1.0]), "bottom": 0.0, "top": 100.0, "xmid": 1.0, "hill": 1.0},
               ("x", "xmid", "top")),
        Target("weibull2", mp.models.weibull2,
               {"x": lambda: np.array([0.1, 1.0]), "bottom": 0.0, "top": 100.0, "xmid": 1.0, "hill": 1.0},
               ("x", "xmid", "bottom")),
        Target("Model.__call__", mp.models.get_model("4pl").__call__,
               {"x": lambda: np.array([0.1, 1.0]), "bottom": 0.0, "top": 100.0, "ic50": 1.0, "hill": 1.0},
               ("x", "ic50", "hill")),
        Target("get_model", mp.models.get_model, {"name": "4pl"}, ("name",)),
        # normalizers
        Target("subtract_blank", assays.subtract_blank, {"signal": sig, "blank": rep}, ("signal", "blank")),
        Target("percent_of_control", assays.percent_of_control,
               {"signal": sig, "control": rep, "blank": lambda: [0.1]}, ("signal", "control", "blank")),
        Target("percent_activity", assays.percent_activity,
               {"signal": sig, "no_inhibitor": rep, "background": lambda: [0.1]},
               ("signal", "no_inhibitor", "background")),
        Target("percent_inhibition", assays.percent_inhibition,
               {"signal": sig, "no_inhibitor": rep, "background": lambda: [0.1]},
               ("signal", "no_inhibitor", "background")),
        Target("fold_change", assays.fold_change, {"values": sig, "reference": rep}, ("values", "reference")),
        Target("cross_blot_scale", assays.cross_blot_scale,
               {"values": lambda: np.array([[0.8, 0.4], [1.6, 0.6]]), "reference": lambda: np.array([[0.8], [1.6]])},
               ("values", "reference")),
        Target("phospho_ratio", assays.phospho_ratio, {"phospho": sig, "total": lambda: np.array([1.0, 1.2, 0.9])},
               ("phospho", "total", "background")),
        Target("loading_normalize", assays.loading_normalize,
               {"signal": sig, "loading": lambda: np.array([1.0, 1.2, 0.9])}, ("signal", "loading", "background")),
        Target("with_vehicle", assays.with_vehicle, {"conc": conc, "response": resp, "vehicle": lambda: [100.0, 99.0]},
               ("conc", "response", "vehicle", "conc_unit")),
        # viability
        Target("mtt_absorbance", assays.mtt_absorbance, {"a570": sig, "a_ref": lambda: [0.05, 0.04, 0.05]},
               ("a570", "a_ref")),
        Target("percent_viability", assays.percent_viability,
               {"signal": sig, "control": rep, "blank": lambda: [0.1]}, ("signal", "control", "blank")),
        Target("growth_percent", assays.growth_percent, {"signal": sig, "t0": lambda: [0.2], "control": rep},
               ("signal", "t0", "control")),
        Target("gr_values", assays.gr_values, {"signal": sig, "t0": lambda: [0.2], "control": rep},
               ("signal", "t0", "control")),
        Target("gr_values_case_c", assays.gr_values,
               {"signal": sig, "control": rep, "division_time": 24.0, "duration": 72.0},
               ("signal", "control", "division_time", "duration")),
        Target("gr_metrics", assays.gr_metrics,
               {"conc": conc, "gr": lambda: np.array([0.98, 0.9, 0.4, -0.1, -0.3])}, ("conc", "gr", "conc_unit")),
        Target("nci60_metrics", assays.nci60_metrics,
               {"conc": conc, "growth": lambda: np.array([98.0, 90.0, 40.0, -10.0, -60.0])},
               ("conc", "growth", "method")),
        Target("auc", assays.auc, {"conc": conc, "response": resp},
               ("conc", "response", "kind", "method", "response_scale", "log_base", "conc_range")),
        # kinase
        Target("cheng_prusoff", assays.cheng_prusoff, {"ic50": "30 nM", "substrate": "10 uM", "km": "5 uM"},
               ("ic50", "substrate", "km", "mechanism", "enzyme", "level", "tight_binding_ratio")),
        Target("morrison", assays.morrison, {"x": lambda: [0.0, 1.5, 3.0], "ki_app": 1.0, "enzyme": 1.0},
               ("x", "ki_app", "enzyme", "v0")),
        Target("morrison_ic50", assays.morrison_ic50, {"ki": "1 nM", "enzyme": "2 nM", "mechanism": "noncompetitive"},
               ("ki", "enzyme", "mechanism")),
        Target("ki_from_fit", assays.ki_from_fit, {"res": res, "substrate": "10 uM", "km": "5 uM"},
               ("res", "substrate", "km", "level")),
        Target("fit_morrison", assays.fit_morrison,
               {"conc": lambda: mp.Q_([0.0, 0.5, 1.0, 2.0, 4.0, 8.0], "nM"),
                "response": lambda: np.array([1.0, 0.72, 0.5, 0.28, 0.13, 0.06]), "enzyme": "1 nM",
                "mechanism": "noncompetitive"},
               ("conc", "response", "enzyme", "mechanism", "v0")),
        # plates
        Target("well_names", assays.well_names, {"plate_format": 96}, ("plate_format",)),
        Target("read_layout", assays.read_layout, {"source": _layout_text},
               ("source", "plate_format", "conc_unit", "kind"), files=("source",)),
        Target("read_plate_export", assays.read_plate_export,
               {"source": lambda: io.StringIO("A570,1,2,3,4,5,6,7,8,9,10,11,12\n" + "".join(
                   f"{r}," + ",".join(["0.5"] * 12) + "\n" for r in "ABCDEFGH"))},
               ("source", "plate_format"), files=("source",)),
        Target("plate_qc", assays.plate_qc, {"high": lambda: [1.0, 1.1, 0.95], "low": lambda: [0.1, 0.12, 0.09]},
               ("high", "low", "z_prime_min", "cv_max", "min_wells")),
        Target("qc_flags", assays.qc_flags, {"qc": _qc}, ("qc", "plate")),
        Target("qc_table", assays.qc_table, {"qc": lambda: [_qc()]}, ("qc",)),
        # FitResult methods
        Target("FitResult.conc_at", lambda response: res().conc_at(response), {"response": 50.0}, ("response",)),
        Target("FitResult.icx", lambda p: res().icx(p), {"p": 90.0}, ("p",)),
        Target("FitResult.ci", lambda name, level=0.95: res().ci(name, level=level), {"name": "ic50"},
               ("name", "level")),
        Target("FitResult.predict", lambda conc, conc_unit=None: res().predict(conc, conc_unit=conc_unit),
               {"conc": lambda: mp.Q_([0.1, 1.0], "uM")}, ("conc", "conc_unit")),
        Target("FitResult.with_flags", lambda flags: _batch_fit().with_flags(flags), {"flags": 32}, ("flags",)),
        Target("FitResult.to_dataframe",
               lambda index=None, dims=None, coords=None, level=0.95, unit=None: _batch_fit().to_dataframe(
                   index, dims=dims, coords=coords, level=level, unit=unit),
               {}, ("index", "dims", "coords", "level", "unit")),
        # pathway
        Target("sites_of_action", pathway.sites_of_action, {"inhibitor": "rapamycin"}, ("inhibitor", "registry")),
        Target("expected_readouts", pathway.expected_readouts, {"inhibitor": "torin1"}, ("inhibitor", "registry")),
        Target("to_dot", pathway.to_dot, {"inhibitor": "rapamycin"}, ("inhibitor", "registry")),
    ]


def fit_targets() -> list[Target]:
    """mp.fit, whose input checks belong to the fitting engine (reported, not asserted here).

    ``max_iter`` and ``workers`` are left out: odd values there recompile the solver
    (tens of seconds each).
    """
    return [
        Target("fit", mp.fit, {"conc": lambda: mp.Q_(list(CONC), "uM"), "response": lambda: np.array(RESP)},
               ("conc", "response", "model", "conc_unit", "fixed", "bounds", "weights", "share",
                "molecular_weight", "inhibitor", "progress")),
    ]


def plot_targets() -> list[Target]:
    """Plot functions (need matplotlib with the Agg backend)."""
    from mtor_pharm import plot

    res = _fit
    return [
        Target("plot.curve", plot.curve, {"res": res, "conc": lambda: mp.Q_(list(CONC), "uM"),
                                          "response": lambda: np.array(RESP)},
               ("res", "conc", "response", "index", "level", "unit", "conc_unit", "n_points", "errorbar")),
        Target("plot.curves", plot.curves, {"results": lambda: [res()]}, ("results", "labels", "level", "unit")),
        Target("plot.residuals", plot.residuals, {"res": res, "conc": lambda: mp.Q_(list(CONC), "uM"),
                                                  "response": lambda: np.array(RESP)},
               ("res", "conc", "response", "index", "unit")),
        Target("plot.plate_heatmap", plot.plate_heatmap, {"values": lambda: np.zeros((8, 12))},
               ("values", "plate_format", "vmin", "vmax")),
    ]


# ----------------------------------------------------------------------------- one call
def _snapshot(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list | dict | tuple):
        try:
            return copy.deepcopy(value)
        except Exception:
            return None
    return None


def _same(before: Any, after: Any) -> bool:
    if before is None:
        return True
    if isinstance(before, np.ndarray):
        if before.shape != after.shape:
            return False
        if isinstance(before, np.ma.MaskedArray):
            return bool(np.array_equal(before.mask, after.mask)) and _same(before.data, after.data)
        try:
            return bool(np.array_equal(before, after, equal_nan=before.dtype.kind in "fc"))
        except TypeError:
            return bool(np.array_equal(before, after))
    try:
        return bool(before == after) if not isinstance(before, list | tuple) else repr(before) == repr(after)
    except Exception:
        return True


def odd_value(target: Target, arg: str, key: str) -> Any:
    """The odd value `key` for `arg` (a file argument takes a file from ODD_FILES, or a folder)."""
    if arg in target.files and key in ODD_FILES:
        return io.StringIO(ODD_FILES[key])
    if arg in target.files and key == "folder":
        return tempfile.gettempdir()
    return ODD[key]()


def keys_for(target: Target, arg: str) -> list[str]:
    keys = list(ODD)
    if arg in target.files:
        keys += [*ODD_FILES, "folder"]
    return keys


def classify(target: Target, arg: str, value: Any) -> tuple[str, str]:
    """Call `target` with `arg` replaced by `value`; return (outcome, detail)."""
    before = {arg: _snapshot(value)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = target.call(**{arg: value})
        except CLEAN_TYPES as exc:
            message = str(exc)
            if arg in message:
                return _after(target, arg, value, before, caught, "clean", f"{type(exc).__name__}: {message}")
            return "unnamed", f"{type(exc).__name__}: {message[:200]}"
        except Exception as exc:
            return "foreign", f"{type(exc).__name__}: {str(exc)[:200]}"
        finally:
            _close_figures()
    del out
    return _after(target, arg, value, before, caught, "ok", "")


def _after(target: Target, arg: str, value: Any, before: Mapping[str, Any], caught: list[Any], outcome: str,
           detail: str) -> tuple[str, str]:
    leaked = [w for w in caught if not issubclass(w.category, MtorPharmWarning)]
    if leaked:
        w = leaked[0]
        return "warning", f"{w.category.__name__}: {str(w.message)[:200]}"
    if not _same(before[arg], value):
        return "mutated", f"{arg} changed"
    return outcome, detail


def _close_figures() -> None:
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
