"""Run every docstring example of the *installed* package as a test."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import mtor_pharm as mp


def _modules() -> list[str]:
    names = ["mtor_pharm"]
    for info in pkgutil.walk_packages(mp.__path__, prefix="mtor_pharm."):
        if info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("module_name", _modules())
def test_docstring_examples_run(module_name: str) -> None:
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = finder.find(module, module_name, globs={"np": np, "mp": mp})
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} doctest example(s) failed in {module_name}"
