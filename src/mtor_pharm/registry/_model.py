"""Frozen records of the inhibitor registry: compounds, potency records, trials.

Everything here is immutable data plus small derived methods.  Magnitudes are
stored as floats with unit strings; Quantities are made on access with the
registry that is current at that moment (:func:`mtor_pharm.units.Q_`), so a
later ``pint.set_application_registry`` by the user is followed.
"""

from __future__ import annotations

import math
import re
import reprlib
import unicodedata
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeAlias, TypeVar, get_args

from .. import units
from .._typing import ConcentrationLike, Quantity
from ..errors import MtorPharmError, UnitError

__all__ = [
    "APPROVAL_STATUSES",
    "ASSAY_TYPES",
    "CONCENTRATION_KINDS",
    "GENERATIONS",
    "MECHANISMS",
    "POTENCY_KINDS",
    "QUALIFIERS",
    "REFERENCE_TYPES",
    "VERDICTS",
    "VERIFICATION_STATES",
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
    "ReviewRow",
    "Selectivity",
    "TrialArm",
    "TrialResult",
    "Verdict",
    "Verification",
]

#: How a compound inhibits mTOR.
Mechanism: TypeAlias = Literal["allosteric-rapalog", "atp-competitive-torki", "dual-pi3k-mtor", "bitopic"]
#: First (rapalogs), second (ATP-competitive, incl. dual PI3K/mTOR), third (bitopic).
Generation: TypeAlias = Literal[1, 2, 3]
#: What a potency record measures.  ``"Kd"`` is an equilibrium dissociation constant
#: (e.g. of a rapalog and FKBP12); ``"active concentration"`` is a concentration
#: at which a source reports an effect without calling it an IC50; ``"unspecified"``
#: is a concentration whose kind the source does not state.
PotencyKind: TypeAlias = Literal[
    "IC50", "Ki", "Kd", "EC50", "GI50", "active concentration", "unspecified", "selectivity fold"
]
#: The kind of experiment behind a potency record.  ``"binding"`` is a cell-free
#: binding measurement between purified molecules (fluorescence polarization, SPR,
#: NMR), not a kinase activity assay.  Records of different assay types are never
#: divided by one another.
AssayType: TypeAlias = Literal[
    "cell-free kinase", "binding", "cellular phospho-readout", "cellular", "proliferation",
    "unspecified"
]
#: ``"sourced"``: read in the cited source itself.  For the vendor review's claims
#: (registry_facts.md, section 5): ``"confirmed"`` by an independent source,
#: ``"unverifiable"`` (no source read gives it), ``"corrected"``.  ``"unverified"``:
#: not yet checked at all.
Verification: TypeAlias = Literal["sourced", "confirmed", "unverifiable", "corrected", "unverified"]
#: ``"="`` exact as reported, ``"~"`` approximately, ``">"``/``"<"`` a bound.
Qualifier: TypeAlias = Literal["=", "~", ">", "<"]
#: Regulatory status; ``"none found"`` means no approval was found in the sources read.
ApprovalStatus: TypeAlias = Literal["approved", "not approved", "none found"]
#: What a reference is: a journal ``"article"`` (DOI and/or PMID), a regulator's
#: ``"label"`` (FDA label, EMA assessment), a ``"database"`` record, a pharmacopoeia
#: ``"monograph"``, a ``"trial-registry"`` entry, a lab's own ``"unpublished"`` data
#: (notebook, ELN page), or a ``"secondary"`` source kept because no primary source
#: was found.
ReferenceType: TypeAlias = Literal[
    "article", "label", "database", "monograph", "trial-registry", "unpublished", "secondary"
]
#: How a figure of the founding (vendor) review compares with the primary source.
Verdict: TypeAlias = Literal["agrees", "differs", "no primary source found"]

MECHANISMS: tuple[Mechanism, ...] = get_args(Mechanism)
GENERATIONS: tuple[Generation, ...] = get_args(Generation)
POTENCY_KINDS: tuple[PotencyKind, ...] = get_args(PotencyKind)
CONCENTRATION_KINDS: tuple[PotencyKind, ...] = tuple(k for k in POTENCY_KINDS if k != "selectivity fold")
ASSAY_TYPES: tuple[AssayType, ...] = get_args(AssayType)
VERIFICATION_STATES: tuple[Verification, ...] = get_args(Verification)
QUALIFIERS: tuple[Qualifier, ...] = get_args(Qualifier)
APPROVAL_STATUSES: tuple[ApprovalStatus, ...] = get_args(ApprovalStatus)
REFERENCE_TYPES: tuple[ReferenceType, ...] = get_args(ReferenceType)
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)

