"""Drug combinations: checkerboard dose-response matrices and synergy scores, for one pair or a screen.

=============================  =============================================================
name                           what it does
=============================  =============================================================
:class:`DoseMatrix`            the data: pairs × doses of A × doses of B × replicates, with units;
                               from arrays, a tidy table or an ``xarray.DataArray``
:func:`score`                  HSA, Bliss, Loewe and ZIP excess matrices, summary scores with
                               delta-method intervals and p-values, and the Chou–Talalay
                               combination index with dose-reduction indices
:func:`read_layout`            a plate layout whose wells may hold two compounds (then
                               ``mp.assays.tidy_plate`` and :meth:`DoseMatrix.from_plate`)
:func:`heatmap`                response or synergy heatmap with concentrations (and units) on the axes
:func:`isobologram`            Loewe isoboles at chosen effect levels with the observed combinations
:func:`fa_ci_plot`             the Chou–Talalay Fa–CI plot
=============================  =============================================================

The whole screen is one array ``(pairs, nA, nB, replicates)``: single agents are fitted in one
batched :func:`mtor_pharm.fit` call (shared across pairs where the same compound is on the
same plate), and every reference surface is computed for all pairs at once.
"""

from ._matrix import DoseMatrix, ResponseKind
from ._plate import read_layout
from ._plot import CombinationArtists, fa_ci_plot, heatmap, isobologram
from ._score import (
    MODELS,
    STATUS_MESSAGES,
    CombinationIndex,
    ModelName,
    Score,
    SynergyResult,
    SynergyStatus,
    score,
)

__all__ = [
    "MODELS",
    "STATUS_MESSAGES",
    "CombinationArtists",
    "CombinationIndex",
    "DoseMatrix",
    "ModelName",
    "ResponseKind",
    "Score",
    "SynergyResult",
    "SynergyStatus",
    "fa_ci_plot",
    "heatmap",
    "isobologram",
    "read_layout",
    "score",
]
