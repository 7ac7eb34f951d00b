"""Look-up: names, filters, search, tables, and the Registry container."""

from __future__ import annotations

import dataclasses
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtor_pharm.registry as reg
from mtor_pharm.errors import MtorPharmError, RegistryDataError, UnknownInhibitorError
from mtor_pharm.registry import Inhibitor, Registry

ALL_NAMES = sorted({(n, inh.name) for inh in reg.all() for n in inh.names})


@st.composite
def _respelled(draw: st.DrawFn) -> tuple[str, str]:
    """A registry name with random case changes and spaces/hyphens inserted, and its compound."""
    name, compound = draw(st.sampled_from(ALL_NAMES))
    chars = []
    for ch in name:
        if ch in " -":
            chars.append(draw(st.sampled_from(["", " ", "-", "  ", "- "])))
            continue
        chars.append(ch.swapcase() if draw(st.booleans()) else ch)
        if draw(st.integers(0, 5)) == 0:
            chars.append(draw(st.sampled_from([" ", "-", "_", "\u2010"])))
    return "".join(chars), compound


@given(_respelled())
def test_get_ignores_case_spaces_and_hyphens(case: tuple[str, str]) -> None:
    spelled, compound = case
    assert reg.get(spelled).name == compound


@pytest.mark.parametrize("name", ["INK128", "ink-128", "MLN0128", "TAK-228", "INK 128", "tak228"])
def test_get_resolves_every_sapanisertib_code(name: str) -> None:
    assert reg.get(name).name == "Sapanisertib"


@pytest.mark.parametrize(("name", "expected"), [
    ("RAD001", "Everolimus"), ("rapamycin", "Sirolimus"), ("Rapamune", "Sirolimus"),
    ("CCI-779", "Temsirolimus"), ("deforolimus", "Ridaforolimus"), ("ABT-578", "Zotarolimus"),
    ("TORKinib", "PP242"), ("NVP-BEZ235", "Dactolisib"), ("GDC-0980", "Apitolisib"),
    ("PQR309", "Bimiralisib"), ("PKI-587", "Gedatolisib"), ("ASP7486", "OSI-027"),
])
def test_get_resolves_codes_and_brand_names(name: str, expected: str) -> None:
    assert reg.get(name).name == expected


@pytest.mark.parametrize(("label", "expected"), [
    ("Everolimus (RAD001)", "Everolimus"),
    ("Temsirolimus (CCI-779, NSC 683864)", "Temsirolimus"),
    ("BEZ235 (NVP-BEZ235, Dactolisib)", "Dactolisib"),
    ("INK 128 (MLN0128)", "Sapanisertib"),
    ("Torkinib (PP242)", "PP242"),
    ("Ridaforolimus (Deforolimus, MK-8669)", "Ridaforolimus"),
    ("Apitolisib (GDC-0980, RG7422)", "Apitolisib"),
])
def test_get_resolves_vendor_labels_whose_parts_name_one_compound(label: str,
                                                                  expected: str) -> None:
    assert reg.get(label).name == expected


def test_get_rejects_vendor_label_naming_two_compounds() -> None:
    with pytest.raises(UnknownInhibitorError, match=r"parts name 'Everolimus', 'Sirolimus'"):
        reg.get("Everolimus (rapamycin)")


def test_get_rejects_unknown_name_with_closest_suggestions() -> None:
    with pytest.raises(UnknownInhibitorError, match=r"got 'rapamicin'\. Closest names: 'rapamycin'") as info:
        reg.get("rapamicin")
    assert isinstance(info.value, LookupError) and isinstance(info.value, MtorPharmError)
    assert not isinstance(info.value, KeyError)
    assert "(Sirolimus)" in str(info.value)


def test_get_rejects_unknown_name_without_close_match_pointing_to_search() -> None:
    with pytest.raises(UnknownInhibitorError, match=r"No close name; try mp\.registry\.search"):
        reg.get("aspirin")


def test_get_rejects_non_string() -> None:
    with pytest.raises(TypeError, match="`name` must be a string or an Inhibitor; got int"):
        reg.get(42)  # type: ignore[arg-type]


def test_get_returns_an_inhibitor_given_one() -> None:
    inh = reg.get("torin1")
    assert reg.get(inh) is inh


def test_unknown_inhibitor_error_pickles() -> None:
    with pytest.raises(UnknownInhibitorError) as info:
        reg.get("nope-123")
    again = pickle.loads(pickle.dumps(info.value))
    assert type(again) is UnknownInhibitorError and str(again) == str(info.value)


def test_all_lists_generations_in_order() -> None:
    gens = [inh.generation for inh in reg.all()]
    assert gens == sorted(gens) and set(gens) == {1, 2, 3}


def test_filter_by_generation_mechanism_and_target() -> None:
    assert [i.name for i in reg.filter(generation=3)] == ["RapaLink-1"]
    torki = reg.filter(mechanism="atp-competitive-torki")
    assert {i.name for i in torki} == {
        "OSI-027", "Sapanisertib", "Torin1", "Torin2", "AZD8055", "Vistusertib", "PP242",
        "KU-0063794", "WYE-354", "WAY-600", "Onatasertib"}
    assert {i.name for i in reg.filter(target="pi3k")} == {
        "Dactolisib", "Gedatolisib", "Voxtalisib", "Apitolisib", "Omipalisib", "PI-103",
        "Bimiralisib"}
    assert [i.name for i in reg.filter(target="ATM")] == ["Torin2"]
    assert reg.filter(generation=1, mechanism="dual-pi3k-mtor") == ()


