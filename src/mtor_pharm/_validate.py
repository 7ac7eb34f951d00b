"""Argument checks shared by the public functions (internal).

Each helper raises ``TypeError``/``ValueError`` whose message names the argument,
the value and what is accepted, so no numpy, pint or Python internals message
(``could not convert string to float``, ``int too large to convert to float``,
``The truth value of an array ... is ambiguous``) reaches the caller.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def real_number(value: Any, name: str, *, finite: bool = True, low: float | None = None,
                high: float | None = None, low_open: bool = False, high_open: bool = False,
                accepted: str | None = None) -> float:
    """One real number (not bool, str, complex or an array) as a float, optionally in a range."""
    what = accepted or "a real number"
    scalar_array = isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf"
    number = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool | np.bool_)
    if not (number or scalar_array):
        raise TypeError(f"`{name}` must be {what}; got {_short(value)}.")
    try:
        out = float(value)
    except OverflowError:
        raise ValueError(f"`{name}` must be {what} within float64 range; got {_short(value)}.") from None
    if finite and not math.isfinite(out):
        raise ValueError(f"`{name}` must be {what} (finite); got {_short(value)}.")
    if math.isnan(out):
        raise ValueError(f"`{name}` must be {what}; got nan.")
    if low is not None and (out < low or (low_open and out == low)):
        raise ValueError(f"`{name}` must be {what}; got {_short(value)}.")
    if high is not None and (out > high or (high_open and out == high)):
        raise ValueError(f"`{name}` must be {what}; got {_short(value)}.")
    return out


def optional_number(value: Any, name: str, **kwargs: Any) -> float | None:
    """None, or :func:`real_number`."""
    return None if value is None else real_number(value, name, **kwargs)


def integer(value: Any, name: str, *, low: int | None = None, high: int | None = None,
            accepted: str | None = None) -> int:
    """One integer (not bool), optionally in [low, high]."""
    what = accepted or "an integer"
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise TypeError(f"`{name}` must be {what}; got {_short(value)}.")
    out = int(value)
    if (low is not None and out < low) or (high is not None and out > high):
        raise ValueError(f"`{name}` must be {what}; got {_short(value)}.")
    return out


def choice(value: Any, name: str, options: Iterable[str]) -> str:
    """One of `options` (strings compared exactly)."""
    opts = tuple(options)
    if not isinstance(value, str) or value not in opts:
        listed = ", ".join(repr(o) for o in opts)
        raise ValueError(f"`{name}` must be one of {listed}; got {_short(value)}.")
    return value


def boolean(value: Any, name: str) -> bool:
    """An on/off option: True or False (NumPy booleans too), never a string or a number
    (``'no'`` would otherwise read as True)."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"`{name}` must be True or False; got {_short(value)}.")
    return bool(value)
