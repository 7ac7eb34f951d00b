"""Fit quality: the ambiguity rule, a pure function of a fit's result arrays.

GraphPad Prism calls a fit "ambiguous" when the data do not define some parameter: its
*dependency* on the others exceeds 0.9999 and its confidence interval is very wide
(https://www.graphpad.com/guides/prism/latest/curve-fitting/reg_analysischeck_nonlin_ambiguous.htm;
dependency: https://www.graphpad.com/guides/prism/8/curve-fitting/reg_diagnostics_tab_4_2.htm).
:func:`ambiguous` applies that test and two plainer ones to every curve of a batch.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy import special

from .._typing import FloatArray

__all__ = ["AMBIGUITY_RULE", "MAX_CI_DECADES", "MAX_DEPENDENCY", "ambiguous"]

#: Prism's threshold on a parameter's dependency.
MAX_DEPENDENCY = 0.9999
#: Widest 95 % confidence interval of the location parameter (IC50), in decades (100-fold).
MAX_CI_DECADES = 2.0
#: The rule in words (quoted by the docs and by ``STATUS_MESSAGES``).
AMBIGUITY_RULE = (
    "a free parameter has no finite standard error, or its dependency on the others exceeds 0.9999 "
    "(Prism's 'ambiguous'), or the 95% CI of the Hill slope includes 0, or the 95% CI of the IC50 "
    "spans more than 2 decades"
)

_LOCATION = ("ic50", "xmid")
_BLOCK = 16384  # curves per block of the dependency computation


def _inverse_diagonal(R: FloatArray) -> FloatArray:
    """``diag(R⁻¹)`` of a batch of symmetric positive definite ``(N, q, q)`` matrices (q ≤ 5),
    by a Cholesky factorization vectorized over the batch (a Python loop over the q² entries
    only: 1,000,000 4×4 matrices in a fraction of a second).  ``inf`` where ``R`` is not
    numerically positive definite (a dependency of 1)."""
    N, q, _ = R.shape
    M = [[np.ascontiguousarray(R[:, i, j]) for j in range(q)] for i in range(q)]  # q² vectors of length N
    ok = np.ones(N, dtype=np.bool_)
    for i in range(q):
        for j in range(q):
            ok &= np.isfinite(M[i][j])
    # lower-triangular factors as lists of vectors: no (q, q, N) arrays to allocate and touch
    L: list[list[FloatArray]] = [[np.zeros(0)] * q for _ in range(q)]
    for j in range(q):
        dj = M[j][j].copy()
        for k in range(j):
            dj -= L[j][k] * L[j][k]
        ok &= dj > 1e-12 * np.abs(M[j][j])
        L[j][j] = np.sqrt(np.where(ok, dj, 1.0))
        for i in range(j + 1, q):
            acc = M[i][j].copy()
            for k in range(j):
                acc -= L[i][k] * L[j][k]
            L[i][j] = acc / L[j][j]
    Linv: list[list[FloatArray]] = [[np.zeros(0)] * q for _ in range(q)]
    for i in range(q):
        Linv[i][i] = 1.0 / L[i][i]
        for j in range(i):
            acc = L[i][j] * Linv[j][j]
            for k in range(j + 1, i):
                acc += L[i][k] * Linv[k][j]
            Linv[i][j] = -acc / L[i][i]
    diag = np.empty((q, N))
    for j in range(q):  # (R⁻¹)_jj = Σ_k (L⁻¹)_kj²
        acc = Linv[j][j] * Linv[j][j]
        for k in range(j + 1, q):
            acc += Linv[k][j] * Linv[k][j]
        diag[j] = acc
    out: FloatArray = np.where(ok[None, :], diag, np.inf).T
    return out


def ambiguous(
    param_names: tuple[str, ...],
    free: NDArray[np.bool_],
    params: FloatArray,
    stderr: FloatArray,
    covariance: FloatArray,
    dof: NDArray[np.integer] | FloatArray,
    determined: NDArray[np.bool_],
) -> NDArray[np.bool_]:
    """True for the curves whose fit is ambiguous (see :data:`AMBIGUITY_RULE`).

    Parameters
    ----------
    param_names : tuple of str
        Parameter order of the last axes.
    free : ndarray of bool, shape (p,)
        Which parameters were fitted (not fixed).
    params, stderr : ndarray, shape (N, p)
        Estimates and standard errors on the reported scale (IC50 as a concentration).
    covariance : ndarray, shape (N, p, p)
        Their covariance.
    dof : ndarray, shape (N,)
        Residual degrees of freedom.
    determined : ndarray of bool, shape (N,)
        Curves to judge (the others, e.g. flat or unfitted, are never ambiguous:
        they carry their own status).

    Returns
    -------
    ndarray of bool, shape (N,)

    Notes
    -----
    The dependency of parameter *i* is ``1 − 1 / (C_ii (C⁻¹)_ii)`` with ``C`` the
    covariance of the free parameters; it is invariant to rescaling a parameter
    and computed here from the Cholesky factor of the correlation matrix.
    A perfect fit (every free standard error exactly 0) is not ambiguous.
    """
    N = params.shape[0]
    out = np.zeros(N, dtype=np.bool_)
    idx = np.flatnonzero(free)
    if idx.size == 0 or N == 0:
        return out
    se = stderr[:, idx]
    finite_se = np.all(np.isfinite(se), axis=1)
    perfect = finite_se & np.all(se == 0.0, axis=1)
    out |= ~finite_se
    judge = determined & finite_se & ~perfect & np.all(se > 0.0, axis=1)
    rows = np.flatnonzero(judge)
    for b0 in range(0, rows.size, _BLOCK):  # blocks that stay in cache
        sub = rows[b0:b0 + _BLOCK]
        C = covariance[np.ix_(sub, idx, idx)]
        d = np.sqrt(np.einsum("nii->ni", C))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            R = C / (d[:, :, None] * d[:, None, :])
            dependency = 1.0 - 1.0 / _inverse_diagonal(R)
        out[sub] |= np.any(~(dependency <= MAX_DEPENDENCY), axis=1)
    dof_f = np.asarray(dof, dtype=np.float64)
    values, inverse = np.unique(dof_f, return_inverse=True)  # few distinct dof: one quantile each
    with np.errstate(invalid="ignore", divide="ignore"):
        t = special.stdtrit(np.where(values > 0, values, np.nan), 0.975)[inverse.reshape(-1)]
    if "hill" in param_names and free[param_names.index("hill")]:
        i = param_names.index("hill")
        h, s = params[:, i], stderr[:, i]
        with np.errstate(invalid="ignore"):
            crosses = np.abs(h) <= t * s
        out |= determined & ~perfect & finite_se & crosses
    for name in _LOCATION:
        if name in param_names and free[param_names.index(name)]:
            i = param_names.index(name)
            with np.errstate(invalid="ignore", divide="ignore"):
                half_width = t * stderr[:, i] / params[:, i]  # ln-scale half width
                wide = ~(2.0 * half_width <= MAX_CI_DECADES * math.log(10.0))
            out |= determined & ~perfect & finite_se & wide
    return out & determined
