"""mtor_pharm: dose-response pharmacology for mTOR inhibitors.

Unit-aware concentrations, exact and vectorized curve fitting with honest
uncertainty, assay normalization, and a sourced registry of mTOR inhibitors.

Examples
--------
>>> conc = mp.dilution_series("10 uM", factor=3, n=8)
>>> conc.units
<Unit('micromolar')>
"""

import importlib
from typing import TYPE_CHECKING, Any

from . import errors, models, units
from ._api import fit
from ._example import load_example, run_example
from ._tables import fit_table, paper_table, status_words, summary_table, tidy_xy, write_table
from ._version import __version__
from .fitting import STATUS_MESSAGES, ConfidenceInterval, FitResult, FitStatus, lmfit_model
from .units import Q_, dilution_series, from_pic50, pic50

if TYPE_CHECKING:  # the subpackages below load on first use (import stays light)
    from . import assays, combination, compare, pathway, plot, registry, xarray
    from .units import ureg

#: Public subpackages imported on first attribute access.
_LAZY = ("assays", "combination", "compare", "pathway", "plot", "registry", "xarray")


def __getattr__(name: str) -> Any:
    if name == "ureg":  # pint's application registry: pint loads on first use
        return units._registry()
    if name in _LAZY:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")



__all__ = [
    "Q_",
    "STATUS_MESSAGES",
    "ConfidenceInterval",
    "FitResult",
    "FitStatus",
    "__version__",
    "assays",
    "combination",
    "compare",
    "dilution_series",
    "errors",
    "fit",
    "fit_table",
    "from_pic50",
    "lmfit_model",
    "load_example",
    "models",
    "paper_table",
    "pathway",
    "pic50",
    "plot",
    "registry",
    "run_example",
    "status_words",
    "summary_table",
    "tidy_xy",
    "units",
    "ureg",
    "write_table",
    "xarray",
]
