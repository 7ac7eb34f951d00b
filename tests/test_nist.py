"""NIST StRD Rat42 and Rat43 through the log-concentration form conc = e^x."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import mtor_pharm as mp

NIST = json.loads((Path(__file__).parent / "data" / "nist_strd.json").read_text())


def _sig(a: float, b: float) -> float:
    """Number of agreeing significant digits (LRE, as in McCullough's StRD assessments)."""
    if a == b:
        return 15.0
    return float(-np.log10(abs(a - b) / abs(b)))


def test_rat42_certified_values() -> None:
    d = NIST["Rat42"]
    x, y = np.array(d["x"]), np.array(d["y"])
    # b1 / (1 + exp(b2 - b3 x)) == 3PL with top = b1, hill = -b3, ic50 = exp(b2 / b3), conc = e^x
    res = mp.fit(np.exp(x), y, conc_unit="M", model="3pl")
    top, hill, ic50 = float(res.params["top"]), float(res.params["hill"]), float(res.params["ic50"])
    b = [top, -hill * np.log(ic50), -hill]
    for est, cert in zip(b, d["certified"], strict=True):
        assert _sig(est, cert) >= 6
    assert _sig(float(res.rss), d["rss"]) >= 6
    assert _sig(float(res.sigma), d["residual_sd"]) >= 6
    assert int(res.dof) == d["dof"]
    # standard errors: map the covariance of (top, ic50, hill) to (b1, b2, b3)
    C = res.covariance[np.ix_([1, 2, 3], [1, 2, 3])]
    G = np.array([[1, 0, 0], [0, -hill / ic50, -np.log(ic50)], [0, 0, -1]])
    se = np.sqrt(np.diag(G @ C @ G.T))
    for est, cert in zip(se, d["certified_stderr"], strict=True):
        assert _sig(est, cert) >= 5


def test_rat43_certified_values() -> None:
    d = NIST["Rat43"]
    x, y = np.array(d["x"]), np.array(d["y"])
    # b1 / (1 + exp(b2 - b3 x))^(1/b4) == 5PL, bottom 0, hill = -b3, xmid = exp(b2/b3), s = 1/b4
    res = mp.fit(np.exp(x), y, conc_unit="M", model="5pl", fixed={"bottom": 0.0})
    top, xmid, hill, s = (float(res.params[k]) for k in ("top", "xmid", "hill", "s"))
    b = [top, -hill * np.log(xmid), -hill, 1 / s]
    for est, cert in zip(b, d["certified"], strict=True):
        assert _sig(est, cert) >= 6
    assert _sig(float(res.rss), d["rss"]) >= 6
    assert _sig(float(res.sigma), d["residual_sd"]) >= 6
    C = res.covariance[np.ix_([1, 2, 3, 4], [1, 2, 3, 4])]
    G = np.array(
        [
            [1, 0, 0, 0],
            [0, -hill / xmid, -np.log(xmid), 0],
            [0, 0, -1, 0],
            [0, 0, 0, -1 / s**2],
        ]
    )
    se = np.sqrt(np.diag(G @ C @ G.T))
    for est, cert in zip(se, d["certified_stderr"], strict=True):
        assert _sig(est, cert) >= 5


@pytest.mark.parametrize("name", ["Rat42", "Rat43"])
def test_nist_fit_is_flagged_clean(name: str) -> None:
    d = NIST[name]
    model, fixed = ("3pl", None) if name == "Rat42" else ("5pl", {"bottom": 0.0})
    res = mp.fit(np.exp(np.array(d["x"])), d["y"], conc_unit="M", model=model, fixed=fixed)
    assert res.converged
