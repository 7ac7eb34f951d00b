"""The CF-style attributes of fit results written as xarray/netCDF (one definition, used by
``FitResult.to_xarray`` and by ``mp.fit`` on a DataArray)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import numpy as np

from ..models import Model
from ._result import STATUS_MESSAGES, FitStatus

#: Level of the IC50 confidence interval written beside the estimates.
CI_LEVEL: Final = 0.95

LONG_NAMES: Final[Mapping[str, str]] = {
    "bottom": "bottom plateau (the high-dose response when hill > 0)",
    "top": "top plateau (the zero-dose response when hill > 0)",
    "ic50": "relative IC50 (half-way between the fitted plateaus)",
    "xmid": "location parameter xmid",
    "hill": "Hill slope (> 0: response falls with concentration)",
    "s": "asymmetry s (5PL)",
}


#: How ``status`` (uint8 in memory) is written to files: netCDF-3 has no unsigned byte and its
#: signed byte cannot hold the bit 128 (``INVALID_DATA``), so it is written as a 16-bit integer.
STATUS_ENCODING: Final[Mapping[str, Any]] = {"dtype": "int16"}


def status_attrs() -> dict[str, Any]:
    flags = [f for f in FitStatus if f.value != 0]  # single-bit members only
    return {
        "long_name": "fit status (mtor_pharm.FitStatus bits; 0 = OK)",
        "flag_masks": np.array([f.value for f in flags], dtype=np.int16),  # the type written (STATUS_ENCODING)
        "flag_meanings": " ".join(str(f.name).lower() for f in flags),
        "comment": " ".join(f"{str(f.name).lower()}: {STATUS_MESSAGES[f]}" for f in flags),
    }


def variable_attrs(name: str, m: Model, conc_unit: str, response_unit: str | None) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    base = name.removesuffix("_stderr")
    if name in ("ic50_ci_low", "ic50_ci_high"):
        side = "lower" if name.endswith("low") else "upper"
        attrs["long_name"] = f"{side} bound of the {CI_LEVEL:.0%} Wald confidence interval of ic50"
        attrs["confidence_level"] = CI_LEVEL
        attrs["units"] = conc_unit
    elif name == "rss":
        attrs["long_name"] = "residual sum of squares"
    elif name == "response_pvalue":
        attrs["long_name"] = "p-value of the extra-sum-of-squares F test against a flat line"
    elif name == "r_squared":
        attrs["long_name"] = "coefficient of determination, 1 - RSS/TSS"
    else:
        long = LONG_NAMES.get(base, base)
        if base == "ic50" and "ic50" not in m.param_names:
            long = f"{long}, derived from the {m.name} parameters"
        attrs["long_name"] = f"standard error of {base}" if name != base else long
        if base in ("ic50", "xmid") or base in getattr(m, "conc_params", ()):
            attrs["units"] = conc_unit
        elif base in ("bottom", "top") and response_unit is not None:
            attrs["units"] = response_unit
    return attrs
