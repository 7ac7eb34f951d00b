"""Synergy scores for one pair or a screen: HSA, Bliss, Loewe, ZIP and the combination index."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .._tables import p_text
from .._typing import BoolArray, FloatArray, IntArray
from ..errors import UnitError
from ..fitting import FitResult, FitStatus, fit
from ..units import _registry
from . import _reference as ref
from ._matrix import DoseMatrix, display_pair

__all__ = [
    "MODELS",
    "STATUS_MESSAGES",
    "CombinationIndex",
    "ModelName",
    "Score",
    "SynergyResult",
    "SynergyStatus",
    "score",
]

#: Reference models scored by :func:`score`.
ModelName: TypeAlias = Literal["hsa", "bliss", "loewe", "zip"]
MODELS: tuple[ModelName, ...] = ("hsa", "bliss", "loewe", "zip")


class SynergyStatus(enum.IntFlag):
    """Per-pair, per-model outcome bits; ``OK`` (0) is a clean score.

    Examples
    --------
    >>> mp.combination.SynergyStatus(8)
    <SynergyStatus.BEYOND_SINGLE_MAX: 8>
    """

    OK = 0
    SINGLE_AGENT_UNDETERMINED = 1
    TOO_FEW_WELLS = 2
    NO_REPLICATES = 4
    BEYOND_SINGLE_MAX = 8
    NO_CONSTANT_RATIO = 16
    LEVEL_EXTRAPOLATED = 32
    FIT_NOT_CONVERGED = 64
    SINGLE_AGENT_INACTIVE = 128


#: One sentence per status bit.
STATUS_MESSAGES: Mapping[SynergyStatus, str] = MappingProxyType(
    {
        SynergyStatus.OK: "Scored from determined single agents with replicate-based uncertainty.",
        SynergyStatus.SINGLE_AGENT_UNDETERMINED: "A single-agent curve did not converge or had too few points; "
        "the reference surface is NaN.",
        SynergyStatus.TOO_FEW_WELLS: "Fewer than one finite combination well (summary NaN) or fewer than two "
        "(no standard error).",
        SynergyStatus.NO_REPLICATES: "No replicate wells: the observation variance is the single-agent fits' "
        "residual variance (model-based).",
        SynergyStatus.BEYOND_SINGLE_MAX: "Loewe: at some wells the stronger agent alone exceeds the weaker agent's "
        "maximal effect, so no Loewe-additive dose pair exists; the reference there is the stronger agent (HSA) "
        "and the wells are marked in Score.beyond.",
        SynergyStatus.NO_CONSTANT_RATIO: "Combination index at effect levels: the matrix diagonal is not a "
        "constant-ratio series; CI at levels is NaN (per-well CI is still given).",
        SynergyStatus.LEVEL_EXTRAPOLATED: "Combination index: an effect level lies outside the observed effects "
        "of the constant-ratio series (extrapolated by the median-effect line).",
        SynergyStatus.FIT_NOT_CONVERGED: "ZIP: a row or column fit failed; its fitted values are the observed "
        "well means there (the delta score is the Bliss excess at those wells).",
        SynergyStatus.SINGLE_AGENT_INACTIVE: "A single agent shows no falling dose-response (flat or rising); it "
        "is used as its flat or fitted curve, and Loewe treats it as inactive.",
    }
)

_UNDETERMINED = FitStatus.NOT_CONVERGED | FitStatus.TOO_FEW_POINTS


def _ro(a: Any, dtype: Any = np.float64) -> NDArray[Any]:
    out = np.array(a, dtype=dtype, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Score:
    """One reference model's scores for every pair.

    Attributes
    ----------
    model : {"hsa", "bliss", "loewe", "zip"}
    excess : ndarray, shape (P, nA, nB)
        Per-well excess over the reference in percentage points of the control
        response (``100·(fu_reference − fu_observed)``); positive = synergy.  For ZIP
        this is the delta score.  NaN on the single-agent margins (no combination
        there) and at missing wells.
    reference : ndarray, shape (P, nA, nB)
        The reference (no-interaction) response as fraction unaffected ×100 (ZIP: the
        Bliss surface of the fitted single agents).
    mean : ndarray, shape (P,)
        Mean excess over the combination wells (SynergyFinder's summary score).
    region : ndarray, shape (P,)
        Largest mean excess over a 3×3 window of combination wells (SynergyFinder's
        most synergistic area; smaller windows for smaller matrices).
    se, ci_low, ci_high, pvalue : ndarray, shape (P,)
        Delta-method standard error of `mean`, its confidence interval at `level`
        and the two-sided p-value of ``mean = 0`` (additivity); see Notes of :func:`score`.
    dof : ndarray, shape (P,)
        Degrees of freedom of the t reference distribution.
    beyond : ndarray of bool, shape (P, nA, nB)
        Loewe only (False elsewhere): wells beyond the weaker agent's maximal effect.
    status : ndarray of uint8, shape (P,)
        :class:`SynergyStatus` bits.
    level : float
        Confidence level of the interval.
    """

    model: ModelName
    excess: FloatArray
    reference: FloatArray
    mean: FloatArray
    region: FloatArray
    se: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    pvalue: FloatArray
    dof: FloatArray
    beyond: BoolArray
    status: NDArray[np.uint8]
    level: float

    def __post_init__(self) -> None:
        for name in ("excess", "reference", "mean", "region", "se", "ci_low", "ci_high", "pvalue", "dof"):
            object.__setattr__(self, name, _ro(getattr(self, name)))
        object.__setattr__(self, "beyond", _ro(self.beyond, np.bool_))
        object.__setattr__(self, "status", _ro(self.status, np.uint8))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CombinationIndex:
    """Chou–Talalay combination index from median-effect single-agent fits.

    Attributes
    ----------
    per_well : ndarray, shape (P, nA, nB)
        ``a/Dx_A(fa) + b/Dx_B(fa)`` at each combination well's observed fraction
        affected ``fa`` (< 1 synergy, 1 additive, > 1 antagonism).  NaN on the margins
        and where the observed ``fa`` is not strictly between 0 and 1 (the median-effect
        dose is undefined there).
    levels : ndarray, shape (L,)
        Effect levels (fraction affected).
    ci : ndarray, shape (P, L)
        CI at each level along the matrix diagonal (a constant-ratio series).
    dri_a, dri_b : ndarray, shape (P, L)
        Dose-reduction indices ``Dx_A / d_A`` and ``Dx_B / d_B``.
    dose_a, dose_b : ndarray, shape (P, L)
        Doses of A and B in the combination giving each level (in the matrix units).
    dx_a, dx_b : ndarray, shape (P, L)
        Single-agent doses giving each level.
    dm_a, m_a, dm_b, m_b, dm_combo, m_combo, r_combo : ndarray, shape (P,)
        Median-effect parameters (``Dm`` in the matrix units) and the combination's
        linear correlation coefficient.
    status : ndarray of uint8, shape (P,)
        :class:`SynergyStatus` bits.
    """

    per_well: FloatArray
    levels: FloatArray
    ci: FloatArray
    dri_a: FloatArray
    dri_b: FloatArray
    dose_a: FloatArray
    dose_b: FloatArray
    dx_a: FloatArray
    dx_b: FloatArray
    dm_a: FloatArray
    m_a: FloatArray
    dm_b: FloatArray
    m_b: FloatArray
    dm_combo: FloatArray
    m_combo: FloatArray
    r_combo: FloatArray
    status: NDArray[np.uint8]

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            if name != "status":
                object.__setattr__(self, name, _ro(getattr(self, name)))
        object.__setattr__(self, "status", _ro(self.status, np.uint8))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SynergyResult:
    """Everything :func:`score` computed for a matrix or a screen.

    Attributes
    ----------
    matrix : DoseMatrix
        The input.
    single : FitResult
        4PL fits of the distinct single agents (batch shape ``(n_agents,)``), in the
        fraction-unaffected scale (1 = control) and in `matrix.unit_a`.
    agents : tuple of (str, str)
        ``(plate, drug)`` of each single agent.
    agent_a, agent_b : ndarray of int, shape (P,)
        Which single agent is A and B of each pair.
    scores : mapping of str to Score
        One :class:`Score` per model requested.
    ci : CombinationIndex or None
        The combination index, when requested.
    """

    matrix: DoseMatrix
    single: FitResult
    agents: tuple[tuple[str, str], ...]
    agent_a: IntArray
    agent_b: IntArray
    scores: Mapping[str, Score]
    ci: CombinationIndex | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "agent_a", _ro(self.agent_a, np.int64))
        object.__setattr__(self, "agent_b", _ro(self.agent_b, np.int64))
        object.__setattr__(self, "scores", MappingProxyType(dict(self.scores)))

    def __getitem__(self, model: str) -> Score:
        try:
            return self.scores[model]
        except KeyError:
            raise LookupError(f"model {model!r} was not scored; scored: {list(self.scores)}.") from None

    def __repr__(self) -> str:
        return (
            f"SynergyResult({self.matrix.n_pairs} pair(s); models {list(self.scores)}; CI: {self.ci is not None}"
            f"{_ci_nan_text(self.ci)})"
        )

    def ci_status(self) -> list[str]:
        """The combination index's status of each pair in words (``"OK"``, ``"NO_CONSTANT_RATIO"``, …).

        ``"not computed"`` when the result was scored without levels.  The sentence of
        each bit is in :data:`STATUS_MESSAGES`.

        Examples
        --------
        >>> conc = mp.Q_([0, 3, 10, 30, 100], "nM")             # 3.33, 3, 3.33: not a constant ratio
        >>> m = mp.combination.DoseMatrix.from_arrays(
        ...     conc, mp.Q_([0, 1, 3, 10, 30], "nM"),
        ...     100 / (1 + np.add.outer([0, 3, 10, 30, 100], [0, 1, 3, 10, 30]) / 20))
        >>> mp.combination.score(m, models=("bliss",)).ci_status()
        ['NO_CONSTANT_RATIO']
        """
        if self.ci is None:
            return ["not computed"] * self.matrix.n_pairs
        return [_status_name(int(v)) for v in self.ci.status]

    def summary(self) -> str:
        """A printable report: per pair, each model's mean excess with its interval and p-value, and the CI.

        p-values are shown as journals and Prism print them (``p = 0.0123``,
        ``p < 0.0001``); :meth:`to_dataframe` keeps them at full precision.  The
        combination index at the scored levels is given, or why it is NaN (e.g. no
        constant-ratio diagonal).

        Examples
        --------
        >>> conc = mp.Q_([0, 0.1, 0.3, 1, 3], "uM")
        >>> m = mp.combination.DoseMatrix.from_arrays(
        ...     conc, conc, 100 / (1 + np.add.outer(conc.m, conc.m) / 0.5), drug_a="Torin1", drug_b="trametinib")
        >>> print(mp.combination.score(m, models=("loewe",), levels=(0.5,)).summary().splitlines()[1])
        Torin1 × trametinib
        """
        pct = f"{100 * next(iter(self.scores.values())).level:g} %" if self.scores else ""
        lines = [f"Synergy scores of {self.matrix.n_pairs} pair(s) (excess in percentage points; > 0 synergy)"]
        ci_words = self.ci_status()
        for p in range(self.matrix.n_pairs):
            lines.append(display_pair(self.matrix, p))
            for name, sc in self.scores.items():
                lines.append(
                    f"  {MODEL_NAMES[name]:<6} mean {sc.mean[p]:.3g} ({pct} CI {sc.ci_low[p]:.3g} to "
                    f"{sc.ci_high[p]:.3g}), {p_text(float(sc.pvalue[p]))}; region {sc.region[p]:.3g}; "
                    f"status {_status_name(int(sc.status[p]))}"
                )
            if self.ci is not None:
                at = ", ".join(f"{v:g}" for v in self.ci.levels)
                values = ", ".join(f"{v:.3g}" if np.isfinite(v) else "NaN" for v in self.ci.ci[p])
                words = ci_words[p]
                why = ""
                if not np.isfinite(self.ci.ci[p]).any() and int(self.ci.status[p]):
                    why = " — " + " ".join(
                        STATUS_MESSAGES[f] for f in SynergyStatus if f and int(self.ci.status[p]) & f
                    )
                lines.append(f"  CI at fa = {at}: {values}; status {words}{why}")
        return "\n".join(lines)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per pair and model: mean, region, se, interval, p-value, status and the CI's status.

        ``ci_status`` is the combination index's status of the pair (the same on each
        of its rows; ``"not computed"`` without levels): ``NO_CONSTANT_RATIO`` says
        that the CI at the effect levels is NaN because the matrix diagonal is not a
        constant-ratio series.  Numbers are at full precision (print them with
        :meth:`summary`).

        Examples
        --------
        >>> m = mp.combination.DoseMatrix.from_arrays(
        ...     mp.Q_([0, 0.1, 0.3, 1, 3], "uM"), mp.Q_([0, 0.1, 0.3, 1, 3], "uM"),
        ...     100 / (1 + np.add.outer([0, 0.1, 0.3, 1, 3], [0, 0.1, 0.3, 1, 3]) / 0.5))
        >>> res = mp.combination.score(m, models=("loewe",), levels=())
        >>> df = res.to_dataframe()
        >>> list(df.columns[:4]), abs(float(df["mean"].iloc[0])) < 1e-4
        (['pair', 'drug_a', 'drug_b', 'model'], True)
        """
        P = self.matrix.n_pairs
        frames = []
        for name, s in self.scores.items():
            frames.append(
                pd.DataFrame(
                    {
                        "pair": list(self.matrix.pair),
                        "drug_a": list(self.matrix.drug_a),
                        "drug_b": list(self.matrix.drug_b),
                        "model": [name] * P,
                        "mean": s.mean,
                        "region": s.region,
                        "se": s.se,
                        "ci_low": s.ci_low,
                        "ci_high": s.ci_high,
                        "pvalue": s.pvalue,
                        "status": [_status_name(int(v)) for v in s.status],
                        "ci_status": self.ci_status(),
                    }
                )
            )
        if not frames:  # models=() (the combination index only): the table has its columns and no rows
            columns = ["pair", "drug_a", "drug_b", "model", "mean", "region", "se", "ci_low", "ci_high", "pvalue",
                       "status", "ci_status"]
            return pd.DataFrame({c: pd.Series(dtype=object if c in _TEXT_COLUMNS else float) for c in columns})
        return pd.concat(frames, ignore_index=True)


_TEXT_COLUMNS = frozenset({"pair", "drug_a", "drug_b", "model", "status", "ci_status"})


def _status_name(code: int) -> str:
    if code == 0:
        return "OK"
    return "|".join(f.name or "" for f in SynergyStatus if f and code & f)


#: How figures and summaries name the models.
MODEL_NAMES: Mapping[str, str] = MappingProxyType({"hsa": "HSA", "bliss": "Bliss", "loewe": "Loewe", "zip": "ZIP"})


def _ci_nan_text(ci: CombinationIndex | None) -> str:
    """For a repr: how many pairs have no CI at the levels because the diagonal is not a constant ratio."""
    if ci is None:
        return ""
    k = int(np.count_nonzero(ci.status & np.uint8(SynergyStatus.NO_CONSTANT_RATIO)))
    if not k:
        return ""
    return f" (NaN at levels for {k} of {ci.status.size} pair(s): NO_CONSTANT_RATIO, no constant-ratio diagonal)"


# ---------------------------------------------------------------------------- single agents
@dataclass(frozen=True, slots=True)
class _Agents:
    fit: FitResult
    keys: tuple[tuple[str, str], ...]
    idx_a: IntArray
    idx_b: IntArray
    factor_b: float  # unit_b -> unit_a
    x: FloatArray  # (n_agents, n) pooled margin doses (unit_a)
    y: FloatArray  # (n_agents, n) fraction unaffected
    curve: ref.Curve  # usable curves (flat agents as constants), (n_agents,)
    cov: FloatArray  # (n_agents, 4, 4), zero where the agent is flat
    undetermined: BoolArray
    inactive: BoolArray


def _pool_margins(matrix: DoseMatrix, u: FloatArray) -> tuple[Any, ...]:
    """Pool every pair's margins into one curve per (plate, drug)."""
    P, nA, nB, R = u.shape
    keys_a = list(zip(matrix.plate, matrix.drug_a, strict=True))
    keys_b = list(zip(matrix.plate, matrix.drug_b, strict=True))
    codes, uniq = pd.factorize(pd.Series([f"{p}\x00{d}" for p, d in keys_a + keys_b]), sort=False)
    idx_a, idx_b = codes[:P].astype(np.int64), codes[P:].astype(np.int64)
    keys = tuple((str(k).split("\x00")[0], str(k).split("\x00")[1]) for k in uniq)
    factor_b = float(_registry().Quantity(1.0, matrix.unit_b).to(matrix.unit_a).magnitude)
    L = max(nA, nB) * R
    X = np.full((2 * P, L), np.nan)
    Y = np.full((2 * P, L), np.nan)
    X[:P, : nA * R] = np.repeat(matrix.conc_a, R, axis=1)
    Y[:P, : nA * R] = u[:, :, 0, :].reshape(P, nA * R)
    yb = u[:, 0, :, :].copy()
    # a drug combined with itself: the vehicle well is already in A's margin
    yb[idx_a == idx_b, 0, :] = np.nan
    X[P:, : nB * R] = np.repeat(matrix.conc_b * factor_b, R, axis=1)
    Y[P:, : nB * R] = yb.reshape(P, nB * R)
    X = np.where(np.isnan(Y), np.nan, X)  # padding: conc NaN where the response is missing
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    n_agents = len(keys)
    counts = np.bincount(codes, minlength=n_agents)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(2 * P) - starts[sorted_codes]
    kmax = int(counts.max())
    Xc = np.full((n_agents, kmax, L), np.nan)
    Yc = np.full((n_agents, kmax, L), np.nan)
    Xc[sorted_codes, rank] = X[order]
    Yc[sorted_codes, rank] = Y[order]
    return keys, idx_a, idx_b, factor_b, Xc.reshape(n_agents, kmax * L), Yc.reshape(n_agents, kmax * L)


def _single_agent_points(
    table: pd.DataFrame, matrix: DoseMatrix, keys: tuple[tuple[str, str], ...]
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Rows of a separate single-agent table as (agent index, dose in unit_a, fraction unaffected)."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"`single_agents` must be a pandas DataFrame; got {type(table).__name__}.")
    missing = [c for c in ("drug", "conc", "response") if c not in table.columns]
    if missing:
        raise LookupError(
            f"`single_agents` must have columns 'drug', 'conc', 'response' (and optionally 'conc_unit', "
            f"'plate'); it lacks {missing}."
        )
    registry = _registry()
    text = table["conc"].astype(str)
    if "conc_unit" in table.columns:
        text = text + " " + table["conc_unit"].astype(str)
    codes, uniques = pd.factorize(text, sort=False)  # parse each distinct dose once
    parsed = np.empty(len(uniques))
    for k, v in enumerate(uniques):
        try:
            parsed[k] = float(registry.Quantity(str(v)).to(matrix.unit_a).magnitude)
        except Exception:  # pint raises several unrelated types for bad strings and units
            i = int(np.flatnonzero(codes == k)[0])
            raise UnitError(
                f"`single_agents` row {i}: conc must be a molar concentration such as '10 nM' (or a number with a "
                f"'conc_unit' column); got {v!r}."
            ) from None
    conc = parsed[codes]
    if (~np.isfinite(conc) | (conc < 0)).any():
        i = int(np.flatnonzero(~np.isfinite(conc) | (conc < 0))[0])
        raise ValueError(f"`single_agents` concentrations must be finite and non-negative; got {conc[i]!r} at row {i}.")
    try:
        resp = pd.to_numeric(table["response"], errors="raise").to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError("`single_agents` column 'response' must be numeric.") from None
    y = resp / matrix.scale
    fu_ = y if matrix.kind == "viability" else 1.0 - y
    agents = pd.DataFrame({"plate": [k[0] for k in keys], "drug": [k[1] for k in keys], "agent": np.arange(len(keys))})
    rows = pd.DataFrame({"drug": table["drug"].astype(str).to_numpy(), "row": np.arange(len(table))})
    on = ["drug"]
    if "plate" in table.columns:
        rows["plate"] = table["plate"].astype(str).to_numpy()
        on = ["plate", "drug"]
    joined = rows.merge(agents, on=on, how="left")
    if joined["agent"].isna().any():
        bad = joined.loc[joined["agent"].isna(), on].iloc[0].to_dict()
        raise LookupError(
            f"`single_agents` names {bad}, which is in no pair of `matrix`; compounds: {sorted({k[1] for k in keys})}."
        )
    r = joined["row"].to_numpy(dtype=np.int64)
    return joined["agent"].to_numpy(dtype=np.int64), conc[r], fu_[r]


def _fit_agents(matrix: DoseMatrix, u: FloatArray, workers: int, single_agents: pd.DataFrame | None = None) -> _Agents:
    keys, idx_a, idx_b, factor_b, X, Y = _pool_margins(matrix, u)
    if single_agents is not None:
        agent, xs, ys = _single_agent_points(single_agents, matrix, keys)
        rank = pd.Series(agent).groupby(agent).cumcount().to_numpy(dtype=np.int64)
        width = int(rank.max()) + 1 if rank.size else 0
        Xe = np.full((len(keys), width), np.nan)
        Ye = np.full((len(keys), width), np.nan)
        Xe[agent, rank] = xs
        Ye[agent, rank] = ys
        Xe = np.where(np.isnan(Ye), np.nan, Xe)
        X, Y = np.concatenate([X, Xe], axis=1), np.concatenate([Y, Ye], axis=1)
    res: FitResult = fit(np.where(np.isnan(X), np.nan, X), Y, model="4pl", conc_unit=matrix.unit_a, workers=workers)
    p = res.params
    too_few = (res.status & FitStatus.TOO_FEW_POINTS) != 0
    flat = ((res.status & FitStatus.FLAT_RESPONSE) != 0) & ~too_few  # no response: a constant, even if unconverged
    undetermined = too_few | (((res.status & FitStatus.NOT_CONVERGED) != 0) & ~flat)
    with np.errstate(invalid="ignore"):
        rising = ~flat & ~undetermined & ~(p["hill"] > 0)
    finite_y = np.isfinite(Y)
    n_y = finite_y.sum(axis=1)
    # mean of each agent's points, NaN for an agent without any (no "Mean of empty slice" warning)
    ymean = np.where(n_y > 0, np.where(finite_y, Y, 0.0).sum(axis=1) / np.maximum(n_y, 1), np.nan)
    curve = ref.Curve(
        bottom=np.where(flat, ymean, p["bottom"]),
        top=np.where(flat, ymean, p["top"]),
        ic50=np.where(flat, 1.0, p["ic50"]),
        hill=np.where(flat, 1.0, p["hill"]),
    )
    cov = np.where(flat[:, None, None] | undetermined[:, None, None], 0.0, res.covariance)
    cov = np.where(np.isfinite(cov), cov, 0.0)
    return _Agents(res, keys, idx_a, idx_b, factor_b, X, Y, curve, cov, undetermined, flat | rising)


# ---------------------------------------------------------------------------- scoring
def check_levels(levels: Any, *, allow_empty: bool) -> FloatArray:
    """Effect levels (fractions affected) as a 1-D float array, each strictly between 0 and 1."""
    accepted = "fractions affected strictly between 0 and 1, a sequence such as (0.5, 0.75, 0.9)"
    if isinstance(levels, str | bytes) or levels is None:
        raise TypeError(f"`levels` must be {accepted}; got {levels!r}.")
    try:
        lev = np.array(levels, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise TypeError(f"`levels` must be {accepted}; got {levels!r:.80}.") from None
    if lev.size == 0 and not allow_empty:
        raise ValueError(f"`levels` must be {accepted}; got an empty sequence.")
    bad = ~((lev > 0) & (lev < 1))  # also NaN
    if bad.any():
        raise ValueError(f"`levels` must be fractions affected strictly between 0 and 1; got {lev.tolist()}.")
    return lev


def score(
    matrix: DoseMatrix,
    *,
    models: Sequence[str] = MODELS,
    levels: Sequence[float] = (0.5, 0.75, 0.9),
    level: float = 0.95,
    region: int = 3,
    single_agents: pd.DataFrame | None = None,
    workers: int = 1,
) -> SynergyResult:
    """Score one checkerboard or a whole screen against HSA, Bliss, Loewe and ZIP, plus the CI.

    Parameters
    ----------
    matrix : DoseMatrix
        The data (one pair or many).
    models : sequence of str, default ("hsa", "bliss", "loewe", "zip")
        Reference models to score; ``()`` computes only the combination index.
    levels : sequence of float, default (0.5, 0.75, 0.9)
        Effect levels (fraction affected, strictly between 0 and 1) at which to report the
        Chou–Talalay combination index; an empty sequence skips the CI.  `models` and
        `levels` may not both be empty.
    level : float, default 0.95
        Confidence level of the interval on each summary score.
    region : int, default 3
        Window size of the most-synergistic-region score.
    single_agents : pandas.DataFrame, optional
        Separate single-agent dose-response data, pooled with the matrix margins of the
        same compound: columns ``drug``, ``conc`` (strings such as ``"10 nM"``, or numbers
        with a ``conc_unit`` column), ``response`` (same kind and scale as the matrix) and
        optionally ``plate`` (without it a row joins that compound on every plate).
    workers : int, default 1
        Threads for the batched single-agent and ZIP fits (:func:`mtor_pharm.fit`).

    Returns
    -------
    SynergyResult

    Raises
    ------
    TypeError
        `matrix` is not a :class:`DoseMatrix`.
    ValueError
        Unknown model names, effect levels outside (0, 1), a bad confidence level, no
        model and no level (nothing to score).
    LookupError
        `single_agents` lacks a column or names a compound that is in no pair.
    UnitError
        `single_agents` concentrations without a molar unit.

    Notes
    -----
    Responses are converted to the fraction unaffected ``fu`` (1 = control).  Single
    agents are 4PL fits (:func:`mtor_pharm.fit`, vehicle wells included as data) of
    the pooled margins of each (plate, drug): one batched call for the whole screen.
    The references, for doses ``a`` of A and ``b`` of B, with ``u_A``, ``u_B`` the fitted
    single-agent curves:

    * HSA: ``min(u_A(a), u_B(b))`` (the stronger single agent);
    * Bliss: ``u_A(a)·u_B(b)`` (independent action);
    * Loewe: ``u`` solving ``a/X_A(u) + b/X_B(u) = 1`` (``X`` the inverse curves), beyond
      the weaker agent's maximal effect the stronger agent alone (flagged);
    * ZIP (Yadav et al. 2015): each row and column of the matrix is refitted as a 4PL
      whose start (dose 0) is fixed at the other agent's fitted single effect; the
      delta score is the Bliss surface minus the mean of the two fitted surfaces.

    The excess is ``100·(reference − observed)`` in ``fu`` (percentage points of the
    control response; positive = synergy; the same sign as SynergyFinder and as the
    ``synergy`` package, which reports fractions).  The summary ``mean`` averages the
    combination wells (both doses > 0).

    Uncertainty (delta method, not a bootstrap): the variance of ``mean`` is the
    replicate variance of the observed well means, ``s²·Σ(1/r_w)/K²`` with ``s²`` the
    pooled within-well variance (``dof = Σ(r_w − 1)``), plus ``gᵀ Σ g`` for the
    single-agent parameters, with ``g`` the gradient of the mean reference (implicit
    differentiation for Loewe) and ``Σ`` the fits' covariance.  Margins and combination
    wells are different wells, so the two terms are independent.  The interval and
    the p-value use Student's t with that dof.  Without replicates ``s²`` is the
    single-agent fits' residual variance (status ``NO_REPLICATES``).  ZIP uses the
    Bliss variance (its fitted surface varies less than the raw wells, so this errs
    on the wide side).  The region score has no interval (it is a maximum).

    Combination index: median-effect fits (``log(fa/fu)`` on ``log D``) of the same
    margins; ``per_well`` at each well's observed effect, and at `levels` along the
    diagonal of the matrix when it is a constant-ratio series (the usual checkerboard
    of two dilution series with the same factor), as CompuSyn does for a ray.

    Examples
    --------
    >>> conc = mp.Q_([0, 0.1, 0.3, 1, 3, 10], "uM")
    >>> x = conc.magnitude
    >>> fu = lambda d: 1 / (1 + (d / 1.0) ** 1.5)
    >>> bliss = np.outer(fu(x), fu(x)) * 100     # two independent agents
    >>> m = mp.combination.DoseMatrix.from_arrays(conc, conc, bliss, drug_a="TORKi", drug_b="PI3Ki")
    >>> res = mp.combination.score(m)
    >>> abs(float(res["bliss"].mean[0])) < 1e-6     # Bliss: independent action is additive
    True
    >>> bool(res["hsa"].mean[0] > 0)                # HSA calls it synergy (the least strict reference)
    True
    >>> res.ci.ci.shape                              # CI at fa = 0.5, 0.75, 0.9 along the diagonal
    (1, 3)
    """
    from scipy import stats  # loaded on first use (≈ 1 s)

    if not isinstance(matrix, DoseMatrix):
        raise TypeError(f"`matrix` must be a DoseMatrix; got {type(matrix).__name__}.")
    if isinstance(models, str):
        raise TypeError(f"`models` must be a sequence of model names, e.g. ({models!r},); got the string {models!r}.")
    models = tuple(models)
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ValueError(f"`models` has unknown model(s) {unknown}; known: {list(MODELS)}.")
    lev = check_levels(levels, allow_empty=True)
    if not models and lev.size == 0:
        raise ValueError(
            f"`models` must name at least one of {list(MODELS)} when `levels` is empty (nothing would be "
            "scored); got models=() and levels=(). Pass models=() with levels to compute only the "
            "combination index."
        )
    if not (isinstance(level, float | int) and 0 < float(level) < 1):
        raise ValueError(f"`level` must be a confidence level between 0 and 1; got {level!r}.")
    if not (isinstance(region, int) and region >= 1):
        raise ValueError(f"`region` must be a positive window size; got {region!r}.")

    u = matrix.unaffected()
    P, nA, nB, _ = u.shape
    ag = _fit_agents(matrix, u, workers, single_agents)
    a = matrix.conc_a[:, :, None]
    b = matrix.conc_b[:, None, :] * ag.factor_b
    ca = ref.Curve(*(v[ag.idx_a] for v in ag.curve)).expand(1, 2)
    cb = ref.Curve(*(v[ag.idx_b] for v in ag.curve)).expand(1, 2)
    ua, grad_ua = ref.hill4_grad(a, ca)
    ub, grad_ub = ref.hill4_grad(b, cb)

    # observations
    finite = np.isfinite(u)
    r_w = finite.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ybar = np.where(r_w > 0, np.where(finite, u, 0.0).sum(axis=-1) / np.where(r_w > 0, r_w, 1), np.nan)
    ss = np.where(finite, (u - ybar[..., None]) ** 2, 0.0).sum(axis=(1, 2, 3))
    dof_rep = np.clip(r_w - 1, 0, None).sum(axis=(1, 2)).astype(np.float64)
    combo = (a > 0) & (b > 0) & np.isfinite(a) & np.isfinite(b)
    wells = combo & (r_w > 0)
    K = wells.sum(axis=(1, 2)).astype(np.float64)
    fit_dof = ag.fit.dof[ag.idx_a] + np.where(ag.idx_a == ag.idx_b, 0, ag.fit.dof[ag.idx_b])
    fit_rss = ag.fit.rss[ag.idx_a] + np.where(ag.idx_a == ag.idx_b, 0.0, ag.fit.rss[ag.idx_b])
    no_rep = dof_rep == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = np.where(no_rep, fit_rss / np.where(fit_dof > 0, fit_dof, np.nan), ss / np.where(no_rep, 1.0, dof_rep))
        dof = np.where(no_rep, fit_dof, dof_rep).astype(np.float64)
        inv_r = np.where(wells, 1.0 / np.where(r_w > 0, r_w, 1), 0.0).sum(axis=(1, 2))
        var_obs = s2 * inv_r / K**2

    base = np.zeros(P, dtype=np.uint8)
    undet = ag.undetermined[ag.idx_a] | ag.undetermined[ag.idx_b]
    base |= np.where(undet, SynergyStatus.SINGLE_AGENT_UNDETERMINED, 0).astype(np.uint8)
    base |= np.where(K < 2, SynergyStatus.TOO_FEW_WELLS, 0).astype(np.uint8)
    base |= np.where(no_rep, SynergyStatus.NO_REPLICATES, 0).astype(np.uint8)
    inactive = ag.inactive[ag.idx_a] | ag.inactive[ag.idx_b]
    base |= np.where(inactive, SynergyStatus.SINGLE_AGENT_INACTIVE, 0).astype(np.uint8)

    cov_a, cov_b = ag.cov[ag.idx_a], ag.cov[ag.idx_b]
    same = (ag.idx_a == ag.idx_b)[:, None]
    t_q = stats.t.ppf(0.5 + float(level) / 2, np.where(dof > 0, dof, np.nan))

    def summarize(
        name: ModelName,
        reference: FloatArray,
        ga: FloatArray,
        gb: FloatArray,
        beyond: BoolArray,
        extra: NDArray[Any],
        shown: FloatArray | None = None,
    ) -> Score:
        with np.errstate(invalid="ignore"):
            excess = np.where(wells, 100.0 * (reference - ybar), np.nan)
            mean = np.where(K > 0, np.where(wells, excess, 0.0).sum(axis=(1, 2)) / np.where(K > 0, K, 1), np.nan)
            Ga = np.where(wells[..., None], ga, 0.0).sum(axis=(1, 2)) / np.where(K > 0, K, 1)[:, None]
            Gb = np.where(wells[..., None], gb, 0.0).sum(axis=(1, 2)) / np.where(K > 0, K, 1)[:, None]
            Gs = np.where(same, Ga + Gb, Ga)
            var_ref = np.einsum("pi,pij,pj->p", Gs, cov_a, Gs) + np.where(
                same[:, 0], 0.0, np.einsum("pi,pij,pj->p", Gb, cov_b, Gb)
            )
            se = 100.0 * np.sqrt(var_obs + var_ref)
            se = np.where(K >= 2, se, np.nan)
            # se = 0 (a constant pair without replicates): no t statistic, the p-value is NaN
            tval = np.where(se > 0, mean / np.where(se > 0, se, 1.0), np.nan)
            pval = 2.0 * stats.t.sf(np.abs(tval), np.where(dof > 0, dof, np.nan))
        sub = excess[:, 1:, 1:]
        w = int(min(region, sub.shape[1], sub.shape[2]))
        reg = ref.best_window_mean(sub, w) if w >= 1 else np.full(P, np.nan)
        status = base | extra.astype(np.uint8)
        status |= np.where(np.any(beyond & wells, axis=(1, 2)), SynergyStatus.BEYOND_SINGLE_MAX, 0).astype(np.uint8)
        undetermined = (status & SynergyStatus.SINGLE_AGENT_UNDETERMINED) != 0
        nanp = np.where(undetermined, np.nan, 1.0)
        return Score(
            model=name,
            excess=np.where(undetermined[:, None, None], np.nan, excess),
            reference=100.0 * (reference if shown is None else shown),
            mean=mean * nanp,
            region=reg * nanp,
            se=se * nanp,
            ci_low=(mean - t_q * se) * nanp,
            ci_high=(mean + t_q * se) * nanp,
            pvalue=pval * nanp,
            dof=dof,
            beyond=beyond,
            status=status,
            level=float(level),
        )

    scores: dict[str, Score] = {}
    none = np.zeros(P, dtype=np.uint8)
    no_beyond = np.zeros((P, nA, nB), dtype=np.bool_)
    ua_b, ub_b = np.broadcast_arrays(ua, ub)
    ga_b = np.broadcast_to(grad_ua, ua_b.shape + (4,))
    gb_b = np.broadcast_to(grad_ub, ub_b.shape + (4,))
    bliss_ref = ua_b * ub_b
    bliss_ga, bliss_gb = ga_b * ub_b[..., None], gb_b * ua_b[..., None]
    for name in models:
        if name == "hsa":
            a_wins = ua_b <= ub_b
            scores[name] = summarize(
                "hsa",
                np.minimum(ua_b, ub_b),
                np.where(a_wins[..., None], ga_b, 0.0),
                np.where(a_wins[..., None], 0.0, gb_b),
                no_beyond,
                none,
            )
        elif name == "bliss":
            scores[name] = summarize("bliss", bliss_ref, bliss_ga, bliss_gb, no_beyond, none)
        elif name == "loewe":
            sol = ref.loewe(a, b, ca, cb)
            scores[name] = summarize("loewe", sol.reference, sol.grad_a, sol.grad_b, sol.beyond, none)
        elif name == "zip":
            fitted, zstatus = _zip_surface(matrix, u, ybar, ua_b, ub_b, ag.factor_b, workers)
            zip_ref = bliss_ref + (ybar - fitted)  # so that 100·(zip_ref − ybar) is the delta score
            scores[name] = summarize("zip", zip_ref, bliss_ga, bliss_gb, no_beyond, zstatus, shown=bliss_ref)
    ci = _combination_index(matrix, ag, ybar, lev, base) if lev.size else None
    return SynergyResult(
        matrix=matrix,
        single=ag.fit,
        agents=ag.keys,
        agent_a=ag.idx_a,
        agent_b=ag.idx_b,
        scores=scores,
        ci=ci,
    )


def _zip_surface(
    matrix: DoseMatrix, u: FloatArray, ybar: FloatArray, ua: FloatArray, ub: FloatArray, factor_b: float, workers: int
) -> tuple[FloatArray, NDArray[np.uint8]]:
    """Mean of the row-wise and column-wise 4PL fits (start fixed at the other agent's effect)."""
    P, nA, nB, R = u.shape
    # rows: B fixed at b_j (j ≥ 1), A varies (all i, vehicle included); start = u_B(b_j)
    xa = np.broadcast_to(np.repeat(matrix.conc_a, R, axis=1)[:, None, :], (P, nB - 1, nA * R))
    ya = np.moveaxis(u[:, :, 1:, :], 2, 1).reshape(P, nB - 1, nA * R)
    top_rows = ub[:, 0, 1:]
    # columns: A fixed at a_i (i ≥ 1), B varies; start = u_A(a_i)
    xb = np.broadcast_to(np.repeat(matrix.conc_b * factor_b, R, axis=1)[:, None, :], (P, nA - 1, nB * R))
    yb = u[:, 1:, :, :].reshape(P, nA - 1, nB * R)
    top_cols = ua[:, 1:, 0]
    L = max(nA, nB) * R
    X = np.full((P, nA + nB - 2, L), np.nan)
    Y = np.full((P, nA + nB - 2, L), np.nan)
    X[:, : nB - 1, : nA * R] = xa
    Y[:, : nB - 1, : nA * R] = ya
    X[:, nB - 1 :, : nB * R] = xb
    Y[:, nB - 1 :, : nB * R] = yb
    X = np.where(np.isnan(Y), np.nan, X)
    top = np.concatenate([top_rows, top_cols], axis=1)
    top = np.where(np.isfinite(top), top, 1.0)
    res = fit(
        X, Y, model="4pl", conc_unit=matrix.unit_a, fixed={"top": top}, bounds={"hill": (0.0, 50.0)}, workers=workers
    )
    c = ref.Curve(res.params["bottom"], res.params["top"], res.params["ic50"], res.params["hill"])
    flat = (res.status & FitStatus.FLAT_RESPONSE) != 0
    finite = np.isfinite(c.bottom) & np.isfinite(c.ic50) & np.isfinite(c.hill)
    # no significant response along the row: the other agent's effect carries through (the fixed start)
    c = ref.Curve(
        np.where(flat, top, c.bottom),
        np.where(flat, top, c.top),
        np.where(flat, 1.0, c.ic50),
        np.where(flat, 1.0, c.hill),
    )
    bad = ~flat & (((res.status & FitStatus.TOO_FEW_POINTS) != 0) | ~finite)
    rows = ref.Curve(*(v[:, : nB - 1] for v in c))
    cols = ref.Curve(*(v[:, nB - 1 :] for v in c))
    # row j predicts at every a_i; column i predicts at every b_j
    y_rows = ref.hill4(matrix.conc_a[:, :, None], rows.expand(1))  # (P, nA, nB-1)
    y_cols = ref.hill4(matrix.conc_b[:, None, :] * factor_b, cols.expand(2))  # (P, nA-1, nB)
    bad_rows = bad[:, : nB - 1]
    bad_cols = bad[:, nB - 1 :]
    # a failed row or column fit is replaced by the observed well means (delta = Bliss excess there)
    y_rows = np.where(bad_rows[:, None, :], ybar[:, :, 1:], y_rows)
    y_cols = np.where(bad_cols[:, :, None], ybar[:, 1:, :], y_cols)
    fitted = np.full((P, nA, nB), np.nan)
    fitted[:, 1:, 1:] = 0.5 * (y_rows[:, 1:, :] + y_cols[:, :, 1:])
    # padded rows/columns (ragged designs) are not failures
    pad_rows = ~np.isfinite(matrix.conc_b[:, 1:])
    pad_cols = ~np.isfinite(matrix.conc_a[:, 1:])
    real_bad = (bad_rows & ~pad_rows).any(axis=1) | (bad_cols & ~pad_cols).any(axis=1)
    status = np.where(real_bad, SynergyStatus.FIT_NOT_CONVERGED, 0).astype(np.uint8)
    return fitted, status


def _combination_index(
    matrix: DoseMatrix, ag: _Agents, ybar: FloatArray, lev: FloatArray, base: NDArray[np.uint8]
) -> CombinationIndex:
    P, nA, nB = ybar.shape
    me = ref.median_effect_fit(ag.x, 1.0 - ag.y)
    me_a = ref.MedianEffect(*(v[ag.idx_a] for v in me))
    me_b = ref.MedianEffect(*(v[ag.idx_b] for v in me))
    a = matrix.conc_a[:, :, None]
    b = matrix.conc_b[:, None, :] * ag.factor_b
    fa = 1.0 - ybar

    def ex(me_: ref.MedianEffect) -> ref.MedianEffect:
        return ref.MedianEffect(*(v[:, None, None] for v in me_))

    dxa = ref.median_effect_dose(ex(me_a), fa)
    dxb = ref.median_effect_dose(ex(me_b), fa)
    combo = (a > 0) & (b > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_well = np.where(combo, a / dxa + b / dxb, np.nan)
    # constant-ratio diagonal
    k = min(nA, nB)
    da = matrix.conc_a[:, 1:k]
    db = matrix.conc_b[:, 1:k] * ag.factor_b
    diag = np.arange(1, k)
    fa_d = 1.0 - ybar[:, diag, diag]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = da / db
        rel = np.abs(ratio / ratio[:, :1] - 1.0)
        enough = np.isfinite(ratio).sum(axis=1) >= 2
        constant = np.all(np.where(np.isfinite(ratio), rel < 1e-6, True), axis=1) & enough
        total = da + db
        me_c = ref.median_effect_fit(total, fa_d)
        pa = (ratio / (1.0 + ratio))[:, 0]
        L = lev[None, :]
        dc = ref.median_effect_dose(ref.MedianEffect(*(v[:, None] for v in me_c)), np.broadcast_to(L, (P, lev.size)))
        dose_a = dc * pa[:, None]
        dose_b = dc * (1.0 - pa[:, None])
        dx_a = ref.median_effect_dose(ref.MedianEffect(*(v[:, None] for v in me_a)), np.broadcast_to(L, (P, lev.size)))
        dx_b = ref.median_effect_dose(ref.MedianEffect(*(v[:, None] for v in me_b)), np.broadcast_to(L, (P, lev.size)))
        ci = dose_a / dx_a + dose_b / dx_b
        dri_a = dx_a / dose_a
        dri_b = dx_b / dose_b
    nan_rows = ~constant[:, None]
    fa_lo = np.nanmin(np.where(np.isfinite(fa_d), fa_d, np.inf), axis=1)
    fa_hi = np.nanmax(np.where(np.isfinite(fa_d), fa_d, -np.inf), axis=1)
    extrap = ((fa_lo[:, None] > L) | (fa_hi[:, None] < L)).any(axis=1)
    status = base.copy() & ~np.uint8(SynergyStatus.NO_REPLICATES)
    status |= np.where(~constant, SynergyStatus.NO_CONSTANT_RATIO, 0).astype(np.uint8)
    status |= np.where(constant & extrap, SynergyStatus.LEVEL_EXTRAPOLATED, 0).astype(np.uint8)

    def z(v: FloatArray) -> FloatArray:
        out: FloatArray = np.where(nan_rows, np.nan, v)
        return out

    return CombinationIndex(
        per_well=per_well,
        levels=lev,
        ci=z(ci),
        dri_a=z(dri_a),
        dri_b=z(dri_b),
        dose_a=z(dose_a),
        dose_b=z(dose_b) / ag.factor_b,
        dx_a=dx_a,
        dx_b=dx_b / ag.factor_b,
        dm_a=me_a.dm,
        m_a=me_a.m,
        dm_b=me_b.dm / ag.factor_b,
        m_b=me_b.m,
        dm_combo=np.where(constant, me_c.dm, np.nan),
        m_combo=np.where(constant, me_c.m, np.nan),
        r_combo=np.where(constant, me_c.r, np.nan),
        status=status,
    )
