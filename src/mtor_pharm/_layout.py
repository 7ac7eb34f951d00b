"""The internal numbering of parameter columns and compiled families, named once.

Internal parameter columns of the shape families are ``(bottom, top, ln loc, hill[, ln s])``:
the plateaus first (they enter the model linearly), then the location on the log scale, the
slope and, for the Richards family, the log asymmetry.  Every family, shape or not, keeps
``bottom`` and ``top`` in columns :data:`BOTTOM` and :data:`TOP` (the status rules read
them there); its other columns are declared by the family
(:attr:`mtor_pharm.models.ModelFamily.kinds`).

Shape families are numbered for the compiled solver (read by ``fitting/_kernels.pyx`` at
import, through :mod:`mtor_pharm.fitting._layout`); :data:`GENERIC` marks a family fitted
by the batched numpy solver (``fitting/_generic.py``).  This module imports nothing, so
:mod:`mtor_pharm.models` (below ``fitting``) can use it too.
"""

from __future__ import annotations

#: Internal parameter columns (shape families; ``BOTTOM`` and ``TOP`` in every family).
BOTTOM, TOP, LOC, HILL, ASYM = 0, 1, 2, 3, 4

#: Shape families ``S(z)`` of ``bottom + (top - bottom) S(hill (ln x - ln loc))``.
LOGISTIC, RICHARDS, WEIBULL1, WEIBULL2, LOGNORMAL = 0, 1, 2, 3, 4

#: The compiled shape families, by name (what the compiled ``solve_block`` accepts).
COMPILED: dict[str, int] = {
    "logistic": LOGISTIC,
    "richards": RICHARDS,
    "weibull1": WEIBULL1,
    "weibull2": WEIBULL2,
    "lognormal": LOGNORMAL,
}

#: A family without a compiled shape: fitted by the generic batched solver.
GENERIC = -1
