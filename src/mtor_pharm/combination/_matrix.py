"""Dose-response matrices (checkerboards) of drug A × drug B, for one pair or a screen."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd
import pint
from numpy.typing import ArrayLike

from .._typing import FloatArray, Quantity
from ..errors import ShapeError, UnitError
from ..units import _registry, as_concentration

__all__ = ["DoseMatrix", "ResponseKind"]

#: What the response measures: ``"viability"`` falls with effect (% of control),
#: ``"inhibition"`` rises with effect (% inhibition).
ResponseKind: TypeAlias = Literal["viability", "inhibition"]


def _readonly(a: ArrayLike) -> FloatArray:
    out = np.array(a, dtype=np.float64, copy=True)
    out.flags.writeable = False
    return out


def _unit_str(unit: Any) -> str:
    return f"{unit:~}" if isinstance(unit, pint.Unit) else str(unit)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class DoseMatrix:
    """Checkerboard dose-response data: ``P`` pairs × ``nA`` doses of A × ``nB`` doses of B × ``R`` replicates.

    Build one with :meth:`from_arrays`, :meth:`from_table` or :meth:`from_dataarray`;
    they validate everything (units, negative doses, single-agent margins).

    Attributes
    ----------
    conc_a : ndarray, shape (P, nA)
        Concentrations of drug A per pair, ascending, in `unit_a`; column 0 is 0 (the
        single-agent column of B).  Ragged designs are padded with NaN at the end.
    conc_b : ndarray, shape (P, nB)
        The same for drug B, in `unit_b`.
    response : ndarray, shape (P, nA, nB, R)
        Responses as given; NaN marks a missing well or replicate (never dropped).
    unit_a, unit_b : str
        Concentration units of A and B.
    drug_a, drug_b : tuple of str
        Compound names per pair.  The same name on the same `plate` is one compound
        whose single-agent curve is fitted once from every margin it appears in.
    plate : tuple of str
        Plate (or batch) label per pair.
    pair : tuple of str
        Pair labels.
    kind : {"viability", "inhibition"}
        ``"viability"``: the response falls with effect (vehicle = `scale`);
        ``"inhibition"``: it rises (vehicle = 0, full effect = `scale`).
    scale : float
        Response of the untreated control (``100`` for percent, ``1`` for fractions).

    Examples
    --------
    >>> m = mp.combination.DoseMatrix.from_arrays(
    ...     mp.Q_([0, 0.1, 1], "uM"), mp.Q_([0, 1, 10], "nM"),
    ...     [[100, 80, 50], [90, 70, 40], [60, 45, 20]])
    >>> m.shape, m.unit_a, m.unit_b
    ((1, 3, 3, 1), 'µM', 'nM')
    """

    conc_a: FloatArray
    conc_b: FloatArray
    response: FloatArray
    unit_a: str
    unit_b: str
    drug_a: tuple[str, ...]
    drug_b: tuple[str, ...]
    plate: tuple[str, ...]
    pair: tuple[str, ...]
    kind: ResponseKind = "viability"
    scale: float = 100.0

    def __post_init__(self) -> None:
        for name in ("conc_a", "conc_b", "response"):
            object.__setattr__(self, name, _readonly(getattr(self, name)))

    # ------------------------------------------------------------------ basics
    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(P, nA, nB, R)``."""
        P, nA, nB, R = self.response.shape
        return (P, nA, nB, R)

    @property
    def n_pairs(self) -> int:
        """Number of pairs ``P``."""
        return int(self.response.shape[0])

    def __len__(self) -> int:
        return self.n_pairs

    def __repr__(self) -> str:
        P, nA, nB, R = self.shape
        return (
            f"DoseMatrix({P} pair(s), up to {nA - 1}×{nB - 1} combination doses + margins, "
            f"≤{R} replicate(s); A in {self.unit_a}, B in {self.unit_b}; {self.kind} / {self.scale:g})"
        )

    def unaffected(self) -> FloatArray:
        """Responses as the fraction unaffected ``fu`` (1 = untreated control, 0 = full effect)."""
        y = self.response / self.scale
        out: FloatArray = y if self.kind == "viability" else 1.0 - y
        return out

    def quantity_a(self, index: int = 0) -> Quantity:
        """Concentrations of A for pair `index` as a Quantity (NaN padding removed)."""
        c = self.conc_a[index]
        return _registry().Quantity(c[np.isfinite(c)], self.unit_a)

    def quantity_b(self, index: int = 0) -> Quantity:
        """Concentrations of B for pair `index` as a Quantity (NaN padding removed)."""
        c = self.conc_b[index]
        return _registry().Quantity(c[np.isfinite(c)], self.unit_b)

    def index(self, pair: int | str) -> int:
        """Position of a pair given by position or label."""
        if isinstance(pair, str):
            try:
                return self.pair.index(pair)
            except ValueError:
                raise LookupError(f"`pair` {pair!r} is not a pair label; known: {list(self.pair)[:10]}.") from None
        i = int(pair)
        if not -self.n_pairs <= i < self.n_pairs:
            raise LookupError(f"`pair` index {i} is out of range for {self.n_pairs} pair(s).")
        return i % self.n_pairs

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_arrays(
        cls,
        conc_a: Any,
        conc_b: Any,
        response: ArrayLike,
        *,
        conc_unit: str | None = None,
        drug_a: str | Sequence[str] = "A",
        drug_b: str | Sequence[str] = "B",
        plate: str | Sequence[str] | None = None,
        pair: str | Sequence[str] | None = None,
        kind: ResponseKind = "viability",
        scale: float = 100.0,
    ) -> DoseMatrix:
        """A matrix from concentration vectors and a response array.

        Parameters
        ----------
        conc_a, conc_b : Quantity, str sequence or array_like, shape (nA,) / (nB,) or (P, nA) / (P, nB)
            Concentrations of A (rows) and B (columns), each including 0 (the
            single-agent margins), strictly increasing or strictly decreasing (e.g.
            ``np.r_[mp.dilution_series(...).m, 0]``, highest first); NaN pads ragged
            designs (after the last dose, with no responses).  Bare arrays need `conc_unit`.
            The matrix is stored with increasing doses: decreasing vectors are reversed
            together with the matching axis of `response`.
        response : array_like, shape (nA, nB), (nA, nB, R) or (P, nA, nB, R)
            Responses; NaN marks a missing well.
        conc_unit : str, optional
            Unit of bare concentration arrays.
        drug_a, drug_b, plate, pair : str or sequence of str, optional
            Labels (one, or one per pair).
        kind, scale
            See :class:`DoseMatrix`.

        Raises
        ------
        UnitError
            A concentration without a unit or not a molar concentration.
        ShapeError
            Shapes that do not match.
        ValueError
            Negative doses, no zero dose (no single-agent margin), fewer than two
            positive doses of a drug, an unsorted or repeated dose vector, a NaN dose
            whose row or column of `response` holds data.
        """
        a, ua = as_concentration(conc_a, conc_unit=conc_unit, name="conc_a", accepts=frozenset({"conc_unit"}))
        b, ub = as_concentration(conc_b, conc_unit=conc_unit, name="conc_b", accepts=frozenset({"conc_unit"}))
        try:
            y = np.array(response, dtype=np.float64, copy=True)
        except (TypeError, ValueError):
            raise TypeError(f"`response` must be numeric; got {type(response).__name__}.") from None
        if y.ndim == 2:
            y = y[None, :, :, None]
        elif y.ndim == 3:
            y = y[None]
        elif y.ndim != 4:
            raise ShapeError(
                f"`response` must have shape (nA, nB), (nA, nB, R) or (P, nA, nB, R); got shape {y.shape}."
            )
        P = y.shape[0]
        a2 = np.broadcast_to(a, (P, a.shape[-1])) if a.ndim == 1 else a
        b2 = np.broadcast_to(b, (P, b.shape[-1])) if b.ndim == 1 else b
        if a2.shape != (P, y.shape[1]):
            raise ShapeError(f"`conc_a` of shape {a.shape} must match `response` axis nA={y.shape[1]} (P={P}).")
        if b2.shape != (P, y.shape[2]):
            raise ShapeError(f"`conc_b` of shape {b.shape} must match `response` axis nB={y.shape[2]} (P={P}).")
        if np.isinf(y).any():
            raise ValueError("`response` must be finite or NaN (missing).")
        a2, y = _increasing(a2, y, axis=1)
        b2, y = _increasing(b2, y, axis=2)
        for name, c, axis in (("conc_a", a2, 1), ("conc_b", b2, 2)):
            _check_nan_doses(name, c, y, axis)
            _check_doses(name, c)
        return cls(
            conc_a=a2,
            conc_b=b2,
            response=y,
            unit_a=_unit_str(ua),
            unit_b=_unit_str(ub),
            drug_a=_labels("drug_a", drug_a, P),
            drug_b=_labels("drug_b", drug_b, P),
            plate=_labels("plate", plate, P) if plate is not None else tuple(f"pair{i}" for i in range(P)),
            pair=_labels("pair", pair, P) if pair is not None else _default_pairs(drug_a, drug_b, P),
            kind=_check_kind(kind),
            scale=_check_scale(scale),
        )

    @classmethod
    def from_table(
        cls,
        table: pd.DataFrame,
        *,
        conc_a: str = "conc_a",
        conc_b: str = "conc_b",
        response: str = "response",
        unit: str | None = None,
        unit_a: str | None = None,
        unit_b: str | None = None,
        drug_a: str | None = None,
        drug_b: str | None = None,
        pair: str | None = None,
        plate: str | None = None,
        kind: ResponseKind = "viability",
        scale: float = 100.0,
    ) -> DoseMatrix:
        """A matrix (or a screen of them) from a tidy table, one row per well or replicate.

        Parameters
        ----------
        table : pandas.DataFrame
            One row per measured well (replicates are repeated rows).
        conc_a, conc_b, response : str
            Column names.  Concentration columns hold numbers (with `unit`, or
            `unit_a`/`unit_b`) or strings such as ``"10 nM"`` (one unit per column).
        unit, unit_a, unit_b : str, optional
            Unit of numeric concentration columns (both, or each).
        drug_a, drug_b, pair, plate : str, optional
            Columns naming the compounds, the pair and the plate.  Without `pair` the
            pairs are the distinct (plate, drug_a, drug_b) groups.  Without `plate`
            every pair is its own plate (single agents are then shared only inside a
            pair, e.g. a drug combined with itself).
        kind, scale
            See :class:`DoseMatrix`.

        Returns
        -------
        DoseMatrix
            Pairs in order of first appearance; doses sorted; wells a design lacks
            (ragged matrices, missing wells) are NaN.

        Raises
        ------
        LookupError
            A named column is missing.
        UnitError
            Numeric concentrations without a unit, or several units in one column.
        ValueError
            Negative doses, a pair without single-agent margins (no zero dose of a
            drug) or with fewer than two positive doses of a drug.

        Examples
        --------
        >>> import pandas as pd
        >>> t = pd.DataFrame({"conc_a": [0, 0, 0, 1, 1, 1, 10, 10, 10],
        ...                   "conc_b": [0, 5, 50] * 3,
        ...                   "response": [100, 90, 60, 85, 70, 40, 50, 35, 15]})
        >>> m = mp.combination.DoseMatrix.from_table(t, unit="nM")
        >>> m.shape
        (1, 3, 3, 1)
        """
        if not isinstance(table, pd.DataFrame):
            raise TypeError(f"`table` must be a pandas DataFrame; got {type(table).__name__}.")
        cols = {"conc_a": conc_a, "conc_b": conc_b, "response": response}
        for arg, col in (("drug_a", drug_a), ("drug_b", drug_b), ("pair", pair), ("plate", plate)):
            if col is not None:
                cols[arg] = col
        for arg, col in cols.items():
            if col not in table.columns:
                raise LookupError(f"`{arg}` names column {col!r}, which `table` lacks; columns: {list(table.columns)}.")
        if unit is not None and (unit_a is not None or unit_b is not None):
            raise UnitError("Pass either `unit` (both drugs) or `unit_a`/`unit_b`, not both.")
        a, ua = _column_conc(table[conc_a], unit_a or unit, arg="conc_a", col=conc_a)
        b, ub = _column_conc(table[conc_b], unit_b or unit, arg="conc_b", col=conc_b)
        try:
            y = pd.to_numeric(table[response], errors="raise").to_numpy(dtype=np.float64, copy=True)
        except (TypeError, ValueError):
            raise TypeError(f"`response` column {response!r} must be numeric.") from None
        if np.isinf(y).any():
            raise ValueError(f"`response` column {response!r} must be finite or NaN (missing).")
        for arg, c, col in (("conc_a", a, conc_a), ("conc_b", b, conc_b)):
            bad = ~np.isfinite(c) | (c < 0)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(
                    f"`{arg}` (column {col!r}) must be finite and non-negative doses; got {c[i]!r} at row {i}."
                )

        def labels(arg: str, default: str) -> Any:
            if arg in cols:
                return table[cols[arg]].astype(str).to_numpy()
            return np.full(len(table), default, dtype=object)

        da, db, pl = labels("drug_a", "A"), labels("drug_b", "B"), labels("plate", "")
        if "pair" in cols:
            pair_key = table[cols["pair"]].astype(str).to_numpy()
        else:
            label = pd.Series(da, dtype=str) + " x " + pd.Series(db, dtype=str)
            pl_s = pd.Series(pl, dtype=str)
            pair_key = label.where(pl_s == "", label + " @ " + pl_s).to_numpy()
        codes, uniques = pd.factorize(pair_key, sort=False)
        P = len(uniques)
        if P == 0:
            raise ValueError("`table` has no rows.")
        # one drug per role and one plate per pair
        first = np.zeros(P, dtype=np.int64)
        first[codes[::-1]] = np.arange(len(codes))[::-1]
        for arg, lab in (("drug_a", da), ("drug_b", db), ("plate", pl)):
            if arg in cols:
                mism = lab != lab[first[codes]]
                if mism.any():
                    i = int(np.flatnonzero(mism)[0])
                    raise ValueError(
                        f"`{arg}` (column {cols[arg]!r}) must be constant within a pair; pair "
                        f"{uniques[codes[i]]!r} has {lab[first[codes[i]]]!r} and {lab[i]!r}."
                    )
        frame = pd.DataFrame({"p": codes, "a": a, "b": b})
        ia = frame.groupby("p")["a"].rank(method="dense").to_numpy(dtype=np.int64) - 1
        ib = frame.groupby("p")["b"].rank(method="dense").to_numpy(dtype=np.int64) - 1
        frame["ia"], frame["ib"] = ia, ib
        rep = frame.groupby(["p", "ia", "ib"]).cumcount().to_numpy(dtype=np.int64)
        nA, nB, R = int(ia.max()) + 1, int(ib.max()) + 1, int(rep.max()) + 1
        ca = np.full((P, nA), np.nan)
        cb = np.full((P, nB), np.nan)
        ca[codes, ia] = a
        cb[codes, ib] = b
        Y = np.full((P, nA, nB, R), np.nan)
        Y[codes, ia, ib, rep] = y
        plates = tuple(str(p) for p in pl[first]) if "plate" in cols else tuple(f"pair{i}" for i in range(P))
        _check_doses("conc_a", ca, labels=tuple(str(u) for u in uniques))
        _check_doses("conc_b", cb, labels=tuple(str(u) for u in uniques))
        return cls(
            conc_a=ca,
            conc_b=cb,
            response=Y,
            unit_a=_unit_str(ua),
            unit_b=_unit_str(ub),
            drug_a=tuple(str(x) for x in da[first]),
            drug_b=tuple(str(x) for x in db[first]),
            plate=plates,
            pair=tuple(str(u) for u in uniques),
            kind=_check_kind(kind),
            scale=_check_scale(scale),
        )

    @classmethod
    def from_plate(
        cls,
        table: pd.DataFrame,
        *,
        response: str,
        kind: ResponseKind = "viability",
        scale: float = 100.0,
    ) -> DoseMatrix:
        """Checkerboards from tidy plate tables whose layout has combination wells.

        Read the layout with :func:`mtor_pharm.combination.read_layout`, join the readings
        with :func:`mtor_pharm.assays.tidy_plate` (concatenate several plates if you like),
        normalize into a `response` column, and pass the table here.  Each distinct
        (plate, compound, compound_b) of the combination wells is a pair; the single-agent
        wells of its compounds and the vehicle wells of its plate are its margins (a
        vehicle or single-agent well serves every pair on its plate that needs it).

        Parameters
        ----------
        table : pandas.DataFrame
            Columns ``plate, role, compound, conc, conc_unit, compound_b, conc_b`` and `response`.
        response : str
            The column holding the (normalized) response.
        kind, scale
            See :class:`DoseMatrix`.

        Examples
        --------
        >>> import io
        >>> text = "well,role,compound,conc,compound_b,conc_b\\n" + "\\n".join(
        ...     [f"A{i + 1},sample,T,{c},,"  for i, c in enumerate([1, 10])]
        ...     + [f"B{i + 1},sample,P,{c},,"  for i, c in enumerate([5, 50])]
        ...     + [f"C{3 * i + j + 1},sample,T,{a},P,{b}" for i, a in enumerate([1, 10]) for j, b in enumerate([5, 50])]
        ...     + ["H12,vehicle,,0,,"])
        >>> lay = mp.combination.read_layout(io.StringIO(text), conc_unit="nM")
        >>> tab = mp.assays.tidy_plate(lay, {"viability": np.full((8, 12), 80.0)})
        >>> m = mp.combination.DoseMatrix.from_plate(tab, response="viability")
        >>> m.pair, m.shape
        (('T x P',), (1, 3, 3, 1))
        """
        from ._plate import checkerboard_table

        if not isinstance(table, pd.DataFrame):
            raise TypeError(f"`table` must be a pandas DataFrame; got {type(table).__name__}.")
        t = checkerboard_table(table, response)
        return cls.from_table(
            t,
            response="response",
            unit=t.attrs["conc_unit"],
            drug_a="drug_a",
            drug_b="drug_b",
            pair="pair",
            plate="plate",
            kind=kind,
            scale=scale,
        )

    @classmethod
    def from_dataarray(
        cls,
        data: Any,
        *,
        dim_a: str,
        dim_b: str,
        replicate_dim: str | None = None,
        pair_dim: str | None = None,
        unit_a: str | None = None,
        unit_b: str | None = None,
        drug_a: str | Sequence[str] = "A",
        drug_b: str | Sequence[str] = "B",
        plate: str | Sequence[str] | None = None,
        kind: ResponseKind = "viability",
        scale: float = 100.0,
    ) -> DoseMatrix:
        """A matrix from an ``xarray.DataArray`` with two concentration dimensions.

        Parameters
        ----------
        data : xarray.DataArray
            Responses with dimensions `dim_a`, `dim_b` (whose coordinates are the
            concentrations, with a ``units`` attribute unless `unit_a`/`unit_b` is given)
            and optionally `replicate_dim` and `pair_dim`.
        dim_a, dim_b, replicate_dim, pair_dim : str
            Dimension names.  The pair labels are the `pair_dim` coordinate.
        unit_a, unit_b : str, optional
            Units of the concentration coordinates (override their ``units`` attribute).
        drug_a, drug_b, plate, kind, scale
            See :meth:`from_arrays`.

        Examples
        --------
        >>> import xarray as xr
        >>> da = xr.DataArray([[100, 80, 50], [90, 70, 40], [60, 45, 20]], dims=("torki", "pi3ki"),
        ...                   coords={"torki": ("torki", [0, 10, 100], {"units": "nM"}),
        ...                           "pi3ki": ("pi3ki", [0, 0.1, 1], {"units": "uM"})})
        >>> mp.combination.DoseMatrix.from_dataarray(da, dim_a="torki", dim_b="pi3ki").shape
        (1, 3, 3, 1)
        """
        import xarray as xr

        if not isinstance(data, xr.DataArray):
            raise TypeError(f"`data` must be an xarray.DataArray; got {type(data).__name__}.")
        dims = [dim_a, dim_b]
        for arg, d in (("dim_a", dim_a), ("dim_b", dim_b), ("replicate_dim", replicate_dim), ("pair_dim", pair_dim)):
            if d is not None and d not in data.dims:
                raise LookupError(f"`{arg}` {d!r} is not a dimension of `data`; dims: {list(data.dims)}.")
        order = ([pair_dim] if pair_dim else []) + dims + ([replicate_dim] if replicate_dim else [])
        extra = [d for d in data.dims if d not in order]
        if extra:
            raise ShapeError(f"`data` has dimensions {extra} that are not named; pass `replicate_dim` or `pair_dim`.")
        arr = np.asarray(data.transpose(*order).values, dtype=np.float64)
        if not pair_dim:
            arr = arr[None]
        if not replicate_dim:
            arr = arr[..., None]

        def coord(d: str, u: str | None, arg: str) -> Any:
            if d not in data.coords:
                raise LookupError(f"`{arg}` {d!r} needs a coordinate holding the concentrations.")
            c = data.coords[d]
            unit = u if u is not None else c.attrs.get("units")
            if unit is None:
                raise UnitError(f"`{arg}` coordinate {d!r} has no 'units' attribute; pass unit_{arg[-1]}= (e.g. 'uM').")
            return _registry().Quantity(np.asarray(c.values, dtype=np.float64), str(unit))

        qa, qb = coord(dim_a, unit_a, "dim_a"), coord(dim_b, unit_b, "dim_b")
        ia, ib = np.argsort(qa.magnitude, kind="stable"), np.argsort(qb.magnitude, kind="stable")
        arr = arr[:, ia][:, :, ib]
        pairs = (
            tuple(str(v) for v in data.coords[pair_dim].values)
            if pair_dim is not None and pair_dim in data.coords
            else None
        )
        return cls.from_arrays(
            qa[ia],
            qb[ib],
            arr,
            drug_a=drug_a,
            drug_b=drug_b,
            plate=plate,
            pair=pairs,
            kind=kind,
            scale=scale,
        )


