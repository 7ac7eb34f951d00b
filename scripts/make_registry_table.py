"""Regenerate the registry tables in docs/registry.md from the shipped data file.

Usage (from the repository root)::

    PYTHONPATH=src python scripts/make_registry_table.py          # rewrite docs/registry.md
    PYTHONPATH=src python scripts/make_registry_table.py --check  # exit 1 if it is out of date

The tables sit between ``<!-- BEGIN GENERATED: name -->`` and
``<!-- END GENERATED: name -->`` markers; everything else in the page is left alone.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from mtor_pharm.registry import Inhibitor, PotencyRecord, Registry

DOC = Path(__file__).resolve().parents[1] / "docs" / "registry.md"
_BLOCK = re.compile(
    r"(<!-- BEGIN GENERATED: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- END GENERATED: (?P=name) -->)",
    re.DOTALL,
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _compound_row(inh: Inhibitor) -> str:
    names = ", ".join(inh.synonyms)
    if inh.unconfirmed_synonyms:
        names += ("; " if names else "") + "unconfirmed: " + ", ".join(inh.unconfirmed_synonyms)
    mw = ""
    if inh.molecular_weight is not None:
        mw = f"{inh.molecular_weight.value:.10g}" + (" *" if inh.molecular_weight.computed else "")
    formula = inh.formula.value if inh.formula is not None else ""
    cells = [
        inh.name,
        names,
        str(inh.generation),
        inh.mechanism,
        ", ".join(inh.targets),
        formula,
        mw,
        inh.cas.value if inh.cas is not None else "",
        str(inh.pubchem_cid.value) if inh.pubchem_cid is not None else "",
        inh.approval_status.value if inh.approval_status is not None else "",
    ]
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def render_compounds(registry: Registry) -> str:
    """Markdown table, one row per compound."""
    head = (
        "| Name | Synonyms and codes | Gen. | Mechanism | Targets | Formula | MW (g/mol) | CAS "
        "| PubChem CID | Approval |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n"
    )
    rows = "\n".join(_compound_row(inh) for inh in registry.all())
    return head + rows + "\n\n\\* computed from a structure given by the source.\n"


def _potency_row(rec: PotencyRecord) -> str:
    cells = [
        rec.compound + (f" ({rec.reported_name})" if rec.reported_name else ""),
        rec.target + (f" vs {rec.versus}" if rec.versus else ""),
        rec.kind,
        rec.value_text(),
        rec.assay_type,
        rec.cell_line or "",
        rec.verified + (f" (claim {rec.claim})" if rec.claim else ""),
        rec.source,
    ]
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def render_potency(registry: Registry) -> str:
    """Markdown table, one row per potency record."""
    head = (
        "| Compound | Target / readout | Kind | Value | Assay type | Cells | Verified | Source |\n"
        "|---|---|---|---|---|---|---|---|\n"
    )
    return head + "\n".join(_potency_row(r) for inh in registry.all() for r in inh.potency) + "\n"


def render(text: str, registry: Registry | None = None) -> str:
    """`text` with every generated block replaced by its current content."""
    reg = Registry.builtin() if registry is None else registry
    makers = {"registry-table": render_compounds, "potency-table": render_potency}

    def replace(m: re.Match[str]) -> str:
        name = m.group("name")
        if name not in makers:
            raise SystemExit(f"unknown generated block {name!r} in {DOC}")
        return m.group(1) + makers[name](reg) + m.group(4)

    return _BLOCK.sub(replace, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is out of date")
    args = parser.parse_args(argv)
    old = DOC.read_text(encoding="utf-8")
    new = render(old)
    if args.check:
        if new != old:
            print(f"{DOC} is out of date; run scripts/make_registry_table.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
