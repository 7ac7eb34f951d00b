"""The generated registry tables in docs/registry.md match the shipped data."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_registry_table", ROOT / "scripts" / "make_registry_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_registry_tables_are_up_to_date() -> None:
    text = (ROOT / "docs" / "registry.md").read_text(encoding="utf-8")
    assert _script().render(text) == text, "run: PYTHONPATH=src python scripts/make_registry_table.py"


def test_docs_table_has_one_row_per_compound_and_record() -> None:
    import mtor_pharm.registry as reg

    text = (ROOT / "docs" / "registry.md").read_text(encoding="utf-8")
    blocks = dict(re.findall(r"<!-- BEGIN GENERATED: ([\w-]+) -->\n(.*?)<!-- END", text, re.DOTALL))
    compound_rows = [line for line in blocks["registry-table"].splitlines() if line.startswith("| ")]
    potency_rows = [line for line in blocks["potency-table"].splitlines() if line.startswith("| ")]
    assert len(compound_rows) == 1 + len(reg.all())
    assert len(potency_rows) == 1 + len(reg.potency_table())


def test_docs_pathway_figures_exist() -> None:
    text = (ROOT / "docs" / "registry.md").read_text(encoding="utf-8")
    figures = re.findall(r"!\[[^\]]*\]\((img/[\w.]+)\)", text)
    assert len(figures) == 4
    for figure in figures:
        assert (ROOT / "docs" / figure).read_text(encoding="utf-8").lstrip().startswith("<?xml")
