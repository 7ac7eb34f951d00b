"""User extension: mp.registry.load, and validation of data files."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

import mtor_pharm.registry as reg
from mtor_pharm.errors import RegistryDataError
from mtor_pharm.registry import Registry

WriteToml = Callable[[str], Path]

NB_REF = """
[references.NB]
type = "unpublished"
title = "Lab notebook 12"
identifier = "NB-12"
"""

GOOD = """
schema_version = 2
""" + NB_REF + """
[[compound]]
name = "LAB-0042"
synonyms = ["L42"]
generation = 2
mechanism = "atp-competitive-torki"
targets = ["mTORC1", "mTORC2"]
sources = ["[NB]"]

[compound.molecular_weight]
value = 412.5
unit = "g/mol"
sources = ["[NB]"]
computed = true

[[potency]]
compound = "L42"
target = "p-S6K1 T389"
kind = "IC50"
value = 12.5
unit = "nM"
cell_line = "MCF7"
assay_type = "cellular phospho-readout"
source = "[NB]"
verified = "sourced"

[[potency]]
compound = "rapamycin"
target = "p-S6K1 T389"
kind = "IC50"
value = 0.8
unit = "nM"
assay_type = "cellular phospho-readout"
source = "[NB]"
verified = "sourced"

[[trial]]
id = "LAB-TRIAL-1"
title = "In-house xenograft study"
compounds = ["LAB-0042", "everolimus"]
sources = ["[NB]"]
verified = "sourced"

