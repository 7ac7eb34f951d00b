"""The molecular weight of a registry inhibitor, looked up only when it is needed.

It lives here, not in :mod:`mtor_pharm.units`, because units sit below the registry: the
fitting and assay functions that take ``inhibitor=`` ask this module, which reaches the
registry only when a mass concentration must be converted.
"""

from __future__ import annotations

from typing import Any

__all__ = ["molecular_weight_of"]


def molecular_weight_of(inhibitor: Any) -> Any:
    """A zero-argument callable giving the registry molecular weight of `inhibitor`
    (a name or an ``Inhibitor``), or None; for ``as_concentration(molecular_weight=...)``,
    which calls it only when the concentrations are mass concentrations."""
    if inhibitor is None:
        return None

    def lookup() -> Any:
        from .registry import molecular_weight

        return molecular_weight(inhibitor)

    return lookup
