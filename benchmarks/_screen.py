"""The synthetic dose-response screen shared by every competitor in ``bench_fit.py``.

Design (issue 3, item 5): each curve has 10 concentrations, a 3-fold dilution
series from 10 µM, measured in 3 replicates, so every curve has m = 30 points
and all curves share the same concentration vector of shape ``(30,)``.

Responsive curves follow the four-parameter logistic

    y = bottom + (top - bottom) / (1 + (x / ic50) ** hill)

with log-uniform IC50 in [1 nM, 1 µM], hill uniform in [0.5, 3], bottom
uniform in [0, 20], top uniform in [90, 110], and Gaussian noise of sd 5.
Exactly one curve in each consecutive block of 20 (5 %) is flat: a constant
level drawn like ``top`` (uniform in [90, 110], mean 100) plus the same noise;
its true ``ic50`` and ``hill`` are NaN and ``bottom == top == level``.

The screen is generated in chunks of ``CHUNK`` curves, each from its own
``SeedSequence(seed, spawn_key=(chunk_index,))`` stream, and every chunk draws
the same amount of randomness whatever the requested size.  Hence
``make_screen(n)`` is exactly the first ``n`` curves of ``make_screen(n2)`` for
any ``n2 >= n``: the 200 curves the peers are timed on are the first 200 curves
of the million that ``mp.fit`` is timed on.  Peak memory of the generator is the
output array (8 bytes x 30 points per curve: 240 MB for a million curves) plus
one chunk of temporaries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

__all__ = [
    "CHUNK",
    "CONC_UNIT",
    "DEFAULT_SEED",
    "Screen",
    "dilution_series",
    "four_pl",
    "four_pl_log10",
    "initial_guess",
    "make_screen",
]

#: Default seed of the benchmark screen.
DEFAULT_SEED = 20_240_503
#: Curves per generation chunk (a multiple of ``FLAT_EVERY``).
CHUNK = 10_000
#: Unit of every concentration in the screen.
CONC_UNIT = "uM"

N_CONC = 10
TOP_CONC = 10.0  # µM
DILUTION = 3.0
N_REPLICATES = 3
LOG10_IC50_RANGE = (-3.0, 0.0)  # log10 µM: 1 nM .. 1 µM
HILL_RANGE = (0.5, 3.0)
BOTTOM_RANGE = (0.0, 20.0)
TOP_RANGE = (90.0, 110.0)
NOISE_SD = 5.0
FLAT_EVERY = 20  # one flat curve per block of 20 curves = 5 %


def four_pl(
    x: FloatArray, bottom: FloatArray, top: FloatArray, ic50: FloatArray, hill: FloatArray
) -> FloatArray:
    """Four-parameter logistic, falling for ``hill > 0``; all arguments broadcast."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        out: FloatArray = bottom + (top - bottom) / (1.0 + (x / ic50) ** hill)
    return out