def display_pair(matrix: DoseMatrix, p: int) -> str:
    """How figures and summaries name pair `p`: ``"Torin1 × trametinib"``, with the plate only when the
    screen has several plates (``"Torin1 × trametinib (plate P1)"``); a label the user gave is kept."""
    a, b, plate, label = matrix.drug_a[p], matrix.drug_b[p], matrix.plate[p], matrix.pair[p]
    default = f"{a} x {b}"
    if not label.startswith(default):
        return label
    rest = label[len(default) :]
    if rest == f" @ {plate}":
        rest = f" (plate {plate})" if len(set(matrix.plate)) > 1 else ""
    return f"{a} × {b}{rest}"


def _check_kind(kind: Any) -> ResponseKind:
    if kind not in ("viability", "inhibition"):
        raise ValueError(f"`kind` must be 'viability' or 'inhibition'; got {kind!r}.")
    out: ResponseKind = kind
    return out


def _check_scale(scale: Any) -> float:
    try:
        s = float(scale)
    except (TypeError, ValueError):
        raise TypeError(f"`scale` must be a positive number; got {scale!r}.") from None
    if not (np.isfinite(s) and s > 0):
        raise ValueError(f"`scale` must be a positive number (100 for percent, 1 for fractions); got {scale!r}.")
    return s


