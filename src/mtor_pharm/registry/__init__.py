"""The mTOR-inhibitor registry: names, chemistry, potency records and trials, with sources.

Look compounds up by whatever name a lab uses; every name, synonym and code
resolves, ignoring case, spaces and hyphens.  Every fact carries its source;
a fact without a source is left empty, never filled in.  The data ship as a
TOML file inside the package and are read on first use (importing does no I/O).

The module-level functions use the built-in registry; :func:`load` returns a
new registry extended with a lab's own TOML file.

Examples
--------
>>> inh = mp.registry.get("INK-128")
>>> inh.name, inh.generation
('Sapanisertib', 2)
>>> q = mp.registry.get("rapamycin").to_molar("1 ug/mL")
>>> round(q.to("uM").magnitude, 3)
1.094
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ._model import (
    Approval,
    ApprovalStatus,
    AssayType,
    Citation,
    ClinicalTrial,
    Fact,
    Generation,
    Inhibitor,
    Mechanism,
    PotencyKind,
    PotencyRecord,
    Qualifier,
    Reference,
    ReferenceType,
    ReviewRow,
    Selectivity,
    TrialArm,
    TrialResult,
    Verdict,
    Verification,
)
from ._registry import Registry, builtin_registry, molecular_weight

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Approval",
    "ApprovalStatus",
    "AssayType",
    "Citation",
    "ClinicalTrial",
    "Fact",
    "Generation",
    "Inhibitor",
    "Mechanism",
    "PotencyKind",
    "PotencyRecord",
    "Qualifier",
    "Reference",
    "ReferenceType",
    "Registry",
    "ReviewRow",
    "Selectivity",
    "TrialArm",
    "TrialResult",
    "Verdict",
    "Verification",
    "all",
    "filter",
    "get",
    "import_chembl",
    "load",
    "molecular_weight",
    "potency_table",
    "references",
    "review",
    "search",
    "table",
    "trials",
]


def get(name: str | Inhibitor) -> Inhibitor:
    """The built-in inhibitor with this name, synonym or code (see :meth:`Registry.get`).

    Examples
    --------
    >>> [mp.registry.get(n).name for n in ("INK128", "ink-128", "MLN0128", "TAK-228")]
    ['Sapanisertib', 'Sapanisertib', 'Sapanisertib', 'Sapanisertib']
    """
    return builtin_registry().get(name)


def all() -> tuple[Inhibitor, ...]:  # shadows the builtin on purpose: the contract
    """Every built-in compound, first generation first (see :meth:`Registry.all`).

    Examples
    --------
    >>> sorted({inh.generation for inh in mp.registry.all()})
    [1, 2, 3]
    """
    return builtin_registry().all()


def filter(  # shadows the builtin on purpose: the contract
    *,
    generation: Generation | None = None,
    target: str | None = None,
    mechanism: Mechanism | None = None,
) -> tuple[Inhibitor, ...]:
    """Built-in compounds matching every given criterion (see :meth:`Registry.filter`).

    Examples
    --------
    >>> [i.name for i in mp.registry.filter(generation=3)]
    ['RapaLink-1']
    """
    return builtin_registry().filter(generation=generation, target=target, mechanism=mechanism)


def search(text: str) -> tuple[Inhibitor, ...]:
    """Built-in compounds whose names, mechanism or targets contain `text` (see :meth:`Registry.search`).

    Examples
    --------
    >>> [i.name for i in mp.registry.search("torin")]
    ['Torin1', 'Torin2']
    """
    return builtin_registry().search(text)


def table() -> pd.DataFrame:
    """One row per built-in compound (see :meth:`Registry.table`).

    Examples
    --------
    >>> mp.registry.table().shape[0] == len(mp.registry.all())
    True
    """
    return builtin_registry().table()


def potency_table() -> pd.DataFrame:
    """One row per built-in potency record (see :meth:`Registry.potency_table`).

    Examples
    --------
    >>> df = mp.registry.potency_table()
    >>> sorted(df["verified"].unique())
    ['confirmed', 'sourced', 'unverifiable', 'unverified']
    """
    return builtin_registry().potency_table()


def trials() -> tuple[ClinicalTrial, ...]:
    """Every built-in clinical-trial record.

    Examples
    --------
    >>> [t.id for t in mp.registry.trials()]
    ['EudraCT 2015-002133-22', 'NCT00410124']
    """
    return builtin_registry().trials


def references() -> Mapping[str, Reference]:
    """Every structured reference the built-in facts cite, by key (see :attr:`Registry.references`).

    Examples
    --------
    >>> ref = mp.registry.references()["Motzer2008"]
    >>> ref.doi, ref.year
    ('10.1016/S0140-6736(08)61039-9', 2008)
    """
    return builtin_registry().references


def review() -> tuple[ReviewRow, ...]:
    """The founding review's table rows, each resolved to a built-in compound.

    The review's figures are the potency records whose ``claim`` is listed in
    the row; each carries a ``verdict`` against the primary literature.

    Examples
    --------
    >>> [(r.row, r.compound) for r in mp.registry.review()][-2:]
    [('Sapanisertib (MLN0128) / INK128', 'Sapanisertib'), ('Torin1', 'Torin1')]
    """
    return builtin_registry().review


def import_chembl(path: str | os.PathLike[str]) -> Registry:
    """The built-in registry plus the mTOR/PI3K activities of a local ChEMBL SQLite file.

    See :meth:`Registry.import_chembl`. The built-in registry is not changed.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    Registry

    Raises
    ------
    RegistryDataError
        Not a ChEMBL SQLite file.

    Examples
    --------
    >>> try:
    ...     mp.registry.import_chembl("no-such-chembl.db")
    ... except mp.errors.RegistryDataError as exc:
    ...     print(str(exc).split(";")[0])
    `path` must name an existing ChEMBL SQLite file
    """
    return builtin_registry().import_chembl(path)


def load(path: str | os.PathLike[str]) -> Registry:
    """The built-in registry extended with a lab's TOML file, as a new registry.

    The built-in registry is not changed.  See :meth:`Registry.load`.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    Registry

    Raises
    ------
    RegistryDataError
        A `path` that names no existing file, or one error listing every bad
        field with its location.
    """
    return builtin_registry().load(path)

