"""mtor_pharm: dose-response pharmacology for mTOR inhibitors.

Unit-aware concentrations, exact and vectorized curve fitting with honest
uncertainty, assay normalization, and a sourced registry of mTOR inhibitors.

Examples
--------
>>> conc = mp.dilution_series("10 uM", factor=3, n=8)
>>> conc.units
<Unit('micromolar')>
"""

from importlib.metadata import PackageNotFoundError, version

from . import errors, models, units
from ._example import load_example, run_example
from ._tables import fit_table, summary_table
from .fitting import STATUS_MESSAGES, ConfidenceInterval, FitResult, FitStatus, fit, lmfit_model
from .units import Q_, dilution_series, from_pic50, pic50, ureg

try:
    __version__ = version("mtor_pharm")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = [
    "Q_",
    "STATUS_MESSAGES",
    "ConfidenceInterval",
    "FitResult",
    "FitStatus",
    "__version__",
    "dilution_series",
    "errors",
    "fit",
    "fit_table",
    "from_pic50",
    "lmfit_model",
    "load_example",
    "models",
    "pic50",
    "run_example",
    "summary_table",
    "units",
    "ureg",
]
