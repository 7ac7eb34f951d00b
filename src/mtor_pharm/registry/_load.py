"""Reading and validating registry data files (internal module).

A data file is TOML, parsed with the standard library's :mod:`tomllib`: loading
never executes code.  Every field is checked before anything is built, and all
problems are reported together in one :class:`~mtor_pharm.errors.RegistryDataError`,
each with its location (``compound[3].generation``) and the compound it concerns.

Every fact cites a structured reference of the file's ``[references]`` table
(``sources = ["[Chresta2010] abstract"]``): an article with authors, year, title,
journal and a DOI and/or PMID; a regulator's label; a database record; or a
secondary source kept only because no primary one was found.  Mirror and
aggregator hosts are refused wherever a URL appears.  Malformed input of any
kind (bad TOML, undecodable bytes, a folder, an empty file, huge integers, deep
nesting, wrong types) ends in one ``RegistryDataError`` naming the file.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib.resources import files
from typing import Any, TypeVar

from .. import units
from ..errors import RegistryDataError
from ._model import (
    APPROVAL_STATUSES,
    ASSAY_TYPES,
    GENERATIONS,
    MECHANISMS,
    POTENCY_KINDS,
    QUALIFIERS,
    REFERENCE_TYPES,
    VERDICTS,
    VERIFICATION_STATES,
    Approval,
    Citation,
    ClinicalTrial,
    Fact,
    Inhibitor,
    PotencyRecord,
    Reference,
    ReviewRow,
    TrialArm,
    TrialResult,
    _normalize,
    _show,
)

__all__ = ["BUILTIN_FILE", "MIRROR_HOSTS", "Loaded", "build", "read_builtin", "read_file"]

#: Name of the data file shipped inside ``mtor_pharm.registry``.
BUILTIN_FILE = "inhibitors.toml"
SCHEMA_VERSION = 2

_GENERATION_OF = {
    "allosteric-rapalog": (1,),
    "atp-competitive-torki": (2,),
    "dual-pi3k-mtor": (2,),
    "bitopic": (3,),
}
_FORMULA = re.compile(r"(?:[A-Z][a-z]?\d*)+")
_CAS = re.compile(r"(\d{2,7})-(\d{2})-(\d)")
_INCHIKEY = re.compile(r"[A-Z]{14}-[A-Z]{10}-[A-Z]")
_CITATION = re.compile(r"\[([A-Za-z0-9_]+)\](?:\s+(\S.*))?", re.DOTALL)
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_PMID = re.compile(r"[1-9]\d{0,8}")
_PMCID = re.compile(r"PMC[1-9]\d{0,9}")
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_MAX_TEXT = 10_000  # longest string accepted in a field (a guard against pathological files)

#: Hosts that mirror or aggregate other sites' content (wiki mirrors, document-sharing
#: sites, drug-info aggregators, proxies).  A registry URL on one of them (or a
#: subdomain) is refused: cite the original work instead.
MIRROR_HOSTS: tuple[str, ...] = (
    "the-uncensored-wiki.com", "pinocchiopedia.com", "wikiwand.com", "wikimd.com",
    "everything.explained.today", "handwiki.org", "cryer.org.uk", "dictai.org",
    "chemeurope.com", "studylib.net", "datapdf.com", "scribd.com", "vdocuments.us",
    "vdocuments.net", "vdocuments.mx", "fdocuments.in", "fdocuments.net", "fdokumen.com",
    "pdfslide.us", "pdfslide.net", "mafiadoc.com", "docksci.com", "pdffox.com", "yumpu.com",
    "coek.info", "studyres.com", "rxreasoner.com", "smolecule.com", "cloudfrontnetl.store",
    "paperexplained.cn", "pillsync.com", "melakarnets.com", "sanwago.com",
    "nct-503inhibitor.com", "az628inhibitor.com", "arg-gly-aspinhibitor.com",
    "way-316606antagonist.com", "sel120-34ainhibitor.com", "pharmalitet.blogspot.com",
    "newdrugapprovals.org", "chemicalbook.com", "medicalnewstoday.com", "oncohemakey.com",
)
_MOLAR = "[substance] / [length] ** 3"
_MOLAR_MASS = "[mass] / [substance]"

_T = TypeVar("_T")


def _cas_check_digit_ok(cas: str) -> bool:
    m = _CAS.fullmatch(cas)
    if m is None:
        return False
    digits = (m.group(1) + m.group(2))[::-1]
    return sum((i + 1) * int(d) for i, d in enumerate(digits)) % 10 == int(m.group(3))


def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _is_finite(x: object) -> bool:
    """A finite int or float that converts to float without overflow (10**400 does not)."""
    if not _is_number(x):
        return False
    try:
        return math.isfinite(float(x))  # type: ignore[arg-type]
    except OverflowError:
        return False


def mirror_host(url: str) -> str | None:
    """The mirror/aggregator host `url` points to, or None."""
    try:
        host = (urllib.parse.urlsplit(url.strip()).hostname or "").casefold()
    except ValueError:
        return None
    for mirror in MIRROR_HOSTS:
        if host == mirror or host.endswith("." + mirror):
            return mirror
    return None


class _Table:
    """One TOML table under validation: typed getters that record problems, never raise."""

    def __init__(
        self, data: Mapping[str, Any], where: str, problems: list[str],
        refs: Mapping[str, Reference],
    ) -> None:
        self.data = data
        self.where = where
        self.problems = problems
        self.refs = refs
        self.about = ""  # e.g. " (compound 'Sirolimus')", appended to messages
        self.ok = True

    def fail(self, key: str, rule: str, got: object, hint: str = "") -> None:
        loc = f"{self.where}.{key}" if self.where and key else (key or self.where)
        text = f"`{loc}` must {rule}; got {_show(got)}{self.about}."
        self.problems.append(f"{text} {hint}".rstrip())
        self.ok = False

    def check_keys(self, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        for key in self.data:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"Did you mean {close[0]!r}?" if close else f"Known fields: {', '.join(allowed)}."
                self.fail(key, "be a known field", key, hint)

    def text(self, key: str, *, required: bool = False) -> str | None:
        if key not in self.data:
            if required:
                self.fail(key, "be given (a non-empty string)", None)
            return None
        value = self.data[key]
        if not isinstance(value, str) or not value.strip():
            self.fail(key, "be a non-empty string", value)
            return None
        if len(value) > _MAX_TEXT:
            self.fail(key, f"be at most {_MAX_TEXT} characters long", value)
            return None
        return value

    def texts(self, key: str, *, required: bool = False) -> tuple[str, ...]:
        if key not in self.data:
            if required:
                self.fail(key, "be given (a list of non-empty strings)", None)
            return ()
        value = self.data[key]
        if not isinstance(value, list):
            self.fail(key, "be a list of non-empty strings", value)
            return ()
        out: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip() or len(item) > _MAX_TEXT:
                self.fail(f"{key}[{i}]", f"be a non-empty string of at most {_MAX_TEXT} "
                          "characters", item)
            else:
                out.append(item)
        return tuple(out)

    def choice(self, key: str, options: Sequence[_T], *, required: bool = False) -> _T | None:
        if key not in self.data:
            if required:
                self.fail(key, f"be given (one of {', '.join(map(repr, options))})", None)
            return None
        value = self.data[key]
        for option in options:
            if type(value) is type(option) and value == option:
                return option
        self.fail(key, f"be one of {', '.join(map(repr, options))}", value)
        return None

    def flag(self, key: str) -> bool:
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            self.fail(key, "be true or false", value)
            return False
        return value

    def number(self, key: str, *, required: bool = False, positive: bool = True) -> float | None:
        if key not in self.data:
            if required:
                self.fail(key, "be given (a number)", None)
            return None
        value = self.data[key]
        if not _is_finite(value) or (positive and value <= 0):
            self.fail(key, "be a positive finite number" if positive else "be a finite number", value)
            return None
        return float(value)

    def integer(self, key: str, *, required: bool = False) -> int | None:
        if key not in self.data:
            if required:
                self.fail(key, "be given (a positive integer)", None)
            return None
        value = self.data[key]
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 10**15:
            self.fail(key, "be a positive integer below 10**15", value)
            return None
        return value

    def sources(self, key: str, *, required: bool = True) -> tuple[Citation, ...]:
        """The citations of a ``sources = ["[KEY] where", ...]`` list."""
        raw = self.texts(key, required=required)
        if required and key in self.data and not raw and isinstance(self.data[key], list):
            self.fail(key, "cite at least one reference", self.data[key])
        out = []
        for i, text in enumerate(raw):
            cit = self._cite(f"{key}[{i}]", text)
            if cit is not None:
                out.append(cit)
        return tuple(out)

    def source(self, key: str) -> Citation | None:
        raw = self.text(key, required=True)
        return None if raw is None else self._cite(key, raw)

    def _cite(self, key: str, text: str) -> Citation | None:
        m = _CITATION.fullmatch(text.strip())
        if m is None:
            self.fail(key, "cite a reference as \"[KEY]\" or \"[KEY] where it was read\", with "
                      "KEY defined in the file's [references]", text,
                      "Free-text sources and bare URLs are not citations.")
            return None
        ref = self.refs.get(m.group(1))
        if ref is None:
            close = difflib.get_close_matches(m.group(1), list(self.refs), n=1)
            hint = f"Did you mean [{close[0]}]?" if close else "Add it to [references]."
            self.fail(key, "cite a key defined in the file's [references]", text, hint)
            return None
        return Citation(reference=ref, where=(m.group(2) or "").strip())

    def table(self, key: str) -> _Table | None:
        if key not in self.data:
            return None
        value = self.data[key]
        if not isinstance(value, dict):
            self.fail(key, "be a table, e.g. {value = ..., sources = [...]}", value)
            return None
        sub = _Table(value, f"{self.where}.{key}", self.problems, self.refs)
        sub.about = self.about
        return sub

    def tables(self, key: str) -> list[_Table]:
        if key not in self.data:
            return []
        value = self.data[key]
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(key, "be an array of tables ([[...]] sections)", value)
            return []
        if len(value) > 100_000:
            self.fail(key, "have at most 100000 entries", f"{len(value)} entries")
            return []
        out = []
        for i, item in enumerate(value):
            sub = _Table(item, f"{self.where}.{key}[{i}]" if self.where else f"{key}[{i}]",
                         self.problems, self.refs)
            sub.about = self.about
            out.append(sub)
        return out

    def unit(self, key: str, dimensionality: str | None, rule: str) -> str | None:
        text = self.text(key, required=True)
        if text is None:
            return None
        q = _parse_unit(text)
        if q is None:
            self.fail(key, f"be a unit pint understands ({rule})", text)
            return None
        if dimensionality is None:
            if not q.unitless:
                self.fail(key, f"be {rule}", text)
                return None
        elif not q.check(dimensionality):
            self.fail(key, f"be {rule}", text)
            return None
        return text


_UNIT_TEXT = re.compile(r"[A-Za-zµμ_ ]{1,24}(?:/[A-Za-zµμ_ ]{1,24})?")


def _parse_unit(text: str) -> Any:
    """A pint Quantity of 1 in `text`, or None; only plain unit names (``'nM'``, ``'g/mol'``)
    are passed to pint, so no expression can make it slow or raise an odd error."""
    if not _UNIT_TEXT.fullmatch(text.strip()):
        return None
    try:
        return units.Q_(1.0, text.strip())
    except Exception:
        return None


def _texts_of(citations: Sequence[Citation]) -> tuple[str, ...]:
    return tuple(str(c) for c in citations)


_REFERENCE_KEYS = ("type", "title", "authors", "year", "journal", "doi", "pmid", "pmcid",
                   "agency", "identifier", "url", "primary", "note")


def _reference(key: str, t: _Table) -> Reference | None:
    """Validate one ``[references.KEY]`` table."""
    t.about = f" (reference {key!r})"
    t.check_keys(_REFERENCE_KEYS)
    if not _KEY.fullmatch(key):
        t.fail("", "be a key of letters, digits and underscores starting with a letter", key)
    rtype = t.choice("type", REFERENCE_TYPES, required=True)
    title = t.text("title", required=True)
    authors = t.text("authors") or ""
    year = None
    if "year" in t.data:
        raw_year = t.data["year"]
        if isinstance(raw_year, int) and not isinstance(raw_year, bool) and 1800 <= raw_year <= 2100:
            year = raw_year
        else:
            t.fail("year", "be a year such as 2010", raw_year)
    journal = t.text("journal") or ""
    doi = t.text("doi")
    if doi is not None and not _DOI.fullmatch(doi):
        t.fail("doi", "be a DOI such as '10.1021/jm101144f' (no 'doi:' or URL prefix)", doi)
        doi = None
    pmid: str | None = None
    if "pmid" in t.data:
        raw = t.data["pmid"]
        text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw < 10**9 \
            else raw
        if isinstance(text, str) and _PMID.fullmatch(text):
            pmid = text
        else:
            t.fail("pmid", "be a PubMed ID: 1 to 9 digits, e.g. 19150980", raw)
    pmcid = t.text("pmcid")
    if pmcid is not None and not _PMCID.fullmatch(pmcid):
        t.fail("pmcid", "be a PubMed Central ID such as 'PMC2658096'", pmcid)
        pmcid = None
    agency = t.text("agency") or ""
    identifier = t.text("identifier") or ""
    url = t.text("url")
    if url is not None:
        parts = urllib.parse.urlsplit(url) if "\x00" not in url else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            t.fail("url", "be an http(s) address", url)
            url = None
        elif (mirror := mirror_host(url)) is not None:
            t.fail("url", "not be a mirror or aggregator site", url,
                   f"{mirror} copies other sites' content: cite the original work "
                   "(DOI/PMID, publisher, regulator) instead.")
            url = None
    primary = t.flag("primary") if "primary" in t.data else rtype != "secondary"
    note = t.text("note") or ""
    if rtype == "article":
        missing = [f for f, v in (("authors", authors), ("year", year), ("journal", journal))
                   if not v and f not in t.data]
        if doi is None and pmid is None and "doi" not in t.data and "pmid" not in t.data:
            missing.append("doi or pmid")
        if missing and not note and "note" not in t.data:
            t.fail(missing[0], "be given for an article (authors, year, journal and a DOI "
                   "and/or PMID), or the reference's note must say that it was not read",
                   None, f"Missing: {', '.join(missing)}.")
    elif rtype == "label":
        for field, value in (("agency", agency), ("identifier", identifier)):
            if not value and field not in t.data:
                t.fail(field, "be given for a label (e.g. agency = 'US FDA', identifier = the "
                       "DailyMed set id or application number)", None)
    elif rtype in ("database", "monograph", "trial-registry", "unpublished"):
        if not identifier and "identifier" not in t.data:
            t.fail("identifier", f"be given for a {rtype} reference", None)
    elif rtype == "secondary":
        if primary:
            t.fail("primary", "be false for a secondary source", True)
        if not note and "note" not in t.data:
            t.fail("note", "say why no primary source is cited (a secondary source is kept "
                   "only when none was found)", None)
    if rtype != "secondary" and not primary and "primary" in t.data:
        t.fail("primary", "be true except for type 'secondary'", False)
    if not t.ok or rtype is None or title is None:
        return None
    return Reference(key=key, type=rtype, title=title, authors=authors, year=year,
                     journal=journal, doi=doi, pmid=pmid, pmcid=pmcid, agency=agency,
                     identifier=identifier, url=url, primary=primary, note=note)


_FACT_KEYS = ("value", "sources", "computed", "note")


def _fact_str(t: _Table, key: str, *, pattern: re.Pattern[str] | None = None,
              rule: str = "be a non-empty string",
              check: Any = None) -> Fact[str] | None:
    sub = t.table(key)
    if sub is None:
        return None
    sub.check_keys(_FACT_KEYS)
    value = sub.text("value", required=True)
    if value is not None and pattern is not None and not pattern.fullmatch(value):
        sub.fail("value", rule, value)
        value = None
    if value is not None and check is not None and not check(value):
        sub.fail("value", rule, value)
        value = None
    return _fact(sub, value)


def _fact_cid(t: _Table, key: str) -> Fact[int] | None:
    sub = t.table(key)
    if sub is None:
        return None
    sub.check_keys(_FACT_KEYS)
    return _fact(sub, sub.integer("value", required=True))


def _fact_mw(t: _Table, key: str) -> Fact[float] | None:
    sub = t.table(key)
    if sub is None:
        return None
    sub.check_keys((*_FACT_KEYS, "unit"))
    value = sub.number("value", required=True)
    unit = sub.unit("unit", _MOLAR_MASS, "a molar mass such as 'g/mol'")
    grams_per_mol = None if value is None or unit is None else float(units.Q_(value, unit).to("g/mol").magnitude)
    return _fact(sub, grams_per_mol)


def _fact_status(t: _Table, key: str) -> Fact[Any] | None:
    sub = t.table(key)
    if sub is None:
        return None
    sub.check_keys(_FACT_KEYS)
    return _fact(sub, sub.choice("value", APPROVAL_STATUSES, required=True))


def _fact(sub: _Table, value: _T | None) -> Fact[_T] | None:
    """The fact of table `sub` with its checked `value` (None: invalid), reading the
    fields every fact has (sources, computed, note); None if anything in it failed."""
    citations = sub.sources("sources")
    computed = sub.flag("computed")
    note = sub.text("note") or ""
    if value is None or not sub.ok:
        return None
    return Fact(value=value, sources=_texts_of(citations), citations=citations,
                computed=computed, note=note)


_COMPOUND_KEYS = (
    "name", "synonyms", "unconfirmed_synonyms", "generation", "mechanism", "description",
    "targets", "targets_text", "formula", "molecular_weight", "cas", "pubchem_cid", "inchikey",
    "approval_status", "approval", "sources", "notes",
)


def _compound(t: _Table) -> Inhibitor | None:
    name = t.text("name", required=True)
    if name is not None:
        t.about = f" (compound {name!r})"
    t.check_keys(_COMPOUND_KEYS)
    synonyms = t.texts("synonyms")
    unconfirmed = t.texts("unconfirmed_synonyms")
    generation = t.choice("generation", GENERATIONS, required=True)
    mechanism = t.choice("mechanism", MECHANISMS, required=True)
    if generation is not None and mechanism is not None and (
        generation not in _GENERATION_OF[mechanism]
    ):
        t.fail("generation", f"match mechanism {mechanism!r} "
               f"(generation {_GENERATION_OF[mechanism][0]})", generation)
    description = _fact_str(t, "description")
    targets = t.texts("targets")
    targets_text = t.text("targets_text") or ""
    formula = _fact_str(t, "formula", pattern=_FORMULA,
                        rule="be a molecular formula such as 'C51H79NO13'")
    mw = _fact_mw(t, "molecular_weight")
    cas = _fact_str(t, "cas", pattern=_CAS, check=_cas_check_digit_ok,
                    rule="be a CAS number with a valid check digit, e.g. '53123-88-9'")
    cid = _fact_cid(t, "pubchem_cid")
    inchikey = _fact_str(t, "inchikey", pattern=_INCHIKEY,
                         rule="be an InChIKey such as 'QFJCIRLUMZQUOT-HPLJOQBZSA-N'")
    status = _fact_status(t, "approval_status")
    approvals = []
    for a in t.tables("approval"):
        a.check_keys(("agency", "product", "finding", "sources", "note"))
        agency = a.text("agency", required=True)
        product = a.text("product") or ""
        finding = a.text("finding", required=True)
        cits = a.sources("sources")
        note = a.text("note") or ""
        if a.ok and agency is not None and finding is not None:
            approvals.append(Approval(agency=agency, product=product, finding=finding,
                                      sources=_texts_of(cits), citations=cits, note=note))
    citations = t.sources("sources", required=False)
    notes = t.texts("notes")
    if not t.ok or name is None or generation is None or mechanism is None:
        return None
    return Inhibitor(
        name=name, synonyms=synonyms, unconfirmed_synonyms=unconfirmed, generation=generation,
        mechanism=mechanism, description=description, targets=targets,
        targets_text=targets_text, formula=formula, molecular_weight=mw, cas=cas,
        pubchem_cid=cid, inchikey=inchikey, approval_status=status, approvals=tuple(approvals),
        sources=_texts_of(citations), citations=citations, notes=notes,
    )


_POTENCY_KEYS = (
    "compound", "reported_name", "target", "kind", "value", "low", "high", "unit", "qualifier",
    "assay_type", "assay_text", "cell_line", "versus", "source", "verified", "claim", "note",
    "atp", "verdict", "compared_with",
)


def _potency(t: _Table, resolve: Mapping[str, str]) -> PotencyRecord | None:
    t.check_keys(_POTENCY_KEYS)
    compound = _resolve(t, "compound", resolve)
    if compound is not None:
        t.about = f" (potency record for {compound!r})"
    target = t.text("target", required=True)
    kind = t.choice("kind", POTENCY_KINDS, required=True)
    magnitude: float | None = None
    bounds: tuple[float, float] | None = None
    has_value, has_range = "value" in t.data, ("low" in t.data or "high" in t.data)
    if has_value and has_range:
        t.fail("value", "be given alone, or replaced by low and high for a range", t.data["value"])
    elif has_range:
        low, high = t.number("low", required=True), t.number("high", required=True)
        if low is not None and high is not None:
            if low < high:
                bounds = (low, high)
            else:
                t.fail("high", f"be above low ({low!r}) for a range; use value= for one value",
                       high)
    else:
        magnitude = t.number("value", required=True)
    if kind == "selectivity fold":
        unit = t.unit("unit", None, "'dimensionless' for a selectivity fold")
    else:
        unit = t.unit("unit", _MOLAR, "a molar concentration such as 'nM' for kind "
                      f"{kind or 'IC50'!r} (convert mass concentrations with Inhibitor.to_molar)")
    qualifier = t.choice("qualifier", QUALIFIERS) or "="
    assay_type = t.choice("assay_type", ASSAY_TYPES, required=True)
    versus = t.text("versus")
    if kind == "selectivity fold" and versus is None and "versus" not in t.data:
        t.fail("versus", "be given for a selectivity fold (what the target is compared with)",
               None)
    citation = t.source("source")
    verified = t.choice("verified", VERIFICATION_STATES, required=True)
    optional = {k: t.text(k) for k in ("reported_name", "cell_line", "claim")}
    assay_text = t.text("assay_text") or ""
    note = t.text("note") or ""
    atp = t.text("atp")
    if assay_type == "cell-free kinase" and kind != "selectivity fold":
        if atp is None and "atp" not in t.data:
            t.fail("atp", "be given for a cell-free kinase record: the ATP concentration as "
                   "the source gives it (e.g. '10 uM'), or 'not read'", None,
                   "Cheng-Prusoff and selectivity need it.")
        elif atp is not None and atp != "not read":
            q = _parse_atp(atp)
            if q is None:
                t.fail("atp", "be a molar concentration such as '10 uM', or 'not read'", atp)
                atp = None
    elif atp is not None:
        t.fail("atp", "be given only for cell-free kinase records (not selectivity folds)", atp)
    verdict = t.choice("verdict", VERDICTS)
    claim = optional["claim"]
    if claim is not None and verdict is None and "verdict" not in t.data:
        t.fail("verdict", f"be given for a review figure (claim {claim!r}): one of "
               f"{', '.join(map(repr, VERDICTS))}", None)
    if claim is None and "verdict" in t.data:
        t.fail("verdict", "be given only with claim (for the founding review's figures)",
               t.data["verdict"])
    compared_with = t.text("compared_with") or ""
    if (not t.ok or compound is None or target is None or kind is None or unit is None
            or assay_type is None or citation is None or verified is None):
        return None
    return PotencyRecord(
        compound=compound, target=target, kind=kind, magnitude=magnitude, bounds=bounds,
        unit=unit, qualifier=qualifier, assay_type=assay_type, assay_text=assay_text,
        cell_line=optional["cell_line"], versus=versus, source=citation.reference.label,
        verified=verified, reported_name=optional["reported_name"], claim=claim, note=note,
        citation=citation, atp=atp, verdict=verdict, compared_with=compared_with,
    )


def _parse_atp(text: str) -> Any:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-zµμ]{1,3})\s*", text)
    if m is None:
        return None
    q = _parse_unit(m.group(2))
    if q is None or not q.check(_MOLAR) or not 0 < float(m.group(1)) < 1e6:
        return None
    return q * float(m.group(1))


def _resolve(t: _Table, key: str, resolve: Mapping[str, str], value: object = None) -> str | None:
    name = t.text(key, required=True) if value is None else value
    if not isinstance(name, str):
        return None
    found = resolve.get(_normalize(name))
    if found is None:
        close = difflib.get_close_matches(_normalize(name), list(resolve), n=3)
        hint = (f"Closest names: {', '.join(repr(resolve[c]) for c in close)}." if close
                else "Define the compound in this file's [[compound]] sections first.")
        t.fail(key, "name a compound of this file or of the registry it extends", name, hint)
    return found


_TRIAL_KEYS = ("id", "title", "phase", "design", "condition", "compounds", "arm", "result",
               "sources", "verified", "notes")


def _trial(t: _Table, resolve: Mapping[str, str]) -> ClinicalTrial | None:
    t.check_keys(_TRIAL_KEYS)
    trial_id = t.text("id", required=True)
    if trial_id is not None:
        t.about = f" (trial {trial_id!r})"
    title = t.text("title", required=True)
    compounds = []
    for i, name in enumerate(t.texts("compounds", required=True)):
        found = _resolve(t, f"compounds[{i}]", resolve, name)
        if found is not None:
            compounds.append(found)
    arms = []
    for a in t.tables("arm"):
        a.check_keys(("label", "compounds", "n", "note"))
        label = a.text("label", required=True)
        arm_compounds = [c for i, n in enumerate(a.texts("compounds"))
                         if (c := _resolve(a, f"compounds[{i}]", resolve, n)) is not None]
        n = a.integer("n")
        if label is not None and a.ok:
            arms.append(TrialArm(label=label, compounds=tuple(arm_compounds), n=n,
                                 note=a.text("note") or ""))
    results = []
    for r in t.tables("result"):
        r.check_keys(("measure", "text", "values", "unit", "arms", "qualifier", "ci", "verified",
                      "source", "note"))
        measure, text = r.text("measure", required=True), r.text("text", required=True)
        raw = r.data.get("values")
        values: tuple[float, ...] = ()
        if not isinstance(raw, list) or not raw or len(raw) > 100 or not all(
            _is_finite(v) and v >= 0 for v in raw
        ):
            r.fail("values", "be a non-empty list of finite non-negative numbers", raw)
        else:
            values = tuple(float(v) for v in raw)
        unit = r.text("unit", required=True)
        if unit is not None:
            uq = _parse_unit(unit)
            unit_ok = uq is not None and bool(uq.dimensionless or uq.check("[time]"))
            if not unit_ok:
                r.fail("unit", "be a time ('month') or dimensionless ('percent', "
                       "'dimensionless')", unit)
                unit = None
        result_arms = r.texts("arms")
        if result_arms and len(result_arms) != len(values):
            r.fail("arms", f"have one label per value ({len(values)})", list(result_arms))
        ci_raw = r.data.get("ci")
        ci: tuple[float, float] | None = None
        if ci_raw is not None:
            if (isinstance(ci_raw, list) and len(ci_raw) == 2
                    and all(_is_finite(v) for v in ci_raw)
                    and ci_raw[0] < ci_raw[1]):
                ci = (float(ci_raw[0]), float(ci_raw[1]))
            else:
                r.fail("ci", "be [low, high] with low < high", ci_raw)
        qualifier = r.choice("qualifier", QUALIFIERS) or "="
        verified = r.choice("verified", VERIFICATION_STATES, required=True)
        citation = r.source("source")
        result_note = r.text("note") or ""
        if (r.ok and measure is not None and text is not None and unit is not None
                and verified is not None and citation is not None):
            results.append(TrialResult(
                measure=measure, text=text, values=values, unit=unit, arms=result_arms,
                qualifier=qualifier, ci=ci, verified=verified, source=citation.reference.label,
                note=result_note, citation=citation,
            ))
    citations = t.sources("sources")
    verified = t.choice("verified", VERIFICATION_STATES, required=True)
    phase, design, condition = t.text("phase"), t.text("design") or "", t.text("condition") or ""
    notes = t.texts("notes")
    if not t.ok or trial_id is None or title is None or verified is None:
        return None
    return ClinicalTrial(
        id=trial_id, title=title, phase=phase, design=design,
        condition=condition, compounds=tuple(compounds), arms=tuple(arms),
        results=tuple(results), sources=_texts_of(citations), verified=verified, notes=notes,
        citations=citations,
    )


@dataclass(frozen=True, slots=True)
class Loaded:
    """Result of :func:`build`: the complete compound list and trials of the new registry."""

    compounds: tuple[Inhibitor, ...]
    trials: tuple[ClinicalTrial, ...]
    references: Mapping[str, Reference]
    review: tuple[ReviewRow, ...] = ()


def build(
    doc: Mapping[str, Any],
    *,
    origin: str,
    base_compounds: Sequence[Inhibitor] = (),
    base_trials: Sequence[ClinicalTrial] = (),
    base_references: Mapping[str, Reference] | None = None,
    base_review: Sequence[ReviewRow] = (),
    base_label: str = "the registry it extends",
) -> Loaded:
    """Validate a parsed data file and merge it into the base compounds.

    Raises
    ------
    RegistryDataError
        Listing every problem found, each with its location.
    """
    base_references = dict(base_references or {})
    problems: list[str] = []
    top = _Table(doc, "", problems, {})
    top.check_keys(("schema_version", "references", "compound", "potency", "trial",
                    "review_row"))
    version = doc.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION or isinstance(version, bool):
        top.fail("schema_version", f"be {SCHEMA_VERSION}", version)
    if not any(k in doc for k in ("compound", "potency", "trial", "review_row")):
        top.fail("", "contain at least one [[compound]], [[potency]] or [[trial]] section",
                 "an empty file" if not doc else f"only {', '.join(map(str, list(doc)[:5]))}",
                 "An empty or misspelt file would otherwise load as nothing.")
    refs: dict[str, Reference] = dict(base_references)
    raw_refs = doc.get("references", {})
    if not isinstance(raw_refs, dict):
        top.fail("references", "be a table of [references.KEY] tables", raw_refs)
    else:
        for key, table in raw_refs.items():
            where = f"references.{key}"
            if key in base_references:
                top.fail(where, "be a key the registry does not already define", key,
                         f"Cite [{key}] directly, or choose another key.")
            elif not isinstance(table, dict):
                top.fail(where, "be a table with type, title and identifiers, e.g. "
                         "[references.Smith2020] type = 'article' ...", table)
            else:
                ref = _reference(key, _Table(table, where, problems, {}))
                if ref is not None:
                    refs[key] = ref
    top.refs = refs

    # Names: normalized key -> (preferred name, where it was defined)
    owner: dict[str, tuple[str, str]] = {}
    for base in base_compounds:
        for base_name in base.names:
            owner.setdefault(_normalize(base_name), (base.name, base_label))
    new: list[Inhibitor] = []
    for t in top.tables("compound"):
        inh = _compound(t)
        raw_name = t.data.get("name")
        display = raw_name if isinstance(raw_name, str) else t.where
        name_fields: list[tuple[str, object]] = [("name", raw_name)]
        for field in ("synonyms", "unconfirmed_synonyms"):
            listed = t.data.get(field)
            if isinstance(listed, list):
                name_fields += [(f"{field}[{i}]", n) for i, n in enumerate(listed)]
        for field, alias in name_fields:
            if not isinstance(alias, str) or not alias.strip():
                continue
            key = _normalize(alias)
            prior = owner.get(key)
            if prior is None:
                owner[key] = (display, t.where)
            elif prior[1] != t.where:
                t.fail(field, "be a name no other compound uses (names are compared ignoring "
                       "case, spaces and hyphens)", alias,
                       f"It is already a name of {prior[0]!r} ({prior[1]}).")
        if inh is not None:
            new.append(inh)
    resolve = {key: name for key, (name, _) in owner.items()}

    records: list[PotencyRecord] = []
    for t in top.tables("potency"):
        rec = _potency(t, resolve)
        if rec is not None:
            records.append(rec)
    review_rows: list[ReviewRow] = []
    claims_of: dict[str, set[str]] = {}
    for rec in records:
        if rec.claim is not None:
            claims_of.setdefault(rec.compound, set()).add(rec.claim)
    for inh in base_compounds:
        for rec in inh.potency:
            if rec.claim is not None:
                claims_of.setdefault(inh.name, set()).add(rec.claim)
    for t in top.tables("review_row"):
        t.check_keys(("row", "compound", "claims", "source", "note"))
        row = t.text("row", required=True)
        if row is not None:
            t.about = f" (review row {row!r})"
        compound = _resolve(t, "compound", resolve)
        claims = t.texts("claims")
        if "claims" not in t.data:
            t.fail("claims", "be given (a list of claim numbers, [] when the row has none)", None)
        for i, claim in enumerate(claims):
            if compound is not None and claim not in claims_of.get(compound, set()):
                t.fail(f"claims[{i}]", f"be the claim of a potency record of {compound!r}", claim)
        citation = t.source("source")
        note = t.text("note") or ""
        if t.ok and row is not None and compound is not None and citation is not None:
            review_rows.append(ReviewRow(row=row, compound=compound, claims=claims,
                                         citation=citation, note=note))

    trials: list[ClinicalTrial] = []
    known_ids = {tr.id for tr in base_trials}
    for t in top.tables("trial"):
        trial_id = t.data.get("id")
        if isinstance(trial_id, str):
            if trial_id in known_ids:
                t.fail("id", "be new (not an id already in the registry or this file)", trial_id)
            known_ids.add(trial_id)
        trial = _trial(t, resolve)
        if trial is not None:
            trials.append(trial)

    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise RegistryDataError(
            f"registry data in {origin} has {len(problems)} problem"
            f"{'s' if len(problems) != 1 else ''}:\n{listing}\n"
            "Fix every listed field and load the file again."
        )

    extra_records: dict[str, list[PotencyRecord]] = {}
    for rec in records:
        extra_records.setdefault(rec.compound, []).append(rec)
    extra_trials: dict[str, list[ClinicalTrial]] = {}
    for trial in trials:
        for name in trial.compounds:
            extra_trials.setdefault(name, []).append(trial)

    def updated(inh: Inhibitor) -> Inhibitor:
        recs = extra_records.get(inh.name, [])
        trs = extra_trials.get(inh.name, [])
        if not recs and not trs:
            return inh
        return replace(inh, potency=(*inh.potency, *recs), trials=(*inh.trials, *trs))

    compounds = tuple(updated(inh) for inh in (*base_compounds, *new))
    return Loaded(compounds=compounds, trials=(*base_trials, *trials), references=refs,
                  review=(*base_review, *review_rows))


def _parse(text: bytes, origin: str) -> dict[str, Any]:
    if not text.strip():
        raise RegistryDataError(
            f"registry data in {origin} must not be empty; got a file with no content. "
            "Give at least one [[compound]], [[potency]] or [[trial]] section."
        )
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RegistryDataError(
            f"registry data in {origin} must be UTF-8 text; got undecodable bytes at byte "
            f"{exc.start}. Save the file as UTF-8."
        ) from None
    try:
        return tomllib.loads(decoded)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryDataError(
            f"registry data in {origin} must be valid TOML; got a syntax error: {exc}. "
            "Fix the file at that line and column."
        ) from None
    except RecursionError:
        raise RegistryDataError(
            f"registry data in {origin} must not nest arrays or inline tables this deeply; "
            "got nesting deeper than the TOML parser can follow. Flatten the file."
        ) from None
    except ValueError as exc:  # e.g. an integer longer than int_max_str_digits
        raise RegistryDataError(
            f"registry data in {origin} must hold values of ordinary size; got a value the "
            f"TOML parser refuses ({_show(str(exc))}). Check for huge integers."
        ) from None


def read_file(path: str | os.PathLike[str]) -> tuple[dict[str, Any], str]:
    """Parse a user's TOML data file (no code is executed)."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"`path` must be a str or os.PathLike naming a TOML file; got "
                        f"{type(path).__name__} {_show(path)}.")
    raw: object = os.fspath(path)
    if not isinstance(raw, str):
        raise TypeError(f"`path` must be a text path, not bytes; got {_show(raw)}.")
    fspath = raw
    origin = repr(fspath)
    if not fspath.strip():
        raise RegistryDataError("`path` must name a TOML file; got an empty path.")
    if not os.path.exists(fspath):
        raise RegistryDataError(f"`path` must name an existing TOML file; got {origin}.")
    if os.path.isdir(fspath):
        raise RegistryDataError(
            f"registry data in {origin} must be a TOML file; got a folder. Pass the path of "
            "the .toml file inside it."
        )
    try:
        with open(fspath, "rb") as fh:
            text = fh.read(_MAX_FILE_BYTES + 1)
    except (OSError, ValueError) as exc:
        raise RegistryDataError(
            f"registry data in {origin} must be a readable file; got {type(exc).__name__}: "
            f"{_show(str(exc))}."
        ) from None
    if len(text) > _MAX_FILE_BYTES:
        raise RegistryDataError(
            f"registry data in {origin} must be at most {_MAX_FILE_BYTES // 1_000_000} MB; "
            "got a larger file."
        )
    return _parse(text, origin), origin


_MAX_FILE_BYTES = 50_000_000


def read_builtin() -> tuple[dict[str, Any], str]:
    """Parse the data file shipped with the package."""
    resource = files("mtor_pharm.registry").joinpath(BUILTIN_FILE)
    return _parse(resource.read_bytes(), f"the built-in {BUILTIN_FILE}"), f"built-in {BUILTIN_FILE}"
