"""Benchmark ``mp.fit`` against the peers a user would otherwise loop over (issue 3, item 5).

Run from the repository root::

    python benchmarks/bench_fit.py                      # N = 200, 2,000, 20,000, 1,000,000
    python benchmarks/bench_fit.py --quick              # N = 200, 2,000 only
    python benchmarks/bench_fit.py --sizes 200,20000    # choose the mp.fit sizes
    python benchmarks/bench_fit.py --peers-only         # no mtor_pharm needed

Every competitor fits the same synthetic screen (``_screen.py``), single-threaded:
the BLAS/OpenMP thread variables are set to 1 below, before numpy is imported.

Competitors
-----------
* ``mp.fit`` (``workers=1``; again with ``workers=2`` for the two-core speedup; and
  the xarray entry point ``mp.fit(data_array, dim="concentration")``), at every N.
* ``curve_fit`` TRF: a loop of ``scipy.optimize.curve_fit(method="trf")`` with bounds.
* ``curve_fit`` LM: the same loop with ``method="lm"``, no bounds.
* ``lmfit``: a loop of ``lmfit.Model(four_pl).fit`` (default ``leastsq``) with bounds.
* ``curvefit``: ``xarray.DataArray.curvefit`` over a ``(curve, concentration)`` array.

The peers run on the first ``--peer-n`` curves only; their time per curve is
extrapolated to every N (it does not depend on N for a loop).  All peers start from
the same data-driven guess (``_screen.initial_guess``, computed outside the timed
region); a peer fit that raises is counted as failed and does not stop the run.

Nothing here asserts a timing.  The printed tables are Markdown, for
``benchmarks/README.md``.
"""

from __future__ import annotations

import os

