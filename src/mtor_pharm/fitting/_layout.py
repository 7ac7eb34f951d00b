"""The engine's internal numbering, named once (read by the compiled kernels at import).

Internal parameter columns are ``(bottom, top, ln loc, hill[, ln s])``: the plateaus first
(they enter the model linearly), then the location on the log scale, the slope and, for
the Richards family, the log asymmetry.  Shape families are numbered for the compiled
solver.
"""

from __future__ import annotations

#: Internal parameter columns.
BOTTOM, TOP, LOC, HILL, ASYM = 0, 1, 2, 3, 4

#: Shape families ``S(z)`` of ``bottom + (top - bottom) S(hill (ln x - ln loc))``.
LOGISTIC, RICHARDS, WEIBULL1, WEIBULL2 = 0, 1, 2, 3
