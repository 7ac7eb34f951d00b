"""Comparing inhibitors: is there a response, which model, shared-parameter global fits,
potency and selectivity ratios, honest intervals, robust fits and outliers.

Every function works on a whole batch of curves at once (the arrays of a
:class:`~mtor_pharm.FitResult` carry the batch shape); results are frozen
dataclasses whose array fields carry that batch shape.

=============================  =======================================================
question                       function
=============================  =======================================================
is there a response?           :func:`response_test` (F vs flat line, calibrated)
which model?                   :func:`f_test` (nested), :func:`select` (AIC/AICc/BIC),
                               :func:`lack_of_fit` (replicates)
shared parameters              :func:`fit_shared` → :class:`SharedFit`;
                               :func:`f_test` of shared vs separate ``ic50``
potency / selectivity ratios   :func:`potency_ratio` → :class:`Ratio` (delta, Fieller)
do A and B differ in potency?  :func:`compare_potency` → :class:`PotencyComparison`
                               (F test + the profile interval that agrees with it)
honest intervals, bands        :func:`profile_ci`, :func:`bands`
robust fits, outliers          :func:`fit_robust`, :func:`find_outliers` (ROUT-style)
=============================  =======================================================

Examples
--------
>>> from mtor_pharm import compare as cmp
>>> x = 10.0 / 3.0 ** np.arange(10)
>>> y = mp.models.four_pl(x, 0, 100, np.array([[0.01], [0.1]]), 1.0)
>>> y = y + np.random.default_rng(1).normal(0, 1, y.shape)
>>> r = cmp.potency_ratio(0, 1, fit=mp.fit(x, y, conc_unit="uM"))
>>> round(float(r.estimate), 2)
0.1
"""

from ._models import Criterion, FTest, LackOfFit, Selection, f_test, lack_of_fit, select
from ._potency import PotencyComparison, compare_potency
from ._profile import Band, BandKind, ProfileInterval, bands, profile_ci
from ._ratio import IntervalMethod, Ratio, potency_ratio
from ._response import ResponseTest, response_test
from ._robust import Loss, Outliers, RobustFit, find_outliers, fit_robust
from ._shared import SharedFit, fit_shared

__all__ = [
    "Band",
    "BandKind",
    "Criterion",
    "FTest",
    "IntervalMethod",
    "LackOfFit",
    "Loss",
    "Outliers",
    "PotencyComparison",
    "ProfileInterval",
    "Ratio",
    "ResponseTest",
    "RobustFit",
    "Selection",
    "SharedFit",
    "bands",
    "compare_potency",
    "f_test",
    "find_outliers",
    "fit_robust",
    "fit_shared",
    "lack_of_fit",
    "potency_ratio",
    "profile_ci",
    "response_test",
    "select",
]
