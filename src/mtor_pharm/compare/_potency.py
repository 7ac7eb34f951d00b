"""Do two compounds differ in potency? One call, by name, with one p-value and the interval it agrees with."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import special

from .._tables import p_text
from .._typing import FloatArray, Quantity
from .._validate import boolean
from ..errors import ShapeError
from ..fitting import FitStatus
from ..models import MODELS, Model, _lookup_model
from ..units import _registry
from ._common import check_level
from ._models import FTest, f_test
from ._ratio import Ratio, potency_ratio
from ._shared import check_share_kind, fit_shared

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PotencyComparison", "compare_potency"]

_DECADES = 4.0  # profile search: the estimate ± this many decades
_GRID = 161
_REFINE = 21
_ROUNDS = 3


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PotencyComparison:
    """The answer to "do `a` and `b` differ in potency?" (``IC50_a / IC50_b``).

    Attributes
    ----------
    a, b : label
        The two curves compared.
    ratio : float
        ``IC50_a / IC50_b`` from the separate fit (above 1: `a` is less potent).
    ci_low, ci_high : float
        Profile-likelihood confidence interval of the ratio at `level`: the
        ratios that the extra-sum-of-squares F test does not reject.  It agrees
        with `pvalue` by construction (``pvalue < 1 − level`` exactly when the
        interval excludes 1); ``inf``/``0`` where a side is not bounded within
        ±4 decades of the estimate.
    pvalue : float
        Extra-sum-of-squares F test of one shared IC50 against separate IC50s
        (GraphPad Prism's "Do the best-fit values of LogIC50 differ?"); the one
        p-value reported.
    f_test : FTest
        That test's statistic and degrees of freedom.
    level : float
        Confidence level.
    ic50_a, ic50_b : pint.Quantity
        The two IC50s of the separate fit.
    share : tuple of str
        Parameters shared by the two curves in both models (default none).
    wald : Ratio
        The delta-method (Wald) ratio of the same fit, for reference: its
        ``pvalue`` and ``ci()`` agree with each other but are not the ones
        reported here.
    status_a, status_b : int
        :class:`~mtor_pharm.FitStatus` bits of each curve in the separate fit.
    note : str
        A warning in words when a curve is ambiguous, flat or not converged
        (Prism then declines to compare), else ``""``.
    """

    a: Any
    b: Any
    ratio: float
    ci_low: float
    ci_high: float
    pvalue: float
    f_test: FTest
    level: float
    ic50_a: Quantity
    ic50_b: Quantity
    share: tuple[str, ...]
    wald: Ratio
    status_a: int
    status_b: int
    note: str

    def summary(self) -> str:
        """One sentence for a methods or results section."""
        pct = f"{100 * self.level:g}%"
        hi = "∞" if math.isinf(self.ci_high) else f"{self.ci_high:.3g}"
        f = self.f_test
        text = (
            f"IC50 {self.a} / {self.b} = {self.ratio:.3g} ({pct} CI {self.ci_low:.3g}–{hi}, profile likelihood); "
            f"extra-sum-of-squares F test of one shared IC50: F({int(f.df1)}, {int(f.df2)}) = "
            f"{float(f.statistic):.3g}, {p_text(self.pvalue)}."
        )
        return text + (f" Note: {self.note}" if self.note else "")

    def __repr__(self) -> str:
        return f"<PotencyComparison {self.summary()}>"

    def to_dataframe(self) -> pd.DataFrame:
        """One row: ``a``, ``b``, ``ratio``, ``ratio_ci_low``, ``ratio_ci_high``, ``pvalue``,
        ``f_statistic``, ``df1``, ``df2``, ``ic50_a [unit]``, ``ic50_b [unit]``, ``note``."""
        import pandas as pd

        from ..fitting._result import _unit_label

        u = _unit_label(str(self.ic50_a.units))
        row = {
            "a": self.a,
            "b": self.b,
            "ratio": self.ratio,
            "ratio_ci_low": self.ci_low,
            "ratio_ci_high": self.ci_high,
            "pvalue": self.pvalue,
            "f_statistic": float(self.f_test.statistic),
            "df1": int(self.f_test.df1),
            "df2": int(self.f_test.df2),
            f"ic50_a [{u}]": float(self.ic50_a.magnitude),
            f"ic50_b [{u}]": float(self.ic50_b.magnitude),
            "note": self.note,
        }
        df = pd.DataFrame([row])
        df.attrs = {"confidence_level": self.level, "interval": "profile likelihood (inverts the F test)"}
        return df


def _pair_arrays(
    data: pd.DataFrame, a: Any, b: Any, conc: str, response: str, by: Sequence[str], excluded: str | None
) -> tuple[FloatArray, FloatArray]:
    from .._tables import _batch_from_table, _check_columns, _group_keys
    from ..fitting._result import _did_you_mean, _same_label

    _check_columns(data, {"conc": conc, "response": response, **{f"by[{i}]": c for i, c in enumerate(by)}})
    _group_keys(data, by)
    labels, x, y = _batch_from_table(data, conc, response, by, excluded)
    keys = [lab[0] if len(by) == 1 else lab for lab in labels]
    rows = []
    for name, sel in (("a", a), ("b", b)):
        hits = [i for i, k in enumerate(keys) if _same_label(k, sel)]
        if not hits:
            raise LookupError(
                f"`{name}` must be a curve of `data` (by {list(by)}: {keys[:10]}); got {sel!r}."
                f"{_did_you_mean(sel, keys)}"
            )
        rows.append(hits[0])
    if rows[0] == rows[1]:
        raise ValueError(f"`a` and `b` must be two different curves; got {a!r} twice.")
    return x[rows], y[rows]


def compare_potency(
    data: pd.DataFrame,
    a: Any,
    b: Any,
    *,
    conc: str = "conc",
    response: str = "response",
    by: str | Sequence[str] | None = None,
    conc_unit: str | None = None,
    conc_log10: bool = False,
    share: Sequence[str] = (),
    fixed: Mapping[str, Any] | None = None,
    level: float = 0.95,
    model: str = "4pl",
    excluded: str | None = None,
) -> PotencyComparison:
    """Do compounds `a` and `b` differ in potency?  One call, curves by name.

    Fits the two curves with separate IC50s and with one shared IC50 (the other
    parameters separate, or shared as in `share`), and reports:

    - the extra-sum-of-squares F test of shared vs separate IC50 (Prism's test), as ``pvalue``;
    - the ratio ``IC50_a / IC50_b`` with the profile-likelihood interval that
      inverts that same F test, so the p-value and the interval cannot disagree.

    Parameters
    ----------
    data : pandas.DataFrame
        Tidy points, e.g. :func:`mtor_pharm.assays.plate_curves`' table.
    a, b : label
        Curve labels (values of the `by` column(s); tuples for several).
    conc, response : str
        Column names (default those of ``plate_curves``).
    by : str or sequence of str, optional
        Curve key columns; default ``data.attrs["by"]`` or ``"compound"``.
    conc_unit : str, optional
        Unit of `conc`; default ``data.attrs["conc_unit"]``.
    conc_log10 : bool, default False
        The `conc` column holds log10 concentrations (GraphPad Prism's X column); `conc_unit`
        is then the unit the log was taken in (``"M"`` for Prism), as in :func:`mtor_pharm.fit_table`.
    share : sequence of str, default ()
        Parameters common to both curves in both models (e.g. ``("top", "bottom")``).
    fixed : mapping, optional
        Parameters held at a value in both models and both curves, as in :func:`mtor_pharm.fit`
        (e.g. ``{"bottom": 0, "top": 100}``, or Prism's standard slope ``{"hill": 1}``); not ``ic50``.
    level : float, default 0.95
        Confidence level of the interval.
    model : str, default "4pl"
        A family with an ``ic50`` parameter (``"4pl"``, ``"3pl"``, ``"2pl"``, ``"lognormal"``).
    excluded : str, optional
        Boolean column of rows left out (default ``"excluded"`` when present).

    Returns
    -------
    PotencyComparison

    Raises
    ------
    LookupError
        `a` or `b` is not a curve of `data` (with the closest labels).
    TypeError
        `share` not a sequence of parameter names (e.g. a str).
    ValueError
        A `model` without an ``ic50`` parameter; a curve with too few usable
        points for the two fits.

    Notes
    -----
    The constrained fit at ratio ``ρ`` is the shared-IC50 fit of the data with
    `b`'s concentrations multiplied by ``ρ`` (then ``IC50_a = ρ · IC50_b``).  The
    interval is ``{ρ : F(ρ) ≤ F₁,df₂(level)}`` with
    ``F(ρ) = (RSS(ρ) − RSS_sep) / (RSS_sep / df₂)``; at ``ρ = 1`` this is the
    reported test.  The Wald (delta-method) ratio is in ``wald`` for reference.

    Examples
    --------
    >>> import pandas as pd
    >>> x = 1000.0 / 3.0 ** np.arange(8)
    >>> rng = np.random.default_rng(0)
    >>> rows = [{"compound": c, "conc": xi, "response": mp.models.four_pl(xi, 0, 100, ic, 1.0) + rng.normal(0, 2)}
    ...         for c, ic in (("Torin1", 3.0), ("rapamycin", 30.0)) for xi in x]
    >>> out = mp.compare.compare_potency(pd.DataFrame(rows), "rapamycin", "Torin1", conc_unit="nM")
    >>> bool(out.ci_low < out.ratio < out.ci_high), bool(out.pvalue < 0.001), bool(out.ci_low > 1)
    (True, True, True)
    """
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"`data` must be a pandas DataFrame of points; got {type(data).__name__}.{_refit_hint(data)}")
    level = check_level(level)
    if by is None:
        by = data.attrs.get("by") or ["compound"]
    keys = [by] if isinstance(by, str) else list(by)
    if excluded is None and "excluded" in data.columns:
        excluded = "excluded"
    unit = conc_unit or data.attrs.get("conc_unit")
    if not unit:
        raise ValueError("`conc_unit` must be given: `data` does not record its unit (no attrs['conc_unit']).")
    family = _lookup_model(model)
    if "ic50" not in family.param_names:
        with_ic50 = ", ".join(name for name, m in MODELS.items() if "ic50" in m.param_names)
        raise ValueError(
            f"`model`: compare_potency needs a family with an `ic50` parameter ({with_ic50}); got {family.name!r}, "
            f"whose parameters are {list(family.param_names)}."
        )
    check_share_kind(share, groups=False)
    share_t = tuple(share)
    if "ic50" in share_t:
        raise ValueError("`share` must not contain 'ic50': the comparison is about the IC50.")
    fixed_d = dict(fixed) if fixed is not None else {}
    if fixed is not None and not isinstance(fixed, Mapping):
        raise TypeError(f"`fixed` must be a mapping of parameter name to value; got {type(fixed).__name__}.")
    if "ic50" in fixed_d:
        raise ValueError("`fixed` must not contain 'ic50': the comparison is about the IC50.")
    conc_log10 = boolean(conc_log10, "conc_log10")
    x, y = _pair_arrays(data, a, b, conc, response, keys, excluded)
    if conc_log10:
        with np.errstate(over="ignore", under="ignore"):
            x = np.power(10.0, x)
    if x.shape[1] == 0:
        raise ShapeError("`data` has no points for these curves.")
    _check_points(x, y, (("a", a), ("b", b)), family, share_t, fixed_d)
    fix = fixed_d or None
    full = fit_shared(x, y, share=share_t, model=model, conc_unit=str(unit), fixed=fix)
    reduced = fit_shared(x, y, share=(*share_t, "ic50"), model=model, conc_unit=str(unit), fixed=fix)
    ft = f_test(reduced, full)
    wald = potency_ratio(0, 1, fit=full)
    ic = np.asarray(full.params["ic50"], dtype=np.float64)
    est = float(ic[0] / ic[1])
    rss_full = float(full.rss)
    df2 = int(full.dof)
    with np.errstate(invalid="ignore"):
        crit = float(special.fdtri(1, df2, level)) if df2 > 0 else float("nan")
    threshold = rss_full * (1.0 + crit / df2) if df2 > 0 else float("nan")

    def rss_at(log_rho: FloatArray) -> FloatArray:
        rho = 10.0 ** np.asarray(log_rho, dtype=np.float64)
        xs = np.broadcast_to(x, (rho.size, *x.shape)).copy()
        xs[:, 1, :] = xs[:, 1, :] * rho[:, None]
        ys = np.broadcast_to(y, xs.shape)
        fit = fit_shared(xs, ys, share=(*share_t, "ic50"), model=model, conc_unit=str(unit), fixed=fix)
        out: FloatArray = np.asarray(fit.rss, dtype=np.float64)
        return out

    low, high = _profile_interval(rss_at, math.log10(est), threshold) if math.isfinite(est) else (np.nan, np.nan)
    registry = _registry()
    # per-curve statuses as mp.fit reports them (with the ambiguity rule)
    from ..fitting import fit as _fit

    status = np.asarray(full.status) | np.asarray(_fit(x, y, model=model, conc_unit=str(unit), fixed=fix).status)
    note = ""
    bad = FitStatus.AMBIGUOUS | FitStatus.FLAT_RESPONSE | FitStatus.NOT_CONVERGED | FitStatus.TOO_FEW_POINTS
    for name, code in ((a, int(status[0])), (b, int(status[1]))):
        if code & bad:
            from .._tables import status_words

            note += f"the fit of {name} is {status_words(code & bad)}; the comparison is not reliable. "
    return PotencyComparison(
        a=a,
        b=b,
        ratio=est,
        ci_low=float(10.0**low) if math.isfinite(low) else (0.0 if low == -np.inf else float("nan")),
        ci_high=float(10.0**high) if math.isfinite(high) else (float("inf") if high == np.inf else float("nan")),
        pvalue=float(ft.pvalue),
        f_test=ft,
        level=level,
        ic50_a=registry.Quantity(float(ic[0]), full.conc_unit),
        ic50_b=registry.Quantity(float(ic[1]), full.conc_unit),
        share=share_t,
        wald=wald,
        status_a=int(status[0]),
        status_b=int(status[1]),
        note=note.strip(),
    )


def _check_points(
    x: FloatArray, y: FloatArray, curves: Sequence[tuple[str, Any]], family: Model, share: tuple[str, ...],
    fixed_by_caller: Mapping[str, Any],
) -> None:
    """Refuse curves with too few points for the two fits, by the rule of :func:`fit_shared`: with
    nothing shared, the separate fits of ``mp.fit`` (more points than parameters, as many distinct
    concentrations); else as many points and distinct concentrations as the curve's own parameters,
    one above 0 (a curve of vehicle wells alone has no IC50)."""
    fixed = set(family.default_fixed) | set(fixed_by_caller)
    own = sum(1 for name in family.param_names if name not in fixed and name not in share)
    shared = sum(1 for name in family.param_names if name in share and name not in fixed)
    need = own + 1 if not share else own
    valid = np.isfinite(x) & np.isfinite(y)
    for row, (arg, label) in enumerate(curves):
        xs = x[row][valid[row]]
        n, distinct = int(xs.size), int(np.unique(xs).size)
        if n < need or distinct < own or not np.any(xs > 0):
            raise ValueError(
                f"curve {label!r} (`{arg}`) has {n} usable points (finite concentration and response) at "
                f"{distinct} distinct concentrations; comparing {family.name} IC50s needs at least {need} points "
                f"per curve at {own} or more distinct concentrations, one of them above 0."
            )
    n_total = int(valid.sum())
    if n_total <= 2 * own + shared:
        raise ValueError(
            f"curves {curves[0][1]!r} and {curves[1][1]!r} have {n_total} usable points together; comparing "
            f"{family.name} IC50s with share={list(share)} needs more than {2 * own + shared} (the parameters of "
            "the fit with separate IC50s), to leave a residual degree of freedom."
        )


def _refit_hint(data: object) -> str:
    """What to use instead when `compare_potency` is given fitted curves rather than points."""
    if type(data).__name__ not in ("FitResult", "SharedFit"):
        return ""
    return (
        " compare_potency refits the two curves from their points (separate and shared IC50); for the "
        "IC50 ratio of curves already fitted, use mp.compare.potency_ratio(a, b, fit=result)."
    )


def _profile_interval(rss_at: Any, center: float, threshold: float) -> tuple[float, float]:
    """The two crossings of ``rss_at(log ρ) = threshold`` around `center` (±inf where none within range)."""
    if not math.isfinite(threshold):
        return float("nan"), float("nan")
    grid = np.linspace(center - _DECADES, center + _DECADES, _GRID)
    rss = rss_at(grid)
    inside = rss <= threshold
    mid = int(np.argmin(np.abs(grid - center)))
    out: list[float] = []
    for step in (-1, 1):
        j = mid
        while 0 <= j + step < grid.size and inside[j + step]:
            j += step
        if not 0 <= j + step < grid.size:
            out.append(-math.inf if step < 0 else math.inf)
            continue
        lo, hi = (grid[j + step], grid[j]) if step < 0 else (grid[j], grid[j + step])
        for _ in range(_ROUNDS):  # refine the bracket [lo, hi] (one end in, one out)
            sub = np.linspace(lo, hi, _REFINE)
            r = rss_at(sub) <= threshold
            if step < 0:  # out ... in: first index that is inside
                k = int(np.argmax(r)) if r.any() else _REFINE - 1
                lo, hi = sub[max(k - 1, 0)], sub[k]
            else:  # in ... out: last index that is inside
                k = int(_REFINE - 1 - np.argmax(r[::-1])) if r.any() else 0
                lo, hi = sub[k], sub[min(k + 1, _REFINE - 1)]
        out.append(0.5 * (lo + hi))
    return out[0], out[1]