def test_filter_target_mtor_includes_both_complexes_but_mtorc2_only_named_ones() -> None:
    on_mtor = {i.name for i in reg.filter(target="mTOR")}
    on_c2 = {i.name for i in reg.filter(target="mTORC2")}
    assert on_c2 < on_mtor
    assert "Torin2" in on_mtor and "Torin2" not in on_c2  # the source says "mTOR"
    assert "Sirolimus" in on_mtor and "Sirolimus" not in on_c2


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"generation": 4}, r"`generation` must be 1, 2 or 3; got 4"),
    ({"generation": True}, r"`generation` must be 1, 2 or 3; got True"),
    ({"mechanism": "rapalog"}, r"`mechanism` must be one of .*; got 'rapalog'"),
    ({"target": ""}, r"`target` must be a non-empty string"),
])
def test_filter_rejects_unknown_criteria(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        reg.filter(**kwargs)  # type: ignore[arg-type]


def test_search_matches_names_mechanism_and_targets() -> None:
    assert [i.name for i in reg.search("torin")] == ["Torin1", "Torin2"]
    assert {i.name for i in reg.search("rapamycin")} >= {"Sirolimus", "Everolimus",
                                                           "Ridaforolimus", "Zotarolimus"}
    assert [i.name for i in reg.search("bivalent")] == ["RapaLink-1"]
    assert [i.name for i in reg.search("DNA-PK")] == ["Torin2", "PI-103"]  # PI-103: DNA-PK IC50 14 nM
    assert reg.search("no such thing") == ()


def test_search_rejects_empty_text() -> None:
    for text in ("  ", "- -"):
        with pytest.raises(ValueError, match="`text` must be a string with at least one letter"):
            reg.search(text)


def test_table_has_one_row_per_compound_with_nullable_facts() -> None:
    df = reg.table()
    assert isinstance(df, pd.DataFrame)
    assert df["name"].tolist() == [i.name for i in reg.all()]
    assert df["name"].is_unique
    row = df.set_index("name").loc["Temsirolimus"]
    assert row["molecular_weight"] == 1030.30 and pd.isna(row["pubchem_cid"])
    assert str(df["pubchem_cid"].dtype) == "Int64"
    assert df.set_index("name").loc["Sapanisertib", "synonyms"] == "TAK-228; MLN0128; INK128; INK 128"


def test_potency_table_has_one_row_per_record() -> None:
    df = reg.potency_table()
    assert len(df) == sum(len(i.potency) for i in reg.all()) == 60
    ranges = df[df["value"].isna()]
    assert (ranges["low"] < ranges["high"]).all()
    single = df[df["value"].notna()]
    assert (single["low"] == single["value"]).all() and (single["high"] == single["value"]).all()
    # the review's figures, and the two Torin1 figures not yet read in Liu et al. 2010
    assert set(df["source"][df["verified"] != "sourced"]) == {"vendor review", "Liu et al. 2010"}
    assert set(df["reference"][df["claim"].notna()]) == {"REVIEW"}
    assert df["verdict"].notna().sum() == df["claim"].notna().sum() == 8
    kinase = df[(df["assay_type"] == "cell-free kinase") & (df["kind"] != "selectivity fold")]
    assert kinase["atp"].notna().all() and df.loc[df["assay_type"] != "cell-free kinase", "atp"].isna().all()
    assert (df["where"].str.len() > 0).all()


def test_registry_container_protocol() -> None:
    builtin = Registry.builtin()
    assert Registry.builtin() is builtin
    assert len(builtin) == 25 and list(builtin) == list(reg.all())
    assert "ink 128" in builtin and "aspirin" not in builtin and 3 not in builtin
    assert reg.get("torin2") in builtin
    assert builtin["RAD-001"].name == "Everolimus"
    assert repr(builtin) == "<Registry: 25 compounds, 60 potency records, 2 trials>"


def test_registry_rejects_compounds_sharing_a_name() -> None:
    a = Inhibitor(name="A-1", synonyms=("shared",), generation=2, mechanism="atp-competitive-torki")
    b = Inhibitor(name="B-2", synonyms=("SHARED",), generation=2, mechanism="atp-competitive-torki")
    with pytest.raises(RegistryDataError, match=r"'SHARED' is a name of both 'A-1' and 'B-2'"):
        Registry([a, b])


def test_registry_rejects_non_inhibitors() -> None:
    with pytest.raises(TypeError, match="`compounds` must hold Inhibitor objects; got str"):
        Registry(["sirolimus"])  # type: ignore[list-item]


def test_inhibitors_are_frozen_hashable_and_pickle() -> None:
    inh = reg.get("everolimus")
    with pytest.raises(dataclasses.FrozenInstanceError):
        inh.name = "other"  # type: ignore[misc]
    assert hash(inh) == hash(pickle.loads(pickle.dumps(inh)))
    assert pickle.loads(pickle.dumps(inh)) == inh
    assert repr(inh) == "Inhibitor('Everolimus', generation=1, mechanism='allosteric-rapalog')"


def test_import_reads_no_file_and_first_use_reads_the_data_once() -> None:
    code = textwrap.dedent("""
        import sys
        opened = []
        sys.addaudithook(lambda event, args: opened.append(str(args[0]))
                         if event == "open" and str(args[0]).endswith("inhibitors.toml") else None)
        import mtor_pharm.registry as reg
        import mtor_pharm.pathway
        before = len(opened)
        reg.get("INK128"); reg.get("rapamycin"); reg.table()
        print(before, len(opened))
    """)
    src = Path(reg.__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(src)})
    assert out.stdout.split() == ["0", "1"]