def four_pl_log10(
    x: FloatArray, bottom: FloatArray, top: FloatArray, log10_ic50: FloatArray, hill: FloatArray
) -> FloatArray:
    """The same curve parametrised by ``log10(ic50)`` (``x`` and ``ic50`` in the same unit)."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        u = 10.0 ** (hill * (np.log10(x) - log10_ic50))
        out: FloatArray = bottom + (top - bottom) / (1.0 + u)
    return out


def dilution_series() -> FloatArray:
    """The 30 concentrations (µM) of every curve: 10 µM and 9 threefold dilutions, x3 replicates.

    Ascending; the three replicates of a concentration are adjacent.
    """
    levels = TOP_CONC / DILUTION ** np.arange(N_CONC - 1, -1, -1, dtype=np.float64)
    return np.repeat(levels, N_REPLICATES)


@dataclass(frozen=True, slots=True, eq=False)
class Screen:
    """A synthetic screen: shared concentrations, responses and the true parameters."""

    conc: FloatArray  # (m,) µM
    response: FloatArray  # (n, m)
    bottom: FloatArray  # (n,)
    top: FloatArray  # (n,)
    ic50: FloatArray  # (n,) µM, NaN for flat curves
    hill: FloatArray  # (n,) NaN for flat curves
    flat: BoolArray  # (n,)
    seed: int

    @property
    def n(self) -> int:
        """Number of curves."""
        return int(self.response.shape[0])

    def head(self, n: int) -> Screen:
        """The first `n` curves (views, no copy); equal to ``make_screen(n, seed=self.seed)``."""
        if not 0 < n <= self.n:
            raise ValueError(f"`n` must be in [1, {self.n}]; got {n}.")
        return Screen(
            conc=self.conc,
            response=self.response[:n],
            bottom=self.bottom[:n],
            top=self.top[:n],
            ic50=self.ic50[:n],
            hill=self.hill[:n],
            flat=self.flat[:n],
            seed=self.seed,
        )


def _chunk_rng(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))


def make_screen(n: int, *, seed: int = DEFAULT_SEED) -> Screen:
    """Generate `n` curves of the benchmark screen (see the module docstring)."""
    if n < 1:
        raise ValueError(f"`n` must be a positive number of curves; got {n}.")
    conc = dilution_series()
    m = conc.size
    response = np.empty((n, m), dtype=np.float64)
    bottom = np.empty(n, dtype=np.float64)
    top = np.empty(n, dtype=np.float64)
    ic50 = np.empty(n, dtype=np.float64)
    hill = np.empty(n, dtype=np.float64)
    flat = np.zeros(n, dtype=np.bool_)
    for index, start in enumerate(range(0, n, CHUNK)):
        stop = min(start + CHUNK, n)
        c = stop - start
        rng = _chunk_rng(seed, index)
        # Always draw a full chunk, in a fixed order, so that prefixes agree.
        log_ic50_c = rng.uniform(*LOG10_IC50_RANGE, size=CHUNK)[:c]
        hill_c = rng.uniform(*HILL_RANGE, size=CHUNK)[:c]
        bottom_c = rng.uniform(*BOTTOM_RANGE, size=CHUNK)[:c]
        top_c = rng.uniform(*TOP_RANGE, size=CHUNK)[:c]
        flat_pos = rng.integers(0, FLAT_EVERY, size=CHUNK // FLAT_EVERY)
        noise = rng.normal(0.0, NOISE_SD, size=(CHUNK, m))[:c]

        flat_c = np.zeros(CHUNK, dtype=np.bool_)
        flat_c[np.arange(0, CHUNK, FLAT_EVERY) + flat_pos] = True
        flat_c = flat_c[:c]
        ic50_c = 10.0**log_ic50_c
        ic50_c[flat_c] = np.nan
        hill_c[flat_c] = np.nan
        bottom_c[flat_c] = top_c[flat_c]

        mean = bottom_c[:, None] + (top_c - bottom_c)[:, None] / (
            1.0 + (conc[None, :] / ic50_c[:, None]) ** hill_c[:, None]
        )
        mean[flat_c] = top_c[flat_c, None]
        np.add(mean, noise, out=response[start:stop])
        bottom[start:stop] = bottom_c
        top[start:stop] = top_c
        ic50[start:stop] = ic50_c
        hill[start:stop] = hill_c
        flat[start:stop] = flat_c
    return Screen(
        conc=conc,
        response=response,
        bottom=bottom,
        top=top,
        ic50=ic50,
        hill=hill,
        flat=flat,
        seed=seed,
    )


def initial_guess(conc: FloatArray, response: FloatArray) -> dict[str, FloatArray]:
    """The data-driven start every peer uses, for all curves at once.

    ``bottom`` = smallest response, ``top`` = largest response, ``ic50`` = the
    tested concentration whose replicate mean is nearest the half-way response
    ``(bottom + top) / 2``, ``hill`` = 1.  Assumes no missing values (the screen has none).
    """
    levels, inverse = np.unique(conc, return_inverse=True)
    indicator = np.zeros((conc.size, levels.size), dtype=np.float64)
    indicator[np.arange(conc.size), inverse] = 1.0
    means = (response @ indicator) / indicator.sum(axis=0)
    bottom = response.min(axis=1)
    top = response.max(axis=1)
    half = 0.5 * (bottom + top)
    nearest = np.abs(means - half[:, None]).argmin(axis=1)
    return {
        "bottom": bottom,
        "top": top,
        "ic50": levels[nearest],
        "hill": np.ones_like(bottom),
    }