def _labels(arg: str, value: str | Sequence[str], P: int) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) * P
    out = tuple(str(v) for v in value)
    if len(out) != P:
        raise ShapeError(f"`{arg}` must be one label or {P} labels (one per pair); got {len(out)}.")
    return out


def _default_pairs(drug_a: str | Sequence[str], drug_b: str | Sequence[str], P: int) -> tuple[str, ...]:
    da, db = _labels("drug_a", drug_a, P), _labels("drug_b", drug_b, P)
    names = tuple(f"{x} x {y}" for x, y in zip(da, db, strict=True))
    if len(set(names)) < P:
        names = tuple(f"{n} #{i}" for i, n in enumerate(names))
    return names


def _column_conc(series: pd.Series, unit: str | None, *, arg: str, col: str) -> tuple[FloatArray, Any]:
    """Numeric magnitudes and the unit of a concentration column (one unit per column)."""
    values = series.to_numpy()
    if values.dtype.kind in "biuf":
        if unit is None:
            raise UnitError(
                f"`{arg}` column {col!r} holds bare numbers; name their unit with unit= (or unit_a=/unit_b=), "
                "e.g. unit='uM', or store strings such as '10 uM'."
            )
        mags, u = as_concentration(values.astype(np.float64), conc_unit=unit, name=arg, accepts=frozenset())
        return mags, u
    if unit is not None:
        raise UnitError(f"`{arg}` column {col!r} holds strings with units; drop unit=/unit_{arg[-1]}=.")
    registry = _registry()
    units: dict[str, int] = {}
    codes, uniques = pd.factorize(pd.Series(values).astype(str), sort=False)  # parse each distinct string once
    parsed = np.empty(len(uniques))
    for k, v in enumerate(uniques):
        i = int(np.flatnonzero(codes == k)[0])
        try:
            q = registry.Quantity(str(v))
        except Exception:  # pint raises several unrelated types for bad strings
            raise UnitError(
                f"`{arg}` column {col!r} must hold concentrations such as '10 uM'; got {v!r} at row {i}."
            ) from None
        if not isinstance(q, pint.Quantity) or q.dimensionless:
            raise UnitError(f"`{arg}` column {col!r} must carry a unit at row {i}; got {v!r}.")
        units.setdefault(f"{q.units:~}", i)
        parsed[k] = float(q.magnitude)
    mags = parsed[codes]
    if len(units) > 1:
        raise UnitError(
            f"`{arg}` column {col!r} mixes units {list(units)}; convert the column to one unit first "
            "(mixed units are refused so that no dose is silently rescaled)."
        )
    (u_str,) = units
    mags2, u = as_concentration(mags, conc_unit=u_str, name=arg, accepts=frozenset())
    return mags2, u


