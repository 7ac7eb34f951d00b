"""Time two builds of mtor_pharm on the benchmark screen, alternating, and compare results.

For engine changes (issue 12: the Cython engine against the numba engine it replaced)::

    git worktree add --detach ../old b0e2d86            # the numba engine (needs numba)
    python benchmarks/compare_engines.py ../old/src src --sizes 20000,1000000

Each source tree runs in its own fresh interpreter (``PYTHONPATH=<tree>``), single
threaded and then with ``workers=2``, best of ``--repeat`` calls after a warm-up fit (so a
JIT engine's compile is not timed); the trees alternate so that load on the machine hits
both alike.  The IC50s, statuses and RSS of the two are then compared curve by curve.
Nothing is asserted; the output is Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, os, sys, time
for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = "1"
sys.path.insert(0, {bench!r})
import numpy as np
from _screen import CONC_UNIT, dilution_series, make_screen
import mtor_pharm as mp
n, workers, repeat, out = {n}, {workers}, {repeat}, {out!r}
scr = make_screen(n)
conc = mp.Q_(dilution_series(), CONC_UNIT)
mp.fit(conc, scr.response[:100])
best = float("inf")
for _ in range(repeat):
    t0 = time.perf_counter()
    res = mp.fit(conc, scr.response, workers=workers)
    best = min(best, time.perf_counter() - t0)
if out:
    np.savez(out, ic50=np.asarray(res.ic50.magnitude), status=np.asarray(res.status), rss=np.asarray(res.rss))
print(json.dumps({{"seconds": best}}))
"""


def _run(tree: str, n: int, workers: int, repeat: int, out: str) -> float:
    code = CHILD.format(bench=str(HERE), n=n, workers=workers, repeat=repeat, out=out)
    env = {**os.environ, "PYTHONPATH": tree}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{tree}: the benchmark child failed:\n{done.stderr}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old", help="source tree of the reference build (its src/ folder)")
    ap.add_argument("new", help="source tree of the new build")
    ap.add_argument("--sizes", default="20000,1000000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2, help="alternations of old and new per size")
    args = ap.parse_args()
    print("| N | workers | old s (best) | new s (best) | new / old |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            for workers in (1, 2):
                old = new = float("inf")
                for r in range(args.rounds):
                    keep = workers == 1 and r == 0
                    old = min(old, _run(args.old, n, workers, args.repeat, f"{tmp}/old.npz" if keep else ""))
                    new = min(new, _run(args.new, n, workers, args.repeat, f"{tmp}/new.npz" if keep else ""))
                print(f"| {n:,} | {workers} | {old:.3f} | {new:.3f} | {new / old:.2f} |")
            a, b = np.load(f"{tmp}/old.npz"), np.load(f"{tmp}/new.npz")
            ok = (a["status"] == 0) & (b["status"] == 0)
            rel = np.abs(a["ic50"][ok] - b["ic50"][ok]) / np.abs(a["ic50"][ok])
            new_bits = 64  # FitStatus.AMBIGUOUS, which the numba engine did not have
            print(
                f"\nN = {n:,}: statuses differ on {int((a['status'] != b['status']).sum()):,} curves "
                f"({int(((a['status'] | new_bits) != (b['status'] | new_bits)).sum()):,} apart from AMBIGUOUS); "
                f"on the {int(ok.sum()):,} OK in both, IC50 max relative difference {rel.max():.2e} "
                f"({int((rel > 1e-9).sum()):,} above 1e-9); RSS max relative difference "
                f"{float(np.max(np.abs(a['rss'][ok] - b['rss'][ok]) / a['rss'][ok])):.2e}\n"
            )


if __name__ == "__main__":
    main()
