"""The batched least-squares engine (internal): blocks of curves in, per-curve results out.

``_api`` prepares the batch in blocks (:class:`Chunk`: pooled replicates, masks, bounds);
:func:`solve` hands each block (with the sign of hill its start grid is restricted to, for
the asymmetric families' two starts) to the compiled per-curve solver in
:mod:`._kernels` (Levenberg–Marquardt with variable projection, grid starts, active-set
bounds; see there), which writes its results straight into the block's rows of
:class:`Outputs` (no temporaries, no scatter).  The compiled solver releases the GIL, so
blocks given to different threads run on different cores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from .._typing import BoolArray, FloatArray
from ..errors import UnknownModelError
from ..models import MODELS, Model
from . import _generic, _kernels
from ._layout import COMPILED, GENERIC, LOGISTIC


@dataclass(slots=True)
class Problem:
    """A block of curves, already pooled and masked (see ``_api._chunks``)."""

    fit: BoolArray  # (n,) whether the curve is fitted (False: too few points; NaN results)
    lx: FloatArray  # (n, k) ln x, -inf for x == 0, 0 where w == 0
    y: FloatArray  # (n, k) (mean) responses, 0 where w == 0
    w: FloatArray  # (n, k) weights (replicate counts x user weights), 0 = missing
    lx_lo: FloatArray  # (n,) ln of the smallest positive concentration
    lx_hi: FloatArray  # (n,) ln of the largest concentration
    P_fixed: FloatArray  # (n, p) internal values of fixed parameters (others ignored)
    lo: FloatArray  # (n, p) internal lower bounds
    hi: FloatArray  # (n, p) internal upper bounds
    # (n,) a (pooled) RSS above which the curve is clearly flat (F test p > 0.5 against a
    # flat line); such a curve that stops making progress is not iterated further
    flat_rss: FloatArray
    # (n,) ln x of the solver's origin per curve (lx and the locations are relative to it);
    # the generic solver undoes it (a family may depend on x itself, not only on x / loc)
    centre: FloatArray | None = None


@dataclass(frozen=True, slots=True)
class Kernel:
    """Which compiled path fits a batch: the shape family, whether the plateaus are solved
    by variable projection (free and unbounded) or stepped like the other parameters, and
    whether it is the hot case with its own solver (the 4PL with every parameter free and
    unbounded plateaus)."""

    family: int
    symmetric: bool
    varpro: bool
    fused: bool = False


def family_id(model: Model) -> int:
    """The checked engine id of `model`'s family: a compiled shape (:data:`._layout.COMPILED`)
    or :data:`._layout.GENERIC` for a family that declares no compiled shape but can be fitted
    generically (it has a start strategy and a Jacobian).  Anything else is refused with the
    list of what is supported: never a ``KeyError``, never another family's fit."""
    compiled = getattr(model, "compiled", None)
    if compiled is None:
        if callable(getattr(model, "start", None)) and callable(getattr(model, "evaluate", None)):
            return GENERIC
    elif compiled in COMPILED:
        return COMPILED[compiled]
    raise UnknownModelError(
        f"`model` {getattr(model, 'name', model)!r} declares compiled shape {compiled!r}, which the engine does not "
        f"have; compiled shapes: {sorted(COMPILED)} (or compiled=None with start() and evaluate() for the "
        f"generic solver). Registered families: {sorted(MODELS)}."
    )


@dataclass(slots=True)
class Chunk:
    """A prepared piece of the batch: its rows ``start:stop`` of the batch and its problem."""

    start: int
    stop: int
    prob: Problem


class Outputs:
    """Per-curve solver outputs for the whole batch, written as curves finish (every row
    by the solver: a curve that is not fitted gets NaN, status 0, 0 iterations)."""

    def __init__(self, N: int, p: int, q: int, *, progress: Callable[[int], None] | None = None) -> None:
        self.P = np.empty((N, p))
        self.rss = np.empty(N)
        self.status = np.empty(N, dtype=np.uint8)  # NOT_CONVERGED, AT_BOUND
        self.iterations = np.empty(N)
        self.A = np.empty((N, q, q))
        #: called with the number of curves that just finished (for progress displays)
        self.progress = progress


def make_kernel(model: Model, free: BoolArray, *, bounded_plateau: bool) -> Kernel:
    """Variable projection where the plateaus are free of bounds, plain LM otherwise."""
    varpro = not bounded_plateau and bool(free[0] or free[1]) and bool(free[2:].any())
    family = family_id(model)
    if family == GENERIC:
        return Kernel(family=GENERIC, symmetric=model.symmetric, varpro=False)
    fused = family == LOGISTIC and model.n_params == 4 and varpro and bool(free.all())
    return Kernel(family=family, symmetric=model.symmetric, varpro=varpro, fused=fused)


def solve(
    model: Model,
    chunks: Iterable[Chunk],
    free: BoolArray,
    out: Outputs,
    *,
    kernel: Kernel,
    sign: int = 0,
    max_iter: int = 200,
) -> None:
    """Fit every curve of every chunk with the compiled solver; results go into `out`.

    `sign` restricts the start grid to one sign of hill (0: any).  A symmetric family
    with both plateaus and hill free is reported with ``top >= bottom`` where the bounds
    allow it (the same curve, hill negated)."""
    free_c = np.ascontiguousarray(free, dtype=np.bool_)
    flip = bool(model.symmetric and free[0] and free[1] and free[3])
    for chunk in chunks:
        prob = chunk.prob  # its arrays are made C-contiguous float64 by _api._chunks
        rows = slice(chunk.start, chunk.stop)
        n = chunk.stop - chunk.start
        rows_out = (out.P[rows], out.rss[rows], out.status[rows], out.iterations[rows], out.A[rows])
        data = (
            prob.fit, prob.lx, prob.y, prob.w, prob.lx_lo, prob.lx_hi, prob.P_fixed, prob.lo, prob.hi, prob.flat_rss,
        )
        if kernel.family == GENERIC:
            _generic.solve_block(
                model, prob.fit, prob.lx, prob.y, prob.w,
                prob.centre if prob.centre is not None else np.zeros(n),
                prob.P_fixed, prob.lo, prob.hi, free_c, max_iter, *rows_out,
            )
        elif kernel.fused:
            _kernels.solve_block_logistic(*data, sign, flip, max_iter, *rows_out)
        else:
            _kernels.solve_block(
                kernel.family, kernel.symmetric, kernel.varpro, *data, free_c, sign, flip, max_iter, *rows_out
            )
        if out.progress is not None:
            out.progress(n)
