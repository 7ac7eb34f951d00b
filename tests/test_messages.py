"""Error messages that send the user somewhere (#14): did-you-mean for units, columns, labels and models;
explicit log10 input; Prism model names; messages suggest only options the raising function has."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mtor_pharm as mp
from mtor_pharm import assays
from mtor_pharm.errors import UnitError, UnknownModelError


@pytest.mark.parametrize(("text", "suggestion"), [("50 um", "uM"), ("50 nm", "nM"), ("2 mm", "mM")])
def test_case_slip_in_a_unit_gets_did_you_mean(text: str, suggestion: str) -> None:
    with pytest.raises(UnitError, match=f"Did you mean '{suggestion}'"):
        mp.fit(text, [1.0])


def test_misspelt_unit_gets_did_you_mean() -> None:
    with pytest.raises(UnitError, match="Did you mean 'micromolar'"):
        mp.fit([1, 10, 100, 1000], [90, 70, 30, 10], conc_unit="micromolr")


def test_bare_km_is_not_told_to_pass_conc_unit() -> None:
    with pytest.raises(UnitError, match="`km` has no unit") as err:
        assays.cheng_prusoff("30 nM", substrate="10 uM", km=50)
    assert "conc_unit" not in str(err.value)


def test_mass_substrate_is_not_told_to_pass_options_cheng_prusoff_lacks() -> None:
    with pytest.raises(UnitError, match="mass concentration") as err:
        assays.cheng_prusoff("30 nM", substrate="50 ug/mL", km="5 uM")
    assert "inhibitor=" not in str(err.value) and "molecular_weight=" not in str(err.value)
    assert "mass_to_molar" in str(err.value)


def test_fit_still_offers_its_own_options_for_mass_units() -> None:
    with pytest.raises(UnitError, match="inhibitor=") as err:
        mp.fit(mp.Q_([1, 10, 100], "ug/mL"), [90, 50, 10])
    assert "conc_unit" not in str(err.value) or "conc_unit" in mp.fit.__doc__  # fit has conc_unit


@pytest.mark.parametrize(
    "name",
    ["variable slope", "Log(inhibitor) vs. response -- Variable slope (four parameters)", "four parameters", "LL.4"],
)
def test_prism_and_drc_names_are_aliases_of_4pl(name: str) -> None:
    assert mp.models.get_model(name).name == "4pl"


def test_prism_normalized_and_asymmetric_names() -> None:
    assert mp.models.get_model("log(inhibitor) vs. normalized response -- Variable slope").name == "2pl"
    assert mp.models.get_model("Asymmetric Sigmoidal").name == "5pl"
    with pytest.raises(UnknownModelError, match=r"fixed=\{'hill': 1\}"):
        mp.models.get_model("standard slope")
    with pytest.raises(UnknownModelError, match="Did you mean 'variable slope'"):
        mp.models.get_model("varible slope")


@pytest.mark.parametrize(
    "name", ["log(inhibitor) vs. response", "Log(agonist) vs. response", "sigmoidal dose-response", "standard slope"]
)
def test_prism_standard_slope_names_get_the_fixed_hill_advice(name: str) -> None:
    """Prism's menu names of its standard-slope model (HillSlope fixed at -1/+1) are refused with
    the way to fit them here, not steered to the variable-slope family by a close spelling."""
    with pytest.raises(UnknownModelError, match=r"fixed=\{'hill': 1\} for a falling curve") as err:
        mp.models.get_model(name)
    assert "Did you mean" not in str(err.value)


def test_prism_4_variable_slope_name_is_the_4pl() -> None:
    assert mp.models.get_model("Sigmoidal dose-response (variable slope)").name == "4pl"


def test_fixed_hill_of_prism_sign_warns_not_silently_swaps_plateaus() -> None:
    """Prism's HillSlope = -1 fixed as hill = -1 on falling data: the least-squares answer has
    top < bottom (the plateaus swapped against the reporting convention). It is kept as fitted,
    and a warning names the sign convention; the correct sign fits without a warning."""
    x = mp.Q_([1, 3, 10, 30, 100, 300, 1000.0], "nM")
    y = np.array([98, 94, 80, 52, 25, 10, 4.0])
    advice = r"Prism's 'standard slope' HillSlope = -1 is fixed=\{'hill': 1\}"
    with pytest.warns(mp.errors.MtorPharmWarning, match=advice):
        upside = mp.fit(x, np.stack([y, y[::-1]]), fixed={"hill": -1})
    assert float(upside.params["top"][0]) < float(upside.params["bottom"][0])  # kept as fitted
    assert float(upside.params["top"][1]) > float(upside.params["bottom"][1])  # a rising curve: fine
    right = mp.fit(x, y, fixed={"hill": 1})  # filterwarnings = error: no warning here
    assert float(right.params["top"]) > float(right.params["bottom"])
    # the same curve: plateaus swapped, same IC50 and RSS
    np.testing.assert_allclose(float(right.params["top"]), float(upside.params["bottom"][0]), rtol=1e-8)
    np.testing.assert_allclose(float(right.ic50.magnitude), float(upside.ic50.magnitude[0]), rtol=1e-8)


def test_fit_accepts_a_prism_model_name() -> None:
    x = mp.Q_(1000.0 / 3.0 ** np.arange(8), "nM")
    y = mp.models.four_pl(x.magnitude, 0, 100, 20.0, 1.0)
    assert mp.fit(x, y, model="variable slope").model == "4pl"


def test_log10_molar_input_is_explicit_never_guessed() -> None:
    x_log = np.array([-9.0, -8.5, -8.0, -7.5, -7.0, -6.5, -6.0])  # Prism's X column
    y = mp.models.four_pl(10.0**x_log, 0, 100, 3e-8, 1.0)
    df = pd.DataFrame({"logM": x_log, "v": y})
    with pytest.raises(ValueError, match="conc_log10=True"):
        mp.fit_table(df, conc="logM", response="v", conc_unit="M")
    res, _ = mp.fit_table(df, conc="logM", response="v", conc_unit="M", conc_log10=True)
    np.testing.assert_allclose(res.ic50.to("nM").magnitude, 30.0, rtol=1e-6)
    q = mp.units.from_log10(x_log, unit="nM")
    np.testing.assert_allclose(q.magnitude, 10.0 ** (x_log + 9), rtol=1e-12)
    np.testing.assert_allclose(mp.fit(q, y).ic50.to("nM").magnitude, 30.0, rtol=1e-6)
    assert mp.units.from_log10([-np.inf], unit="nM").magnitude[0] == 0.0  # -inf: a vehicle well


def test_fit_table_suggests_the_closest_column() -> None:
    df = pd.DataFrame({"compound": ["a"] * 4, "conc": [1, 10, 100, 1000], "viability": [90, 70, 30, 10]})
    with pytest.raises(LookupError, match="Did you mean 'viability'"):
        mp.fit_table(df, conc="conc", response="viabilty", conc_unit="nM")
    with pytest.raises(TypeError, match="label column"):
        mp.fit_table(df, conc="compound", response="viability", conc_unit="nM")


def test_fit_table_refuses_nan_and_empty_group_keys_issue_17() -> None:
    df = pd.DataFrame({"compound": ["a"] * 4 + [None] * 4 + [""] * 4, "conc": [1, 10, 100, 1000] * 3,
                       "v": [90, 70, 30, 10] * 3})
    with pytest.raises(ValueError, match="missing or empty key"):
        mp.fit_table(df, conc="conc", response="v", by="compound", conc_unit="nM")


def test_fit_table_refuses_none_and_fits_a_one_curve_table_issue_17() -> None:
    with pytest.raises(TypeError, match="DataFrame"):
        mp.fit_table(None, conc="c", response="v", conc_unit="nM")  # type: ignore[arg-type]
    df = pd.DataFrame({"c": [1, 10, 100, 1000, 3, 30], "v": [90, 70, 30, 10, 80, 50]})
    res, index = mp.fit_table(df, conc="c", response="v", conc_unit="nM")
    assert res.shape == (1,) and len(index) == 1


def test_parameter_names_typed_the_prism_or_drc_way_get_the_name_used_here() -> None:
    x = mp.Q_([1, 3, 10, 30, 100, 300, 1000.0], "nM")
    y = [98, 94, 80, 52, 25, 10, 4]
    res = mp.fit(x, y)
    typed_meant = (
        ("IC50", "'ic50'"),
        ("logIC50", "'ic50', the IC50 itself"),
        ("HillSlope", "'hill', whose sign"),
        ("Hil", "'hill'"),
    )
    for typed, meant in typed_meant:
        with pytest.raises(KeyError, match=f"Did you mean {meant}"):
            res.ci(typed)
    with pytest.raises(ValueError, match="Did you mean 'hill', whose sign is the opposite of Prism's HillSlope"):
        mp.fit(x, y, fixed={"HillSlope": -1})
    with pytest.raises(ValueError, match="Did you mean 'top'"):
        mp.fit(x, [y, y], share=["Top"])
    with pytest.raises(ValueError, match=r"Did you mean 'hill' \(drc's b\)"):
        mp.compare.fit_shared(x, [y, y], share=["hill"], fixed={"b": 1})


def test_fit_table_reads_the_tables_own_conc_unit_column() -> None:
    df = mp.load_example()  # has a conc_unit column ("nM"), as the command line's tables do
    res, _ = mp.fit_table(df, conc="conc", response="viability", by="compound")
    ref, _ = mp.fit_table(df, conc="conc", response="viability", by="compound", conc_unit="nM")
    np.testing.assert_array_equal(res.ic50.to("nM").magnitude, ref.ic50.to("nM").magnitude)
    mixed = df.copy()
    mixed.loc[0, "conc_unit"] = "uM"
    with pytest.raises(ValueError, match=r"mixes units \['nM', 'uM'\]"):
        mp.fit_table(mixed, conc="conc", response="viability", by="compound")
    with pytest.raises(ValueError, match="no conc_unit column"):
        mp.fit_table(df.drop(columns="conc_unit"), conc="conc", response="viability", by="compound")


def test_fit_table_says_when_concentrations_are_text_with_their_unit() -> None:
    df = mp.load_example()
    text = df.assign(conc=df["conc"].astype(str) + " nM")
    with pytest.raises(TypeError, match="numbers with their unit as text"):
        mp.fit_table(text, conc="conc", response="viability", by="compound")
    with pytest.raises(TypeError, match="label column"):
        mp.fit_table(df, conc="compound", response="viability", by="replicate")


def test_compare_potency_given_a_fit_points_to_potency_ratio() -> None:
    df = mp.load_example()
    res, _ = mp.fit_table(df, conc="conc", response="viability", by="compound")
    with pytest.raises(TypeError, match=r"potency_ratio\(a, b, fit=result\)"):
        mp.compare.compare_potency(res, "Torin1", "rapamycin")  # type: ignore[arg-type]


def test_dose_response_names_the_missing_column_and_the_keywords() -> None:
    df = mp.load_example()
    res, _ = mp.fit_table(df, conc="conc", response="viability", by="compound")
    with pytest.raises(LookupError, match=r"no column 'conc'.*Name the columns with conc="):
        mp.plot.dose_response(res, df.rename(columns={"conc": "dose"}), response="viability")
