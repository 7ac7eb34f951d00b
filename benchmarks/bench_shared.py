"""Benchmark global (shared-parameter) fits: the block-structured solver against the old
dense one and against separate fits (issue 13, item 4).

Run from the repository root::

    python benchmarks/bench_shared.py                          # N = 50, 200, 1,000, 10,000
    python benchmarks/bench_shared.py --sizes 50,200 --old-max 200
    python benchmarks/bench_shared.py --old-ref <git ref>      # the dense solver of that commit

Data: N curves of 8 concentrations (10 µM and seven 3-fold dilutions) × 3 replicates
(24 points), IC50 log-uniform in 10 nM–3 µM, hill 1.2, bottom 5, top 100, Gaussian
noise sd 4 (seed 0).  Competitors, each timed once (wall clock, single-threaded BLAS):

* ``fit_shared(share=("hill", "top", "bottom"))`` and ``fit_shared(share=())`` with the
  block-structured solver of this tree;
* the same calls with the dense solver of ``--old-ref`` (``compare/_shared.py`` read
  from git and run against this tree's engine), up to ``--old-max`` curves: its time
  grows like N² or worse and its memory like N²;
* ``mp.fit`` on the N curves (separate fits, compiled engine);
* a loop of ``scipy.optimize.curve_fit`` (LM, log10 IC50) over the first ``--loop-n``
  curves, extrapolated per curve to N.

Nothing here asserts a timing; the printed table is Markdown for
``benchmarks/README.md``.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import contextlib  # noqa: E402
import importlib.util  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from types import ModuleType  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
try:
    import mtor_pharm as mp
except ImportError:  # pragma: no cover - run from a checkout
    sys.path.insert(0, str(ROOT / "src"))
    import mtor_pharm as mp
from mtor_pharm import compare as cmp  # noqa: E402

X = np.repeat(10.0 / 3.0 ** np.arange(8), 3)


def make_data(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ic50 = np.exp(rng.uniform(np.log(0.01), np.log(3.0), n))[:, None]
    return np.asarray(mp.models.four_pl(X, 5.0, 100.0, ic50, 1.2) + rng.normal(0, 4, (n, X.size)))


def load_old(ref: str) -> ModuleType:
    """``compare/_shared.py`` of commit `ref`, as a module of this tree's package."""
    src = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{ref}:src/mtor_pharm/compare/_shared.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    spec = importlib.util.spec_from_loader("mtor_pharm.compare._shared_dense", loader=None)
    assert spec is not None
    mod = importlib.util.module_from_spec(spec)
    mod.__package__ = "mtor_pharm.compare"
    sys.modules[spec.name] = mod  # dataclasses look their module up
    # names the old module imported from compare._common that have moved since: lent to
    # that module while the old code is imported (the same objects, or the old constant)
    from mtor_pharm import _arrays
    from mtor_pharm.compare import _common

    moved = {"LOG_PARAMS": ("ic50", "xmid", "s"), "is_dataarray": _arrays.is_dataarray, "readonly": _arrays.readonly}
    lent = [name for name in moved if not hasattr(_common, name)]
    for name in lent:
        setattr(_common, name, moved[name])
    try:
        exec(compile(src, f"{ref}:_shared.py", "exec"), mod.__dict__)  # the project's own code, from git
    finally:
        for name in lent:
            delattr(_common, name)
    return mod


def timed(fn: Callable[[], Any], memory: bool) -> tuple[float, float, Any]:
    """(seconds, peak traced MiB or NaN, result): timed untraced, then run again under
    tracemalloc for the peak of the memory numpy allocates (when `memory`)."""
    t = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t
    peak = float("nan")
    if memory:
        tracemalloc.start()
        fn()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return dt, peak, out


def curve_fit_loop(y: np.ndarray) -> float:
    from scipy.optimize import curve_fit

    def f(x: np.ndarray, b: float, t: float, lc: float, h: float) -> np.ndarray:
        return np.asarray(b + (t - b) / (1.0 + (x / 10.0**lc) ** h))

    t0 = time.perf_counter()
    for row in y:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with contextlib.suppress(RuntimeError):
                curve_fit(f, X, row, p0=[row.min(), row.max(), np.log10(0.3), 1.0], method="lm", maxfev=5000)
    return (time.perf_counter() - t0) / y.shape[0]


def _secs(t: float) -> str:
    return f"{t * 1e3:.3g} ms" if t < 1.0 else f"{t:.3g} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="50,200,1000,10000")
    ap.add_argument("--old-ref", default="bcbf5d1", help="commit holding the dense solver")
    ap.add_argument("--old-max", type=int, default=200, help="largest N given to the dense solver")
    ap.add_argument("--loop-n", type=int, default=200)
    ap.add_argument("--no-memory", action="store_true")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    old = load_old(args.old_ref) if args.old_max > 0 else None
    per_curve = curve_fit_loop(make_data(args.loop_n, seed=1))
    mem = not args.no_memory
    warm = make_data(4, seed=2)  # first calls import and cache: not timed
    cmp.fit_shared(X, warm, conc_unit="uM")
    cmp.fit_shared(X, warm, conc_unit="uM", share=())
    if old is not None:
        old.fit_shared(X, warm, conc_unit="uM")
    rows = []
    for n in sizes:
        y = make_data(n)
        print(f"N = {n} ...", file=sys.stderr)
        res: dict[str, tuple[float, float]] = {}
        agree: dict[str, float] = {}
        for share in (("hill", "top", "bottom"), ()):
            key = "htb" if share else "none"
            dt, peak, new = timed(lambda s=share, y=y: cmp.fit_shared(X, y, conc_unit="uM", share=s), mem)
            res[f"new_{key}"] = (dt, peak)
            if share:  # (with nothing shared, a curve may fail on its own, as with mp.fit)
                assert np.all(new.converged), f"block solver did not converge: N={n}, share={share}"
            if old is not None and n <= args.old_max:
                dt, peak, ref = timed(lambda s=share, y=y: old.fit_shared(X, y, conc_unit="uM", share=s), mem)
                res[f"old_{key}"] = (dt, peak)
                agree[key] = float(np.nanmax(np.abs(np.log(new.params["ic50"] / ref.params["ic50"]))))
        dt, peak, _ = timed(lambda y=y: mp.fit(X, y, conc_unit="uM"), mem)
        res["sep"] = (dt, peak)
        rows.append((n, res, agree))

    def cell(res: dict[str, tuple[float, float]], key: str) -> str:
        if key not in res:
            return "—"
        t, m = res[key]
        return _secs(t) + ("" if np.isnan(m) else f" / {m:.3g} MiB")

    print(
        "| N | share hill, top, bottom: block | dense (old) | share=(): block | dense (old) | mp.fit separate "
        "| curve_fit loop (extrapolated) | max abs ln IC50 diff (new vs old) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for n, res, agree in rows:
        diff = ", ".join(f"{v:.1e}" for v in agree.values()) or "—"
        print(
            f"| {n:,} | {cell(res, 'new_htb')} | {cell(res, 'old_htb')} | {cell(res, 'new_none')} | "
            f"{cell(res, 'old_none')} | {cell(res, 'sep')} | {_secs(per_curve * n)} | {diff} |"
        )


if __name__ == "__main__":
    main()
