"""Exceptions raised by :mod:`mtor_pharm.assays`; they live in :mod:`mtor_pharm.errors`."""

from __future__ import annotations

from ..errors import ControlError, PlateLayoutError

__all__ = ["ControlError", "PlateLayoutError"]
