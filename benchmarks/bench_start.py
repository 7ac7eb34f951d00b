"""Start-up and single-curve costs of ``mp.fit`` against scipy, in one run (issue 12).

Run from the repository root (the installed package is measured)::

    python benchmarks/bench_start.py            # 7 fresh processes per cold-start case
    python benchmarks/bench_start.py --runs 3

Three ratios, each against what a user would otherwise run, measured side by side:

* **cold start**: a fresh interpreter that imports ``mtor_pharm`` and fits one curve of
  every model family (and one with a fixed and one with a bounded parameter), timed as a
  whole process, against a fresh interpreter that imports scipy and runs ``curve_fit``
  once.  Best of ``--runs`` processes each.
* **one curve, warm**: ``mp.fit`` on one 10-point curve (a Quantity; and a bare array
  with ``conc_unit=``), median of 400 calls interleaved call by call with ``curve_fit`` (LM, no
  bounds) on the same curve.
* **import**: ``import mtor_pharm`` against ``import scipy.optimize``, each in a fresh
  interpreter, best of ``--runs``; and which heavy modules ``import mtor_pharm`` loads.

Nothing here asserts a timing; the output is Markdown for ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings

import numpy as np

COLD_MP = """
import numpy as np
import mtor_pharm as mp
x = mp.Q_(10 / 3.0 ** np.arange(8), "uM")
y = [99, 97, 88, 67, 36, 15, 5, 3]
for model in ("4pl", "3pl", "2pl", "5pl", "weibull1", "weibull2"):
    mp.fit(x, y, model=model)
mp.fit(x, y, fixed={"hill": 1.0})
mp.fit(x, y, bounds={"bottom": (0, 10), "top": (90, 110)})
"""

COLD_SCIPY = """
import numpy as np
from scipy.optimize import curve_fit
x = 10 / 3.0 ** np.arange(8)
y = np.array([99, 97, 88, 67, 36, 15, 5, 3.0])
curve_fit(lambda x, b, t, c, h: b + (t - b) / (1 + (x / c) ** h), x, y, p0=[0, 100, 0.1, 1])
"""

HEAVY = ("pint", "pandas", "scipy.optimize", "scipy.stats", "xarray", "lmfit", "matplotlib", "dask", "numba")


def _process(code: str, runs: int) -> float:
    """Best wall time of `runs` fresh interpreters running `code`."""
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        best = min(best, time.perf_counter() - t0)
    return best


def one_curve(n: int = 400) -> dict[str, float]:
    """Median µs per call of the three, interleaved call by call (so that drift in the
    machine's speed hits all three alike)."""
    from scipy.optimize import curve_fit

    import mtor_pharm as mp

    x = 10 / 3.0 ** np.arange(10)
    y = np.array([101, 100, 99, 97, 88, 67, 36, 15, 5, 3.0])
    conc = mp.Q_(x, "uM")

    def f(x: np.ndarray, b: float, t: float, c: float, h: float) -> np.ndarray:
        return b + (t - b) / (1 + (x / c) ** h)

    calls = {
        "mp.fit (Quantity)": lambda: mp.fit(conc, y),
        "mp.fit (array, conc_unit)": lambda: mp.fit(x, y, conc_unit="uM"),
        "curve_fit LM": lambda: curve_fit(f, x, y, p0=[0, 100, 0.1, 1]),
    }
    times: dict[str, list[float]] = {k: [] for k in calls}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fn in calls.values():  # warm-up
            fn()
        for _ in range(n):
            for name, fn in calls.items():
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    return {k: float(np.median(v) * 1e6) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()

    cold_mp = _process(COLD_MP, args.runs)
    cold_sp = _process(COLD_SCIPY, args.runs)
    imp_mp = _process("import mtor_pharm", args.runs)
    imp_sp = _process("import scipy.optimize", args.runs)
    bare = _process("pass", args.runs)
    probe = f"import sys, json, mtor_pharm; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout)
    one = one_curve()

    print("| measure | mtor_pharm | scipy | ratio | target |")
    print("|---|---|---|---|---|")
    ratio = cold_mp / cold_sp
    print(f"| cold start (process, every family) | {cold_mp:.2f} s | {cold_sp:.2f} s | {ratio:.2f}× | ≤ 2× |")
    r = one["mp.fit (Quantity)"] / one["curve_fit LM"]
    print(f"| one curve, warm (Quantity) | {one['mp.fit (Quantity)']:.0f} µs | {one['curve_fit LM']:.0f} µs "
          f"| {r:.2f}× | ≤ 0.5× |")
    r2 = one["mp.fit (array, conc_unit)"] / one["curve_fit LM"]
    print(f"| one curve, warm (array + conc_unit) | {one['mp.fit (array, conc_unit)']:.0f} µs "
          f"| {one['curve_fit LM']:.0f} µs | {r2:.2f}× | ≤ 0.5× |")
    print(f"| import (process) | {imp_mp:.2f} s | {imp_sp:.2f} s (scipy.optimize) | {imp_mp / imp_sp:.2f}× | ≤ 1.5× |")
    print(f"\nBare interpreter start: {bare:.3f} s. Heavy modules loaded by `import mtor_pharm`: "
          f"{', '.join(loaded) if loaded else 'none'}.")


if __name__ == "__main__":
    main()
