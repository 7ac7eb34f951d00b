"""The shipped data file checked against the sources it was transcribed from.

Expected values below are copied from ``registry_facts.md`` (the project's sourced fact
sheet) and from the abstracts of the cited papers (issue #16: values as printed there),
or computed here from first principles (atomic weights, CAS check digits), never read
back from the code under test.
"""

from __future__ import annotations

import csv
import re
from dataclasses import fields
from pathlib import Path

import pytest

import mtor_pharm.registry as reg
from mtor_pharm.registry import Fact, Inhibitor

# Section 1 of the fact sheet, in its order.
FACT_SHEET_COMPOUNDS = [
    "Sirolimus", "Everolimus", "Temsirolimus", "Ridaforolimus", "Zotarolimus", "Umirolimus",
    "OSI-027", "Sapanisertib", "Torin1", "Torin2", "AZD8055", "Vistusertib", "PP242",
    "KU-0063794", "WYE-354", "WAY-600", "Onatasertib", "Dactolisib", "Gedatolisib",
    "Voxtalisib", "Apitolisib", "Omipalisib", "PI-103", "Bimiralisib", "RapaLink-1",
]

# IUPAC standard atomic weights (conventional values).
ATOMIC_WEIGHTS = {
    "C": 12.011, "H": 1.008, "N": 14.007, "O": 15.999, "F": 18.998403163,
    "P": 30.973761998, "S": 32.06, "Cl": 35.45,
}

# (name, formula, MW, CAS, PubChem CID) as the fact sheet gives them; None = blank there
# or deliberately withheld (conflict, unconfirmed INN link).
IDENTITY = [
    ("Sirolimus", "C51H79NO13", 914.19, "53123-88-9", 5284616),
    ("Everolimus", "C53H83NO14", 958.24, "159351-69-6", 6442177),
    ("Temsirolimus", "C56H87NO16", 1030.30, "162635-04-3", None),
    ("Ridaforolimus", "C53H84NO14P", 990.22, None, 11520894),
    ("Zotarolimus", "C52H79N5O12", 966.23, "221877-54-9", 9876378),
    # CAS as the FDA GSRS record UNII U36PGF65JH prints it (a PRIMARY CAS code of umirolimus)
    ("Umirolimus", None, None, "851536-75-9", None),
    ("OSI-027", "C21H22N6O3", 406.45, None, None),
    ("Sapanisertib", "C15H15N7O", 309.33, None, 45375953),
    ("Torin1", "C35H28F3N5O2", 607.64, None, 49836027),
    ("Torin2", "C24H15F3N4O", 432.41, None, 51358113),
    ("AZD8055", "C25H31N5O4", 465.55, None, 25262965),
    ("Vistusertib", None, None, None, None),
    ("PP242", "C16H16N6O", 308.35, None, None),
    ("KU-0063794", "C25H31N5O4", 465.55, None, 16736978),
    ("WYE-354", "C24H29N7O5", 495.54, None, 44219749),
    ("WAY-600", "C28H30N8O", 494.60, None, 25229526),
    ("Onatasertib", None, None, None, None),
    ("Dactolisib", "C30H23N5O", 469.55, "915019-65-7", 11977753),
    ("Gedatolisib", "C32H41N9O4", 615.74, None, 44516953),
    ("Voxtalisib", "C13H14N6O", 270.30, None, 16123056),
    ("Apitolisib", "C23H30N8O3S", 498.61, None, 25254071),
    # The fact sheet's values for "GSK2126458" ([BRH] BRD-K07972848), linked to omipalisib by
    # the HMS LINCS small-molecule record 10146-101 ("Omipalisib", alternative names
    # "GSK2126458; GSK2126458A", CID 25167777)
    ("Omipalisib", "C25H17F2N5O3S", 505.51, None, 25167777),
    ("PI-103", "C19H16N4O3", 348.36, None, 9884685),
    ("Bimiralisib", "C17H20F3N7O2", 411.39, None, 58507717),
    ("RapaLink-1", None, None, None, None),
]

