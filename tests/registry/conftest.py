"""Helpers for the registry tests."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

WriteToml = Callable[[str], Path]


@pytest.fixture
def write_toml(tmp_path: Path) -> WriteToml:
    """Write a TOML snippet (dedented) to a fresh file and return its path."""
    counter = iter(range(1_000))

    def write(text: str) -> Path:
        path = tmp_path / f"lab_{next(counter)}.toml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
