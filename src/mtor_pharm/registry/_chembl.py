"""Import mTOR and PI3K activities from a local ChEMBL SQLite release (internal module).

Only the columns below of five ChEMBL tables are read, with plain ``SELECT`` statements on
a read-only connection:

- ``activities``: ``activity_id``, ``molregno``, ``assay_id``, ``doc_id``, ``standard_type``,
  ``standard_relation``, ``standard_value``, ``standard_units``;
- ``assays``: ``assay_id``, ``chembl_id``, ``tid``, ``assay_type``, ``description``,
  ``assay_cell_type``;
- ``target_dictionary``: ``tid``, ``pref_name``, ``chembl_id``;
- ``docs``: ``doc_id``, ``chembl_id``, ``pubmed_id``, ``doi``, ``journal``, ``year``, ``title``,
  ``authors``;
- ``molecule_dictionary``: ``molregno``, ``pref_name``, ``chembl_id``.

A row becomes a :class:`PotencyRecord` when its molecule names a compound of the registry
(preferred name, synonym or ChEMBL ID), its target is mTOR or a class I PI3K isoform, its
type is IC50, Ki, EC50 or GI50 and its value is a positive molar concentration. The record
cites the ChEMBL document (its DOI/PMID when ChEMBL has them) and says where it came from
(activity and assay IDs); it is ``verified="unverified"`` because the figure was not read
in the paper. Rows that do not qualify are counted by reason and reported in one
``MtorPharmWarning``: nothing is dropped without a word.
"""

from __future__ import annotations

import math
import os
import re
import sqlite3
import warnings
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .. import units
from ..errors import MtorPharmWarning, RegistryDataError
from ._model import (
    AssayType,
    Citation,
    Inhibitor,
    PotencyKind,
    PotencyRecord,
    Qualifier,
    Reference,
    _normalize,
    _show,
)

__all__ = ["TARGETS", "import_activities"]

#: Target names the importer keeps, matched against ``target_dictionary.pref_name``
#: (case-insensitive), and the registry's name for each.
TARGETS: tuple[tuple[str, str], ...] = (
    (r"\bmtor\b|mammalian target of rapamycin|mechanistic target of rapamycin", "mTOR"),
    (r"p110[- ]?alpha|catalytic subunit alpha", "PI3Kα"),
    (r"p110[- ]?beta|catalytic subunit beta", "PI3Kβ"),
    (r"p110[- ]?delta|catalytic subunit delta", "PI3Kδ"),
    (r"p110[- ]?gamma|catalytic subunit gamma", "PI3Kγ"),
)
_KINDS: dict[str, PotencyKind] = {"IC50": "IC50", "KI": "Ki", "EC50": "EC50", "GI50": "GI50"}
_RELATIONS: dict[str, Qualifier] = {"=": "=", "<": "<", ">": ">", "~": "~"}
_ATP = re.compile(r"(\d+(?:\.\d+)?)\s*(mM|uM|µM|μM|nM)\s+(?:of\s+)?ATP", re.IGNORECASE)
_COLUMNS = {
    "activities": ("activity_id", "molregno", "assay_id", "doc_id", "standard_type",
                   "standard_relation", "standard_value", "standard_units"),
    "assays": ("assay_id", "chembl_id", "tid", "assay_type", "description", "assay_cell_type"),
    "target_dictionary": ("tid", "pref_name", "chembl_id"),
    "docs": ("doc_id", "chembl_id", "pubmed_id", "doi", "journal", "year", "title", "authors"),
    "molecule_dictionary": ("molregno", "pref_name", "chembl_id"),
}
_QUERY = """
SELECT act.activity_id, act.standard_type, act.standard_relation, act.standard_value,
       act.standard_units, a.chembl_id, a.assay_type, a.description, a.assay_cell_type,
       t.pref_name, d.chembl_id, d.pubmed_id, d.doi, d.journal, d.year, d.title, d.authors,
       m.pref_name, m.chembl_id
FROM activities AS act
JOIN assays AS a ON a.assay_id = act.assay_id
JOIN target_dictionary AS t ON t.tid = a.tid
JOIN docs AS d ON d.doc_id = act.doc_id
JOIN molecule_dictionary AS m ON m.molregno = act.molregno
ORDER BY act.activity_id
"""


def _target_name(pref_name: object) -> str | None:
    if not isinstance(pref_name, str):
        return None
    for pattern, name in TARGETS:
        if re.search(pattern, pref_name, re.IGNORECASE):
            return name
    return None


def _assay_type(chembl_type: object, cell_type: object) -> AssayType:
    if isinstance(cell_type, str) and cell_type.strip():
        return "cellular"
    if chembl_type == "B":
        return "cell-free kinase"
    return "unspecified"


def _atp(description: object) -> str:
    if isinstance(description, str):
        m = _ATP.search(description)
        if m is not None:
            unit = {"µM": "uM", "μM": "uM"}.get(m.group(2), m.group(2))
            return f"{m.group(1)} {unit}"
    return "not read"


def _reference(doc: tuple[Any, ...]) -> Reference:
    chembl_id, pubmed_id, doi, journal, year, title, authors = doc
    pmid = str(pubmed_id) if isinstance(pubmed_id, int) and 0 < pubmed_id < 10**9 else None
    doi_ok = doi if isinstance(doi, str) and re.fullmatch(r"10\.\d{4,9}/\S+", doi) else None
    year_ok = year if isinstance(year, int) and 1800 <= year <= 2100 else None
    title_text = title if isinstance(title, str) and title.strip() else f"ChEMBL document {chembl_id}"
    note = f"Imported from ChEMBL document {chembl_id}; the figures were not read in the paper."
    if doi_ok or pmid:
        return Reference(
            key=str(chembl_id), type="article", title=title_text,
            authors=authors if isinstance(authors, str) else "", year=year_ok,
            journal=journal if isinstance(journal, str) else "", doi=doi_ok, pmid=pmid, note=note,
        )
    return Reference(key=str(chembl_id), type="database", title=title_text,
                     identifier=f"ChEMBL document {chembl_id}", note=note)


