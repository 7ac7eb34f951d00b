"""Generate the figures of docs/plotting.md and docs/protocols.md (docs/img/plot_*.png) from their own code.

Every ```python block of each page is executed in order, in docs/img/, so the
``savefig("plot_....png")`` calls of the page write the images the page shows:
what readers see is exactly what the code on the page makes.  Run from the
repository root after changing the page or mtor_pharm.plot, and commit the images:

    python scripts/make_doc_figures.py
"""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "docs" / "plotting.md", ROOT / "docs" / "protocols.md"]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def main() -> None:
    import matplotlib
    import matplotlib.style

    matplotlib.use("Agg")
    out = ROOT / "docs" / "img"
    out.mkdir(parents=True, exist_ok=True)
    here = Path.cwd()
    os.chdir(out)
    try:
        with matplotlib.style.context("default"):
            for page in PAGES:
                namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
                for i, code in enumerate(BLOCK.findall(page.read_text(encoding="utf-8"))):
                    exec(compile(code, f"{page.name}[block {i}]", "exec"), namespace)
    finally:
        os.chdir(here)
    for png in sorted(out.glob("plot_*.png")):
        print(f"wrote {png.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
