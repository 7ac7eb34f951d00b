"""Render the pathway figures shown in docs/registry.md with Graphviz.

Usage (from the repository root; needs Graphviz's ``dot`` on PATH)::

    PYTHONPATH=src python scripts/make_pathway_figures.py

Writes docs/img/pathway.svg (the network alone) and one figure per example
inhibitor, each from :func:`mtor_pharm.pathway.to_dot`.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from mtor_pharm import pathway

OUT = Path(__file__).resolve().parents[1] / "docs" / "img"
FIGURES = {
    "pathway.svg": None,
    "pathway_everolimus.svg": "everolimus",
    "pathway_sapanisertib.svg": "sapanisertib",
    "pathway_dactolisib.svg": "dactolisib",
}


def main() -> int:
    dot = shutil.which("dot")
    if dot is None:
        raise SystemExit("Graphviz's `dot` is not on PATH; install Graphviz to render the figures.")
    OUT.mkdir(parents=True, exist_ok=True)
    for filename, inhibitor in FIGURES.items():
        source = pathway.to_dot(inhibitor)
        svg = subprocess.run(
            [dot, "-Tsvg"], input=source.encode("utf-8"), capture_output=True, check=True
        ).stdout
        (OUT / filename).write_bytes(svg)
        print(f"wrote {OUT / filename}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