[[trial.arm]]
label = "LAB-0042"
compounds = ["L42"]
n = 8
"""

COMPOUND = """
[[compound]]
name = "LAB-7"
generation = 2
mechanism = "atp-competitive-torki"
"""
LAB = NB_REF + COMPOUND  # a compound and the reference its records cite


def _potency(**overrides: str) -> str:
    fields = {"compound": '"LAB-7"', "target": '"mTORC1"', "kind": '"IC50"', "value": "3",
              "unit": '"nM"', "assay_type": '"cell-free kinase"', "atp": '"10 uM"',
              "source": '"[NB] p. 3"', "verified": '"sourced"'}
    fields.update(overrides)
    body = "\n".join(f"{k} = {v}" for k, v in fields.items() if v != "DROP")
    return f"\n[[potency]]\n{body}\n"


def test_load_merges_a_lab_file_into_a_new_registry(write_toml: WriteToml) -> None:
    lab = reg.load(write_toml(GOOD))
    assert isinstance(lab, Registry) and len(lab) == len(reg.all()) + 1
    inh = lab.get("lab 0042")
    assert inh.name == "LAB-0042"
    assert [c.reference.key for c in inh.citations] == ["NB"]
    assert inh.sources == ("Lab notebook 12. NB-12.",)
    assert inh.to_molar("412.5 ug/mL", unit="mM").magnitude == pytest.approx(1.0)
    assert [r.cell_line for r in inh.potency] == ["MCF7"]
    assert [t.id for t in inh.trials] == ["LAB-TRIAL-1"]


def test_load_leaves_the_builtin_registry_unchanged(write_toml: WriteToml) -> None:
    before = reg.get("rapamycin")
    shipped = before.potency
    lab = reg.load(write_toml(GOOD))
    assert "LAB-0042" not in Registry.builtin() and "LAB-0042" in lab
    assert reg.get("rapamycin") is before and before.potency == shipped
    # the lab's one record is added in the new registry only
    assert lab.get("rapamycin").potency[:len(shipped)] == shipped
    assert len(lab.get("rapamycin").potency) == len(shipped) + 1
    assert lab.get("torin1") is reg.get("torin1")  # untouched compounds are shared, not copied
    assert [t.id for t in lab.get("everolimus").trials][-1] == "LAB-TRIAL-1"
    assert len(reg.get("everolimus").trials) == 2


def test_load_accepts_str_paths_and_chains(write_toml: WriteToml) -> None:
    first = reg.load(str(write_toml(GOOD)))
    second = first.load(write_toml(COMPOUND))
    assert "LAB-7" in second and "LAB-7" not in first and "LAB-0042" in second


def test_load_rejects_missing_name(write_toml: WriteToml) -> None:
    path = write_toml("""
        [[compound]]
        generation = 1
        mechanism = "allosteric-rapalog"
    """)
    with pytest.raises(RegistryDataError, match=r"`compound\[0\]\.name` must be given"):
        reg.load(path)


def test_load_rejects_a_synonym_shared_by_two_compounds_in_the_file(write_toml: WriteToml) -> None:
    path = write_toml(COMPOUND + """
        synonyms = ["X-1"]

        [[compound]]
        name = "LAB-8"
        synonyms = ["x 1"]
        generation = 2
        mechanism = "atp-competitive-torki"
    """.replace("        ", ""))
    with pytest.raises(RegistryDataError, match=r"`compound\[1\]\.synonyms\[0\]` must be a name no other "
                                                r"compound uses .*got 'x 1' \(compound 'LAB-8'\)\. "
                                                r"It is already a name of 'LAB-7' \(compound\[0\]\)"):
        reg.load(path)


def test_load_rejects_a_name_already_in_the_registry(write_toml: WriteToml) -> None:
    path = write_toml(COMPOUND + 'synonyms = ["Rapamycin"]\n')
    with pytest.raises(RegistryDataError, match=r"got 'Rapamycin' \(compound 'LAB-7'\)\. "
                                                r"It is already a name of 'Sirolimus'"):
        reg.load(path)


def test_load_rejects_two_compounds_with_the_same_name(write_toml: WriteToml) -> None:
    with pytest.raises(RegistryDataError, match=r"`compound\[1\]\.name` must be a name no other"):
        reg.load(write_toml(COMPOUND + COMPOUND))


@pytest.mark.parametrize("value", ["-3", "0", "nan", "inf", "true", '"3"'])
def test_load_rejects_non_positive_or_non_numeric_values(write_toml: WriteToml, value: str) -> None:
    with pytest.raises(RegistryDataError, match=r"`potency\[0\]\.value` must be a positive finite number"):
        reg.load(write_toml(LAB + _potency(value=value)))


@pytest.mark.parametrize(("unit", "match"), [
    ("DROP", r"`potency\[0\]\.unit` must be given"),
    ('"dimensionless"', r"`potency\[0\]\.unit` must be a molar concentration such as 'nM' for "
                        r"kind 'IC50'"),
    ('"ug/mL"', r"`potency\[0\]\.unit` must be a molar concentration .*got 'ug/mL'"),
    ('"blorps"', r"`potency\[0\]\.unit` must be a unit pint understands"),
    ('"furlong"', r"`potency\[0\]\.unit` must be a molar concentration .*got 'furlong'"),
])
def test_load_rejects_unitless_or_non_molar_values(write_toml: WriteToml, unit: str,
                                                   match: str) -> None:
    with pytest.raises(RegistryDataError, match=match):
        reg.load(write_toml(LAB + _potency(unit=unit)))


def test_load_rejects_a_fold_with_a_concentration_unit(write_toml: WriteToml) -> None:
    text = LAB + _potency(kind='"selectivity fold"', value="100", versus='"PI3K"')
    with pytest.raises(RegistryDataError, match=r"`potency\[0\]\.unit` must be 'dimensionless'"):
        reg.load(write_toml(text))


def test_load_rejects_an_unknown_assay_type(write_toml: WriteToml) -> None:
    with pytest.raises(RegistryDataError, match=r"`potency\[0\]\.assay_type` must be one of 'cell-free "
                                                r"kinase', .*; got 'western blot' \(potency record for "
                                                r"'LAB-7'\)"):
        reg.load(write_toml(LAB + _potency(assay_type='"western blot"')))


@pytest.mark.parametrize(("override", "match"), [
    ({"kind": '"IC90"'}, r"`potency\[0\]\.kind` must be one of 'IC50'"),
    ({"verified": '"yes"'}, r"`potency\[0\]\.verified` must be one of 'sourced'"),
    ({"compound": '"LAB-77"'}, r"`potency\[0\]\.compound` must name a compound .* Closest names: 'LAB-7'"),
    ({"low": "5", "high": "2", "value": "DROP"}, r"`potency\[0\]\.high` must be above low"),
    ({"low": "5"}, r"`potency\[0\]\.value` must be given alone"),
    ({"source": '"[NOPE]"'}, r"`potency\[0\]\.source` must cite a key defined in the file's "
                             r"\[references\]; got '\[NOPE\]'"),
    ({"source": '"Smith et al. 2010"'}, r"`potency\[0\]\.source` must cite a reference as "),
    ({"source": '"https://example.org/x"'}, r"Free-text sources and bare URLs are not citations"),
    ({"atp": "DROP"}, r"`potency\[0\]\.atp` must be given for a cell-free kinase record"),
    ({"atp": '"lots"'}, r"`potency\[0\]\.atp` must be a molar concentration such as '10 uM'"),
    ({"assay_type": '"cellular"'}, r"`potency\[0\]\.atp` must be given only for cell-free kinase"),
    ({"assay_type": "DROP"}, r"`potency\[0\]\.assay_type` must be given"),
    ({"verdict": '"agrees"'}, r"`potency\[0\]\.verdict` must be given only with claim"),
    ({"claim": '"9"'}, r"`potency\[0\]\.verdict` must be given for a review figure"),
    ({"sorce": '"x"'}, r"`potency\[0\]\.sorce` must be a known field; got 'sorce'.*Did you mean 'source'"),
])
def test_load_rejects_bad_potency_fields(write_toml: WriteToml, override: dict[str, str],
                                         match: str) -> None:
    with pytest.raises(RegistryDataError, match=match):
        reg.load(write_toml(LAB + _potency(**override)))


def test_binding_kd_records_load_without_atp_and_are_not_divided_by_kinase_ic50s(
        write_toml: WriteToml) -> None:
    kd = _potency(target='"FKBP12"', kind='"Kd"', value="0.5", assay_type='"binding"',
                  atp="DROP")
    ic50 = _potency(target='"mTORC1"', value="5")
    lab = reg.load(write_toml(LAB + kd + ic50))
    (rec,) = lab.get("LAB-7").records(kind="Kd")
    assert rec.assay_type == "binding" and rec.atp is None and rec.atp_concentration is None
    assert rec.value is not None and rec.value.to("nM").magnitude == pytest.approx(0.5)
    with pytest.raises(ValueError, match=r"same kind, assay type and source"):
        lab.get("LAB-7").selectivity("FKBP12", "mTORC1")
    with pytest.raises(RegistryDataError,
                       match=r"`potency\[0\]\.atp` must be given only for cell-free kinase"):
        reg.load(write_toml(LAB + _potency(kind='"Kd"', assay_type='"binding"')))


@pytest.mark.parametrize(("extra", "match"), [
    ('[compound.cas]\nvalue = "53123-88-8"\nsources = ["x"]\n',
     r"`compound\[0\]\.cas\.value` must be a CAS number with a valid check digit"),
    ('[compound.formula]\nvalue = "c51h79"\nsources = ["x"]\n',
     r"`compound\[0\]\.formula\.value` must be a molecular formula"),
    ('[compound.formula]\nvalue = "C2H6O"\n', r"`compound\[0\]\.formula\.sources` must be given"),
    ('[compound.formula]\nvalue = "C2H6O"\nsources = []\n',
     r"`compound\[0\]\.formula\.sources` must cite at least one reference"),
    ('[compound.formula]\nvalue = "C2H6O"\nsources = ["http://cryer.org.uk/Rapamune"]\n',
     r"`compound\[0\]\.formula\.sources\[0\]` must cite a reference"),
    ('[compound.molecular_weight]\nvalue = 46.07\nsources = ["x"]\n',
     r"`compound\[0\]\.molecular_weight\.unit` must be given"),
    ('[compound.molecular_weight]\nvalue = 46.07\nunit = "g"\nsources = ["x"]\n',
     r"`compound\[0\]\.molecular_weight\.unit` must be a molar mass"),
    ('[compound.inchikey]\nvalue = "not-a-key"\nsources = ["x"]\n',
     r"`compound\[0\]\.inchikey\.value` must be an InChIKey"),
    ('[compound.pubchem_cid]\nvalue = -5\nsources = ["x"]\n',
     r"`compound\[0\]\.pubchem_cid\.value` must be a positive integer"),
])
def test_load_rejects_bad_facts(write_toml: WriteToml, extra: str, match: str) -> None:
    with pytest.raises(RegistryDataError, match=match):
        reg.load(write_toml(COMPOUND + extra))


def test_load_rejects_generation_inconsistent_with_mechanism(write_toml: WriteToml) -> None:
    path = write_toml(COMPOUND.replace("generation = 2", "generation = 1"))
    with pytest.raises(RegistryDataError, match=r"`compound\[0\]\.generation` must match mechanism "
                                                r"'atp-competitive-torki' \(generation 2\); got 1"):
        reg.load(path)


def test_load_lists_every_bad_field_at_once_with_its_location(write_toml: WriteToml) -> None:
    path = write_toml("""
        [[compound]]
        name = "LAB-7"
        synonyms = ["rapamycin"]
        generation = 5
        mechanism = "atp-competitive-torki"

        [[compound]]
        mechanism = "allosteric"
        generation = 1

        [[potency]]
        compound = "LAB-7"
        target = "mTORC1"
        kind = "IC50"
        value = -3
        unit = "nM"
        assay_type = "western"
        source = "[REVIEW]"
        verified = "sourced"
    """)
    with pytest.raises(RegistryDataError) as info:
        reg.load(path)
    message = str(info.value)
    assert message.startswith(f"registry data in {str(path)!r} has 6 problems:\n")
    for location in ("`compound[0].synonyms[0]`", "`compound[0].generation`", "`compound[1].name`",
                     "`compound[1].mechanism`", "`potency[0].value`", "`potency[0].assay_type`"):
        assert message.count(location) == 1, location
    assert message.endswith("Fix every listed field and load the file again.")


def test_load_reports_toml_syntax_errors_with_their_position(write_toml: WriteToml) -> None:
    with pytest.raises(RegistryDataError, match=r"must be valid TOML; got a syntax error: .*line 3"):
        reg.load(write_toml('[[compound]]\nname = "X"\ngeneration = = 2\n'))


def test_load_never_executes_code(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    script = tmp_path / "evil.toml"
    script.write_text(f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n", encoding="utf-8")
    with pytest.raises(RegistryDataError, match="must be valid TOML"):
        reg.load(script)
    assert not marker.exists()


def test_load_keeps_code_like_strings_as_plain_text(write_toml: WriteToml) -> None:
    lab = reg.load(write_toml(COMPOUND + 'notes = ["__import__(\'os\').system(\'echo hi\')"]\n'))
    assert lab.get("LAB-7").notes == ("__import__('os').system('echo hi')",)


def test_load_rejects_unknown_top_level_tables_and_schema(write_toml: WriteToml) -> None:
    with pytest.raises(RegistryDataError) as info:
        reg.load(write_toml('schema_version = 1\n[[compounds]]\nname = "x"\n'))
    assert "`schema_version` must be 2; got 1" in str(info.value)
    assert "`compounds` must be a known field" in str(info.value)
    assert "Did you mean 'compound'?" in str(info.value)


def test_load_rejects_trials_with_unknown_compounds_and_duplicate_ids(write_toml: WriteToml) -> None:
    path = write_toml("""
        [[trial]]
        id = "EudraCT 2015-002133-22"
        title = "again"
        compounds = ["aspirin"]
        sources = ["x"]
        verified = "sourced"
    """)
    with pytest.raises(RegistryDataError) as info:
        reg.load(path)
    assert "`trial[0].compounds[0]` must name a compound" in str(info.value)
    assert "`trial[0].id` must be new (not an id already in the registry or this file); " \
        "got 'EudraCT 2015-002133-22'" in str(info.value)


def test_load_of_a_missing_file_raises_registry_data_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryDataError, match="`path` must name an existing TOML file; got '.*absent.toml'"):
        reg.load(tmp_path / "absent.toml")


def test_registry_data_error_pickles(write_toml: WriteToml) -> None:
    with pytest.raises(RegistryDataError) as info:
        reg.load(write_toml("[[compound]]\n"))
    again = pickle.loads(pickle.dumps(info.value))
    assert type(again) is RegistryDataError and str(again) == str(info.value)
    assert isinstance(again, ValueError)
