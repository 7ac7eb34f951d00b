"""Notebook display of registry entries (#7)."""

from __future__ import annotations

import mtor_pharm as mp


def test_inhibitor_html_card_shows_identity_sources_and_potency() -> None:
    inh = mp.registry.get("OSI-027")
    html = inh._repr_html_()
    assert "<h4>OSI-027</h4>" in html
    assert "ASP7486" in html
    assert "406.45" in html  # computed molecular weight in the data file
    assert "(computed)" in html
    assert "mTORC1" in html and "mTORC2" in html
    assert html.count("<tr>") >= 8 + len(inh.potency)


def test_inhibitor_without_records_says_so() -> None:
    empty = [i for i in mp.registry.all() if not i.potency]
    assert empty, "the registry has compounds without potency records"
    assert "No sourced potency records" in empty[0]._repr_html_()