for _var in (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import contextlib  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable, Mapping, Sequence  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from functools import partial  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, TypeVar  # noqa: E402

import numpy as np  # noqa: E402
from _screen import (  # noqa: E402
    CONC_UNIT,
    DEFAULT_SEED,
    BoolArray,
    FloatArray,
    Screen,
    four_pl,
    four_pl_log10,
    initial_guess,
    make_screen,
)

T = TypeVar("T")
NDArray_u8 = np.ndarray[Any, np.dtype[np.uint8]]

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
PARAMS = ("bottom", "top", "ic50", "hill")
LN10 = math.log(10.0)

FULL_SIZES = (200, 2_000, 20_000, 1_000_000)
QUICK_SIZES = (200, 2_000)

#: Bounds of the bounded peers (curve_fit TRF, lmfit, curvefit).  bottom and top are
#: free; the IC50 may lie up to 3 decades outside the tested range; 0 <= hill <= 10.
IC50_BOUND_DECADES = 3.0
HILL_BOUNDS = (0.0, 10.0)

#: Tight reference fit (scipy.optimize.least_squares), on (bottom, top, log10 ic50, hill),
#: within mp.fit's default bounds (its docstring): plateaus free, the IC50 within 10^6 x
#: of the tested range on either side, |hill| <= 50.
REF_IC50_DECADES = 6.0
REF_HILL_MAX = 50.0
REF_TOL = 1e-15
REF_MAX_NFEV = 20_000
#: Relative RSS excess above which a fit counts as worse than the reference.
RSS_TOL_STRICT = 1e-9
RSS_TOL_LOOSE = 1e-6
IC50_TOL = 1e-6
#: A responsive curve whose reference optimum has |hill| above this is "step-like": its RSS
#: keeps falling as hill -> infinity (the IC50 then sits anywhere between two tested
#: concentrations), so no finite fit is exact and its IC50 is not compared.  Simulated hills
#: are <= 3.
STEP_HILL = 10.0

FLAT_BIT_NAME = "FLAT_RESPONSE"


# ---------------------------------------------------------------------------- helpers
@dataclass(slots=True)
class PeerRun:
    """One timed competitor on one batch of curves."""

    name: str
    n: int
    seconds: float
    failed: int
    params: dict[str, FloatArray]  # bottom, top, ic50 (µM), hill; NaN where failed
    note: str = ""

    @property
    def us_per_curve(self) -> float:
        return 1e6 * self.seconds / self.n


@dataclass(slots=True)
class MpRun:
    """``mp.fit`` at one size."""

    n: int
    seconds_w1: float
    repeats_w1: int
    first_w1: float = math.nan  # the first of the repeats (cold pages)
    seconds_w2: float | None = None
    seconds_xr: float | None = None
    peak_bytes: int | None = None
    retained_bytes: int | None = None
    maxrss_rise_bytes: int | None = None
    input_bytes: int = 0
    status_counts: dict[str, int] = field(default_factory=dict)
    status_counts_responsive: dict[str, int] = field(default_factory=dict)
    flat_flagged: tuple[int, int] = (0, 0)  # (flat curves flagged FLAT, flat curves)
    responsive_flagged: tuple[int, int] = (0, 0)  # (responsive flagged FLAT, responsive)
    converged: int = 0
    w2_identical: str = "n/a"
    xr_identical: str = "n/a"
    rss_consistency: str = "n/a"  # res.rss vs the RSS recomputed from res.params


def _timed(fn: Callable[[], T]) -> tuple[float, T]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _best_of(
    fn: Callable[[], T], *, budget: float, max_repeat: int, min_repeat: int = 2
) -> tuple[float, int, T, float]:
    """Minimum wall time over repeats: at least `min_repeat`, more while within `budget`
    seconds; also the first call's time (at 1M curves it includes the operating system's
    first touch of ~250 MB of fresh output pages, which the later calls reuse)."""
    best, out = _timed(fn)
    first = best
    repeats = 1
    spent = best
    while repeats < max_repeat and (repeats < min_repeat or spent + best < budget):
        dt, out = _timed(fn)
        best = min(best, dt)
        spent += dt
        repeats += 1
    return best, repeats, out, first


def _fmt_us(us: float | None) -> str:
    if us is None or not math.isfinite(us):
        return "–"
    if us >= 100:
        return f"{us:,.0f}"
    if us >= 10:
        return f"{us:.1f}"
    return f"{us:.2f}"


def _fmt_ratio(r: float | None) -> str:
    if r is None or not math.isfinite(r):
        return "–"
    return f"{r:,.0f}×" if r >= 10 else f"{r:.1f}×"


def _fmt_bytes_per_curve(b: float | None) -> str:
    return "–" if b is None else f"{b:,.0f}"


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    for r in rows:
        lines.append("| " + " | ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) + " |")
    return "\n".join(lines)


def _predict(conc: FloatArray, params: Mapping[str, FloatArray]) -> FloatArray:
    """4PL for many curves at once, ``(n,) params x (m,) conc -> (n, m)``, overflow-free."""
    from scipy.special import expit

    with np.errstate(invalid="ignore", divide="ignore"):
        z = (
            params["hill"][:, None]
            * (np.log(conc)[None, :] - np.log(params["ic50"])[:, None])
        )
        s = expit(-z)
        out: FloatArray = params["bottom"][:, None] + (params["top"] - params["bottom"])[
            :, None
        ] * s
    return out


def _rss(conc: FloatArray, response: FloatArray, params: Mapping[str, FloatArray]) -> FloatArray:
    r = _predict(conc, params) - response
    out: FloatArray = np.einsum("ij,ij->i", r, r)
    return out


def _same(a: Mapping[str, Any], b: Mapping[str, Any], ok: BoolArray | None = None) -> str:
    """'identical', or how many curves differ between two parameter sets and by how much.

    NaN in both counts as equal; NaN in one only is a "NaN mismatch".  `ok` marks the
    curves of `b` whose status is OK; value differences are split by it.
    """
    n = len(np.asarray(b[PARAMS[0]]))
    rel_all = np.zeros(n)
    nan_mismatch = np.zeros(n, dtype=np.bool_)
    for name in PARAMS:
        x = np.asarray(a[name], dtype=np.float64)
        y = np.asarray(b[name], dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.abs(x - y) / np.maximum(np.abs(y), 1e-300)
        both = np.isfinite(x) & np.isfinite(y)
        rel_all = np.maximum(rel_all, np.where(both, rel, 0.0))
        nan_mismatch |= np.isnan(x) != np.isnan(y)
    differ = rel_all > 0.0
    if not differ.any() and not nan_mismatch.any():
        return "identical"
    parts = []
    if differ.any():
        text = f"{int(differ.sum())} differ (max rel {float(rel_all.max()):.1e})"
        if ok is not None:
            d_ok = differ & ok
            text += (
                f", {int(d_ok.sum())} of them OK (max rel {float(rel_all[d_ok].max()):.1e})"
                if d_ok.any()
                else ", none of them OK"
            )
        parts.append(text)
    if nan_mismatch.any():
        text = f"{int(nan_mismatch.sum())} NaN mismatches"
        if ok is not None:
            text += f" ({int((nan_mismatch & ok).sum())} OK)"
        parts.append(text)
    return "; ".join(parts)


# ---------------------------------------------------------------------------- machine
def machine_description(mp: Any | None = None) -> dict[str, str]:
    """CPU, core count, memory, Python and library versions, BLAS kernel."""
    info: dict[str, str] = {}
    model = platform.processor() or platform.machine()
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in lscpu.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Model name":
                model = value.strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    info["cpu"] = model
    info["cores"] = str(os.cpu_count())
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory"] = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    info["os"] = platform.platform()
    info["python"] = platform.python_version()
    for dist in ("numpy", "scipy", "lmfit", "xarray", "pint", "pandas"):
        try:
            info[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            info[dist] = "not installed"
    if mp is not None:
        info["mtor_pharm"] = f"{getattr(mp, '__version__', '?')} ({Path(mp.__file__).parent})"
    try:
        from threadpoolctl import threadpool_info  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        info["blas"] = "unknown (pip install threadpoolctl to report it)"
    else:
        pools = [
            f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')} kernel, "
            f"{p.get('num_threads')} thread(s))"
            for p in threadpool_info()
            if p.get("user_api") == "blas"
        ]
        info["blas"] = "; ".join(pools) or "none found"
    blas_env = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    coretype = {k: os.environ[k] for k in blas_env if k in os.environ}
    if coretype:
        info["blas env"] = ", ".join(f"{k}={v}" for k, v in coretype.items())
    return info


# ---------------------------------------------------------------------------- mtor_pharm
def import_mtor_pharm() -> Any | None:
    """``mtor_pharm`` if it is importable and has ``fit``, else None (``src/`` is tried too)."""
    try:
        import mtor_pharm as mp
    except ImportError:
        if str(SRC) not in sys.path:
            sys.path.insert(0, str(SRC))
        try:
            import mtor_pharm as mp
        except ImportError as exc:
            print(f"# mtor_pharm not importable ({exc}); running the peers only", file=sys.stderr)
            return None
    if not hasattr(mp, "fit"):
        print("# mtor_pharm has no `fit` yet; running the peers only", file=sys.stderr)
        return None
    return mp


def import_time(repeats: int = 5) -> dict[str, Any]:
    """Wall time of ``import mtor_pharm`` (and of ``import numpy``) in fresh interpreters."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH", "")) if p)
    heavy = ("scipy.optimize", "scipy.stats", "xarray", "pandas", "pint", "lmfit", "dask",
             "distributed", "matplotlib")
    code = (
        "import sys, time\n"
        "t = time.perf_counter()\n"
        "import {mod}\n"
        "dt = time.perf_counter() - t\n"
        f"print(dt, *[m for m in {heavy!r} if m in sys.modules])\n"
    )
    out: dict[str, Any] = {}
    for mod in ("numpy", "mtor_pharm"):
        best = math.inf
        loaded: list[str] = []
        for _ in range(repeats):
            proc = subprocess.run(
                [sys.executable, "-c", code.format(mod=mod)],
                capture_output=True, text=True, env=env, check=False,
            )
            if proc.returncode != 0:
                out[mod] = {"error": proc.stderr.strip().splitlines()[-1:]}
                break
            first, *loaded = proc.stdout.split()
            best = min(best, float(first))
        else:
            out[mod] = {"seconds": best, "loaded": loaded}
    return out


def _magnitude(value: Any, unit: str = CONC_UNIT) -> FloatArray:
    if hasattr(value, "to") and hasattr(value, "magnitude"):
        value = value.to(unit).magnitude
    return np.asarray(value, dtype=np.float64)


def mp_params(res: Any) -> dict[str, FloatArray]:
    """``res.params`` as plain float arrays, ``ic50`` in µM."""
    return {name: _magnitude(res.params[name]) for name in PARAMS}


def mp_params_from_dataset(ds: Any) -> dict[str, FloatArray]:
    return {name: _magnitude(ds[name].data) for name in PARAMS}


def _flat_bit(mp: Any) -> int:
    return int(getattr(mp.FitStatus, FLAT_BIT_NAME))


def _status_text(mp: Any, value: int) -> str:
    if value == 0:
        return "OK"
    return "|".join(str(m.name) for m in mp.FitStatus if int(m) and value & int(m))


def _status_counts(mp: Any, status: NDArray_u8) -> dict[str, int]:
    counts: dict[str, int] = {"OK": int(np.count_nonzero(status == 0))}
    for member in mp.FitStatus:
        bit = int(member)
        if bit:
            counts[str(member.name)] = int(np.count_nonzero(status & bit))
    return counts


def run_mp(
    mp: Any,
    screen: Screen,
    sizes: Sequence[int],
    *,
    workers2: bool,
    xarray_path: bool,
    memory: bool,
    quick: bool,
) -> tuple[
    list[MpRun], dict[int, dict[str, FloatArray]], dict[int, NDArray_u8], dict[str, float]
]:
    """Time ``mp.fit`` at every size; return runs, parameters and status per size, warm-up info."""
    import xarray as xr

    def call(sub: Screen, workers: int) -> Any:
        return mp.fit(mp.Q_(sub.conc, CONC_UNIT), sub.response, workers=workers)

    first = screen.head(min(200, screen.n))
    cold, _ = _timed(lambda: call(first, 1))
    flat_bit = _flat_bit(mp)
    runs: list[MpRun] = []
    params_by_n: dict[int, dict[str, FloatArray]] = {}
    status_by_n: dict[int, NDArray_u8] = {}
    for n in sizes:
        sub = screen.head(n)
        budget = 0.3 if quick else 2.0
        gc.collect()
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        seconds, repeats, res, first_call = _best_of(partial(call, sub, 1), budget=budget, max_repeat=15)
        rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        params = mp_params(res)
        params_by_n[n] = params
        status = np.asarray(res.status, dtype=np.uint8)
        run = MpRun(
            n=n, seconds_w1=seconds, repeats_w1=repeats, first_w1=first_call, input_bytes=sub.response.nbytes
        )
        run.maxrss_rise_bytes = (rss1 - rss0) * 1024  # ru_maxrss is in KiB on Linux
        run.status_counts = _status_counts(mp, status)
        run.status_counts_responsive = _status_counts(mp, status[~sub.flat])
        is_flat = (status & flat_bit) != 0
        run.flat_flagged = (int(np.count_nonzero(is_flat & sub.flat)), int(sub.flat.sum()))
        run.responsive_flagged = (
            int(np.count_nonzero(is_flat & ~sub.flat)),
            int(np.count_nonzero(~sub.flat)),
        )
        run.converged = int(np.count_nonzero(np.asarray(res.converged)))
        status_by_n[n] = status
        ok = status == 0
        recomputed = _rss(sub.conc, sub.response, params)
        reported = np.asarray(res.rss, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.abs(reported - recomputed) / recomputed
        finite = np.isfinite(recomputed)
        bad = finite & ~(rel <= 1e-9)
        run.rss_consistency = (
            f"max rel {float(rel[ok & finite].max()) if (ok & finite).any() else math.nan:.1e}"
            f" on OK curves; {int(bad.sum())} with finite params > 1e-9 "
            f"({int((bad & ok).sum())} OK); {int((~finite).sum())} with NaN params "
            f"({int((~finite & ok).sum())} OK)"
        )
        # the xarray Dataset's ic50 is the reported one (res.ic50: NaN where undetermined)
        reported_ic50 = _magnitude(res.ic50)
        del res

        if workers2:
            seconds2, _, res2, _ = _best_of(partial(call, sub, 2), budget=budget, max_repeat=15)
            run.seconds_w2 = seconds2
            run.w2_identical = _same(mp_params(res2), params, ok)
            del res2
        if xarray_path:
            da = xr.DataArray(
                sub.response,
                dims=("curve", "concentration"),
                coords={"concentration": ("concentration", sub.conc, {"units": CONC_UNIT})},
            )
            try:
                seconds_xr, _, ds, _ = _best_of(
                    partial(mp.fit, da, dim="concentration"), budget=budget, max_repeat=15
                )
            except Exception as exc:  # reported, not fatal: the xarray path may be missing
                run.xr_identical = f"failed: {type(exc).__name__}: {exc}"[:70]
            else:
                run.seconds_xr = seconds_xr
                run.xr_identical = _same(mp_params_from_dataset(ds), {**params, "ic50": reported_ic50}, ok)
                del ds
            del da
        if memory:
            gc.collect()
            tracemalloc.start()
            before, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            res3 = call(sub, 1)
            current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            run.peak_bytes = peak - before
            run.retained_bytes = current - before
            del res3
        runs.append(run)
        print(
            f"# mp.fit N={n:,}: {1e6 * seconds / n:.2f} µs/curve "
            f"({seconds:.3f} s, best of {repeats})",
            file=sys.stderr,
        )
    cold_info = {"cold_first_call_s": cold, "cold_first_call_n": float(first.n)}
    return runs, params_by_n, status_by_n, cold_info


# ---------------------------------------------------------------------------- peers
def _bounds_ic50(conc: FloatArray) -> tuple[float, float]:
    lo = float(conc.min()) / 10.0**IC50_BOUND_DECADES
    hi = float(conc.max()) * 10.0**IC50_BOUND_DECADES
    return lo, hi


def peer_curve_fit(screen: Screen, guess: Mapping[str, FloatArray], *, method: str) -> PeerRun:
    """A loop of ``curve_fit`` on ``(bottom, top, log10 ic50, hill)``; TRF bounded, LM free."""
    from scipy.optimize import curve_fit

    x, y_all = screen.conc, screen.response
    n = screen.n
    p0 = np.column_stack(
        [guess["bottom"], guess["top"], np.log10(guess["ic50"]), guess["hill"]]
    )
    lo_ic50, hi_ic50 = _bounds_ic50(x)
    if method == "trf":
        bounds = (
            [-np.inf, -np.inf, math.log10(lo_ic50), HILL_BOUNDS[0]],
            [np.inf, np.inf, math.log10(hi_ic50), HILL_BOUNDS[1]],
        )
    else:
        bounds = ([-np.inf] * 4, [np.inf] * 4)
    out = np.full((n, 4), np.nan)
    failed = 0

    def loop() -> int:
        bad = 0
        for i in range(n):
            try:
                popt, _ = curve_fit(
                    four_pl_log10, x, y_all[i], p0=p0[i], method=method, bounds=bounds
                )
            except Exception:
                bad += 1
                continue
            out[i] = popt
        return bad

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for i in range(min(3, n)):  # warm-up: imports, first-call overheads
            with contextlib.suppress(Exception):
                curve_fit(four_pl_log10, x, y_all[i], p0=p0[i], method=method, bounds=bounds)
        seconds, failed = _timed(loop)
    params = {
        "bottom": out[:, 0],
        "top": out[:, 1],
        "ic50": 10.0 ** out[:, 2],
        "hill": out[:, 3],
    }
    name = "curve_fit TRF" if method == "trf" else "curve_fit LM"
    return PeerRun(name=name, n=n, seconds=seconds, failed=failed, params=params)


def _lmfit_params(model: Any, g: Mapping[str, float], ic50_bounds: tuple[float, float]) -> Any:
    return model.make_params(
        bottom=g["bottom"],
        top=g["top"],
        ic50={"value": g["ic50"], "min": ic50_bounds[0], "max": ic50_bounds[1]},
        hill={"value": g["hill"], "min": HILL_BOUNDS[0], "max": HILL_BOUNDS[1]},
    )


def peer_lmfit(screen: Screen, guess: Mapping[str, FloatArray]) -> PeerRun:
    """A loop of ``lmfit.Model(four_pl).fit`` (``leastsq``), bounds as the TRF peer."""
    import lmfit

    x, y_all = screen.conc, screen.response
    n = screen.n
    ic50_bounds = _bounds_ic50(x)
    model = lmfit.Model(four_pl)
    out = np.full((n, 4), np.nan)

    def one(i: int) -> Any:
        g = {k: float(guess[k][i]) for k in PARAMS}
        return model.fit(y_all[i], _lmfit_params(model, g, ic50_bounds), x=x)

    def loop() -> int:
        bad = 0
        for i in range(n):
            try:
                result = one(i)
            except Exception:
                bad += 1
                continue
            if not result.success:
                bad += 1
            out[i] = [result.params[k].value for k in PARAMS]
        return bad

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for i in range(min(3, n)):
            with contextlib.suppress(Exception):
                one(i)
        seconds, failed = _timed(loop)
    params = {k: out[:, j] for j, k in enumerate(PARAMS)}
    return PeerRun(name="lmfit", n=n, seconds=seconds, failed=failed, params=params)


def peer_curvefit(screen: Screen, guess: Mapping[str, FloatArray]) -> PeerRun:
    """``DataArray.curvefit`` over ``(curve, concentration)``; bounds as the TRF peer."""
    import xarray as xr

    x = screen.conc
    lo_ic50, hi_ic50 = _bounds_ic50(x)
    da = xr.DataArray(
        screen.response,
        dims=("curve", "concentration"),
        coords={"concentration": ("concentration", x, {"units": CONC_UNIT})},
    )
    p0 = {k: xr.DataArray(guess[k], dims="curve") for k in PARAMS}
    bounds = {"ic50": (lo_ic50, hi_ic50), "hill": HILL_BOUNDS}

    def fit(arr: Any) -> Any:
        p = {k: v.isel(curve=slice(0, arr.sizes["curve"])) for k, v in p0.items()}
        return arr.curvefit("concentration", four_pl, p0=p, bounds=bounds, errors="ignore")

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        fit(da.isel(curve=slice(0, 3)))  # warm-up
        seconds, ds = _timed(lambda: fit(da))
    coef = np.asarray(ds["curvefit_coefficients"].transpose("curve", "param").values)
    names = [str(p) for p in ds["param"].values]
    params = {k: coef[:, names.index(k)].astype(np.float64) for k in PARAMS}
    failed = int(np.count_nonzero(np.isnan(coef).any(axis=1)))
    return PeerRun(
        name="curvefit", n=screen.n, seconds=seconds, failed=failed, params=params,
        note="errors='ignore': a failed fit is a NaN row",
    )


# ---------------------------------------------------------------------------- reference
def _ref_residual(p: FloatArray, lx: FloatArray, y: FloatArray) -> FloatArray:
    from scipy.special import expit

    b, t, log_ic50, h = p
    z = h * (lx - log_ic50) * LN10
    out: FloatArray = b + (t - b) * expit(-z) - y
    return out


def _ref_jacobian(p: FloatArray, lx: FloatArray, y: FloatArray) -> FloatArray:
    from scipy.special import expit

    b, t, log_ic50, h = p
    d = lx - log_ic50
    z = h * d * LN10
    s = expit(-z)
    ss = s * expit(z)  # s (1 - s) without cancellation
    jac = np.empty((lx.size, 4))
    jac[:, 0] = 1.0 - s
    jac[:, 1] = s
    jac[:, 2] = (t - b) * ss * h * LN10
    jac[:, 3] = -(t - b) * ss * d * LN10
    return jac


def reference_fits(
    screen: Screen, starts: Sequence[Mapping[str, FloatArray]]
) -> tuple[dict[str, FloatArray], FloatArray, FloatArray]:
    """Tight ``least_squares`` per curve from every finite start; keep the lowest RSS.

    Works on ``(bottom, top, log10 ic50, hill)`` with an analytic Jacobian,
    ``method="trf"``, ``x_scale="jac"``, ``xtol = ftol = gtol = 1e-15``, within
    mp.fit's default bounds (starts outside them are clipped onto them).
    Returns the parameters, the RSS and the index of the winning start.
    """
    from scipy.optimize import least_squares

    lx = np.log10(screen.conc)
    lo = np.array([-np.inf, -np.inf, lx.min() - REF_IC50_DECADES, -REF_HILL_MAX])
    hi = np.array([np.inf, np.inf, lx.max() + REF_IC50_DECADES, REF_HILL_MAX])
    n = screen.n
    best_p = np.full((n, 4), np.nan)
    best_rss = np.full(n, np.inf)
    best_start = np.full(n, -1.0)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for i in range(n):
            y = screen.response[i]
            for k, start in enumerate(starts):
                p0 = np.array(
                    [start["bottom"][i], start["top"][i], np.log10(start["ic50"][i]),
                     start["hill"][i]]
                )
                if not np.all(np.isfinite(p0)):
                    continue
                p0 = np.clip(p0, lo, hi)
                try:
                    sol = least_squares(
                        _ref_residual, p0, jac=_ref_jacobian, args=(lx, y), method="trf",
                        bounds=(lo, hi),
                        xtol=REF_TOL, ftol=REF_TOL, gtol=REF_TOL, x_scale="jac",
                        max_nfev=REF_MAX_NFEV,
                    )
                except Exception:
                    continue
                rss = float(2.0 * sol.cost)
                if rss < best_rss[i]:
                    best_rss[i], best_p[i], best_start[i] = rss, sol.x, k
    params = {
        "bottom": best_p[:, 0],
        "top": best_p[:, 1],
        "ic50": 10.0 ** best_p[:, 2],
        "hill": best_p[:, 3],
    }
    return params, best_rss, best_start


@dataclass(slots=True)
class Accuracy:
    name: str
    n_responsive: int
    worse_strict: int  # responsive curves with RSS > ref (1 + 1e-9)
    worse_strict_step: int  # ... of which step-like (reference |hill| > STEP_HILL)
    n_step: int  # step-like responsive curves
    worse_loose: int  # ... > ref (1 + 1e-6)
    better_strict: int  # RSS < ref (1 - 1e-9): the reference missed a better optimum
    ic50_compared: int
    ic50_max_rel: float
    ic50_over_tol: int
    excluded: int  # responsive curves flagged (mp.fit) or failed (peers)
    worst: list[dict[str, Any]] = field(default_factory=list)
    flagged: list[dict[str, Any]] = field(default_factory=list)  # mp.fit: responsive, not OK


def _ic50_rel(a: FloatArray, b: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.abs(a - b) / np.abs(b)
    return out


def accuracy(
    name: str,
    screen: Screen,
    params: Mapping[str, FloatArray],
    ref_params: Mapping[str, FloatArray],
    ref_rss: FloatArray,
    *,
    usable: BoolArray,
    status_text: Sequence[str] | None = None,
) -> Accuracy:
    """Compare one competitor with the reference on the responsive curves of `screen`.

    `status_text` (mp.fit only) names each curve's status; responsive curves whose
    status is not OK are then listed in ``flagged``.
    """
    responsive = ~screen.flat
    step = responsive & (np.abs(ref_params["hill"]) > STEP_HILL)
    rss = _rss(screen.conc, screen.response, params)
    rss = np.where(np.isfinite(rss), rss, np.inf)
    with np.errstate(invalid="ignore", divide="ignore"):
        excess = np.where(np.isfinite(ref_rss), (rss - ref_rss) / ref_rss, np.nan)
    worse = responsive & (excess > RSS_TOL_STRICT)
    compared = responsive & ~step & usable & np.isfinite(params["ic50"])
    rel = _ic50_rel(params["ic50"], ref_params["ic50"])
    rel_c = rel[compared]

    def row(i: int) -> dict[str, Any]:
        out: dict[str, Any] = {"curve": i}
        if status_text is not None:
            out["status"] = status_text[i]
        out.update(
            {
                "true_ic50": float(screen.ic50[i]),
                "true_hill": float(screen.hill[i]),
                "ic50": float(params["ic50"][i]),
                "hill": float(params["hill"][i]),
                "ref_ic50": float(ref_params["ic50"][i]),
                "ref_hill": float(ref_params["hill"][i]),
                "rss": float(rss[i]),
                "ref_rss": float(ref_rss[i]),
                "rss_excess": float(excess[i]),
                "ic50_rel": float(rel[i]),
            }
        )
        return out

    off = np.flatnonzero(worse | (compared & (rel > IC50_TOL)))
    flagged = np.flatnonzero(responsive & ~usable if status_text is not None else False)
    return Accuracy(
        name=name,
        n_responsive=int(responsive.sum()),
        worse_strict=int(np.count_nonzero(worse)),
        worse_strict_step=int(np.count_nonzero(worse & step)),
        n_step=int(np.count_nonzero(step)),
        worse_loose=int(np.count_nonzero(responsive & (excess > RSS_TOL_LOOSE))),
        better_strict=int(np.count_nonzero(responsive & (excess < -RSS_TOL_STRICT))),
        ic50_compared=int(compared.sum()),
        ic50_max_rel=float(rel_c.max()) if rel_c.size else float("nan"),
        ic50_over_tol=int(np.count_nonzero(rel_c > IC50_TOL)),
        excluded=int(np.count_nonzero(responsive & ~usable)),
        worst=[row(int(i)) for i in off[:12]],
        flagged=[row(int(i)) for i in flagged[:12]],
    )


def _best_peer_solution(screen: Screen, peers: Sequence[PeerRun]) -> dict[str, FloatArray] | None:
    """Per curve, the parameters of the peer with the lowest RSS (None without peers)."""
    n = screen.n
    cands = [{k: v[:n] for k, v in p.params.items()} for p in peers if p.n >= n]
    if not cands:
        return None
    rss = np.stack([_rss(screen.conc, screen.response, c) for c in cands])
    best = np.nan_to_num(rss, nan=np.inf).argmin(axis=0)
    rows = np.arange(n)
    return {k: np.stack([c[k] for c in cands])[best, rows] for k in PARAMS}


# ---------------------------------------------------------------------------- report
def print_report(
    *,
    machine: Mapping[str, str],
    sizes: Sequence[int],
    peers: Sequence[PeerRun],
    mp_runs: Sequence[MpRun],
    accuracies: Sequence[Accuracy],
    flat_subset: tuple[int, int, int, int] | None,
    imports: Mapping[str, Any],
    extra: Mapping[str, Any],
) -> None:
    print("## Machine\n")
    for key, value in machine.items():
        print(f"- {key}: {value}")
    print(
        "- threads: OPENBLAS/OMP/MKL_NUM_THREADS=1; mp.fit workers=1 unless stated"
        f"\n- screen seed: {extra['seed']}; peers timed on the first {extra['peer_n']} curves "
        f"(curvefit: {extra['curvefit_n']})"
    )

    print("\n## Speed (µs per curve; ratio = peer µs per curve / mp.fit workers=1 µs per curve)\n")
    by_n = {r.n: r for r in mp_runs}
    header = ["N"]
    if mp_runs:
        header += ["mp.fit s", "first call s", "mp.fit µs", "workers=2 µs", "2-core speedup", "xarray µs"]
    for p in peers:
        header += [f"{p.name} µs", f"{p.name} ratio"] if mp_runs else [f"{p.name} µs"]
    rows: list[list[str]] = []
    for n in sizes:
        row = [f"{n:,}"]
        run = by_n.get(n)
        mp_us: float | None = None
        if mp_runs:
            if run is None:
                row += ["–"] * 6
            else:
                mp_us = 1e6 * run.seconds_w1 / n
                us2 = None if run.seconds_w2 is None else 1e6 * run.seconds_w2 / n
                usx = None if run.seconds_xr is None else 1e6 * run.seconds_xr / n
                speedup = (
                    f"{run.seconds_w1 / run.seconds_w2:.2f}×" if run.seconds_w2 else "–"
                )
                row += [f"{run.seconds_w1:.3f}", f"{run.first_w1:.3f}", _fmt_us(mp_us), _fmt_us(us2), speedup,
                        _fmt_us(usx)]
        for p in peers:
            mark = "" if n <= p.n else "†"
            row.append(_fmt_us(p.us_per_curve) + mark)
            if mp_runs:
                row.append(_fmt_ratio(None if mp_us is None else p.us_per_curve / mp_us))
        rows.append(row)
    print(_markdown_table(header, rows))
    if peers:
        print("\n† extrapolated from the peer's own run at the smaller N (a loop scales linearly).")

    if peers:
        print("\n## Peers as timed\n")
        rows = [
            [p.name, f"{p.n:,}", f"{p.seconds:.3f}", _fmt_us(p.us_per_curve), str(p.failed)]
            for p in peers
        ]
        print(_markdown_table(["peer", "curves timed", "seconds", "µs/curve", "failed"], rows))

    if mp_runs:
        print("\n## mp.fit memory (bytes per curve; tracemalloc, workers=1)\n")
        rows = []
        for run in mp_runs:
            per = run.n
            peak = None if run.peak_bytes is None else run.peak_bytes / per
            kept = None if run.retained_bytes is None else run.retained_bytes / per
            beyond = None if peak is None or kept is None else peak - kept
            rows.append(
                [
                    f"{run.n:,}",
                    _fmt_bytes_per_curve(run.input_bytes / per),
                    _fmt_bytes_per_curve(peak),
                    _fmt_bytes_per_curve(kept),
                    _fmt_bytes_per_curve(beyond),
                    "–"
                    if run.maxrss_rise_bytes is None
                    else f"{run.maxrss_rise_bytes / 2**20:,.1f}",
                ]
            )
        print(
            _markdown_table(
                ["N", "input", "peak during call", "output (retained)", "peak − output",
                 "max-RSS rise (MiB)"],
                rows,
            )
        )
        print(
            "\ninput = the response array, allocated before the call (not traced); "
            "peak − output = working memory beyond the input and output arrays."
        )

        print("\n## mp.fit outcome per N\n")
        names = list(mp_runs[0].status_counts)
        rows = []
        for run in mp_runs:
            rows.append(
                [
                    f"{run.n:,}",
                    f"{run.converged:,}",
                    *[
                        f"{run.status_counts.get(k, 0):,} "
                        f"({run.status_counts_responsive.get(k, 0):,})"
                        for k in names
                    ],
                    f"{run.flat_flagged[0]:,}/{run.flat_flagged[1]:,}",
                    f"{run.responsive_flagged[0]:,}/{run.responsive_flagged[1]:,}",
                    run.w2_identical,
                    run.xr_identical,
                    run.rss_consistency,
                ]
            )
        print(
            _markdown_table(
                ["N", "converged", *[f"{k} (resp.)" for k in names], "flat flagged FLAT",
                 "responsive flagged FLAT",
                 "workers=2 vs 1", "xarray vs numpy", "res.rss vs recomputed"],
                rows,
            )
        )
        print(f"\nprefix consistency (fits of the first curves at each N): {extra['prefix']}")
        print(
            f"cold first call (N={int(extra['cold']['cold_first_call_n'])}, includes lazy "
            f"imports): {extra['cold']['cold_first_call_s']:.3f} s"
        )

    if accuracies:
        print(
            f"\n## Accuracy on the first {extra['acc_n']} curves vs tight least_squares "
            f"(relative RSS tolerance {RSS_TOL_STRICT:g})\n"
        )
        rows = [
            [
                a.name,
                f"{a.worse_strict}/{a.n_responsive}",
                f"{a.worse_strict_step}/{a.n_step}",
                f"{a.worse_loose}/{a.n_responsive}",
                str(a.better_strict),
                str(a.excluded),
                f"{a.ic50_max_rel:.1e}",
                f"{a.ic50_over_tol}/{a.ic50_compared}",
            ]
            for a in accuracies
        ]
        print(
            _markdown_table(
                ["competitor", "RSS worse > 1e-9", "of which step-like", "RSS worse > 1e-6",
                 "RSS better", "flagged/failed", "max rel ΔIC50", "ΔIC50 > 1e-6"],
                rows,
            )
        )
        print(
            "\nRows count responsive (non-flat) curves. 'Step-like': the reference optimum has "
            f"|hill| > {STEP_HILL:g}, i.e. the RSS falls towards a step function as hill grows, "
            "so no finite fit is exact. ΔIC50 is over the other responsive curves that are not "
            "flagged (mp.fit: status OK) or failed (peers). Reference starts: "
            + ", ".join(extra["ref_starts"])
            + f"; winning start per curve: {extra['ref_wins']}."
        )
        if flat_subset is not None:
            f_flag, f_all, r_flag, r_all = flat_subset
            print(
                f"\nFLAT_RESPONSE on this subset: {f_flag}/{f_all} simulated flat curves, "
                f"{r_flag}/{r_all} responsive curves."
            )
        for a in accuracies:
            if not a.name.startswith("mp.fit"):
                continue
            for title, table in (
                ("curves off the reference", a.worst),
                ("responsive curves not OK (excluded from ΔIC50)", a.flagged),
            ):
                if not table:
                    continue
                print(f"\n{a.name}: {title} (first {len(table)}):\n")
                keys = list(table[0])
                print(
                    _markdown_table(
                        keys,
                        [[f"{w[k]:.6g}" if isinstance(w[k], float) else str(w[k]) for k in keys]
                         for w in table],
                    )
                )

    if imports:
        print("\n## Import time (fresh interpreter, best of 5)\n")
        for mod, info in imports.items():
            if "error" in info:
                print(f"- import {mod}: failed ({' '.join(info['error'])})")
            else:
                loaded = ", ".join(info["loaded"]) or "none"
                ms = 1e3 * info["seconds"]
                print(f"- import {mod}: {ms:.0f} ms (heavy modules loaded: {loaded})")


# ---------------------------------------------------------------------------- main
def _parse_sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(s.replace("_", "")) for s in text.split(",") if s.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"`--sizes` must be comma-separated integers; got {text!r}."
        ) from None
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError(f"`--sizes` must be positive integers; got {text!r}.")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=_parse_sizes, default=None,
                        help="mp.fit sizes, comma-separated (default 200,2000,20000,1000000)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes only (200,2000) and short repeats")
    parser.add_argument("--peers-only", action="store_true", help="do not run mp.fit")
    parser.add_argument("--peer-n", type=int, default=200, help="curves per peer loop")
    parser.add_argument("--curvefit-n", type=int, default=200, help="curves for curvefit")
    parser.add_argument("--accuracy-n", type=int, default=200,
                        help="curves checked against least_squares (0 = skip)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--no-workers2", action="store_true", help="skip workers=2")
    parser.add_argument("--no-xarray", action="store_true", help="skip mp.fit on a DataArray")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc run")
    parser.add_argument("--json", type=Path, default=None, help="also write results as JSON")
    args = parser.parse_args(argv)

    load_start = os.getloadavg()
    sizes: list[int] = args.sizes or list(QUICK_SIZES if args.quick else FULL_SIZES)
    mp = None if args.peers_only else import_mtor_pharm()
    n_max = max([*(sizes if mp is not None else []), args.peer_n, args.curvefit_n,
                 args.accuracy_n])
    t_gen, screen = _timed(lambda: make_screen(n_max, seed=args.seed))
    print(f"# screen: {n_max:,} curves x {screen.conc.size} points in {t_gen:.2f} s",
          file=sys.stderr)

    machine = machine_description(mp)

    peers: list[PeerRun] = []
    peer_screen = screen.head(args.peer_n)
    guess = initial_guess(peer_screen.conc, peer_screen.response)
    peer_fns: list[tuple[str, Callable[[], PeerRun]]] = [
        ("curve_fit TRF", partial(peer_curve_fit, peer_screen, guess, method="trf")),
        ("curve_fit LM", partial(peer_curve_fit, peer_screen, guess, method="lm")),
        ("lmfit", partial(peer_lmfit, peer_screen, guess)),
    ]
    for label, fn in peer_fns:
        run = fn()
        peers.append(run)
        print(f"# {label}: {run.us_per_curve:.0f} µs/curve, {run.failed} failed", file=sys.stderr)
    cf_screen = screen.head(args.curvefit_n)
    run = peer_curvefit(cf_screen, initial_guess(cf_screen.conc, cf_screen.response))
    peers.append(run)
    print(f"# curvefit: {run.us_per_curve:.0f} µs/curve, {run.failed} failed", file=sys.stderr)

    mp_runs: list[MpRun] = []
    params_by_n: dict[int, dict[str, FloatArray]] = {}
    status_by_n: dict[int, NDArray_u8] = {}
    extra: dict[str, Any] = {
        "seed": args.seed,
        "peer_n": args.peer_n,
        "curvefit_n": args.curvefit_n,
        "acc_n": args.accuracy_n,
    }
    if mp is not None:
        mp_runs, params_by_n, status_by_n, extra["cold"] = run_mp(
            mp, screen, sizes,
            workers2=not args.no_workers2,
            xarray_path=not args.no_xarray,
            memory=not args.no_memory,
            quick=args.quick,
        )
        smallest = min(params_by_n)
        checks = [
            f"N={n:,}: "
            + _same(
                {k: v[:smallest] for k, v in p.items()},
                params_by_n[smallest],
                status_by_n[smallest] == 0,
            )
            for n, p in params_by_n.items()
            if n != smallest
        ]
        extra["prefix"] = (
            f"first {smallest:,} curves vs the N={smallest:,} fit: " + "; ".join(checks)
            if checks
            else "n/a (one size)"
        )

    accuracies: list[Accuracy] = []
    flat_subset: tuple[int, int, int, int] | None = None
    if args.accuracy_n > 0:
        acc_screen = screen.head(args.accuracy_n)
        truth = {
            "bottom": acc_screen.bottom,
            "top": acc_screen.top,
            "ic50": acc_screen.ic50,
            "hill": acc_screen.hill,
        }
        starts: list[tuple[str, Mapping[str, FloatArray]]] = []
        mp_sub: dict[str, FloatArray] | None = None
        mp_status: Any = None
        if mp is not None:
            res = mp.fit(mp.Q_(acc_screen.conc, CONC_UNIT), acc_screen.response)
            mp_sub = mp_params(res)
            mp_status = np.asarray(res.status, dtype=np.uint8)
            starts.append(("mp.fit", mp_sub))
        starts.append(("truth", truth))
        starts.append(("guess", initial_guess(acc_screen.conc, acc_screen.response)))
        best_peer = _best_peer_solution(acc_screen, peers)
        if best_peer is not None:
            starts.append(("best peer", best_peer))
        t_ref, (ref_params, ref_rss, ref_start) = _timed(
            lambda: reference_fits(acc_screen, [s for _, s in starts])
        )
        print(f"# reference least_squares: {t_ref:.1f} s", file=sys.stderr)
        labels = [name for name, _ in starts]
        wins = {labels[int(k)]: int(np.count_nonzero(ref_start == k)) for k in set(ref_start)
                if k >= 0}
        extra["ref_starts"] = labels
        extra["ref_wins"] = ", ".join(f"{k} {v}" for k, v in sorted(wins.items()))
        if mp is not None and mp_sub is not None:
            ok = mp_status == 0
            accuracies.append(
                accuracy("mp.fit", acc_screen, mp_sub, ref_params, ref_rss, usable=ok,
                         status_text=[_status_text(mp, int(v)) for v in mp_status])
            )
            is_flat = (mp_status & _flat_bit(mp)) != 0
            flat_subset = (
                int(np.count_nonzero(is_flat & acc_screen.flat)),
                int(acc_screen.flat.sum()),
                int(np.count_nonzero(is_flat & ~acc_screen.flat)),
                int(np.count_nonzero(~acc_screen.flat)),
            )
        for p in peers:
            if p.n < args.accuracy_n:
                continue
            sub = {k: v[: args.accuracy_n] for k, v in p.params.items()}
            usable = np.all([np.isfinite(v) for v in sub.values()], axis=0)
            accuracies.append(accuracy(p.name, acc_screen, sub, ref_params, ref_rss,
                                       usable=usable))

    load_end = os.getloadavg()
    machine["load average"] = (
        f"{load_start[0]:.2f} before the run (about 0 on an idle machine), {load_end[0]:.2f} "
        "at its end (about 1 from this run alone)"
    )
    imports = import_time() if mp is not None else {}

    print_report(
        machine=machine,
        sizes=sizes,
        peers=peers,
        mp_runs=mp_runs,
        accuracies=accuracies,
        flat_subset=flat_subset,
        imports=imports,
        extra=extra,
    )
    if args.json is not None:
        payload = {
            "machine": machine,
            "sizes": sizes,
            "peers": [
                {"name": p.name, "n": p.n, "seconds": p.seconds, "failed": p.failed}
                for p in peers
            ],
            "mp_fit": [asdict(r) for r in mp_runs],
            "accuracy": [asdict(a) for a in accuracies],
            "imports": imports,
            "extra": extra,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
