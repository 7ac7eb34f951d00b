"""mtor_pharm.xarray.fit against the numpy path of mp.fit, eagerly, with dask, and on a cluster."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import xarray as xr

import mtor_pharm as mp
import mtor_pharm.xarray as mpx
from mtor_pharm.errors import ShapeError, UnitError

da = pytest.importorskip("dask.array")
import dask.config  # noqa: E402  (only after the importorskip above)
from dask.base import is_dask_collection  # noqa: E402

CONC = 10.0 / 3.0 ** np.arange(10)  # uM, 3-fold from 10 uM
DIM = "concentration"


def logistic4(x: np.ndarray, bottom: Any, top: Any, ic50: Any, hill: Any) -> np.ndarray:
    """4PL written from the formula (independent of the library kernel)."""
    return np.asarray(bottom + (top - bottom) / (1.0 + (x / ic50) ** hill))


def _responses(seed: int = 0, shape: tuple[int, ...] = (3, 4)) -> np.ndarray:
    """A compound x cell_line screen with a flat curve, NaN points and a too-few-points curve."""
    rng = np.random.default_rng(seed)
    ic50 = 10 ** rng.uniform(-2.5, -0.5, shape)[..., None]
    hill = rng.uniform(0.7, 2.5, shape)[..., None]
    bottom = rng.uniform(0, 15, shape)[..., None]
    top = rng.uniform(90, 110, shape)[..., None]
    y = logistic4(CONC, bottom, top, ic50, hill) + rng.normal(0, 4, (*shape, CONC.size))
    y[0, 1] = 100 + rng.normal(0, 4, CONC.size)  # flat: no response
    y[1, 2, [0, 4, 7]] = np.nan  # missing wells
    y[2, 3, 2:] = np.nan  # two points left: too few for four parameters
    return y


def _screen(y: np.ndarray | None = None, unit: str = "uM") -> xr.DataArray:
    y = _responses() if y is None else y
    return xr.DataArray(
        y,
        dims=("compound", "cell_line", DIM),
        coords={
            "compound": ["rapamycin", "everolimus", "sapanisertib"],
            "cell_line": ["MCF7", "PC3", "U87", "A549"],
            "tissue": ("cell_line", ["breast", "prostate", "brain", "lung"]),
            DIM: (DIM, CONC, {"units": unit}),
        },
        attrs={"units": "percent"},
        name="viability",
    )


def _expected(res: mp.FitResult) -> dict[str, np.ndarray]:
    """The Dataset variables, written out from a numpy FitResult."""
    low, high = res.ci("ic50", level=0.95)
    out = {
        "ic50": res.ic50.magnitude,
        "ic50_ci_low": low.magnitude,
        "ic50_ci_high": high.magnitude,
        "status": res.status,
        "rss": res.rss,
        "n": res.n,
        "dof": res.dof,
        "response_pvalue": res.response_pvalue,
        "r_squared": res.r_squared,
    }
    for name in res.param_names:
        out.setdefault(name, res.params[name])
        out[f"{name}_stderr"] = res.stderr[name]
    return {k: np.asarray(v) for k, v in out.items()}


def _assert_matches(ds: xr.Dataset, res: mp.FitResult, *, rtol: float = 0.0) -> None:
    expected = _expected(res)
    assert set(ds.data_vars) == set(expected)
    for name, want in expected.items():
        got = ds[name].values
        assert got.dtype == want.dtype, name
        if rtol:
            np.testing.assert_allclose(got, want, rtol=rtol, atol=0, equal_nan=True, err_msg=name)
        else:
            np.testing.assert_array_equal(got, want, err_msg=name)


def _blockwise_fit(y: np.ndarray, chunks: tuple[tuple[int, ...], ...], **options: Any) -> dict[str, np.ndarray]:
    """``mp.fit`` called on each block of `y` (batch chunks `chunks`), reassembled.

    This is what the dask path computes; the engine's result for a curve may move
    within its convergence tolerance with the grouping of curves, so a dask result
    is compared exactly with this, and with the one-call fit only to that tolerance.
    """
    starts = [np.cumsum((0, *c)) for c in chunks]
    pieces: dict[str, np.ndarray] = {}
    for block in np.ndindex(*(len(c) for c in chunks)):
        where = tuple(slice(s[b], s[b + 1]) for s, b in zip(starts, block, strict=True))
        res = mp.fit(CONC, y[where], conc_unit="uM", **options)
        for name, value in _expected(res).items():
            pieces.setdefault(name, np.empty(y.shape[:-1], dtype=value.dtype))[where] = value
    return pieces


def _assert_equals_expected(ds: xr.Dataset, expected: dict[str, np.ndarray]) -> None:
    assert set(ds.data_vars) == set(expected)
    for name, want in expected.items():
        assert ds[name].dtype == want.dtype, name
        np.testing.assert_array_equal(ds[name].values, want, err_msg=name)


def _assert_same_optimum(got: xr.Dataset, want: xr.Dataset) -> None:
    """Equal up to the engine's convergence test (distance to the optimum < 1e-8 standard
    errors): estimates within 1e-6 standard errors, everything else within 1e-6 relative."""
    assert list(got.data_vars) == list(want.data_vars)
    for name in ("status", "n", "dof"):
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    for var in got.data_vars:
        a, b = got[var].values, want[var].values
        if f"{var}_stderr" in got:
            tol = 1e-6 * np.nan_to_num(want[f"{var}_stderr"].values) + 1e-12 * np.abs(b)
            assert np.array_equal(np.isnan(a), np.isnan(b)), var
            assert np.all(np.abs(a - b)[~np.isnan(b)] <= tol[~np.isnan(b)]), var
        elif var not in ("status", "n", "dof"):
            np.testing.assert_allclose(a, b, rtol=1e-6, equal_nan=True, err_msg=str(var))


def _assert_identical_values(a: xr.Dataset, b: xr.Dataset) -> None:
    assert list(a.data_vars) == list(b.data_vars)
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=str(name))
        assert a[name].dtype == b[name].dtype


# --------------------------------------------------------------------------- equality with numpy
def test_fit_equals_numpy_fit_on_two_batch_dims_with_flat_and_nan_curves() -> None:
    data = _screen()
    res = mp.fit(CONC, data.values, conc_unit="uM")
    ds = mpx.fit(data, dim=DIM)

    _assert_matches(ds, res)
    assert ds["status"].dtype == np.uint8
    assert ds["status"][0, 1] & mp.FitStatus.FLAT_RESPONSE
    assert ds["status"][2, 3] & mp.FitStatus.TOO_FEW_POINTS
    assert int(ds["n"][1, 2]) == 7
    assert np.isnan(ds["ic50"][0, 1]) and np.isnan(ds["ic50"][2, 3])
    assert np.isfinite(ds["ic50"][1, 2])


def test_mp_fit_forwards_a_dataarray_to_the_xarray_path() -> None:
    data = _screen()
    _assert_identical_values(mp.fit(data, dim=DIM), mpx.fit(data, dim=DIM))


@pytest.mark.parametrize("model", ["5pl", "weibull1", "3pl"])
def test_fit_equals_numpy_fit_for_other_families(model: str) -> None:
    data = _screen()
    res = mp.fit(CONC, data.values, conc_unit="uM", model=model)
    ds = mpx.fit(data, dim=DIM, model=model)
    _assert_matches(ds, res)
    if model != "3pl":
        assert "xmid" in ds and ds["xmid"].attrs["units"] == "uM"


def test_fit_passes_fixed_bounds_and_max_iter_to_the_engine() -> None:
    data = _screen()
    opts: dict[str, Any] = {
        "fixed": {"top": 100.0},
        "bounds": {"hill": (0.1, 3.0), "ic50": ("1 nM", mp.Q_(20, "uM"))},
        "max_iter": 50,
    }
    res = mp.fit(CONC, data.values, conc_unit="uM", **opts)
    ds = mpx.fit(data, dim=DIM, **opts)
    _assert_matches(ds, res)
    fitted = ~(ds["status"] & mp.FitStatus.TOO_FEW_POINTS).astype(bool)
    assert (ds["top"].where(fitted, 100.0) == 100.0).all()
    assert ds.attrs["fixed"] == "top"


def test_fit_handles_a_concentration_dim_that_is_not_last() -> None:
    data = _screen()
    moved = data.transpose(DIM, "cell_line", "compound")
    ds = mpx.fit(moved, dim=DIM)
    assert ds["ic50"].dims == ("cell_line", "compound")
    _assert_matches(ds, mp.fit(CONC, moved.transpose(..., DIM).values, conc_unit="uM"))
    _assert_same_optimum(ds.transpose("compound", "cell_line"), mpx.fit(data, dim=DIM))


def test_fit_of_a_single_curve_gives_scalar_variables() -> None:
    data = _screen().isel(compound=1, cell_line=0)
    res = mp.fit(mp.Q_(CONC, "uM"), data.values)
    ds = mpx.fit(data, dim=DIM)
    assert ds["ic50"].shape == ()
    _assert_matches(ds, res)


def test_fit_reads_a_ragged_two_dimensional_concentration_coordinate() -> None:
    rng = np.random.default_rng(3)
    n_curves, m = 5, 8
    x = np.full((n_curves, m), np.nan)
    y = np.full((n_curves, m), np.nan)
    for i, k in enumerate([8, 6, 7, 8, 5]):  # curves with their own series, NaN-padded
        x[i, :k] = 20.0 / (2.0 + i) ** np.arange(k)
        y[i, :k] = logistic4(x[i, :k], 5, 100, 0.3 * (i + 1), 1.3) + rng.normal(0, 3, k)
    data = xr.DataArray(
        np.stack([y, 0.8 * y]),  # (readout, curve, dose): the coordinate lacks the leading dim
        dims=("readout", "curve", "dose"),
        coords={"readout": ["pS6K1", "p4EBP1"], "conc": (("curve", "dose"), x, {"units": "nM"})},
    )
    ds = mpx.fit(data, dim="dose", conc_coord="conc")
    res = mp.fit(x, data.values, conc_unit="nM")
    _assert_matches(ds, res)
    assert "conc" not in ds.coords and ds["ic50"].attrs["units"] == "nM"
    lazy = mpx.fit(data.chunk({"readout": 1}), dim="dose", conc_coord="conc")
    _assert_same_optimum(lazy.compute(), ds)


def test_fit_reports_the_same_ic50_in_nM_and_uM() -> None:
    y = _responses()
    um = mpx.fit(_screen(y, "uM"), dim=DIM)
    nm = mpx.fit(_screen(y, "uM").assign_coords({DIM: (DIM, CONC * 1000, {"units": "nM"})}), dim=DIM)
    np.testing.assert_allclose(nm["ic50"], um["ic50"] * 1000, rtol=1e-6)
    np.testing.assert_array_equal(nm["status"], um["status"])
    assert nm["ic50"].attrs["units"] == "nM" and nm.attrs["conc_unit"] == "nM"


def test_fit_converts_mass_concentrations_through_the_molecular_weight() -> None:
    data = _screen(unit="ug/mL")
    ds = mpx.fit(data, dim=DIM, molecular_weight=914.19)
    res = mp.fit(CONC, data.values, conc_unit="ug/mL", molecular_weight=914.19)
    _assert_matches(ds, res)
    assert ds["ic50"].attrs["units"] == res.conc_unit == "micromolar"


def test_fit_takes_the_molecular_weight_from_the_registry() -> None:
    data = _screen(unit="ug/mL")
    ds = mpx.fit(data, dim=DIM, inhibitor="rapamycin")
    res = mp.fit(CONC, data.values, conc_unit="ug/mL", inhibitor="rapamycin")
    _assert_matches(ds, res)


def test_fit_pools_replicate_concentrations_like_numpy() -> None:
    rng = np.random.default_rng(7)
    x = np.repeat(CONC, 3)  # triplicates: a non-unique index along the concentration dim
    y = logistic4(x, 5, 100, np.array([[0.05], [0.5]]), 1.2) + rng.normal(0, 4, (2, x.size))
    data = xr.DataArray(y, dims=("compound", DIM), coords={DIM: (DIM, x, {"units": "uM"})})
    _assert_matches(mpx.fit(data, dim=DIM), mp.fit(x, y, conc_unit="uM"))


def test_fit_accepts_pint_xarray_quantities() -> None:
    pytest.importorskip("pint_xarray")
    data = _screen()
    quantified = data.pint.quantify()
    assert isinstance(quantified[DIM].data, mp.ureg.Quantity)
    ds = mpx.fit(quantified, dim=DIM)
    _assert_identical_values(ds, mpx.fit(data, dim=DIM))
    assert mp.ureg.Unit(ds["ic50"].attrs["units"]) == mp.ureg.Unit("uM")
    assert mp.ureg.Unit(ds["top"].attrs["units"]) == mp.ureg.Unit("percent")


# --------------------------------------------------------------------------- output layout
def test_fit_keeps_other_coordinates_and_records_units_and_provenance() -> None:
    data = _screen()
    ds = mpx.fit(data, dim=DIM)
    assert ds["ic50"].dims == ("compound", "cell_line")
    assert list(ds["compound"].values) == list(data["compound"].values)
    assert list(ds["tissue"].values) == list(data["tissue"].values)
    assert DIM not in ds.coords and DIM not in ds.dims
    for name in ("ic50", "ic50_stderr", "ic50_ci_low", "ic50_ci_high"):
        assert ds[name].attrs["units"] == "uM", name
    for name in ("bottom", "top", "top_stderr"):
        assert ds[name].attrs["units"] == "percent", name
    for name in ("hill", "rss", "n", "status"):
        assert "units" not in ds[name].attrs, name
    assert ds.attrs["model"] == "4pl" and ds.attrs["conc_unit"] == "uM"
    assert ds.attrs["mtor_pharm_version"] == mp.__version__


def test_status_attributes_describe_the_fitstatus_bits_cf_style() -> None:
    attrs = mpx.fit(_screen(), dim=DIM)["status"].attrs
    masks = [int(v) for v in attrs["flag_masks"]]
    meanings = attrs["flag_meanings"].split()
    assert len(masks) == len(meanings)
    assert {m: mp.FitStatus[n.upper()] for m, n in zip(masks, meanings, strict=True)} == {
        int(f): f for f in mp.FitStatus if f
    }


def test_4pl_ic50_is_the_location_parameter_masked_where_undetermined() -> None:
    data = _screen()
    res = mp.fit(CONC, data.values, conc_unit="uM")
    ds = mpx.fit(data, dim=DIM)
    determined = np.isfinite(ds["ic50"].values)
    np.testing.assert_array_equal(ds["ic50"].values[determined], res.params["ic50"][determined])
    assert not determined[0, 1] and np.isfinite(res.params["ic50"][0, 1])


# --------------------------------------------------------------------------- dask
def test_dask_backed_fit_equals_numpy_fit_of_each_block() -> None:
    data = _screen()
    lazy = mpx.fit(data.chunk({"compound": 1, "cell_line": 2}), dim=DIM)
    assert is_dask_collection(lazy)
    assert lazy["ic50"].chunks == ((1, 1, 1), (2, 2))
    computed = lazy.compute()
    _assert_equals_expected(computed, _blockwise_fit(data.values, ((1, 1, 1), (2, 2))))
    # a curve's fit does not depend on the chunk it is in: equal to the eager fit, bitwise
    _assert_identical_values(computed, mpx.fit(data, dim=DIM))


def test_dask_backed_fit_in_one_chunk_is_identical_to_eager_fit() -> None:
    data = _screen()
    _assert_identical_values(mpx.fit(data.chunk(), dim=DIM).compute(), mpx.fit(data, dim=DIM))


def test_dask_rechunks_a_split_concentration_dim() -> None:
    data = _screen()
    lazy = mpx.fit(data.chunk({"compound": 2, DIM: 3}), dim=DIM)
    assert lazy["ic50"].chunks == ((2, 1), (4,))
    _assert_equals_expected(lazy.compute(), _blockwise_fit(data.values, ((2, 1), (4,))))


class _CountingSource:
    """Blocks of responses that count how often they are materialized (thread-safe)."""

    def __init__(self, y: np.ndarray) -> None:
        self.y = y
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, block: np.ndarray, block_info: dict[Any, Any] | None = None) -> np.ndarray:
        with self._lock:
            self.calls += 1
        assert block_info is not None
        where = tuple(slice(*loc) for loc in block_info[None]["array-location"])
        return self.y[where]


def test_lazy_result_does_not_follow_later_edits_of_the_options() -> None:
    data = _screen()
    fixed = {"top": 100.0}
    lazy = mpx.fit(data.chunk({"compound": 1}), dim=DIM, fixed=fixed)
    fixed["top"] = 50.0
    assert float(lazy["top"][0, 0]) == 100.0


def test_dask_input_stays_lazy_until_computed_and_is_read_once() -> None:
    y = _responses()
    source = _CountingSource(y)
    blocks = da.zeros(y.shape, chunks=(1, 4, 10)).map_blocks(source, meta=np.empty((0, 0, 0)))
    data = _screen().copy(data=blocks)
    assert source.calls == 0

    ds = mpx.fit(data, dim=DIM)
    assert source.calls == 0
    assert all(is_dask_collection(ds[name]) for name in ds.data_vars)

    computed = ds.compute()
    assert source.calls == 3  # each block read, and so fitted, once for all 15 variables
    _assert_equals_expected(computed, _blockwise_fit(y, ((1, 1, 1), (4,))))


# --------------------------------------------------------------------------- errors
def test_fit_rejects_missing_dim() -> None:
    with pytest.raises(ShapeError, match=r"`dim` must be a dimension of `data`; got 'dose'"):
        mpx.fit(_screen(), dim="dose")


def test_fit_rejects_missing_unit() -> None:
    data = _screen()
    data[DIM].attrs.clear()
    with pytest.raises(UnitError, match=r"data\.coords\['concentration'\]` must carry its concentration unit"):
        mpx.fit(data, dim=DIM)


@pytest.mark.parametrize("unit", ["s", "mg", "percent", "furlong"])
def test_fit_rejects_non_concentration_unit(unit: str) -> None:
    with pytest.raises(UnitError, match=r"data\.coords\['concentration'\]` must have .*concentration"):
        mpx.fit(_screen(unit=unit), dim=DIM)


def test_fit_rejects_mass_concentration_without_molecular_weight() -> None:
    with pytest.raises(UnitError, match="mass concentration"):
        mpx.fit(_screen(unit="ug/mL"), dim=DIM)


def test_fit_rejects_a_dim_without_coordinate() -> None:
    data = _screen().drop_vars(DIM)
    with pytest.raises(ShapeError, match="must have a coordinate 'concentration'"):
        mpx.fit(data, dim=DIM)


def test_fit_rejects_a_concentration_coordinate_not_along_dim() -> None:
    with pytest.raises(ShapeError, match="must span the concentration dimension"):
        mpx.fit(_screen(), dim=DIM, conc_coord="tissue")


def test_fit_rejects_negative_concentrations() -> None:
    data = _screen().assign_coords({DIM: (DIM, -CONC, {"units": "uM"})})
    with pytest.raises(ValueError, match="must be non-negative"):
        mpx.fit(data, dim=DIM)


def test_fit_rejects_both_molecular_weight_and_inhibitor() -> None:
    with pytest.raises(ValueError, match="must not both be given"):
        mpx.fit(_screen(unit="ug/mL"), dim=DIM, molecular_weight=914.19, inhibitor="rapamycin")


def test_fit_rejects_non_dataarray_data() -> None:
    with pytest.raises(TypeError, match="must be an xarray.DataArray"):
        mpx.fit(_screen().to_dataset(), dim=DIM)  # type: ignore[arg-type]


def test_fit_rejects_array_valued_fixed() -> None:
    with pytest.raises(TypeError, match=r"`fixed\['top'\]` must be a scalar"):
        mpx.fit(_screen(), dim=DIM, fixed={"top": np.full((3, 4), 100.0)})


def test_fit_rejects_unknown_parameter_before_computing() -> None:
    data = _screen().chunk({"compound": 1})
    with pytest.raises(ValueError, match="unknown parameter"):
        mpx.fit(data, dim=DIM, fixed={"ic90": 1.0})


def test_fit_rejects_coordinates_named_like_outputs() -> None:
    data = _screen().assign_coords(n=("compound", [1, 2, 3]))
    with pytest.raises(ValueError, match=r"named like output variables; got \['n'\]"):
        mpx.fit(data, dim=DIM)


# --------------------------------------------------------------------------- distributed
#: distributed warns when its scratch directory takes over a second to create: a
#: statement about a loaded machine (2 cores running the test suite), not about this
#: library, and the only environment-dependent warning its start-up and shut-down can
#: emit here (no dashboard, no fixed port, same versions everywhere, a small graph).
_SLOW_SCRATCH = r"Creating scratch directories is taking a surprisingly long time"


@pytest.fixture
def local_cluster(tmp_path: Any) -> Iterator[Any]:
    distributed = pytest.importorskip("distributed")
    import multiprocessing

    # Filtered only around start and stop; warnings during the test body still fail it.
    # Warnings inside the fit run in the worker processes, outside pytest's filters, so
    # the test compares with the numpy fit of the same blocks, run here under "error".
    # The scheduler's and workers' scratch space goes to pytest's tmp_path, not /tmp.
    with dask.config.set({"temporary-directory": str(tmp_path)}):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_SLOW_SCRATCH, category=UserWarning)
            cluster = distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            )
            client = distributed.Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()
        assert cluster.status.name == "closed"
        assert not multiprocessing.active_children()  # no worker process left behind


@pytest.mark.slow
def test_fit_computes_on_a_distributed_local_cluster(local_cluster: Any) -> None:
    client = local_cluster
    y = np.concatenate([_responses(seed) for seed in range(4)], axis=1)  # 3 x 16 curves
    data = xr.DataArray(y, dims=("compound", "cell_line", DIM), coords={DIM: (DIM, CONC, {"units": "uM"})}).chunk(
        {"cell_line": 4}
    )
    start = time.perf_counter()
    ds = mpx.fit(data, dim=DIM)
    computed = client.compute(ds).result(timeout=60)
    assert time.perf_counter() - start < 30
    assert len(client.scheduler_info()["workers"]) == 2
    _assert_equals_expected(computed, _blockwise_fit(y, ((3,), (4, 4, 4, 4))))