_T = TypeVar("_T")

_IGNORED_IN_NAMES = re.compile(r"[\s\-_\u2010-\u2015\u2212]+")


def _normalize(name: str) -> str:
    """Key used to compare names: Unicode NFKC, case-folded, no spaces, hyphens or dashes."""
    return _IGNORED_IN_NAMES.sub("", unicodedata.normalize("NFKC", name).casefold())


def _show(value: object, limit: int = 80) -> str:
    """A short, always-safe repr for error messages (huge ints, deep nesting, long text)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"<an integer of about {int(value.bit_length() * 0.30103)} digits>"
    shower = reprlib.Repr()
    shower.maxlevel, shower.maxstring, shower.maxother = 2, limit, limit
    shower.maxlong = 60
    try:
        text = shower.repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_criteria(
    *, target: object, kind: object, assay_type: object, source: object
) -> None:
    """Validate the optional look-up criteria of records()/selectivity()."""
    for arg, value in (("target", target), ("source", source)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise TypeError(f"`{arg}` must be a non-empty string or None; got {_show(value)}.")
    if kind is not None and not (isinstance(kind, str) and kind in POTENCY_KINDS):
        raise ValueError(
            f"`kind` must be one of {', '.join(map(repr, POTENCY_KINDS))} or None; got {_show(kind)}."
        )
    if assay_type is not None and not (isinstance(assay_type, str) and assay_type in ASSAY_TYPES):
        raise ValueError(
            f"`assay_type` must be one of {', '.join(map(repr, ASSAY_TYPES))} or None; "
            f"got {_show(assay_type)}."
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Reference:
    """A structured bibliographic reference that registry facts cite.

    Attributes
    ----------
    key : str
        The key facts cite it by, e.g. ``"Chresta2010"``.
    type : ReferenceType
        ``"article"``, ``"label"``, ``"database"``, ``"monograph"``,
        ``"trial-registry"``, ``"unpublished"`` or ``"secondary"``.
    title : str
        Article title, product/label title, database or document name.
    authors : str
        As printed, e.g. ``"Liu Q, Chang JW, Wang J, et al."`` (articles).
    year : int or None
    journal : str
        Journal, volume and pages as read, e.g. ``"J Biol Chem 284(12):8023-8032"``.
    doi, pmid, pmcid : str or None
        Identifiers; a DOI has the shape ``10.NNNN/...``, a PMID is digits,
        a PMCID ``PMC`` + digits.
    agency : str
        For a label: ``"US FDA"``, ``"EMA"``.
    identifier : str
        For a label, database record, monograph or trial: its identifier
        (e.g. a DailyMed set id, ``"NDA 213312"``, ``"NCT00410124"``).
    url : str or None
        Where it was read, alongside (never instead of) the identifiers.
        Never a mirror or aggregator.
    primary : bool
        False for a ``"secondary"`` source, kept only because no primary source
        was found after a search (its `note` says so).
    note : str

    Examples
    --------
    >>> ref = mp.registry.get("AZD8055").potency[0].citation.reference
    >>> ref.type, ref.year
    ('article', 2010)
    """

    key: str
    type: ReferenceType
    title: str
    authors: str = ""
    year: int | None = None
    journal: str = ""
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    agency: str = ""
    identifier: str = ""
    url: str | None = None
    primary: bool = True
    note: str = ""

    @property
    def label(self) -> str:
        """Short label: ``"Chresta et al. 2010"``; journal and year for an article whose
        authors were not read; the title for other references."""
        year = "" if self.year is None else f" {self.year}"
        if self.type == "article" and self.authors:
            first = self.authors.split(",")[0].strip().split(" ")[0]
            many = "," in self.authors or "et al" in self.authors
            return f"{first}{' et al.' if many else ''}{year}"
        if self.type == "article" and self.journal:
            return f"{self.journal}{year and f' ({year.strip()})'}"
        return self.title

    def text(self) -> str:
        """The reference formatted for reading, identifiers last.

        Examples
        --------
        >>> rec = mp.registry.get("Torin2").records(target="ATM")[0]
        >>> "doi:10.1158/0008-5472.CAN-12-1702" in rec.citation.reference.text()
        True
        """
        parts: list[str] = []
        if self.authors:
            parts.append(self.authors.rstrip(".") + ".")
        if self.year is not None:
            parts.append(f"({self.year}).")
        if self.agency:
            parts.append(f"{self.agency}:")
        parts.append(self.title.rstrip(".") + ".")
        if self.journal:
            parts.append(self.journal.rstrip(".") + ".")
        ids = [
            f"doi:{self.doi}" if self.doi else "",
            f"PMID {self.pmid}" if self.pmid else "",
            self.pmcid or "",
            self.identifier,
        ]
        ids = [i for i in ids if i]
        if ids:
            parts.append("; ".join(ids) + ".")
        if not self.primary:
            parts.append("[secondary source]")
        return " ".join(parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class Citation:
    """A reference plus where in it a fact was read (``"abstract"``, ``"Table 1"``...).

    Examples
    --------
    >>> c = mp.registry.get("AZD8055").potency[0].citation
    >>> c.where
    'abstract'
    """

    reference: Reference
    where: str = ""

    def __str__(self) -> str:
        return self.reference.text() + (f" [{self.where}]" if self.where else "")


@dataclass(frozen=True, slots=True, kw_only=True)
class Fact(Generic[_T]):
    """One sourced value, e.g. a molecular weight or a CAS number.

    Attributes
    ----------
    value
        The value (for a molecular weight: g/mol).
    sources : tuple of str
        The citations as text (one per entry of `citations`).
    citations : tuple of Citation
        Structured references, each with where in it the value was read.
    computed : bool
        True when the value was derived (e.g. an average MW computed from a
        structure given by the source) rather than printed by the source.
    note : str
        Alternatives, conflicts or caveats ("" when none).

    Notes
    -----
    Construct without subscripting, ``Fact(value=1.0, sources=("...",))``: on Python 3.11
    a subscripted call such as ``Fact[float](...)`` fails for frozen, slotted generic
    dataclasses.

    Examples
    --------
    >>> mw = mp.registry.get("sirolimus").molecular_weight
    >>> mw.value, mw.computed
    (914.19, False)
    """

    value: _T
    sources: tuple[str, ...]
    citations: tuple[Citation, ...] = ()
    computed: bool = False
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Approval:
    """One regulatory finding for a compound or product.

    Attributes
    ----------
    agency : str
        E.g. ``"US FDA"``.
    product : str
        Brand or product, e.g. ``"Rapamune"``; ``""`` when it concerns the substance.
    finding : str
        The approved indication(s) or the finding (e.g. a complete response letter),
        as worded in the fact sheet.
    sources : tuple of str
    note : str
    """

    agency: str
    product: str
    finding: str
    sources: tuple[str, ...]
    citations: tuple[Citation, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class PotencyRecord:
    """One potency figure for one compound, with its source.

    A record holds either one value (`magnitude`) or a range (`bounds`), in
    `unit`.  Concentrations are molar; a ``"selectivity fold"`` is
    dimensionless and says against what in `versus`.

    Attributes
    ----------
    compound : str
        Preferred name of the compound in the registry.
    target : str
        Target or readout, e.g. ``"mTORC1"``, ``"p-S6K1 T389"``, ``"PI3Kα"``,
        ``"cell proliferation"``.
    kind : PotencyKind
        ``"IC50"``, ``"Ki"``, ``"Kd"``, ``"EC50"``, ``"GI50"``, ``"active concentration"``,
        ``"unspecified"`` or ``"selectivity fold"``.
    magnitude : float or None
        The value, for a single-valued record.
    bounds : (float, float) or None
        ``(low, high)``, for a range such as 1.5–53 nM.
    unit : str
        E.g. ``"nM"``; ``"dimensionless"`` for a selectivity fold.
    qualifier : Qualifier
        ``"="``, ``"~"`` (approximately), ``">"`` or ``"<"`` (a bound).
    assay_type : AssayType
        ``"cell-free kinase"``, ``"binding"`` (purified molecules, no kinase reaction),
        ``"cellular phospho-readout"``, ``"cellular"``, ``"proliferation"`` or
        ``"unspecified"`` (the source does not say, or is ambiguous).
    assay_text : str
        The assay as the source words it.
    cell_line : str or None
    versus : str or None
        For a selectivity fold: what the target is compared with.
    source : str
        Paper and address, or ``"vendor review"`` for the review's own figures.
    verified : Verification
        ``"sourced"`` for figures read in the source; the claim-check verdict
        (``"confirmed"``, ``"unverifiable"``, …) for the vendor review's figures.
    reported_name : str or None
        The name the source used, e.g. ``"INK128"`` for a sapanisertib record.
    claim : str or None
        Number of the claim check in the fact sheet (vendor review records).
    note : str
    citation : Citation or None
        The structured reference and where in it the figure was read
        (``source`` is its short label).
    atp : str or None
        ATP concentration of a cell-free kinase assay as the source gives it
        (e.g. ``"10 uM"``), or ``"not read"`` when it was not found in the part
        of the paper read; None for other assay types.  See `atp_concentration`.
    verdict : Verdict or None
        For the founding review's figures: ``"agrees"`` with the primary
        source, ``"differs"``, or ``"no primary source found"``.
    compared_with : str
        For a verdict: the primary record(s) it was compared with.

    Examples
    --------
    >>> rec = mp.registry.get("OSI-027").records(target="mTORC1", source="vendor review")[0]
    >>> rec.value, rec.verified
    (<Quantity(22.0, 'nanomolar')>, 'confirmed')
    """

    compound: str
    target: str
    kind: PotencyKind
    magnitude: float | None = None
    bounds: tuple[float, float] | None = None
    unit: str
    qualifier: Qualifier = "="
    assay_type: AssayType
    assay_text: str = ""
    cell_line: str | None = None
    versus: str | None = None
    source: str
    verified: Verification
    reported_name: str | None = None
    claim: str | None = None
    note: str = ""
    citation: Citation | None = None
    atp: str | None = None
    verdict: Verdict | None = None
    compared_with: str = ""

    def __post_init__(self) -> None:
        if (self.magnitude is None) == (self.bounds is None):
            raise ValueError(
                "`magnitude` and `bounds` must not both be given or both be missing; got "
                f"magnitude={self.magnitude!r}, bounds={self.bounds!r}. Give one value or one range."
            )

    @property
    def atp_concentration(self) -> Quantity | None:
        """The assay's ATP concentration as a Quantity; None when not given or not read.

        Examples
        --------
        >>> rec = mp.registry.get("AZD8055").records(kind="IC50")[0]
        >>> rec.atp, rec.atp_concentration is None
        ('not read', True)
        """
        if self.atp is None or self.atp == "not read":
            return None
        return units.Q_(self.atp)

    @property
    def is_range(self) -> bool:
        """True when the record is a range (`bounds`), not a single value."""
        return self.bounds is not None

    @property
    def value(self) -> Quantity | None:
        """The value as a Quantity, or None for a range (see `low`, `high`)."""
        if self.magnitude is None:
            return None
        return units.Q_(self.magnitude, self.unit)

    @property
    def low(self) -> Quantity:
        """Lower end of a range; the value itself for a single-valued record."""
        return units.Q_(self.bounds[0] if self.bounds is not None else self.magnitude, self.unit)

    @property
    def high(self) -> Quantity:
        """Upper end of a range; the value itself for a single-valued record."""
        return units.Q_(self.bounds[1] if self.bounds is not None else self.magnitude, self.unit)

    def value_text(self) -> str:
        """The value as it would be printed, e.g. ``"~10 nM"`` or ``"1.5–53 nM"``."""
        qual = "" if self.qualifier == "=" else self.qualifier
        unit = "" if self.unit == "dimensionless" else f" {self.unit}"
        fold = "-fold" if self.kind == "selectivity fold" else ""
        if self.bounds is not None:
            return f"{qual}{self.bounds[0]:g}–{self.bounds[1]:g}{unit}{fold}"
        return f"{qual}{self.magnitude:g}{unit}{fold}"

    def __repr__(self) -> str:
        return (
            f"PotencyRecord(compound={self.compound!r}, target={self.target!r}, kind={self.kind!r}, "
            f"value={self.value_text()!r}, assay_type={self.assay_type!r}, "
            f"verified={self.verified!r})"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Selectivity:
    """A like-for-like potency ratio, ``numerator.value / denominator.value``.

    Both records share compound, kind, assay type and source.  For IC50s,
    ``Inhibitor.selectivity("mTORC2", "mTORC1")`` above 1 means the compound
    is that many times more potent on mTORC1.

    Examples
    --------
    >>> sel = mp.registry.get("OSI-027").selectivity("mTORC2", "mTORC1")
    >>> round(sel.ratio, 2), sel.kind
    (2.95, 'IC50')
    """

    ratio: float
    numerator: PotencyRecord
    denominator: PotencyRecord

    @property
    def kind(self) -> PotencyKind:
        """Kind shared by both records, e.g. ``"IC50"``."""
        return self.numerator.kind

    @property
    def assay_type(self) -> AssayType:
        """Assay type shared by both records."""
        return self.numerator.assay_type

    @property
    def source(self) -> str:
        """Source shared by both records."""
        return self.numerator.source

    def __float__(self) -> float:
        return self.ratio


@dataclass(frozen=True, slots=True, kw_only=True)
class TrialArm:
    """One arm of a clinical trial.

    Attributes
    ----------
    label : str
        As worded in the source, e.g. ``"single-agent MLN0128 (sapanisertib)"``.
    compounds : tuple of str
        Preferred registry names of the arm's compounds that are in the registry.
    n : int or None
        Patients randomized to the arm, where a source gives it.
    note : str
    """

    label: str
    compounds: tuple[str, ...] = ()
    n: int | None = None
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TrialResult:
    """One reported figure of a trial, e.g. median PFS in each arm.

    Attributes
    ----------
    measure : str
        E.g. ``"median PFS"``, ``"hazard ratio"``.
    text : str
        The figure exactly as quoted, e.g. ``"3.8 vs 3.6 mo"``.
    values : tuple of float
        The numbers in the quoted order.
    unit : str
        ``"month"``, ``"percent"``, ``"dimensionless"``.
    arms : tuple of str
        Arm labels in the order of `values`; empty when the source does not say
        which figure belongs to which arm.
    qualifier : Qualifier
        E.g. ``"<"`` for ``p < 0.0001``.
    ci : (float, float) or None
        Confidence interval where given.
    verified : Verification
    source : str
    note : str
    """

    measure: str
    text: str
    values: tuple[float, ...]
    unit: str
    arms: tuple[str, ...] = ()
    qualifier: Qualifier = "="
    ci: tuple[float, float] | None = None
    verified: Verification
    source: str
    note: str = ""
    citation: Citation | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClinicalTrial:
    """A clinical trial involving registry compounds, with its reported figures.

    Attributes
    ----------
    id : str
        Registry identifier, e.g. ``"EudraCT 2015-002133-22"``.
    title : str
    phase : str or None
        As stated by a source; None when no source states it.
    design : str
    condition : str
    compounds : tuple of str
        Preferred names of the registry compounds studied; the trial is
        reachable from each of them (``Inhibitor.trials``).
    arms : tuple of TrialArm
    results : tuple of TrialResult
    sources : tuple of str
        Sources of the trial's identity and design (text of `citations`).
    verified : Verification
        State of the identity and design (each result has its own).
    notes : tuple of str
    citations : tuple of Citation

    Examples
    --------
    >>> trial = mp.registry.get("TAK-228").trials[0]
    >>> trial.id, trial.compounds
    ('EudraCT 2015-002133-22', ('Sapanisertib', 'Everolimus'))
    >>> trial in mp.registry.get("everolimus").trials
    True
    """

    id: str
    title: str
    phase: str | None = None
    design: str = ""
    condition: str = ""
    compounds: tuple[str, ...]
    arms: tuple[TrialArm, ...] = ()
    results: tuple[TrialResult, ...] = ()
    sources: tuple[str, ...]
    verified: Verification
    notes: tuple[str, ...] = ()
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewRow:
    """One row of the founding (vendor) review's table, resolved to a registry compound.

    Attributes
    ----------
    row : str
        The row as the review labels it, e.g. ``"Rapamycin"``.
    compound : str
        Preferred registry name it resolves to, e.g. ``"Sirolimus"``.
    claims : tuple of str
        Claim numbers of the review's figures for this row; the records are the
        compound's potency records with that ``claim`` (each with a ``verdict``).
    citation : Citation
    note : str

    Examples
    --------
    >>> row = mp.registry.review()[0]
    >>> row.row, row.compound, row.claims
    ('Rapamycin', 'Sirolimus', ('1',))
    """

    row: str
    compound: str
    claims: tuple[str, ...] = ()
    citation: Citation
    note: str = ""


def _same_source(a: PotencyRecord, b: PotencyRecord) -> bool:
    """Whether two records come from one source (the same reference when both cite one)."""
    if a.citation is not None and b.citation is not None:
        return a.citation.reference.key == b.citation.reference.key
    return a.source == b.source


def _record_sort_key(rec: PotencyRecord) -> int:
    order: dict[str, int] = {"sourced": 0, "confirmed": 1, "corrected": 2, "unverified": 3}
    return order.get(rec.verified, 4)


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Inhibitor:
    """An mTOR inhibitor: names, chemistry, potency records and trials, each with sources.

    A fact without a source is None (never filled in from elsewhere); its
    reason, and any conflict between sources, is in `notes`.

    Attributes
    ----------
    name : str
        Preferred name, e.g. ``"Sapanisertib"``.
    synonyms : tuple of str
        Names and codes confirmed in a source (``"TAK-228"``, ``"MLN0128"``, ``"INK128"``…).
    unconfirmed_synonyms : tuple of str
        Names in use whose link to this compound is not confirmed in a source
        read (e.g. ``"AZD2014"`` for vistusertib).  They resolve in look-ups,
        but values that belong to them are not attached (see `notes`).
    generation : {1, 2, 3}
    mechanism : Mechanism
        ``"allosteric-rapalog"``, ``"atp-competitive-torki"``,
        ``"dual-pi3k-mtor"`` or ``"bitopic"``.
    description : Fact of str or None
        The mechanism as worded by the source.
    targets : tuple of str
        ``"mTORC1"``, ``"mTORC2"``, ``"mTOR"`` (complex not specified by the
        source), ``"PI3K"`` (class I), ``"ATM"``, ``"ATR"``, ``"DNA-PK"``.
    targets_text : str
        The targets as worded by the source.
    formula : Fact of str or None
        Molecular formula (Hill order), e.g. ``"C51H79NO13"``.
    molecular_weight : Fact of float or None
        Average molecular weight in g/mol.
    cas, pubchem_cid, inchikey : Fact or None
    approval_status : Fact of ApprovalStatus or None
        None when no source on approval was read.
    approvals : tuple of Approval
    potency : tuple of PotencyRecord
    trials : tuple of ClinicalTrial
    sources : tuple of str
        All sources of the compound's identity (text of `citations`).
    citations : tuple of Citation
    notes : tuple of str
        Conflicts between sources, withheld values and caveats.

    Examples
    --------
    >>> inh = mp.registry.get("ink-128")
    >>> inh
    Inhibitor('Sapanisertib', generation=2, mechanism='atp-competitive-torki')
    >>> inh.targets
    ('mTORC1', 'mTORC2')
    """

    name: str
    synonyms: tuple[str, ...] = ()
    unconfirmed_synonyms: tuple[str, ...] = ()
    generation: Generation
    mechanism: Mechanism
    description: Fact[str] | None = None
    targets: tuple[str, ...] = ()
    targets_text: str = ""
    formula: Fact[str] | None = None
    molecular_weight: Fact[float] | None = None
    cas: Fact[str] | None = None
    pubchem_cid: Fact[int] | None = None
    inchikey: Fact[str] | None = None
    approval_status: Fact[ApprovalStatus] | None = None
    approvals: tuple[Approval, ...] = ()
    potency: tuple[PotencyRecord, ...] = ()
    trials: tuple[ClinicalTrial, ...] = ()
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    citations: tuple[Citation, ...] = ()

    def __repr__(self) -> str:
        return f"Inhibitor({self.name!r}, generation={self.generation}, mechanism={self.mechanism!r})"

    def _repr_html_(self) -> str:
        """A card for notebooks: identity facts with their sources, and the potency records.

        Examples
        --------
        >>> html = mp.registry.get("INK128")._repr_html_()
        >>> "Sapanisertib" in html and "MLN0128" in html
        True
        """
        from html import escape

        def fact(label: str, f: Fact[Any] | None, unit: str = "") -> str:
            if f is None:
                return f"<tr><th>{label}</th><td>—</td><td></td></tr>"
            tag = " (computed)" if f.computed else ""
            src = escape("; ".join(f.sources))
            return f"<tr><th>{label}</th><td>{escape(str(f.value))}{unit}{tag}</td><td><small>{src}</small></td></tr>"

        rows = [
            f"<tr><th>synonyms</th><td colspan=2>{escape(', '.join(self.synonyms)) or '—'}</td></tr>",
            f"<tr><th>generation</th><td colspan=2>{self.generation} ({escape(self.mechanism)})</td></tr>",
            f"<tr><th>targets</th><td colspan=2>{escape(', '.join(self.targets)) or '—'}</td></tr>",
            fact("formula", self.formula),
            fact("molecular weight", self.molecular_weight, " g/mol"),
            fact("CAS", self.cas),
            fact("PubChem CID", self.pubchem_cid),
            fact("approval", self.approval_status),
        ]
        potency = "".join(
            f"<tr><td>{escape(r.target)}</td><td>{escape(r.kind)}</td><td>{escape(r.value_text())}</td>"
            f"<td>{escape(r.assay_type)}</td><td>{escape(r.verified)}</td></tr>"
            for r in self.potency
        )
        table = (
            "<table><tr><th>target / readout</th><th>kind</th><th>value</th><th>assay</th><th>verified</th></tr>"
            f"{potency}</table>"
            if self.potency
            else "<p>No sourced potency records.</p>"
        )
        return f"<div><h4>{escape(self.name)}</h4><table>{''.join(rows)}</table>{table}</div>"

    @property
    def names(self) -> tuple[str, ...]:
        """Preferred name, synonyms, then unconfirmed synonyms."""
        return (self.name, *self.synonyms, *self.unconfirmed_synonyms)

    def _molar_mass(self) -> float:
        if self.molecular_weight is None:
            why = "".join(f" {n}" for n in self.notes if "not attached" in n or "withheld" in n)
            raise UnitError(
                f"`inhibitor` must have a sourced molecular weight to convert between mass and "
                f"molar concentrations; got {self.name!r}, whose molecular weight is not in the "
                f"registry.{why} Give molar concentrations, or pass molecular_weight= explicitly."
            )
        return self.molecular_weight.value

    def to_molar(self, conc: ConcentrationLike, *, unit: str = "uM") -> Quantity:
        """Convert a mass concentration (e.g. from a vial label) to a molar one.

        Parameters
        ----------
        conc : Quantity or str
            Mass concentration, e.g. ``"1 ug/mL"``.
        unit : str, default "uM"
            Molar unit of the result.

        Returns
        -------
        pint.Quantity

        Raises
        ------
        UnitError
            `conc` is not a mass concentration, or the compound has no
            sourced molecular weight.

        See Also
        --------
        to_mass, mtor_pharm.units.mass_to_molar

        Examples
        --------
        >>> q = mp.registry.get("rapamycin").to_molar("1 ug/mL")
        >>> round(q.magnitude, 3), q.units
        (1.094, <Unit('micromolar')>)
        """
        return self._convert(units.mass_to_molar, conc, unit)

    def to_mass(self, conc: ConcentrationLike, *, unit: str = "ug/mL") -> Quantity:
        """Convert a molar concentration to a mass concentration.

        Parameters
        ----------
        conc : Quantity or str
            Molar concentration, e.g. ``"10 nM"``.
        unit : str, default "ug/mL"
            Mass-concentration unit of the result.

        Returns
        -------
        pint.Quantity

        Raises
        ------
        UnitError
            `conc` is not molar, or the compound has no sourced molecular weight.

        Examples
        --------
        >>> q = mp.registry.get("everolimus").to_mass("1 uM", unit="ng/mL")
        >>> round(q.magnitude, 2)
        958.24
        """
        return self._convert(units.molar_to_mass, conc, unit)

    def _convert(self, func: Any, conc: ConcentrationLike, unit: str) -> Quantity:
        """Run a units conversion with this compound's molar mass; every failure is a UnitError."""
        if not isinstance(unit, str) or not unit.strip() or len(unit) > 64:
            raise UnitError(
                f"`unit` must be a unit string such as 'uM' or 'ug/mL'; got {_show(unit)}."
            )
        molar_mass = self._molar_mass()
        try:
            result: Quantity = func(conc, molar_mass, unit=unit)
        except MtorPharmError:
            raise
        except Exception as exc:  # pint and numpy raise many unrelated types for bad input
            raise UnitError(
                f"`conc` and `unit` must be a concentration and a unit of the other kind "
                f"(molar <-> mass); got conc={_show(conc)}, unit={unit!r} "
                f"({type(exc).__name__}: {_show(str(exc))})."
            ) from None
        return result

    def records(
        self,
        *,
        target: str | None = None,
        kind: PotencyKind | None = None,
        assay_type: AssayType | None = None,
        source: str | None = None,
    ) -> tuple[PotencyRecord, ...]:
        """Potency records matching every given criterion.

        Parameters
        ----------
        target : str, optional
            Compared case-, space- and hyphen-insensitively.
        kind, assay_type : str, optional
        source : str, optional
            The source's short label (e.g. ``"vendor review"``, ``"Chresta et al. 2010"``)
            or its reference key (``"Chresta2010"``).

        Returns
        -------
        tuple of PotencyRecord

        Examples
        --------
        >>> [r.target for r in mp.registry.get("apitolisib").records(kind="IC50")]
        ['PI3Kα', 'PI3Kβ', 'PI3Kδ', 'PI3Kγ']
        """
        _check_criteria(target=target, kind=kind, assay_type=assay_type, source=source)
        key = None if target is None else _normalize(target)
        return tuple(
            r
            for r in self.potency
            if (key is None or _normalize(r.target) == key)
            and (kind is None or r.kind == kind)
            and (assay_type is None or r.assay_type == assay_type)
            and (source is None or r.source == source
                 or (r.citation is not None and r.citation.reference.key == source))
        )

    def selectivity(
        self,
        target: str,
        reference: str,
        *,
        kind: PotencyKind | None = None,
        assay_type: AssayType | None = None,
        source: str | None = None,
    ) -> Selectivity:
        """Potency ratio ``value(target) / value(reference)`` from like-for-like records.

        Only records that share kind, assay type and source are divided: a
        cell-free IC50 is never divided by a cellular one, nor a Ki by an
        IC50, nor one laboratory's figure by another's.  When several sources
        give such a pair, records read in their source (``verified="sourced"``)
        are preferred over the vendor review's; if that still leaves more than
        one, pass `source`.

        Parameters
        ----------
        target, reference : str
            Targets or readouts, e.g. ``"mTORC2"`` and ``"mTORC1"``.
        kind, assay_type, source : str, optional
            Restrict the records considered.

        Returns
        -------
        Selectivity
            With ``ratio`` and the two records used.  For IC50s a ratio above
            1 means the compound is more potent on `reference`.

        Raises
        ------
        ValueError
            No like-for-like pair exists (the message lists the records
            found and why they cannot be divided), a record is a range or a
            bound, or the choice between sources is ambiguous.

        Examples
        --------
        >>> sel = mp.registry.get("OSI-027").selectivity("mTORC2", "mTORC1")
        >>> round(sel.ratio, 2), sel.numerator.value, sel.denominator.value
        (2.95, <Quantity(65.0, 'nanomolar')>, <Quantity(22.0, 'nanomolar')>)
        """
        for arg, value in (("target", target), ("reference", reference)):
            if not isinstance(value, str) or not value.strip():
                raise TypeError(
                    f"`{arg}` must be a non-empty string naming a target or readout such as "
                    f"'mTORC1'; got {_show(value)}."
                )
        num = [
            r
            for r in self.records(target=target, kind=kind, assay_type=assay_type, source=source)
            if r.kind != "selectivity fold"
        ]
        den = [
            r
            for r in self.records(target=reference, kind=kind, assay_type=assay_type, source=source)
            if r.kind != "selectivity fold"
        ]
        if not num or not den:
            missing = target if not num else reference
            raise ValueError(
                f"`{'target' if not num else 'reference'}` must name a target with a "
                f"concentration record for {self.name}; got {missing!r}. Records exist for: "
                f"{sorted({r.target for r in self.potency}) or 'nothing'}."
            )
        pairs = [
            (a, b)
            for a in num
            for b in den
            if a.kind == b.kind and a.assay_type == b.assay_type and _same_source(a, b)
        ]
        if not pairs:
            found = "; ".join(f"{r.target}: {r.kind}, {r.assay_type}, {r.source}" for r in (*num, *den))
            raise ValueError(
                f"`target` and `reference` must have records of the same kind, assay type and "
                f"source to be divided; got {found}. Records of different assay types, kinds or "
                "sources measure different quantities and are never divided."
            )
        best = min(min(_record_sort_key(a), _record_sort_key(b)) for a, b in pairs)
        pairs = [p for p in pairs if min(_record_sort_key(p[0]), _record_sort_key(p[1])) == best]
        if len({(a.source, a.kind, a.assay_type) for a, _ in pairs}) > 1 or len(pairs) > 1:
            choices = sorted({f"{a.source!r} ({a.kind}, {a.assay_type})" for a, _ in pairs})
            raise ValueError(
                f"`source` must be given when several like-for-like pairs exist; got "
                f"{len(pairs)} pairs from {', '.join(choices)}. Pass source= (and kind= or "
                "assay_type=) to choose one."
            )
        a, b = pairs[0]
        for rec in (a, b):
            if rec.is_range or rec.qualifier in (">", "<"):
                raise ValueError(
                    f"`{rec.target}` must have a single-valued record to form a ratio; got "
                    f"{rec.value_text()} ({rec.source}). Ranges and bounds have no ratio."
                )
        ratio = float((a.low / b.low).to("dimensionless").magnitude)  # single-valued: low == value
        if not math.isfinite(ratio):  # pragma: no cover - magnitudes are validated > 0
            raise ValueError(f"selectivity ratio is not finite; got {ratio!r}.")
        weak = [
            f"{rec.target} {rec.value_text()} (verified={rec.verified!r}, kind {rec.kind!r}, "
            f"assay {rec.assay_type!r}, {rec.source})"
            for rec in (a, b)
            if rec.verified in ("unverified", "unverifiable") or rec.kind == "unspecified"
        ]
        if weak:
            from ..errors import _warn

            _warn(
                f"the {self.name} {a.target}/{b.target} ratio {ratio:.3g} divides record(s) not checked in their "
                f"source or of unstated kind: {'; '.join(weak)}. Check them before citing the ratio."
            )
        return Selectivity(ratio=ratio, numerator=a, denominator=b)