def _connect(path: str | os.PathLike[str]) -> tuple[sqlite3.Connection, str]:
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"`path` must be a str or os.PathLike naming a ChEMBL SQLite file; got "
                        f"{type(path).__name__} {_show(path)}.")
    raw: object = os.fspath(path)
    if not isinstance(raw, str):
        raise TypeError(f"`path` must be a text path, not bytes; got {_show(raw)}.")
    origin = repr(raw)
    if not os.path.isfile(raw):
        raise RegistryDataError(f"`path` must name an existing ChEMBL SQLite file; got {origin}.")
    conn = None
    try:
        conn = sqlite3.connect(f"file:{raw}?mode=ro", uri=True)
        found = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        raise RegistryDataError(
            f"ChEMBL data in {origin} must be an SQLite database; got {type(exc).__name__}: {exc}."
        ) from None
    for table, columns in _COLUMNS.items():
        if table not in found:
            conn.close()
            raise RegistryDataError(
                f"ChEMBL data in {origin} must have a `{table}` table; got tables "
                f"{sorted(found) or 'none'}. Use a ChEMBL SQLite release."
            )
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        missing = [c for c in columns if c not in have]
        if missing:
            conn.close()
            raise RegistryDataError(
                f"ChEMBL data in {origin} must have columns {', '.join(missing)} in `{table}`; "
                f"got {sorted(have)}."
            )
    return conn, origin


def import_activities(
    path: str | os.PathLike[str],
    compounds: tuple[Inhibitor, ...],
) -> tuple[tuple[Inhibitor, ...], dict[str, Reference]]:
    """The compounds with the ChEMBL records added, and the references they cite."""
    conn, origin = _connect(path)
    resolve: dict[str, str] = {}
    for inh in compounds:
        for name in inh.names:
            resolve.setdefault(_normalize(name), inh.name)
    skipped: Counter[str] = Counter()
    added: dict[str, list[PotencyRecord]] = {}
    refs: dict[str, Reference] = {}
    try:
        rows = conn.execute(_QUERY).fetchall()
    except sqlite3.Error as exc:
        raise RegistryDataError(f"ChEMBL data in {origin} could not be read: {exc}.") from None
    finally:
        conn.close()
    for row in rows:
        (activity_id, std_type, relation, value, std_units, assay_chembl, assay_kind, description,
         cell_type, target_pref, *doc, mol_name, mol_chembl) = row
        compound = next((resolve[_normalize(n)] for n in (mol_name, mol_chembl)
                         if isinstance(n, str) and _normalize(n) in resolve), None)
        target = _target_name(target_pref)
        kind = _KINDS.get(std_type.upper()) if isinstance(std_type, str) else None
        qualifier = _RELATIONS.get(relation) if isinstance(relation, str) else None
        if compound is None:
            skipped["molecule not in the registry"] += 1
            continue
        if target is None:
            skipped["target not mTOR or a class I PI3K"] += 1
            continue
        if kind is None:
            skipped["type not IC50, Ki, EC50 or GI50"] += 1
            continue
        if qualifier is None:
            skipped["relation not =, <, > or ~"] += 1
            continue
        if not isinstance(value, int | float) or isinstance(value, bool) or not (
            math.isfinite(value) and value > 0
        ):
            skipped["value missing or not positive"] += 1
            continue
        unit_text = (std_units.strip().replace("µ", "u").replace("μ", "u")
                     if isinstance(std_units, str) else "")
        q = units.Q_(1.0, unit_text) if re.fullmatch(r"[munp]?M", unit_text) else None
        if q is None or not q.check("[substance] / [length] ** 3"):
            skipped["unit not a molar concentration"] += 1
            continue
        ref = refs.setdefault(str(doc[0]), _reference(tuple(doc)))
        assay_type = _assay_type(assay_kind, cell_type)
        added.setdefault(compound, []).append(PotencyRecord(
            compound=compound, target=target, kind=kind, magnitude=float(value),
            unit=unit_text,
            qualifier=qualifier, assay_type=assay_type,
            assay_text=description if isinstance(description, str) else "",
            cell_line=cell_type if isinstance(cell_type, str) and cell_type.strip() else None,
            source=ref.label, verified="unverified",
            citation=Citation(reference=ref,
                              where=f"ChEMBL activity {activity_id}, assay {assay_chembl}"),
            atp=_atp(description) if assay_type == "cell-free kinase" else None,
            note=f"ChEMBL target: {target_pref}.",
        ))
    if skipped:
        listing = "; ".join(f"{n} {reason}" for reason, n in sorted(skipped.items()))
        warnings.warn(
            f"ChEMBL data in {origin}: {sum(skipped.values())} of {len(rows)} activities were not "
            f"imported ({listing}).", MtorPharmWarning, stacklevel=3,
        )
    out = tuple(
        replace(inh, potency=(*inh.potency, *added[inh.name])) if inh.name in added else inh
        for inh in compounds
    )
    return out, refs


def merge_references(base: Mapping[str, Reference], new: Mapping[str, Reference]) -> dict[str, Reference]:
    """`base` plus the new references; a ChEMBL key that clashes with a base key is an error."""
    clash = sorted(k for k in new if k in base and base[k] != new[k])
    if clash:
        raise RegistryDataError(
            f"ChEMBL document keys must not reuse the registry's reference keys; got {clash}."
        )
    return {**base, **new}
