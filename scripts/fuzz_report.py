"""Count what the public functions do with odd input (#17): calls, clean errors, unhandled.

Every argument listed in the fuzz catalogue (tests/fuzz/catalogue.py) of every
function is replaced, one at a time, by every odd value (None, text, unit strings
pint chokes on, NaN, ±inf, 1e308, 10**400, complex, masked arrays, wrong shapes,
Quantities of the wrong kind, malformed files, a folder ...), on top of a valid call.

    PYTHONPATH=src python scripts/fuzz_report.py [--details] [--rounds N]

``--rounds N`` repeats the sweep N times (default 1; the sweep is deterministic,
repeats only check that results are stable).  Prints the counts per outcome
(ok, clean, unnamed, foreign, warning, mutated; see the catalogue's docstring),
per function, and with --details each call that was not ok/clean.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _catalogue():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("mtor_fuzz_catalogue", ROOT / "tests" / "fuzz" / "catalogue.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--details", action="store_true", help="list every call that was not ok/clean")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--with-fit", action="store_true",
                        help="also fuzz mp.fit (its checks belong to the fitting engine; reported separately)")
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    cat = _catalogue()
    targets = cat.targets() + cat.plot_targets() + (cat.fit_targets() if args.with_fit else [])
    totals: Counter[str] = Counter()
    per_function: dict[str, Counter[str]] = defaultdict(Counter)
    bad: list[str] = []
    slowest = (0.0, "")
    start = time.perf_counter()
    for _ in range(args.rounds):
        for target in targets:
            for arg in target.fuzz:
                for key in cat.keys_for(target, arg):
                    value = cat.odd_value(target, arg, key)
                    t = time.perf_counter()
                    outcome, detail = cat.classify(target, arg, value)
                    dt = time.perf_counter() - t
                    if dt > slowest[0]:
                        slowest = (dt, f"{target.name}({arg}={key})")
                    totals[outcome] += 1
                    per_function[target.name][outcome] += 1
                    if outcome not in ("ok", "clean"):
                        bad.append(f"{outcome:8s} {target.name}({arg}={key}): {detail}")
    elapsed = time.perf_counter() - start
    n = sum(totals.values())
    print(f"{n} calls to {len(targets)} public functions/methods in {elapsed:.1f} s "
          f"(slowest call {slowest[0]:.2f} s: {slowest[1]})")
    for outcome in cat.OUTCOMES:
        print(f"  {outcome:8s} {totals[outcome]:6d}  ({100 * totals[outcome] / max(n, 1):.1f} %)")
    unhandled = n - totals["ok"] - totals["clean"]
    print(f"  unhandled (unnamed + foreign + warning + mutated): {unhandled}")
    print("\nper function (only those with unhandled calls):")
    for name, c in sorted(per_function.items()):
        u = sum(v for k, v in c.items() if k not in ("ok", "clean"))
        if u:
            print(f"  {name:28s} " + ", ".join(f"{k} {c[k]}" for k in cat.OUTCOMES if c[k]))
    if args.details:
        print("\ndetails:")
        for line in sorted(set(bad)):
            print("  " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
