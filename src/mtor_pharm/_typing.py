"""Type aliases shared across the package (internal)."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray: TypeAlias = NDArray[np.float64]
IntArray: TypeAlias = NDArray[np.int64]
BoolArray: TypeAlias = NDArray[np.bool_]
Uint8Array: TypeAlias = NDArray[np.uint8]

#: Names accepted by ``mp.fit(model=...)``.
ModelName: TypeAlias = Literal["4pl", "3pl", "2pl", "hill", "5pl", "weibull1", "weibull2"]

#: A concentration: a pint Quantity, a string such as ``"10 uM"``, a sequence of
#: such strings, or a bare array together with ``conc_unit=``.
ConcentrationLike: TypeAlias = Any

#: A pint Quantity (pint's own annotations are incomplete; this keeps mypy --strict honest
#: about where Quantities flow without pretending to type pint's internals).
Quantity: TypeAlias = Any
#: A pint Unit.
Unit: TypeAlias = Any

__all__ = [
    "ArrayLike",
    "BoolArray",
    "ConcentrationLike",
    "FloatArray",
    "IntArray",
    "ModelName",
    "Quantity",
    "Uint8Array",
    "Unit",
]