# Section 3: (compound, target, kind, value or (low, high), unit, assay type).
SECTION_3 = [
    ("AZD8055", "mTOR", "IC50", 0.8, "nM", "cell-free kinase"),
    ("AZD8055", "mTOR", "selectivity fold", 1000, "dimensionless", "cell-free kinase"),
    ("KU-0063794", "mTORC1", "IC50", 10, "nM", "cell-free kinase"),
    ("KU-0063794", "mTORC2", "IC50", 10, "nM", "cell-free kinase"),
    ("KU-0063794", "mTOR", "selectivity fold", 1000, "dimensionless", "cell-free kinase"),
    ("Torin2", "p-S6K1 T389", "EC50", 0.25, "nM", "cellular phospho-readout"),
    ("Torin2", "mTOR", "selectivity fold", 800, "dimensionless", "cellular"),
    ("Torin2", "ATM", "EC50", 28, "nM", "unspecified"),
    ("Torin2", "ATR", "EC50", 35, "nM", "unspecified"),
    ("Torin2", "DNA-PK", "EC50", 118, "nM", "unspecified"),
    ("OSI-027", "mTORC1", "IC50", 22, "nM", "unspecified"),
    ("OSI-027", "mTORC2", "IC50", 65, "nM", "unspecified"),
    ("Apitolisib", "PI3Kα", "IC50", 5, "nM", "cell-free kinase"),
    ("Apitolisib", "PI3Kβ", "IC50", 27, "nM", "cell-free kinase"),
    ("Apitolisib", "PI3Kδ", "IC50", 7, "nM", "cell-free kinase"),
    ("Apitolisib", "PI3Kγ", "IC50", 14, "nM", "cell-free kinase"),
    ("Apitolisib", "mTOR", "Ki", 17, "nM", "cell-free kinase"),
    ("Bimiralisib", "p-Akt S473", "IC50", 130, "nM", "cellular phospho-readout"),
    ("Bimiralisib", "p-S6 S235/236", "IC50", 580, "nM", "cellular phospho-readout"),
    ("Bimiralisib", "cell proliferation", "GI50", (50, 3300), "nM", "proliferation"),
    ("Bimiralisib", "cell proliferation", "GI50", (100, 6700), "nM", "proliferation"),
    ("Bimiralisib", "cell proliferation", "GI50", (25, 1740), "nM", "proliferation"),
    ("Sapanisertib", "cell proliferation", "IC50", (1.5, 53), "nM", "proliferation"),
    ("Sapanisertib", "cell proliferation", "IC50", (1, 149), "nM", "proliferation"),
    ("Sapanisertib", "cell proliferation", "IC50", (13, 162), "nM", "proliferation"),
    ("Sapanisertib", "cell proliferation", "IC50", (33, 40), "nM", "proliferation"),
    ("Temsirolimus", "mTOR", "active concentration", (10, 20), "uM", "cell-free kinase"),
    # Cancer Res 2007;67:5840 abstract: "p110α (2 nmol/L), p110β (3 nmol/L), p110δ (3 nmol/L),
    # and p110γ (15 nmol/L) ... inhibited TORC1 by 83.9% at 0.5 μmol/L ... IC50 of 14 nmol/L
    # against DNA-PK"
    ("PI-103", "PI3Kα", "IC50", 2, "nM", "cell-free kinase"),
    ("PI-103", "PI3Kβ", "IC50", 3, "nM", "cell-free kinase"),
    ("PI-103", "PI3Kδ", "IC50", 3, "nM", "cell-free kinase"),
    ("PI-103", "PI3Kγ", "IC50", 15, "nM", "cell-free kinase"),
    ("PI-103", "DNA-PK", "IC50", 14, "nM", "unspecified"),
    ("PI-103", "mTORC1", "active concentration", 500, "nM", "unspecified"),
    # Banaszynski et al. 2005 (J Am Chem Soc), abstract: "rapamycin binds to FRB with moderate
    # affinity (Kd = 26 ± 0.8 µM). The FKBP12·rapamycin complex, however, binds to FRB
    # 2000-fold more tightly (Kd = 12 ± 0.8 nM)"; introduction: "Rapamycin binds with high
    # affinity (Kd = 0.2 nM) to the 12-kDa FK506 binding protein (FKBP12"
    ("Sirolimus", "FRB domain of mTOR", "Kd", 26, "uM", "binding"),
    ("Sirolimus", "FRB domain of mTOR (as the FKBP12·rapamycin complex)", "Kd", 12, "nM",
     "binding"),
    ("Sirolimus", "FKBP12", "Kd", 0.2, "nM", "binding"),
    # Boulay et al. 2004 (Cancer Res 64:252), abstract: "S6K1 also underwent a
    # concentration-dependent inactivation after RAD001 treatment ex vivo (>95% inactivation
    # with 20 nm RAD001)"
    ("Everolimus", "S6K1 activity", "active concentration", 20, "nM", "cellular"),
    # AACR 2005 abstract 715 (Cancer Res 65(9 Suppl)): "B16/BL6 melanoma, 0.7 nM IC50 ... KB-31
    # epidermoid 1.8 μM IC50"
    ("Everolimus", "cell proliferation", "IC50", 0.7, "nM", "cellular"),
    ("Everolimus", "cell proliferation", "IC50", 1.8, "uM", "cellular"),
    # Transplantation 1992;53:1071 (PMID 1585470), abstract: "Rapa (IC50 = 0.3 nM-2 nM)"
    ("Sirolimus", "immunoglobulin production", "IC50", (0.3, 2), "nM", "cellular"),
]

