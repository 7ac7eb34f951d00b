"""The :class:`Registry` container and the lazily loaded built-in registry (internal module)."""

from __future__ import annotations

import difflib
import functools
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .. import units
from .._typing import Quantity
from ..errors import RegistryDataError, UnknownInhibitorError
from . import _load
from ._model import (
    GENERATIONS,
    MECHANISMS,
    ClinicalTrial,
    Generation,
    Inhibitor,
    Mechanism,
    Reference,
    ReviewRow,
    _normalize,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Registry", "builtin_registry", "molecular_weight"]

_LABEL = re.compile(r"(.+?)\s*\((.+)\)")


class Registry:
    """An immutable collection of inhibitors, looked up by any of their names.

    Functions of :mod:`mtor_pharm.registry` (``get``, ``all``, ``filter``, …)
    use the built-in registry, :meth:`Registry.builtin`; a registry extended
    with a lab's own file comes from :meth:`load`.

    Parameters
    ----------
    compounds : iterable of Inhibitor
        No two may share a name (compared ignoring case, spaces and hyphens).
    trials : iterable of ClinicalTrial, optional

    Raises
    ------
    RegistryDataError
        Two compounds share a name.

    Examples
    --------
    >>> reg = mp.registry.Registry.builtin()
    >>> "RAD001" in reg, "aspirin" in reg
    (True, False)
    >>> reg.get("MLN0128") is reg.get("INK 128")
    True
    """

    __slots__ = ("_compounds", "_index", "_references", "_review", "_trials")

    def __init__(
        self,
        compounds: Iterable[Inhibitor] = (),
        *,
        trials: Iterable[ClinicalTrial] = (),
        references: Mapping[str, Reference] | None = None,
        review: Iterable[ReviewRow] = (),
    ) -> None:
        given: tuple[tuple[str, object], ...] = (("compounds", compounds), ("trials", trials))
        for arg, value in given:
            if isinstance(value, str | bytes) or not isinstance(value, Iterable):
                raise TypeError(
                    f"`{arg}` must be an iterable of {'Inhibitor' if arg == 'compounds' else 'ClinicalTrial'}"
                    f" objects; got {type(value).__name__}."
                )
        self._compounds: tuple[Inhibitor, ...] = tuple(compounds)
        self._trials: tuple[ClinicalTrial, ...] = tuple(trials)
        for trial in self._trials:
            if not isinstance(trial, ClinicalTrial):
                raise TypeError(f"`trials` must hold ClinicalTrial objects; got {type(trial).__name__}.")
        if references is not None and not (
            isinstance(references, Mapping)
            and all(isinstance(k, str) and isinstance(v, Reference) for k, v in references.items())
        ):
            raise TypeError(
                f"`references` must map keys to Reference objects; got {type(references).__name__}."
            )
        self._references: dict[str, Reference] = dict(references or {})
        review_given: object = review
        if isinstance(review_given, str | bytes) or not isinstance(review_given, Iterable):
            raise TypeError(f"`review` must be an iterable of ReviewRow objects; got {type(review).__name__}.")
        self._review: tuple[ReviewRow, ...] = tuple(review)
        for row in self._review:
            if not isinstance(row, ReviewRow):
                raise TypeError(f"`review` must hold ReviewRow objects; got {type(row).__name__}.")
        index: dict[str, Inhibitor] = {}
        clashes: list[str] = []
        for inh in self._compounds:
            if not isinstance(inh, Inhibitor):
                raise TypeError(f"`compounds` must hold Inhibitor objects; got {type(inh).__name__}.")
            for name in inh.names:
                key = _normalize(name)
                other = index.setdefault(key, inh)
                if other is not inh:
                    clashes.append(f"{name!r} is a name of both {other.name!r} and {inh.name!r}")
        if clashes:
            raise RegistryDataError(
                "`compounds` must not share names; got " + "; ".join(clashes)
                + ". Give each name to one compound."
            )
        self._index = index

    @classmethod
    def builtin(cls) -> Registry:
        """The registry shipped with the package (read once, on first use).

        Examples
        --------
        >>> len(mp.registry.Registry.builtin()) >= 25
        True
        """
        return builtin_registry()

    # -- container protocol -------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._compounds)

    def __iter__(self) -> Iterator[Inhibitor]:
        return iter(self._compounds)

    def __contains__(self, name: object) -> bool:
        if isinstance(name, Inhibitor):
            return name in self._compounds
        return isinstance(name, str) and _normalize(name) in self._index

    def __getitem__(self, name: str) -> Inhibitor:
        return self.get(name)

    def __repr__(self) -> str:
        n_records = sum(len(inh.potency) for inh in self._compounds)
        return (
            f"<Registry: {len(self._compounds)} compounds, {n_records} potency records, "
            f"{len(self._trials)} trials>"
        )

    # -- look-up --------------------------------------------------------------------------
    def get(self, name: str | Inhibitor) -> Inhibitor:
        """The inhibitor with this name, synonym or code.

        Names are compared ignoring case, spaces, hyphens and underscores, so
        ``"INK128"``, ``"ink-128"`` and ``"INK 128"`` are one name.  A vendor-style
        label such as ``"Everolimus (RAD001)"`` resolves when all its parts name
        the same compound.

        Parameters
        ----------
        name : str or Inhibitor
            An Inhibitor is returned as found in this registry (by its preferred name).

        Returns
        -------
        Inhibitor

        Raises
        ------
        UnknownInhibitorError
            No compound has this name; the message suggests the closest names.

        Examples
        --------
        >>> mp.registry.get("TAK-228").name
        'Sapanisertib'
        >>> mp.registry.get("BEZ235 (NVP-BEZ235, Dactolisib)").name
        'Dactolisib'
        """
        if isinstance(name, Inhibitor):
            name = name.name
        if not isinstance(name, str):
            raise TypeError(f"`name` must be a string or an Inhibitor; got {type(name).__name__}.")
        key = _normalize(name)
        found = self._index.get(key)
        if found is not None:
            return found
        found = self._get_labelled(name)
        if found is not None:
            return found
        close = difflib.get_close_matches(key, list(self._index), n=3, cutoff=0.75)  # typos, not other drugs
        if close:
            shown = ", ".join(
                f"{self._display(c)!r} ({self._index[c].name})"
                if self._display(c) != self._index[c].name else repr(self._index[c].name)
                for c in close
            )
            hint = f"Closest names: {shown}."
        else:
            hint = (
                f"No close name; try mp.registry.search({name!r}) or mp.registry.all(). The registry holds mTOR "
                "inhibitors only; for another compound give its molecular weight yourself, e.g. "
                "mp.units.mass_to_molar('1 ug/mL', '615.39 g/mol')."
            )
        raise UnknownInhibitorError(
            f"`name` must be a compound name, synonym or code in the registry; got {name!r}. {hint}"
        )

    def _get_labelled(self, name: str) -> Inhibitor | None:
        """Resolve a vendor-style label "A (B, C)" when A, B and C all name one compound."""
        m = _LABEL.fullmatch(name.strip())
        if m is None:
            return None
        parts = [m.group(1), *re.split(r"[,;/]", m.group(2))]
        found = {self._index.get(_normalize(p)) for p in parts if p.strip()}
        if len(found) != 1:
            if None not in found:
                names = sorted(inh.name for inh in found if inh is not None)
                raise UnknownInhibitorError(
                    f"`name` must name one compound; got {name!r}, whose parts name "
                    f"{', '.join(map(repr, names))}. Look each part up separately."
                )
            return None
        return found.pop()

    def _display(self, key: str) -> str:
        inh = self._index[key]
        for n in inh.names:
            if _normalize(n) == key:
                return n
        return inh.name  # pragma: no cover - every key comes from a name

    def all(self) -> tuple[Inhibitor, ...]:
        """Every compound, in file order (first generation first).

        Examples
        --------
        >>> mp.registry.all()[0].name
        'Sirolimus'
        """
        return self._compounds

    @property
    def trials(self) -> tuple[ClinicalTrial, ...]:
        """Every clinical-trial record of the registry."""
        return self._trials

    @property
    def references(self) -> Mapping[str, Reference]:
        """Every structured reference the registry's facts cite, by key (read-only).

        Examples
        --------
        >>> refs = mp.registry.Registry.builtin().references
        >>> refs["Thoreen2009"].pmid
        '19150980'
        """
        return MappingProxyType(self._references)

    @property
    def review(self) -> tuple[ReviewRow, ...]:
        """The founding review's table rows, each resolved to a compound of the registry.

        Examples
        --------
        >>> [r.compound for r in mp.registry.Registry.builtin().review][:2]
        ['Sirolimus', 'Everolimus']
        """
        return self._review

    def filter(
        self,
        *,
        generation: Generation | None = None,
        target: str | None = None,
        mechanism: Mechanism | None = None,
    ) -> tuple[Inhibitor, ...]:
        """Compounds matching every given criterion.

        Parameters
        ----------
        generation : {1, 2, 3}, optional
        target : str, optional
            A target as listed in ``Inhibitor.targets`` (``"mTORC1"``, ``"mTORC2"``,
            ``"PI3K"``, ``"ATM"``…), compared ignoring case and hyphens.  ``"mTOR"``
            matches every compound acting on mTOR (``"mTOR"``, ``"mTORC1"`` or
            ``"mTORC2"``); ``"mTORC2"`` matches only compounds whose source names
            that complex.
        mechanism : str, optional
            One of ``"allosteric-rapalog"``, ``"atp-competitive-torki"``,
            ``"dual-pi3k-mtor"``, ``"bitopic"``.

        Returns
        -------
        tuple of Inhibitor

        Raises
        ------
        ValueError
            An unknown generation or mechanism.

        Examples
        --------
        >>> [i.name for i in mp.registry.filter(generation=1, target="mTORC1")]
        ['Sirolimus', 'Everolimus', 'Temsirolimus', 'Ridaforolimus', 'Zotarolimus']
        >>> len(mp.registry.filter(mechanism="dual-pi3k-mtor"))
        7
        """
        if generation is not None and (
            isinstance(generation, bool) or generation not in GENERATIONS
        ):
            raise ValueError(f"`generation` must be 1, 2 or 3; got {generation!r}.")
        if mechanism is not None and mechanism not in MECHANISMS:
            raise ValueError(
                f"`mechanism` must be one of {', '.join(map(repr, MECHANISMS))}; got {mechanism!r}."
            )
        if target is not None and not (isinstance(target, str) and target.strip()):
            raise ValueError(f"`target` must be a non-empty string such as 'mTORC1'; got {target!r}.")
        wanted: set[str] = set()
        if target is not None:
            key = _normalize(target)
            wanted = {key}
            if key == "mtor":
                wanted |= {"mtorc1", "mtorc2"}
        return tuple(
            inh
            for inh in self._compounds
            if (generation is None or inh.generation == generation)
            and (mechanism is None or inh.mechanism == mechanism)
            and (target is None or wanted & {_normalize(t) for t in inh.targets})
        )

    def search(self, text: str) -> tuple[Inhibitor, ...]:
        """Compounds whose names, mechanism or targets contain `text`.

        Names are matched ignoring case, spaces and hyphens; the mechanism
        (vocabulary and source wording) and targets ignoring case.

        Parameters
        ----------
        text : str

        Returns
        -------
        tuple of Inhibitor
            In registry order; empty when nothing matches.

        Examples
        --------
        >>> [i.name for i in mp.registry.search("BEZ")]
        ['Dactolisib']
        >>> "Everolimus" in [i.name for i in mp.registry.search("rapamycin")]
        True
        """
        key = _normalize(text) if isinstance(text, str) else ""
        if not key:
            raise ValueError(
                f"`text` must be a string with at least one letter or digit; got {text!r}."
            )
        folded = text.casefold().strip()
        out = []
        for inh in self._compounds:
            prose = [inh.mechanism, inh.targets_text, *inh.targets]
            if inh.description is not None:
                prose.append(inh.description.value)
            if any(key in _normalize(n) for n in inh.names) or any(
                folded in p.casefold() for p in prose
            ):
                out.append(inh)
        return tuple(out)

    # -- tables ---------------------------------------------------------------------------
    def table(self) -> pd.DataFrame:
        """One row per compound: identity, chemistry and approval status.

        Missing facts are ``<NA>``/NaN.  Columns: ``name``, ``synonyms``,
        ``unconfirmed_synonyms`` (``"; "``-joined), ``generation``, ``mechanism``,
        ``targets``, ``formula``, ``molecular_weight`` (g/mol),
        ``molecular_weight_computed``, ``cas``, ``pubchem_cid``, ``inchikey``,
        ``approval_status``, ``n_potency_records``, ``n_trials``.

        Returns
        -------
        pandas.DataFrame

        Examples
        --------
        >>> df = mp.registry.table()
        >>> df.loc[df["name"] == "Sirolimus", "molecular_weight"].item()
        914.19
        """
        import pandas as pd

        rows: list[dict[str, Any]] = []
        for inh in self._compounds:
            rows.append({
                "name": inh.name,
                "synonyms": "; ".join(inh.synonyms),
                "unconfirmed_synonyms": "; ".join(inh.unconfirmed_synonyms),
                "generation": inh.generation,
                "mechanism": inh.mechanism,
                "targets": "; ".join(inh.targets),
                "formula": inh.formula.value if inh.formula else None,
                "molecular_weight": inh.molecular_weight.value if inh.molecular_weight else None,
                "molecular_weight_computed": (
                    inh.molecular_weight.computed if inh.molecular_weight else None
                ),
                "cas": inh.cas.value if inh.cas else None,
                "pubchem_cid": inh.pubchem_cid.value if inh.pubchem_cid else None,
                "inchikey": inh.inchikey.value if inh.inchikey else None,
                "approval_status": inh.approval_status.value if inh.approval_status else None,
                "n_potency_records": len(inh.potency),
                "n_trials": len(inh.trials),
            })
        df = pd.DataFrame(rows, columns=list(_TABLE_COLUMNS))
        return df.astype({
            "generation": "int64",
            "molecular_weight": "float64",
            "molecular_weight_computed": "boolean",
            "pubchem_cid": "Int64",
            "n_potency_records": "int64",
            "n_trials": "int64",
        })

    def potency_table(self) -> pd.DataFrame:
        """One row per potency record.

        Columns: ``compound``, ``reported_name``, ``target``, ``kind``,
        ``qualifier``, ``value``, ``low``, ``high`` (magnitudes in ``unit``;
        ``value`` is NaN for a range, ``low == high == value`` otherwise),
        ``unit``, ``assay_type``, ``assay_text``, ``cell_line``, ``versus``,
        ``verified``, ``claim``, ``source``, ``note``, then ``atp`` (ATP
        concentration of a kinase assay, ``"not read"`` when unknown), ``verdict``
        (review figures), ``reference`` (the cited reference's key) and ``where``
        (where in it the figure was read).  Never compare rows of different
        ``kind`` or ``assay_type``.

        Returns
        -------
        pandas.DataFrame

        Examples
        --------
        >>> df = mp.registry.potency_table()
        >>> sorted(df.loc[df["compound"] == "OSI-027", "value"].dropna().unique().tolist())
        [22.0, 65.0, 100.0]
        """
        import pandas as pd

        rows: list[dict[str, Any]] = []
        for inh in self._compounds:
            for r in inh.potency:
                low, high = r.bounds if r.bounds is not None else (r.magnitude, r.magnitude)
                rows.append({
                    "compound": r.compound,
                    "reported_name": r.reported_name,
                    "target": r.target,
                    "kind": r.kind,
                    "qualifier": r.qualifier,
                    "value": r.magnitude,
                    "low": low,
                    "high": high,
                    "unit": r.unit,
                    "assay_type": r.assay_type,
                    "assay_text": r.assay_text,
                    "cell_line": r.cell_line,
                    "versus": r.versus,
                    "verified": r.verified,
                    "claim": r.claim,
                    "source": r.source,
                    "note": r.note,
                    "atp": r.atp,
                    "verdict": r.verdict,
                    "reference": r.citation.reference.key if r.citation else None,
                    "where": r.citation.where if r.citation else None,
                })
        df = pd.DataFrame(rows, columns=list(_POTENCY_COLUMNS))
        return df.astype({"value": "float64", "low": "float64", "high": "float64"})

    # -- extension ------------------------------------------------------------------------
    def load(self, path: str | os.PathLike[str]) -> Registry:
        """A new registry: this one plus the compounds, records and trials of a TOML file.

        This registry is not changed.  The file may add compounds, potency
        records (also for compounds already here) and trials; it may not
        reuse a name.  It is parsed with :mod:`tomllib` and never executed.
        See ``docs/registry.md`` for the format.

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

        Examples
        --------
        >>> import pathlib, tempfile
        >>> lab_file = '''
        ... [[compound]]
        ... name = "LAB-0042"
        ... generation = 2
        ... mechanism = "atp-competitive-torki"
        ... targets = ["mTORC1", "mTORC2"]
        ... '''
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = pathlib.Path(tmp) / "lab.toml"
        ...     _ = path.write_text(lab_file, encoding="utf-8")
        ...     lab = mp.registry.load(path)
        >>> lab.get("lab0042").name, "LAB-0042" in mp.registry.Registry.builtin()
        ('LAB-0042', False)
        """
        doc, origin = _load.read_file(path)
        try:
            loaded = _load.build(
                doc, origin=origin, base_compounds=self._compounds, base_trials=self._trials,
                base_references=self._references, base_review=self._review,
            )
        except RegistryDataError:
            raise
        except (RecursionError, TypeError, AttributeError, KeyError, IndexError,
                OverflowError, ValueError) as exc:  # a safety net: never leak these to the caller
            raise RegistryDataError(
                f"registry data in {origin} must be a well-formed registry file; reading it "
                f"failed with {type(exc).__name__} ({str(exc)[:200]}). Check the file against "
                "docs/registry.md."
            ) from None
        return Registry(loaded.compounds, trials=loaded.trials, references=loaded.references,
                        review=loaded.review)

    def import_chembl(self, path: str | os.PathLike[str]) -> Registry:
        """A new registry: this one plus the mTOR and class I PI3K activities of a local
        ChEMBL SQLite release, for the registry's compounds.

        Each ChEMBL activity becomes a :class:`PotencyRecord` citing its ChEMBL document
        (with the document's DOI and PMID where ChEMBL has them) and naming the activity
        and assay IDs in ``citation.where``. Records are ``verified="unverified"``: the
        figures come from ChEMBL, not from reading the paper. Binding assays (ChEMBL type
        ``B``) without a cell type are ``"cell-free kinase"`` records (with the ATP
        concentration when the assay description states it, else ``"not read"``); assays
        with a cell type are ``"cellular"``. Activities that do not qualify are counted in
        one ``MtorPharmWarning``. See ``mtor_pharm.registry._chembl`` for the columns read.

        Parameters
        ----------
        path : str or os.PathLike
            A ChEMBL SQLite file (opened read-only).

        Returns
        -------
        Registry

        Raises
        ------
        RegistryDataError
            The file is not SQLite or lacks a table or column ChEMBL has.
        TypeError
            `path` is not a path.

        Examples
        --------
        >>> reg = mp.registry.Registry.builtin()
        >>> reg.import_chembl(3.5)  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        TypeError: `path` must be a str or os.PathLike naming a ChEMBL SQLite file; got float 3.5.
        """
        from . import _chembl

        compounds, refs = _chembl.import_activities(path, self._compounds)
        references = _chembl.merge_references(self._references, refs)
        return Registry(compounds, trials=self._trials, references=references, review=self._review)

    def molecular_weight(self, inhibitor: str | Inhibitor) -> Quantity:
        """Molecular weight of a compound of this registry, in g/mol (see :func:`molecular_weight`)."""
        inh = inhibitor if isinstance(inhibitor, Inhibitor) else self.get(inhibitor)
        return units.Q_(inh._molar_mass(), "g/mol")


_TABLE_COLUMNS = (
    "name", "synonyms", "unconfirmed_synonyms", "generation", "mechanism", "targets", "formula",
    "molecular_weight", "molecular_weight_computed", "cas", "pubchem_cid", "inchikey",
    "approval_status", "n_potency_records", "n_trials",
)
_POTENCY_COLUMNS = (
    "compound", "reported_name", "target", "kind", "qualifier", "value", "low", "high", "unit",
    "assay_type", "assay_text", "cell_line", "versus", "verified", "claim", "source", "note",
    "atp", "verdict", "reference", "where",
)


@functools.cache
def builtin_registry() -> Registry:
    """Read, validate and cache the built-in registry (first call only)."""
    doc, origin = _load.read_builtin()
    loaded = _load.build(doc, origin=origin, base_label="built-in")
    return Registry(loaded.compounds, trials=loaded.trials, references=loaded.references,
                    review=loaded.review)


def molecular_weight(
    inhibitor: str | Inhibitor, *, registry: Registry | None = None
) -> Quantity:
    """Molecular weight of an inhibitor as a Quantity in g/mol.

    For converting mass concentrations (µg/mL) to molar ones.

    Parameters
    ----------
    inhibitor : str or Inhibitor
        Any name, synonym or code, or an Inhibitor.
    registry : Registry, optional
        Where to look names up; the built-in registry by default.

    Returns
    -------
    pint.Quantity
        Scalar, in g/mol.

    Raises
    ------
    UnknownInhibitorError
        The name is not in the registry.
    UnitError
        The registry holds no sourced molecular weight for the compound.

    Examples
    --------
    >>> mp.registry.molecular_weight("rapamycin")
    <Quantity(914.19, 'gram / mole')>
    """
    if isinstance(inhibitor, Inhibitor):
        return units.Q_(inhibitor._molar_mass(), "g/mol")
    if not isinstance(inhibitor, str):
        raise TypeError(
            f"`inhibitor` must be a name or an Inhibitor; got {type(inhibitor).__name__}."
        )
    if registry is not None and not isinstance(registry, Registry):
        raise TypeError(f"`registry` must be a Registry or None; got {type(registry).__name__}.")
    reg = builtin_registry() if registry is None else registry
    return reg.molecular_weight(inhibitor)

