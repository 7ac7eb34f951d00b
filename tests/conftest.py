"""Shared fixtures and hypothesis settings.

Hypothesis profiles (choose with ``HYPOTHESIS_PROFILE=<name>``):

- ``ci`` (default): bounded and derandomized, so CI runs are reproducible and the
  fuzz layer (``tests/fuzz/``) stays under a minute on two cores;
- ``dev``: the same size, random seeds;
- ``long``: 25× more examples, random seeds, for local fuzzing sessions.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("dev", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "long", max_examples=1000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(config: object, items: list[object]) -> None:
    """Tests marked ``slow`` (a distributed cluster, fresh interpreters) run in CI (``CI`` set)
    or when asked for with ``-m slow``; a plain ``pytest`` by hand skips them."""
    import pytest

    if os.environ.get("CI") or config.getoption("-m"):  # type: ignore[attr-defined]
        return
    skip = pytest.mark.skip(reason="slow: runs in CI (CI=true) or with -m slow")
    for item in items:
        if "slow" in item.keywords:  # type: ignore[attr-defined]
            item.add_marker(skip)  # type: ignore[attr-defined]
