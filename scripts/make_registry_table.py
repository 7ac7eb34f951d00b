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
from mtor_pharm.registry._model import _normalize

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


def _source(rec: PotencyRecord) -> str:
    """Short label of the cited reference plus where in it the figure was read."""
    if rec.citation is None:
        return rec.source
    where = f", {rec.citation.where}" if rec.citation.where else ""
    return f"{rec.source} [{rec.citation.reference.key}]{where}"


def _potency_row(rec: PotencyRecord) -> str:
    cells = [
        rec.compound + (f" ({rec.reported_name})" if rec.reported_name else ""),
        rec.target + (f" vs {rec.versus}" if rec.versus else ""),
        rec.kind,
        rec.value_text(),
        rec.assay_type,
        rec.atp or "",
        rec.cell_line or "",
        rec.verified + (f" (claim {rec.claim})" if rec.claim else ""),
        _source(rec),
    ]
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def render_potency(registry: Registry) -> str:
    """Markdown table, one row per potency record."""
    head = (
        "| Compound | Target / readout | Kind | Value | Assay type | ATP | Cells | Verified "
        "| Source |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
    )
    return head + "\n".join(_potency_row(r) for inh in registry.all() for r in inh.potency) + "\n"


def _primary_values(inh: Inhibitor, rec: PotencyRecord) -> str:
    """The compound's records that do not cite the review, for the same target (for
    "mTOR", also the mTORC1 and mTORC2 records) and of the same sort (a fold is shown
    beside folds only, a concentration beside concentrations)."""
    wanted = {_normalize(rec.target)}
    if _normalize(rec.target) == "mtor":
        wanted |= {"mtorc1", "mtorc2"}
    fold = rec.kind == "selectivity fold"
    found = [
        f"{r.target} {r.kind} {r.value_text()} ({r.source}; {r.verified})"
        for r in inh.potency
        if r.claim is None and _normalize(r.target) in wanted
        and (r.kind == "selectivity fold") == fold
    ]
    return "; ".join(found) or "none found"


def render_review(registry: Registry) -> str:
    """The founding review's table beside the primary values, one line per review figure."""
    head = (
        "| Review row | Compound | Review figure | Verdict | Primary values in the registry |\n"
        "|---|---|---|---|---|\n"
    )
    rows = []
    for row in registry.review:
        inh = registry.get(row.compound)
        claims = [r for r in inh.potency if r.claim is not None and r.claim in row.claims]
        if not claims:
            rows.append([row.row, row.compound, "(no figure recorded)", "—", row.note or ""])
        for rec in claims:
            versus = f" vs {rec.versus}" if rec.versus else ""
            figure = f"{rec.target}{versus}: {rec.kind} {rec.value_text()} (claim {rec.claim})"
            rows.append([row.row, row.compound, figure, rec.verdict or "",
                         _primary_values(inh, rec)])
    return head + "\n".join("| " + " | ".join(_cell(c) for c in r) + " |" for r in rows) + "\n"


def render_references(registry: Registry) -> str:
    """Every reference the data cite, with its identifiers."""
    head = "| Key | Type | Reference |\n|---|---|---|\n"
    rows = [
        f"| {_cell(key)} | {_cell(ref.type)} | {_cell(ref.text())} |"
        for key, ref in registry.references.items()
    ]
    return head + "\n".join(rows) + "\n"


def render(text: str, registry: Registry | None = None) -> str:
    """`text` with every generated block replaced by its current content."""
    reg = Registry.builtin() if registry is None else registry
    makers = {"registry-table": render_compounds, "potency-table": render_potency,
              "review-table": render_review, "references-table": render_references}

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
