"""Exceptions and warnings raised by mtor_pharm.

Every exception here also inherits the built-in that a caller would expect
(``ValueError``, ``TypeError``, ``LookupError``), so ``except ValueError``
keeps working.  All of them pickle, because dask workers raise them.
"""

from __future__ import annotations

__all__ = [
    "ControlError",
    "MtorPharmError",
    "MtorPharmWarning",
    "PlateLayoutError",
    "RegistryDataError",
    "ShapeError",
    "UnitError",
    "UnknownInhibitorError",
    "UnknownModelError",
]


class MtorPharmError(Exception):
    """Base class of every exception raised by mtor_pharm."""


class UnitError(MtorPharmError, ValueError):
    """A value has no unit, or a unit of the wrong kind (e.g. seconds for a concentration)."""


class ShapeError(MtorPharmError, ValueError):
    """Arrays whose shapes do not fit together."""


class UnknownModelError(MtorPharmError, ValueError):
    """A dose-response model name that the library does not know."""


class UnknownInhibitorError(MtorPharmError, LookupError):
    """An inhibitor name that the registry does not know."""

    def __str__(self) -> str:  # LookupError would otherwise quote a KeyError-like repr
        return str(self.args[0]) if self.args else ""


class RegistryDataError(MtorPharmError, ValueError):
    """A registry data file with missing or malformed fields."""


class ControlError(MtorPharmError, ValueError):
    """Control or reference wells that cannot anchor a normalization.

    Raised for a control mean that is zero, negative, or not above the blank
    (background), a reference lane of zero intensity, or a time-zero plate that
    the controls did not outgrow.
    """


class PlateLayoutError(MtorPharmError, ValueError):
    """A plate layout or plate-reader export that is malformed or disagrees with the other."""


class MtorPharmWarning(UserWarning):
    """Something the caller can act on (e.g. Cheng–Prusoff in the tight-binding regime)."""


def _warn(message: str) -> None:
    """Issue :class:`MtorPharmWarning` at the caller's line: the first frame outside this
    package, however deep the call came from (``mp.fit``, ``mp.fit_table``, the xarray path)."""
    import os
    import sys
    import types
    import warnings

    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame: types.FrameType | None = sys._getframe(0)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    warnings.warn(MtorPharmWarning(message), stacklevel=level)
