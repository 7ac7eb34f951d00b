"""Types of the compiled kernels (``_kernels.pyx``, built when the package is installed)."""

import numpy as np
from numpy.typing import NDArray

from .._typing import FloatArray

_Bool = NDArray[np.bool_]
_I64 = NDArray[np.int64]
_U8 = NDArray[np.uint8]

SHAPE_FAMILIES: frozenset[int]
GRID_T: FloatArray
GRID_HILL: FloatArray
AT_BOUND_RTOL: float
DEGENERATE_SPAN: float
TINY_RANGE: float
F_ALPHA: float
CONSTANT_SS: float

def solve_block(
    family: int,
    symmetric: bool,
    varpro: bool,
    fit: _Bool,
    lx: FloatArray,
    y: FloatArray,
    w: FloatArray,
    lx_lo: FloatArray,
    lx_hi: FloatArray,
    P_fixed: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    flat_rss: FloatArray,
    free: _Bool,
    sign: int,
    flip: bool,
    max_iter: int,
    out_P: FloatArray,
    out_rss: FloatArray,
    out_status: _U8,
    out_it: FloatArray,
    out_A: FloatArray,
) -> None: ...
def solve_block_logistic(
    fit: _Bool,
    lx: FloatArray,
    y: FloatArray,
    w: FloatArray,
    lx_lo: FloatArray,
    lx_hi: FloatArray,
    P_fixed: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    flat_rss: FloatArray,
    sign: int,
    flip: bool,
    max_iter: int,
    out_P: FloatArray,
    out_rss: FloatArray,
    out_status: _U8,
    out_it: FloatArray,
    out_A: FloatArray,
) -> None: ...
def pool(
    x: FloatArray,
    y: FloatArray,
    w_user: FloatArray,
    weighted: bool,
    order: _I64,
    lx: FloatArray,
    ybar: FloatArray,
    wsum: FloatArray,
    stats: FloatArray,
) -> int: ...
def count_columns(x: FloatArray, y: FloatArray, w_user: FloatArray, weighted: bool) -> int: ...
def prepare(
    stats: FloatArray,
    lx: FloatArray,
    w: FloatArray,
    q: int,
    f_half: FloatArray,
    fixed: FloatArray,
    lo_user: FloatArray,
    hi_user: FloatArray,
    loc_span: float,
    hill_max: float,
    log_s_max: float,
    npts: _I64,
    fittable: _Bool,
    centre: FloatArray,
    lx_lo: FloatArray,
    lx_hi: FloatArray,
    flat_rss: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    P_fixed: FloatArray,
) -> None: ...
def finish(
    P: FloatArray,
    A: FloatArray,
    rss: FloatArray,
    within: FloatArray,
    npts: _I64,
    fit: _Bool,
    free: _Bool,
    is_log: _Bool,
    yrange: FloatArray,
    rss0: FloatArray,
    t975: FloatArray,
    loc: int,
    loc_log: bool,
    hill: int,
    ic50_range: bool,
    lx_lo: FloatArray,
    lx_hi: FloatArray,
    P_out: FloatArray,
    cov: FloatArray,
    stderr: FloatArray,
    rss_tot: FloatArray,
    pval: FloatArray,
    status: _U8,
) -> None: ...
def _geometric(lx: FloatArray, w: FloatArray) -> tuple[bool, int, float]: ...
def _exp_series(a: float, b: float, lx: FloatArray, geo: bool, mid: int, step: float, out: FloatArray) -> None: ...
def rule_fittable(npts: FloatArray, distinct: FloatArray, q: FloatArray, out: _U8) -> None: ...
def rule_at_bound(v: FloatArray, lo: FloatArray, hi: FloatArray, out: _U8) -> None: ...
def rule_runaway(bottom: FloatArray, top: FloatArray, yrange: FloatArray, out: _U8) -> None: ...
def rule_flat_pvalue(rss: FloatArray, rss0: FloatArray, npts: FloatArray, q: FloatArray, out: FloatArray) -> None: ...
def rule_flat(pvalue: FloatArray, out: _U8) -> None: ...
def rule_outside_range(ic50: FloatArray, conc_min: FloatArray, conc_max: FloatArray, out: _U8) -> None: ...
LAM0: float
DEC_TOL: float
STEP_TOL: float
STALL_TOL: float
LAM_MAX: float
TINY: float
ZERO_RSS: float
STALL_EVERY: int
STALL_REL: float
LINEAR_RATE_MAX: float
NEWTON_DEC: float
FD_REL: float
def gram_rows(
    family: int,
    P: FloatArray,
    lx: FloatArray,
    y: FloatArray,
    sw: FloatArray,
    order: _I64,
    M: FloatArray,
    g: FloatArray,
    rss: FloatArray,
    jacobian: bool,
) -> None: ...
