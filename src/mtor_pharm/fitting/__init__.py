"""Curve fitting: the batched engine behind :func:`mtor_pharm.fit`, its results, and the lmfit path."""

from ._api import fit
from ._lmfit import lmfit_model
from ._result import STATUS_MESSAGES, ConfidenceInterval, FitResult, FitStatus

__all__ = ["STATUS_MESSAGES", "ConfidenceInterval", "FitResult", "FitStatus", "fit", "lmfit_model"]