# Davis et al. 2011 (Nat Biotechnol 29:1046) Kd table, extracted from a public copy of the
# data set by tests/data/registry/make_davis2011_extract.py (binding assays, nM).
DAVIS_EXTRACT = Path(__file__).parent.parent / "data" / "registry" / "davis2011_extract.tsv"


def _davis_rows() -> list[tuple[str, str, str, float, str, str]]:
    lines = [ln for ln in DAVIS_EXTRACT.read_text(encoding="utf-8").splitlines()
             if not ln.startswith("#")]
    return [(r["compound"], r["target"], "Kd", float(r["kd_nM"]), "nM", "binding")
            for r in csv.DictReader(lines, delimiter="\t")]


SECTION_3 += _davis_rows()

# Section 5 (claim checks): (compound, name used by the review, target, kind, value,
# qualifier, verified, claim, verdict). No primary paper with these numbers could be read,
# so every verdict is "no primary source found" (the OSI-027 pair agrees with a secondary
# citation, see the record's compared_with).
NONE_FOUND = "no primary source found"
REVIEW = [
    ("Sirolimus", "rapamycin", "p-S6K1", "IC50", 0.5, "~", "unverifiable", "1", NONE_FOUND),
    ("OSI-027", None, "mTORC1", "IC50", 22, "=", "confirmed", "2a", NONE_FOUND),
    ("OSI-027", None, "mTORC2", "IC50", 65, "=", "confirmed", "2a", NONE_FOUND),
    ("OSI-027", None, "mTOR", "selectivity fold", 100, ">", "unverifiable", "2b", NONE_FOUND),
    ("Torin1", None, "mTOR", "unspecified", (2, 10), "=", "unverifiable", "3", NONE_FOUND),
    ("Torin1", None, "mTOR", "selectivity fold", 1000, ">", "unverifiable", "3", NONE_FOUND),
    ("Sapanisertib", "INK128", "mTOR", "unspecified", 1, "=", "unverifiable", "4", NONE_FOUND),
    ("Sapanisertib", "INK128", "mTOR", "selectivity fold", 200, ">", "unverifiable", "4",
     NONE_FOUND),
]


