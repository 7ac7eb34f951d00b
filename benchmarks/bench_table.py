"""Benchmark ``mp.fit_table`` against fitting the same curves as arrays (pipeline review B1).

Run from the repository root::

    python benchmarks/bench_table.py             # 100,000 curves
    python benchmarks/bench_table.py --full      # 100,000 and 1,000,000 curves
    python benchmarks/bench_table.py --sizes 20000,200000

A long table of a screen (10 concentrations x 2 replicates = 20 rows per curve, 2 % of the
rows excluded) is fitted three ways, single-threaded (the BLAS/OpenMP thread variables are
set to 1 below, before numpy is imported):

* ``mp.fit`` on the ``(n, 20)`` arrays the table was made from: what a user who already has
  arrays runs, and the floor for ``fit_table`` (the engine's time).
* ``mp.fit_table`` (this version: vectorized key check and one scatter into the padded arrays).
* ``mp.fit_table`` with the previous key check and batch builder (copied below from
  mtor_pharm 0.1.0: a Python call per row for the empty-key check, a Python loop copying
  each group), i.e. what a user ran before this change.

Two key layouts: one integer ``curve`` column, and two string columns ``plate`` and
``compound`` (a MultiIndex result).  Every variant must give bitwise the same IC50s,
statuses and labels; the script stops if not.  The reported time is the best of
``--repeat`` calls (default 2; one call at 1,000,000 curves).  Nothing here asserts a timing.
The printed table is Markdown.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
             "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import contextlib  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, TypeVar  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

T = TypeVar("T")
SRC = Path(__file__).resolve().parents[1] / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

import mtor_pharm as mp  # noqa: E402
from mtor_pharm import _tables  # noqa: E402

CONC = np.repeat(10.0 / 3.0 ** np.arange(10), 2)  # µM, 10 concentrations x 2 replicates


# ---------------------------------------------------------------------------- the previous version
def _group_keys_previous(df: pd.DataFrame, by: Sequence[str]) -> None:
    """mtor_pharm 0.1.0: a Python lambda per row."""
    for col in by:
        keys = df[col]
        missing = keys.isna().to_numpy() | keys.map(lambda v: isinstance(v, str) and not v.strip()).to_numpy()
        if missing.any():
            raise ValueError(f"`by` column {col!r} must name every curve")


def _batch_from_table_previous(
    df: pd.DataFrame, conc: str, response: str, by: Sequence[str], excluded: str | None = None
) -> tuple[list[tuple[Any, ...]], Any, Any]:
    """mtor_pharm 0.1.0: a Python loop copying each group."""
    x_all = _tables._numeric_column(df, conc, "conc")
    y_all = _tables._numeric_column(df, response, "response")
    if excluded is not None:
        y_all = np.where(_tables.excluded_flags(df, excluded), np.nan, y_all)
    if by:
        groups = list(df.groupby(list(by), sort=False, dropna=False).indices.items())
    else:
        groups = [((), np.arange(len(df)))]
    m = max((len(rows) for _, rows in groups), default=0)
    x = np.full((len(groups), m), np.nan)
    y = np.full((len(groups), m), np.nan)
    labels: list[tuple[Any, ...]] = []
    for i, (key, rows) in enumerate(groups):
        labels.append(key if isinstance(key, tuple) else (key,))
        x[i, : len(rows)] = x_all[rows]
        y[i, : len(rows)] = y_all[rows]
    return labels, x, y


@contextlib.contextmanager
def previous_version() -> Iterator[None]:
    saved = _tables._group_keys, _tables._batch_from_table
    _tables._group_keys, _tables._batch_from_table = _group_keys_previous, _batch_from_table_previous
    try:
        yield
    finally:
        _tables._group_keys, _tables._batch_from_table = saved


# ---------------------------------------------------------------------------- data and timing
def make_screen(n: int, seed: int = 0) -> tuple[Any, Any, pd.DataFrame]:
    """(n, 20) arrays with 2 % of the points excluded (NaN), and the same points as a long table."""
    rng = np.random.default_rng(seed)
    ic50 = 10 ** rng.uniform(-3, 0, (n, 1))
    y = 100 / (1 + CONC / ic50) + rng.normal(0, 3, (n, CONC.size))
    excluded = rng.random(y.shape) < 0.02
    df = pd.DataFrame({
        "curve": np.repeat(np.arange(n), CONC.size),
        "plate": np.repeat(np.char.add("P", (np.arange(n) // 300).astype(str)), CONC.size),
        "compound": np.repeat(np.char.add("cmpd-", (np.arange(n) % 300).astype(str)), CONC.size),
        "conc": np.tile(CONC, n),
        "response": y.ravel(),
        "excluded": excluded.ravel(),
    })
    return mp.Q_(CONC, "uM"), np.where(excluded, np.nan, y), df


def best_of(fn: Callable[[], T], repeat: int) -> tuple[float, T]:
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    assert out is not None
    return best, out


def same(a: Any, b: Any) -> bool:
    return bool(np.array_equal(a.ic50.magnitude, b.ic50.magnitude, equal_nan=True)
                and np.array_equal(a.status, b.status))


def run(n: int, repeat: int) -> list[list[str]]:
    x, y, df = make_screen(n)
    t_arr, res_arr = best_of(lambda: mp.fit(x, y), repeat)
    rows = []
    for by in (["curve"], ["plate", "compound"]):
        def table(by: list[str] = by) -> Any:
            return mp.fit_table(df, conc="conc", response="response", by=by, conc_unit="uM")

        t_new, (res_new, index_new) = best_of(table, repeat)
        with previous_version():
            t_old, (res_old, index_old) = best_of(table, repeat)
        if not (same(res_new, res_arr) and same(res_new, res_old) and index_new.equals(index_old)
                and res_new.labels == res_old.labels):
            raise SystemExit(f"results differ at n={n}, by={by}")
        per = 1e6 / n
        rows.append([f"{n:,}", " + ".join(by), f"{t_arr:.2f} ({t_arr * per:.1f})", f"{t_new:.2f} ({t_new * per:.1f})",
                     f"{t_old:.2f} ({t_old * per:.1f})", f"{t_new / t_arr:.2f}×", f"{t_old / t_new:.1f}×"])
    return rows


def markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--full", action="store_true", help="also 1,000,000 curves (about a minute, ~3 GB)")
    p.add_argument("--sizes", help="comma-separated numbers of curves (overrides --full)")
    p.add_argument("--repeat", type=int, default=2, help="best of this many calls (1 at 1,000,000 curves)")
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [100_000, *([1_000_000] if args.full else [])]
    mp.fit(mp.Q_(CONC, "uM"), make_screen(200)[1])  # warm-up: first-call costs out of the timings
    rows = []
    for n in sizes:
        rows += run(n, 1 if n >= 1_000_000 else args.repeat)
    print(f"# mtor_pharm {mp.__version__}, Python {platform.python_version()}, numpy {np.__version__}, "
          f"pandas {pd.__version__}, {os.cpu_count()} cores, workers=1; 20 rows per curve\n")
    print(markdown(["curves", "by", "mp.fit arrays s (µs/curve)", "fit_table s (µs/curve)",
                    "previous fit_table s (µs/curve)", "fit_table / arrays", "speedup vs previous"], rows))
    print("\nAll variants gave bitwise identical IC50s and statuses, and the same labels.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
