"""The clinical-trial records (issue #5, item 7)."""

from __future__ import annotations

import mtor_pharm.registry as reg

EUDRACT = "EudraCT 2015-002133-22"
EU_CTR = "https://www.clinicaltrialsregister.eu/ctr-search/trial/2015-002133-22/FR"


def test_randomized_trial_is_reachable_from_both_compounds() -> None:
    from_sapanisertib = [t for t in reg.get("MLN0128").trials if t.id == EUDRACT]
    from_everolimus = [t for t in reg.get("RAD001").trials if t.id == EUDRACT]
    assert len(from_sapanisertib) == len(from_everolimus) == 1
    assert from_sapanisertib[0] is from_everolimus[0]
    assert from_sapanisertib[0] in reg.trials()
    assert from_sapanisertib[0].compounds == ("Sapanisertib", "Everolimus")


def test_trial_design_is_sourced_from_the_eu_register() -> None:
    (trial,) = [t for t in reg.trials() if t.id == EUDRACT]
    (citation,) = trial.citations
    assert trial.verified == "sourced" and citation.reference.url == EU_CTR
    assert citation.reference.type == "trial-registry" and citation.reference.identifier == EUDRACT
    assert trial.phase == "II"
    assert [a.label for a in trial.arms] == [
        "single-agent MLN0128 (sapanisertib)", "MLN0128 + MLN1117", "single-agent everolimus"]
    assert [a.n for a in trial.arms] == [None, None, None]  # n per arm: not found in any source


def test_trial_figures_are_the_reviews_and_marked_unverified() -> None:
    (trial,) = [t for t in reg.trials() if t.id == EUDRACT]
    figures = {r.measure: r for r in trial.results}
    assert {m: r.values for m, r in figures.items()} == {
        "median PFS": (3.8, 3.6),
        "hazard ratio (PFS)": (1.33,),
        "p value (PFS)": (0.388,),
        "objective response rate": (16.7, 0.0),
        "discontinuation for adverse events": (15.6, 28.1),
    }
    assert {r.verified for r in trial.results} == {"unverified"}
    assert {r.source for r in trial.results} == {"vendor review"}
    # The figures as supplied do not say which arm is which: no arm is assigned.
    assert all(r.arms == () for r in trial.results)
    assert figures["median PFS"].unit == "month" and figures["objective response rate"].unit == "percent"


def test_record_1_context_trial_belongs_to_everolimus_only() -> None:
    (record1,) = [t for t in reg.trials() if t.id == "NCT00410124"]
    assert record1.compounds == ("Everolimus",)
    assert record1 not in reg.get("sapanisertib").trials
    assert [a.n for a in record1.arms] == [272, 138]
    hr = next(r for r in record1.results if r.measure == "hazard ratio (PFS)")
    assert hr.values == (0.30,) and hr.ci == (0.22, 0.40) and hr.verified == "sourced"
    p = next(r for r in record1.results if r.measure == "p value (PFS)")
    assert p.qualifier == "<" and p.values == (0.0001,)


def test_record_1_is_a_phase_iii_trial_citing_the_lancet_paper() -> None:
    (record1,) = [t for t in reg.trials() if t.id == "NCT00410124"]
    assert record1.phase == "III"  # "a double-blind, randomised, placebo-controlled phase III trial"
    (citation,) = record1.citations
    assert citation.reference.doi == "10.1016/S0140-6736(08)61039-9"
    assert "phase III trial" in citation.reference.title
    assert {r.citation.reference.key for r in record1.results[:3] if r.citation} == {"Motzer2008"}