def _increasing(c: FloatArray, y: FloatArray, *, axis: int) -> tuple[FloatArray, FloatArray]:
    """Reverse the finite doses of each pair given strictly decreasing (highest first), and the
    matching `axis` of the response with them; other pairs (NaN padding after the doses) are kept."""
    finite = np.isfinite(c)
    n = finite.sum(axis=1)
    prefix = finite == (np.arange(c.shape[1])[None, :] < n[:, None])  # NaN only after the doses
    with np.errstate(invalid="ignore"):
        step = np.diff(c, axis=1)
        pair_ok = finite[:, 1:] & finite[:, :-1]
        decreasing = prefix.all(axis=1) & (n >= 2) & np.where(pair_ok, step < 0, True).all(axis=1)
    if not decreasing.any():
        return c, y
    k = np.arange(c.shape[1])[None, :]
    order = np.where(decreasing[:, None] & (k < n[:, None]), n[:, None] - 1 - k, k)
    c_out = np.take_along_axis(c, order, axis=1)
    shape = [order.shape[0], 1, 1, 1]
    shape[axis] = order.shape[1]
    y_out = np.take_along_axis(y, order.reshape(shape), axis=axis)
    return c_out, y_out


def _check_nan_doses(name: str, c: FloatArray, y: FloatArray, axis: int) -> None:
    """A NaN dose may pad a ragged design only: its row (or column) of responses must be all NaN."""
    other = tuple(ax for ax in (1, 2, 3) if ax != axis)
    has_data = np.isfinite(y).any(axis=other)  # (P, n) along `axis`
    bad = np.isnan(c) & has_data
    if bad.any():
        p, i = (int(v) for v in np.argwhere(bad)[0])
        raise ValueError(
            f"`{name}` must be a dose wherever `response` has data; got nan at position {i} (pair {p}), "
            "whose responses are not all NaN. NaN only pads a ragged design after the last dose."
        )


