"""Benchmark: a combination screen scored in one call vs a loop over the ``synergy`` package.

Issue 15, item 4.  ``mp.combination.score`` scores P checkerboards (8×8: vehicle + 7 doses
of each drug) against HSA, Bliss, Loewe and ZIP with intervals, plus the Chou–Talalay CI, in
one call; the peer is what a Python user writes today: a loop over pairs calling the
``synergy`` package's ``HSA``, ``Bliss``, ``Loewe(mode="delta_HSA")``, ``ZIP`` and
``CombinationIndex`` (each fits its own single agents, as ``mp.combination.score`` does).
The peer is timed on a subset of pairs and extrapolated per pair.  Timings are wall clock,
single-threaded; nothing is asserted.

Run from the repository root::

    python benchmarks/bench_combination.py                 # P = 10,000, peer on 10 pairs
    python benchmarks/bench_combination.py --pairs 1000 --peer-n 5
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

try:
    import mtor_pharm as mp
except ImportError:  # pragma: no cover - running from a source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import mtor_pharm as mp

DOSES = np.r_[0.0, 0.01 * 3.0 ** np.arange(7)]  # uM: vehicle + 0.01 ... 7.29


def make_screen(P: int, seed: int = 15) -> np.ndarray:
    """P 8×8 matrices (fraction unaffected ×100): 4PL single agents, a random interaction, noise sd 3."""
    rng = np.random.default_rng(seed)

    def agent() -> np.ndarray:
        ic50 = 10 ** rng.uniform(-1.5, 0.5, P)
        hill = rng.uniform(0.7, 2.5, P)
        bottom = rng.uniform(0.0, 0.3, P)
        return bottom[:, None] + (1 - bottom[:, None]) / (1 + (DOSES[None, :] / ic50[:, None]) ** hill[:, None])

    ua, ub = agent(), agent()
    bliss = ua[:, :, None] * ub[:, None, :]
    shift = rng.normal(0.0, 0.1, P)[:, None, None] * np.outer(DOSES > 0, DOSES > 0)  # synergy (+) / antagonism (-)
    surface = np.clip(bliss * (1 - shift), 0, 1.2)
    return 100 * surface + rng.normal(0, 3, surface.shape)


def time_ours(y: np.ndarray, workers: int) -> dict[str, float]:
    m = mp.combination.DoseMatrix.from_arrays(
        mp.Q_(DOSES, "uM"),
        mp.Q_(DOSES, "uM"),
        y[..., None],
        drug_a=[f"a{i}" for i in range(len(y))],
        drug_b=[f"b{i}" for i in range(len(y))],
    )
    out: dict[str, float] = {}
    for label, models, levels in (
        ("all (4 models + CI)", mp.combination.MODELS, (0.5, 0.75, 0.9)),
        ("HSA + Bliss", ("hsa", "bliss"), ()),
        ("Loewe", ("loewe",), ()),
        ("ZIP", ("zip",), ()),
        ("CI", (), (0.5, 0.75, 0.9)),
    ):
        t = time.perf_counter()
        mp.combination.score(m, models=models, levels=levels, workers=workers)
        out[label] = time.perf_counter() - t
    return out


def time_peer(y: np.ndarray, n: int) -> dict[str, float]:
    """Seconds per pair of each synergy-package model (each fits its own single agents)."""
    from synergy.combination import HSA, ZIP, Bliss, CombinationIndex, Loewe

    d1, d2 = (g.ravel() for g in np.meshgrid(DOSES, DOSES, indexing="ij"))
    per: dict[str, float] = {}
    for label, make in (
        ("HSA + Bliss", lambda: (HSA(), Bliss())),
        ("Loewe", lambda: (Loewe(mode="delta_HSA"),)),
        ("ZIP", lambda: (ZIP(),)),
        ("CI", lambda: (CombinationIndex(),)),
    ):
        t = time.perf_counter()
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            for i in range(n):
                E = y[i].ravel() / 100
                for model in make():
                    model.fit(d1, d2, E)
        per[label] = (time.perf_counter() - t) / n
    per["all (4 models + CI)"] = sum(per.values())
    return per


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=10_000)
    ap.add_argument("--peer-n", type=int, default=10)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seed", type=int, default=15)
    args = ap.parse_args()

    y = make_screen(args.pairs, args.seed)
    # warm up (compiled kernels load from the cache on first use)
    time_ours(y[:20], args.workers)
    ours = time_ours(y, args.workers)
    peer = time_peer(y, args.peer_n)
    print(
        f"\n{args.pairs:,} pairs of 8×8 (1 replicate), workers={args.workers}; synergy timed on {args.peer_n} pairs\n"
    )
    print(
        "| models | mp.combination.score (s) | per pair (ms) | synergy loop, per pair (ms) | "
        f"synergy extrapolated to {args.pairs:,} (s) | ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for label, t in ours.items():
        p = peer[label]
        print(
            f"| {label} | {t:.2f} | {1e3 * t / args.pairs:.3f} | {1e3 * p:.1f} | {p * args.pairs:,.0f} | "
            f"{p * args.pairs / t:,.0f}× |"
        )


if __name__ == "__main__":
    main()