def _mw_from_formula(formula: str) -> float:
    assert re.fullmatch(r"(?:[A-Z][a-z]?\d*)+", formula), formula
    return sum(
        ATOMIC_WEIGHTS[element] * (int(count) if count else 1)
        for element, count in re.findall(r"([A-Z][a-z]?)(\d*)", formula)
    )


def _record_value(rec: reg.PotencyRecord) -> float | tuple[float, float]:
    if rec.bounds is not None:
        return rec.bounds
    assert rec.magnitude is not None
    return rec.magnitude


def _canonical(row: tuple[object, ...]) -> str:
    """A sortable, type-insensitive key: numbers as floats, ranges as float pairs."""
    out: list[object] = []
    for item in row:
        if isinstance(item, tuple):
            out.append(tuple(float(x) for x in item))
        elif isinstance(item, int | float) and not isinstance(item, bool):
            out.append(float(item))
        else:
            out.append(item)
    return repr(tuple(out))


def _facts(inh: Inhibitor) -> list[tuple[str, Fact[object]]]:
    return [(f.name, getattr(inh, f.name)) for f in fields(inh)
            if isinstance(getattr(inh, f.name), Fact)]


def test_registry_holds_every_compound_of_the_fact_sheet_once() -> None:
    assert [inh.name for inh in reg.all()] == FACT_SHEET_COMPOUNDS


@pytest.mark.parametrize(
    "row", ["Rapamycin", "OSI-027", "Torin1", "INK128", "Sapanisertib (MLN0128)"]
)
def test_every_known_row_of_the_review_table_resolves(row: str) -> None:
    assert reg.get(row).name in FACT_SHEET_COMPOUNDS


def test_review_rows_for_sapanisertib_and_ink128_merge_into_one_compound() -> None:
    names = ["Sapanisertib (MLN0128)", "INK128", "ink-128", "INK 128", "MLN0128", "TAK-228",
             "tak228", "sapanisertib"]
    assert {id(reg.get(n)) for n in names} == {id(reg.get("Sapanisertib"))}
    holders = [inh.name for inh in reg.all()
               if {"ink128", "mln0128", "tak228"} & {n.casefold().replace("-", "").replace(" ", "")
                                                     for n in inh.names}]
    assert holders == ["Sapanisertib"]
    review_names = {r.reported_name for r in reg.get("INK128").potency if r.source == "vendor review"}
    assert review_names == {"INK128"}


@pytest.mark.parametrize(("name", "formula", "mw", "cas", "cid"), IDENTITY,
                         ids=[row[0] for row in IDENTITY])
def test_identity_facts_match_the_fact_sheet(
    name: str, formula: str | None, mw: float | None, cas: str | None, cid: int | None
) -> None:
    inh = reg.get(name)
    assert (inh.formula.value if inh.formula else None) == formula
    assert (inh.molecular_weight.value if inh.molecular_weight else None) == mw
    assert (inh.cas.value if inh.cas else None) == cas
    assert (inh.pubchem_cid.value if inh.pubchem_cid else None) == cid


WITH_FORMULA_AND_MW = [row[0] for row in IDENTITY if row[1] is not None and row[2] is not None]


@pytest.mark.parametrize("name", WITH_FORMULA_AND_MW)
def test_molecular_weight_matches_formula_within_0_05_g_per_mol(name: str) -> None:
    inh = reg.get(name)
    assert inh.formula is not None and inh.molecular_weight is not None
    assert inh.molecular_weight.value == pytest.approx(_mw_from_formula(inh.formula.value),
                                                       abs=0.05)


def test_every_compound_with_formula_and_mw_is_checked() -> None:
    shipped = [inh.name for inh in reg.all() if inh.formula and inh.molecular_weight]
    assert shipped == WITH_FORMULA_AND_MW
    assert len(shipped) == 21


