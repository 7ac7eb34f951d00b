"""Execute every ```python block of the user guide and the README, page by page."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import matplotlib
import pytest

from mtor_pharm.__main__ import main as cli_main

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
BLOCK = re.compile(r"^```(python|bash|\w+ file=(\S+))\n(.*?)^```", re.S | re.M)
CLI = "python -m mtor_pharm "

matplotlib.use("Agg")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_code_blocks_on_page_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks run in order in one namespace, in a scratch directory; a block fenced as
    ```toml file=NAME (any language) is written to NAME there for later blocks to read.
    A ```bash block's ``python -m mtor_pharm ...`` commands run too (in process, on the files
    the blocks before it wrote), and must succeed; its other commands (installs) do not run."""
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for i, (lang, filename, code) in enumerate(BLOCK.findall(page.read_text(encoding="utf-8"))):
        if filename:
            (tmp_path / filename).write_text(code, encoding="utf-8")
            continue
        if lang == "bash":
            for command in code.replace("\\\n", " ").splitlines():
                if command.startswith(CLI):
                    code_ = cli_main(shlex.split(command[len(CLI):]))
                    assert code_ == 0, f"{page.name}, code block {i}: {command!r} exited with {code_}"
            continue
        try:
            exec(compile(code, f"{page.name}[block {i}]", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            raise AssertionError(f"{page.name}, code block {i} failed: {exc!r}\n{code}") from exc


def test_readme_quickstart_is_the_documented_quickstart() -> None:
    """The README's example is copied from docs/quickstart.md, which the docs run, so it cannot rot."""
    python = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
    readme = python.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    quick = python.findall((ROOT / "docs" / "quickstart.md").read_text(encoding="utf-8"))
    assert readme[0] == quick[0]


def test_plate_to_paper_walk_is_at_most_ten_lines() -> None:
    """Issue #14: the MTT plate from raw export to table and figure in <= 10 lines (the first block of paper.md)."""
    first = BLOCK.findall((ROOT / "docs" / "paper.md").read_text(encoding="utf-8"))[0][2]
    lines = [ln for ln in first.splitlines() if ln.strip()]
    assert len(lines) <= 10
    assert any("read_plate_export" in ln for ln in lines) and any("paper_table" in ln for ln in lines)
    assert any("dose_response" in ln for ln in lines)
