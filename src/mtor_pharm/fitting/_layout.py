"""The engine's internal numbering (read by the compiled kernels at import): defined once in
:mod:`mtor_pharm._layout` (which imports nothing, so the model families can use it too)."""

from __future__ import annotations

from .._layout import ASYM, BOTTOM, COMPILED, GENERIC, HILL, LOC, LOGISTIC, LOGNORMAL, RICHARDS, TOP, WEIBULL1, WEIBULL2

__all__ = [
    "ASYM",
    "BOTTOM",
    "COMPILED",
    "GENERIC",
    "HILL",
    "LOC",
    "LOGISTIC",
    "LOGNORMAL",
    "RICHARDS",
    "TOP",
    "WEIBULL1",
    "WEIBULL2",
]