@pytest.mark.parametrize("inh", [i for i in reg.all() if i.cas], ids=lambda i: i.name)
def test_cas_numbers_have_valid_check_digits(inh: Inhibitor) -> None:
    assert inh.cas is not None
    body, check = inh.cas.value.rsplit("-", 1)
    digits = body.replace("-", "")[::-1]
    assert sum((i + 1) * int(d) for i, d in enumerate(digits)) % 10 == int(check)


def test_every_fact_names_at_least_one_source() -> None:
    for inh in reg.all():
        for field_name, fact in _facts(inh):
            assert fact.sources, f"{inh.name}.{field_name}"
            assert all(s.strip() for s in fact.sources)


def test_brh_citation_resolves_to_the_structured_database_reference() -> None:
    mw = reg.get("sapanisertib").molecular_weight
    assert mw is not None and mw.computed
    (citation,) = mw.citations
    assert citation.reference.key == "BRH" and citation.reference.type == "database"
    assert citation.reference.identifier == "repurposing_samples_20180907.txt"
    assert "BRD-K59317601" in citation.where
    assert mw.sources == (str(citation),)


def test_facts_without_a_source_stay_empty() -> None:
    assert reg.get("sapanisertib").cas is None
    second_and_third = [i for i in reg.all() if i.generation > 1]
    assert [i.name for i in second_and_third if i.cas] == ["Dactolisib"]
    for name in ("Umirolimus", "RapaLink-1"):
        inh = reg.get(name)
        assert (inh.formula, inh.molecular_weight, inh.pubchem_cid, inh.inchikey) == (
            None, None, None, None)
    assert reg.get("RapaLink-1").cas is None
    umirolimus_cas = reg.get("Umirolimus").cas
    assert umirolimus_cas is not None
    assert [c.reference.key for c in umirolimus_cas.citations] == ["GSRS_Umirolimus"]
    assert reg.get("Umirolimus").targets == ()
    assert all(i.approval_status is None for i in second_and_third)


def test_temsirolimus_cid_conflict_is_kept_as_a_note_not_resolved() -> None:
    inh = reg.get("temsirolimus")
    assert inh.pubchem_cid is None
    note = " ".join(n for n in inh.notes if "CID" in n)
    for cid in ("6918289", "23724530", "129009966"):
        assert cid in note


@pytest.mark.parametrize(("name", "code", "cid"), [
    ("Vistusertib", "AZD2014", "25262792"),
    ("Onatasertib", "CC-223", "UFKLYTOEMRFKAD-SHTZXODSSA-N"),
])
def test_structures_of_unconfirmed_codes_are_withheld_but_noted(name: str, code: str,
                                                                cid: str) -> None:
    inh = reg.get(name)
    assert code in inh.unconfirmed_synonyms and code not in inh.synonyms
    assert reg.get(code) is inh
    assert inh.formula is None and inh.molecular_weight is None and inh.pubchem_cid is None
    assert any(cid in n for n in inh.notes)


def test_omipalisib_is_gsk2126458_by_a_database_record() -> None:
    inh = reg.get("omipalisib")
    assert "GSK2126458" in inh.synonyms and reg.get("GSK2126458") is inh
    assert inh.inchikey is not None and inh.inchikey.value == "CGBJSGAELGCMKE-UHFFFAOYSA-N"
    keys = {c.reference.key for c in inh.inchikey.citations}
    assert keys == {"BRH", "HMSLINCS_SM"}


def test_davis_binding_constants_give_selectivity_only_against_binding_records() -> None:
    rows = {(c, tgt): kd for c, tgt, _k, kd, _u, _a in _davis_rows()}
    sel = reg.get("PP242").selectivity("PI3Kα", "mTOR")
    assert sel.ratio == pytest.approx(rows[("PP242", "PI3Kα")] / rows[("PP242", "mTOR")])
    assert sel.numerator.assay_type == sel.denominator.assay_type == "binding"
    # PI-103 is a PI3K-first inhibitor: mTOR binds 8-fold weaker than p110α (12 / 1.5 nM)
    sel = reg.get("PI-103").selectivity("mTOR", "PI3Kα", kind="Kd")
    assert sel.ratio == pytest.approx(rows[("PI-103", "mTOR")] / rows[("PI-103", "PI3Kα")])


