"""Small array helpers used across the layers (one definition each)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["is_dataarray", "readonly"]


def readonly(a: ArrayLike) -> NDArray[Any]:
    """A read-only array; an array that is already read-only is shared, not copied (so
    ``dataclasses.replace`` and ``with_flags`` do not duplicate a large batch).

    Examples
    --------
    >>> from mtor_pharm._arrays import readonly
    >>> readonly([1.0, 2.0]).flags.writeable
    False
    """
    if isinstance(a, np.ndarray) and not a.flags.writeable:
        return a
    arr = np.array(a, copy=True)
    arr.flags.writeable = False
    return arr


def is_dataarray(obj: object) -> bool:
    """Whether `obj` is an ``xarray.DataArray`` (without importing xarray).

    Examples
    --------
    >>> from mtor_pharm._arrays import is_dataarray
    >>> is_dataarray(np.zeros(3))
    False
    """
    return type(obj).__name__ == "DataArray" and type(obj).__module__.startswith("xarray")
