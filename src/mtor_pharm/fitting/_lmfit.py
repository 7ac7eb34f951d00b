"""The single-curve lmfit path: the model families as ``lmfit.Model`` objects."""

from __future__ import annotations

import inspect
from typing import Any

from .._typing import FloatArray
from ..models import Model, _lookup_model

__all__ = ["lmfit_model"]

#: The public kernel each family's curve is known by (lmfit names the model after it).
_KERNEL_NAMES = {
    "4pl": "four_pl", "3pl": "four_pl", "2pl": "four_pl", "5pl": "five_pl", "weibull1": "weibull1",
    "weibull2": "weibull2",
}


class _Curve:
    """A family's curve as ``f(x, <parameters in model order>)``: the signature lmfit reads the
    parameter names from (a module-level class, so lmfit models and results pickle)."""

    def __init__(self, family: Model) -> None:
        self.family = family
        self.__name__ = _KERNEL_NAMES.get(family.name, family.name)

    @property
    def __signature__(self) -> inspect.Signature:
        positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
        return inspect.Signature([inspect.Parameter(name, positional) for name in ("x", *self.family.param_names)])

    def __call__(self, x: Any, **params: Any) -> FloatArray:
        return self.family(x, **params)


def lmfit_model(model: str | Model = "4pl", **kwargs: Any) -> Any:
    """The model family as an :class:`lmfit.Model`, for expressions, bounds and reports.

    Every registered family is available; the model evaluates the family's own
    curve (``mp.models.get_model(model)(x, **params)``).  Concentration
    parameters get ``min=0``; ``s`` gets ``min=0``; a fraction (the biphasic
    ``frac``) gets ``min=0, max=1``; parameters that the family fixes
    (``"3pl"``: ``bottom = 0``) are set with ``vary=False``, and so are those a
    fit must be given (the Morrison ``enzyme``: pass its value, e.g.
    ``lm.fit(y, x=x, enzyme=2.0, ...)``).  Concentrations are bare numbers in
    one unit of your choice.

    Parameters
    ----------
    model : str
        Model family name (see :func:`mtor_pharm.models.get_model`).
    **kwargs
        Passed to :class:`lmfit.Model` (e.g. ``nan_policy="omit"``).

    Returns
    -------
    lmfit.Model

    Raises
    ------
    UnknownModelError
        `model` is not a model family.

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
    lm = lmfit.Model(_Curve(m), **kwargs)
    for name, kind in zip(m.param_names, m.kinds, strict=True):
        if kind in ("conc", "log"):
            lm.set_param_hint(name, min=0.0)
        elif kind == "fraction":
            lm.set_param_hint(name, min=0.0, max=1.0)
    for name, value in m.default_fixed.items():
        lm.set_param_hint(name, value=value, vary=False)
    for name in m.required_fixed:
        lm.set_param_hint(name, vary=False)
    return lm