def test_azd2014_is_not_ku_0063794() -> None:
    assert reg.get("AZD2014") is not reg.get("KU-0063794")
    azd, ku = reg.get("AZD8055").formula, reg.get("KU-0063794").formula
    assert azd is not None and ku is not None and azd.value == ku.value  # isomers
    assert reg.get("AZD8055").inchikey != reg.get("KU-0063794").inchikey


def test_every_section_3_row_is_a_sourced_record() -> None:
    sourced = [r for inh in reg.all() for r in inh.potency if r.verified == "sourced"]
    found = sorted(_canonical((r.compound, r.target, r.kind, _record_value(r), r.unit,
                               r.assay_type)) for r in sourced)
    assert found == sorted(map(_canonical, SECTION_3))
    assert len(sourced) == len(SECTION_3) == 36 + 4 + 10
    assert all(r.source != "vendor review" for r in sourced)
    assert all(r.verdict is None and r.claim is None for r in sourced)


def test_review_figures_are_records_citing_the_review_with_their_verdict() -> None:
    review = [r for inh in reg.all() for r in inh.potency if r.source == "vendor review"]
    found = sorted(
        _canonical((r.compound, r.reported_name, r.target, r.kind, _record_value(r), r.qualifier,
                    r.verified, r.claim, r.verdict)) for r in review
    )
    assert found == sorted(map(_canonical, REVIEW))
    assert all(r.compared_with for r in review)


def test_selectivity_folds_are_dimensionless_and_name_their_comparator() -> None:
    folds = [r for inh in reg.all() for r in inh.potency if r.kind == "selectivity fold"]
    assert len(folds) == 6  # 3 in section 3, 3 from the review
    for r in folds:
        assert r.value is not None and r.value.dimensionless
        assert r.unit == "dimensionless" and r.versus


def test_concentration_records_are_positive_molar_quantities() -> None:
    for inh in reg.all():
        for r in inh.potency:
            if r.kind == "selectivity fold":
                continue
            assert r.low.check("[substance] / [length] ** 3")
            assert 0 < r.low.to("nM").magnitude <= r.high.to("nM").magnitude


def test_ranges_have_low_and_high_and_no_single_value() -> None:
    rec = next(r for r in reg.get("MLN0128").potency
               if r.cell_line == "breast cancer cell lines harbouring PIK3CA mutations")
    assert rec.is_range and rec.value is None
    assert (rec.low.to("nM").magnitude, rec.high.to("nM").magnitude) == (1.5, 53.0)
    assert rec.value_text() == "1.5–53 nM"


def test_temsirolimus_micromolar_figure_is_not_an_ic50() -> None:
    (rec,) = reg.get("CCI-779").potency
    assert rec.kind == "active concentration"
    assert rec.low.to("uM").magnitude == 10 and rec.high.to("uM").magnitude == 20


def test_approval_status_of_the_first_generation() -> None:
    status = {i.name: i.approval_status.value for i in reg.filter(generation=1) if i.approval_status}
    assert status == {"Sirolimus": "approved", "Everolimus": "approved",
                      "Temsirolimus": "approved", "Ridaforolimus": "not approved",
                      "Zotarolimus": "none found"}
    products = [a.product for a in reg.get("sirolimus").approvals]
    assert products == ["Rapamune", "Rapamune", "Fyarro (sirolimus albumin-bound)",
                        "Hyftor (sirolimus topical gel)"]
    assert all(a.sources for i in reg.all() for a in i.approvals)


def test_generation_and_mechanism_agree() -> None:
    allowed = {1: {"allosteric-rapalog"}, 2: {"atp-competitive-torki", "dual-pi3k-mtor"},
               3: {"bitopic"}}
    for inh in reg.all():
        assert inh.mechanism in allowed[inh.generation]
