"""Selectivity ratios: like-for-like records only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import mtor_pharm.registry as reg

LAB_HEADER = """
[references.A]
type = "unpublished"
title = "paper A"
identifier = "A-1"

[references.B]
type = "unpublished"
title = "paper B"
identifier = "B-1"

[references.NB]
type = "unpublished"
title = "lab notebook 1"
identifier = "NB-1"

[[compound]]
name = "LAB-9"
generation = 2
mechanism = "atp-competitive-torki"
"""


def _record(target: str, value: str, kind: str = "IC50",
            assay: str = "cell-free kinase", source: str = "NB") -> str:
    atp = 'atp = "1 mM"' if assay == "cell-free kinase" else ""
    return f"""
[[potency]]
compound = "LAB-9"
target = "{target}"
kind = "{kind}"
{value}
unit = "nM"
assay_type = "{assay}"
{atp}
source = "[{source}] Fig. 1"
verified = "sourced"
"""


def test_osi_027_mtorc2_over_mtorc1_is_65_over_22() -> None:
    sel = reg.get("OSI-027").selectivity("mTORC2", "mTORC1")
    assert sel.ratio == pytest.approx(65 / 22, rel=1e-12)
    assert float(sel) == sel.ratio
    assert sel.kind == "IC50" and sel.numerator.verified == "sourced"
    assert sel.source == "Br J Cancer 114(8) (2016)"
    assert sel.numerator.citation is not None
    assert sel.numerator.citation.reference.key == "BJC2016_OSI027"


def test_selectivity_can_use_the_review_records_when_asked() -> None:
    sel = reg.get("OSI-027").selectivity("mtorc2", "MTORC1", source="vendor review")
    assert sel.ratio == pytest.approx(65 / 22, rel=1e-12)
    assert {sel.numerator.verified, sel.denominator.verified} == {"confirmed"}


def test_ku_0063794_is_equipotent_on_both_complexes() -> None:
    assert reg.get("KU-0063794").selectivity("mTORC1", "mTORC2").ratio == pytest.approx(1.0)


def test_selectivity_rejects_different_assay_types(write_toml: Callable[[str], Path]) -> None:
    lab = reg.load(write_toml(LAB_HEADER + _record("mTORC1", "value = 2")
                              + _record("mTORC2", "value = 40", assay="cellular phospho-readout")))
    with pytest.raises(ValueError, match=r"same kind, assay type and source.*"
                                         r"mTORC2: IC50, cellular phospho-readout.*"
                                         r"mTORC1: IC50, cell-free kinase"):
        lab.get("LAB-9").selectivity("mTORC2", "mTORC1")


def test_selectivity_rejects_different_kinds(write_toml: Callable[[str], Path]) -> None:
    lab = reg.load(write_toml(LAB_HEADER + _record("mTORC1", "value = 2", kind="Ki")
                              + _record("mTORC2", "value = 40")))
    with pytest.raises(ValueError, match="never divided"):
        lab.get("LAB-9").selectivity("mTORC2", "mTORC1")
    with pytest.raises(ValueError, match="`reference` must name a target"):
        lab.get("LAB-9").selectivity("mTORC2", "mTORC1", kind="IC50")  # no IC50 for mTORC1


def test_selectivity_rejects_records_from_different_sources(write_toml: Callable[[str], Path]) -> None:
    lab = reg.load(write_toml(LAB_HEADER + _record("mTORC1", "value = 2", source="A")
                              + _record("mTORC2", "value = 40", source="B")))
    with pytest.raises(ValueError, match="paper A.*paper B|paper B.*paper A"):
        lab.get("LAB-9").selectivity("mTORC2", "mTORC1")


def test_selectivity_rejects_ranges(write_toml: Callable[[str], Path]) -> None:
    lab = reg.load(write_toml(LAB_HEADER + _record("mTORC1", "low = 1\nhigh = 3")
                              + _record("mTORC2", "value = 40")))
    with pytest.raises(ValueError, match=r"`mTORC1` must have a single-valued record.*1–3 nM"):
        lab.get("LAB-9").selectivity("mTORC2", "mTORC1")


def test_selectivity_asks_for_a_source_when_pairs_compete(write_toml: Callable[[str], Path]) -> None:
    lab = reg.load(write_toml(
        LAB_HEADER
        + _record("mTORC1", "value = 2", source="A") + _record("mTORC2", "value = 40", source="A")
        + _record("mTORC1", "value = 3", source="B") + _record("mTORC2", "value = 9", source="B")
    ))
    with pytest.raises(ValueError, match="`source` must be given"):
        lab.get("LAB-9").selectivity("mTORC2", "mTORC1")
    assert lab.get("LAB-9").selectivity("mTORC2", "mTORC1", source="paper B").ratio == pytest.approx(3.0)


def test_selectivity_rejects_targets_without_records() -> None:
    with pytest.raises(ValueError, match=r"`reference` must name a target with a concentration record "
                                         r"for Torin2; got 'mTORC2'"):
        reg.get("torin2").selectivity("ATM", "mTORC2")


def test_selectivity_never_uses_fold_records() -> None:
    # AZD8055 has an IC50 and a fold for "mTOR" but nothing for PI3K.
    with pytest.raises(ValueError, match="got 'PI3K'"):
        reg.get("AZD8055").selectivity("PI3K", "mTOR")


def test_records_filter_by_target_kind_assay_and_source() -> None:
    api = reg.get("GDC-0980")
    assert [r.target for r in api.records(kind="Ki")] == ["mTOR"]
    assert len(api.records(assay_type="cell-free kinase")) == 5
    assert api.records(source="vendor review") == ()
    assert len(api.records(source="Sutherlin2011")) == 5  # by reference key
    assert api.records(source="Sutherlin2011") == api.records(source="Sutherlin et al. 2011")
    assert [r.magnitude for r in api.records(target="pi3k α")] == [5.0]


def test_a_ratio_of_unverified_or_unstated_records_warns() -> None:
    """Torin1's 2 and 10 nM are 'unverified' and of unspecified kind: their ratio is returned (it is
    what the records say) with a warning, so it is not cited as a measured selectivity."""
    from mtor_pharm.errors import MtorPharmWarning

    with pytest.warns(MtorPharmWarning, match=r"Torin1 mTORC2/mTORC1 ratio 5 .*verified='unverified'"):
        sel = reg.get("Torin1").selectivity("mTORC2", "mTORC1")
    assert sel.ratio == pytest.approx(5.0)
    # sourced records of a stated kind: no warning (pytest turns warnings into errors)
    assert reg.get("PP242").selectivity("PI3Kα", "mTOR").ratio == pytest.approx(50.0)