def _check_doses(name: str, c: FloatArray, labels: tuple[str, ...] | None = None) -> None:
    """Every pair's doses: non-negative, ascending, a zero dose first, ≥ 2 positive doses."""
    finite = np.isfinite(c)
    if (finite & (c < 0)).any():
        p, i = np.argwhere(finite & (c < 0))[0]
        raise ValueError(f"`{name}` must be non-negative doses; got {c[p, i]!r} (pair {p}).")

    def where(p: int) -> str:
        return f"pair {labels[p]!r}" if labels else f"pair {p}"

    # NaN padding only at the end
    pad_ok = np.all(np.diff(finite.astype(np.int8), axis=1) <= 0, axis=1)
    if not pad_ok.all():
        p = int(np.flatnonzero(~pad_ok)[0])
        raise ValueError(f"`{name}` must be NaN only as padding after the last dose ({where(p)}).")
    with np.errstate(invalid="ignore"):
        inc = np.where(finite[:, 1:] & finite[:, :-1], np.diff(c, axis=1) > 0, True)
    if not inc.all():
        p = int(np.flatnonzero(~inc.all(axis=1))[0])
        raise ValueError(
            f"`{name}` must be strictly increasing (or strictly decreasing) doses ({where(p)}): got "
            f"{c[p][finite[p]].tolist()}."
        )
    no_zero = ~(finite[:, 0] & (c[:, 0] == 0))
    if no_zero.any():
        p = int(np.flatnonzero(no_zero)[0])
        raise ValueError(
            f"`{name}` must include dose 0 for the single-agent margin of the other drug; {where(p)} has "
            f"doses {c[p][finite[p]].tolist()}. A matrix without single-agent margins cannot be scored: "
            "add the single-agent row/column."
        )
    n_pos = (finite & (c > 0)).sum(axis=1)
    few = n_pos < 2
    if few.any():
        p = int(np.flatnonzero(few)[0])
        raise ValueError(
            f"`{name}` must have at least two positive doses per pair (one concentration per drug cannot "
            f"define a single-agent curve); {where(p)} has {int(n_pos[p])}."
        )
