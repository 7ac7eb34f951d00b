"""Shared fixtures and hypothesis settings."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("dev", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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
