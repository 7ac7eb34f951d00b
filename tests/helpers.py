"""Shared test designs, simulators and reference fits (independent of the code under test).

Everything here is written from the formulas with numpy and scipy only: the library's own
model kernels and solver are never used to make an expected value.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

#: A 3-fold dilution series from 10 (in µM in the tests), highest first.
CONC = 10.0 / 3.0 ** np.arange(10)
#: The same series in triplicate.
CONC_TRIPLICATE = np.repeat(CONC, 3)


def logistic4(x: np.ndarray, bottom: float, top: float, ic50: float, hill: float) -> np.ndarray:
    """Independent 4PL written from the formula (not the library kernel)."""
    return bottom + (top - bottom) / (1.0 + (x / ic50) ** hill)


def reference_fit(x: np.ndarray, y: np.ndarray, p0: np.ndarray | list[float]) -> least_squares:
    """Tight scipy Levenberg–Marquardt on ``(bottom, top, ln ic50, hill)``, NaN points masked."""
    ok = ~np.isnan(y)

    def resid(p: np.ndarray) -> np.ndarray:
        return logistic4(x[ok], p[0], p[1], np.exp(p[2]), p[3]) - y[ok]

    return least_squares(resid, p0, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=20000)


def simulate_curve(
    rng: np.random.Generator, n_rep: int = 3, sd: float = 4.0
) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """One noisy falling 4PL curve on :data:`CONC` in `n_rep` replicates, with its truth."""
    truth = {
        "bottom": rng.uniform(0, 15),
        "top": rng.uniform(90, 110),
        "ic50": 10 ** rng.uniform(-2.5, -0.5),
        "hill": rng.uniform(0.7, 2.5),
    }
    x = np.repeat(CONC, n_rep)
    y = logistic4(x, **truth) + rng.normal(0, sd, x.size)
    return x, y, truth


def simulate_screen(n: int, seed: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """`n` noisy curves on :data:`CONC_TRIPLICATE` (a fifth of them rising), with their truth."""
    rng = np.random.default_rng(seed)
    truth = {
        "bottom": rng.uniform(0, 20, n),
        "top": rng.uniform(90, 110, n),
        "ic50": 10 ** rng.uniform(-2.5, -0.3, n),
        "hill": rng.uniform(0.6, 2.5, n) * rng.choice([1, -1], n, p=[0.8, 0.2]),
    }
    mu = logistic4(CONC_TRIPLICATE[None, :], *(truth[k][:, None] for k in ("bottom", "top", "ic50", "hill")))
    return mu + rng.normal(0, 4, mu.shape), truth
