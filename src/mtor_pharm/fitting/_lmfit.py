"""The single-curve lmfit path: the model families as ``lmfit.Model`` objects."""

from __future__ import annotations

from typing import Any

from ..models import Model, _lookup_model, five_pl, four_pl, weibull1, weibull2

__all__ = ["lmfit_model"]

_KERNELS = {"4pl": four_pl, "3pl": four_pl, "2pl": four_pl, "5pl": five_pl, "weibull1": weibull1, "weibull2": weibull2}


def lmfit_model(model: str | Model = "4pl", **kwargs: Any) -> Any:
    """The model family as an :class:`lmfit.Model`, for expressions, bounds and reports.

    Concentration parameters get ``min=0``; ``s`` gets ``min=0``; parameters that
    the family fixes (``"3pl"``: ``bottom = 0``) are set with ``vary=False``.
    Concentrations are bare numbers in one unit of your choice.

    Parameters
    ----------
    model : str
        Model family name (see :func:`mtor_pharm.models.get_model`).
    **kwargs
        Passed to :class:`lmfit.Model` (e.g. ``nan_policy="omit"``).

    Returns
    -------
    lmfit.Model

    Examples
    --------
    >>> lm = mp.lmfit_model("4pl")
    >>> x = np.array([0.01, 0.03, 0.1, 0.3, 1, 3, 10])
    >>> y = np.array([99, 97, 88, 67, 36, 15, 5.0])
    >>> out = lm.fit(y, x=x, bottom=0, top=100, ic50=1, hill=1)
    >>> res = mp.fit(x, y, conc_unit="uM")
    >>> bool(abs(out.params["ic50"].value / float(res.params["ic50"]) - 1) < 1e-6)
    True
    """
    import lmfit

    m = _lookup_model(model)
    lm = lmfit.Model(_KERNELS[m.name], **kwargs)
    lm.set_param_hint(m.loc_name, min=0.0)
    if m.has_s:
        lm.set_param_hint("s", min=0.0)
    for name, value in m.default_fixed.items():
        lm.set_param_hint(name, value=value, vary=False)
    return lm
