"""Reading and validating registry data files (internal module).

A data file is TOML, parsed with the standard library's :mod:`tomllib`: loading
never executes code.  Every field is checked before anything is built, and all
problems are reported together in one :class:`~mtor_pharm.errors.RegistryDataError`,
each with its location (``compound[3].generation``) and the compound it concerns.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
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
    VERIFICATION_STATES,
    Approval,
    ClinicalTrial,
    Fact,
    Inhibitor,
    PotencyRecord,
    TrialArm,
    TrialResult,
    _normalize,
)

__all__ = ["BUILTIN_FILE", "Loaded", "build", "read_builtin", "read_file"]

#: Name of the data file shipped inside ``mtor_pharm.registry``.
BUILTIN_FILE = "inhibitors.toml"
SCHEMA_VERSION = 1

_GENERATION_OF = {
    "allosteric-rapalog": (1,),
    "atp-competitive-torki": (2,),
    "dual-pi3k-mtor": (2,),
    "bitopic": (3,),
}
_FORMULA = re.compile(r"(?:[A-Z][a-z]?\d*)+")
_CAS = re.compile(r"(\d{2,7})-(\d{2})-(\d)")
_INCHIKEY = re.compile(r"[A-Z]{14}-[A-Z]{10}-[A-Z]")
_REFERENCE = re.compile(r"\[([A-Za-z0-9_]+)\]")
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


class _Table:
    """One TOML table under validation: typed getters that record problems, never raise."""

    def __init__(
        self, data: Mapping[str, Any], where: str, problems: list[str], refs: Mapping[str, str]
    ) -> None:
        self.data = data
        self.where = where
        self.problems = problems
        self.refs = refs
        self.about = ""  # e.g. " (compound 'Sirolimus')", appended to messages
        self.ok = True

    def fail(self, key: str, rule: str, got: object, hint: str = "") -> None:
        loc = f"{self.where}.{key}" if self.where and key else (key or self.where)
        text = f"`{loc}` must {rule}; got {got!r}{self.about}."
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
            if not isinstance(item, str) or not item.strip():
                self.fail(f"{key}[{i}]", "be a non-empty string", item)
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
            if value == option and type(value) is type(option):
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
        if not _is_number(value) or not math.isfinite(value) or (positive and value <= 0):
            self.fail(key, "be a positive finite number" if positive else "be a finite number", value)
            return None
        return float(value)

    def integer(self, key: str, *, required: bool = False) -> int | None:
        if key not in self.data:
            if required:
                self.fail(key, "be given (a positive integer)", None)
            return None
        value = self.data[key]
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            self.fail(key, "be a positive integer", value)
            return None
        return value

    def sources(self, key: str, *, required: bool = True) -> tuple[str, ...]:
        raw = self.texts(key, required=required)
        if required and key in self.data and not raw and isinstance(self.data[key], list):
            self.fail(key, "name at least one source", self.data[key])
        return tuple(self._expand(f"{key}[{i}]", s) for i, s in enumerate(raw))

    def source(self, key: str) -> str | None:
        raw = self.text(key, required=True)
        return None if raw is None else self._expand(key, raw)

    def _expand(self, key: str, text: str) -> str:
        m = _REFERENCE.fullmatch(text.strip())
        if m is None:
            return text
        if m.group(1) not in self.refs:
            self.fail(key, "be a source, or a [KEY] defined in the file's [references]", text)
            return text
        return f"[{m.group(1)}] {self.refs[m.group(1)]}"

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
        try:
            q = units.Q_(1.0, text)
        except Exception:  # pint raises several unrelated types for bad unit strings
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
    sources = sub.sources("sources")
    computed = sub.flag("computed")
    note = sub.text("note") or ""
    if value is None or not sub.ok:
        return None
    return Fact(value=value, sources=sources, computed=computed, note=note)


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
        sources = a.sources("sources")
        if a.ok and agency is not None and finding is not None:
            approvals.append(Approval(agency=agency, product=product, finding=finding,
                                      sources=sources, note=a.text("note") or ""))
    sources = t.sources("sources", required=False)
    notes = t.texts("notes")
    if not t.ok or name is None or generation is None or mechanism is None:
        return None
    return Inhibitor(
        name=name, synonyms=synonyms, unconfirmed_synonyms=unconfirmed, generation=generation,
        mechanism=mechanism, description=description, targets=targets,
        targets_text=targets_text, formula=formula, molecular_weight=mw, cas=cas,
        pubchem_cid=cid, inchikey=inchikey, approval_status=status, approvals=tuple(approvals),
        sources=sources, notes=notes,
    )


_POTENCY_KEYS = (
    "compound", "reported_name", "target", "kind", "value", "low", "high", "unit", "qualifier",
    "assay_type", "assay_text", "cell_line", "versus", "source", "verified", "claim", "note",
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
    source = t.source("source")
    verified = t.choice("verified", VERIFICATION_STATES, required=True)
    optional = {k: t.text(k) for k in ("reported_name", "cell_line", "claim")}
    assay_text = t.text("assay_text") or ""
    note = t.text("note") or ""
    if (not t.ok or compound is None or target is None or kind is None or unit is None
            or assay_type is None or source is None or verified is None):
        return None
    return PotencyRecord(
        compound=compound, target=target, kind=kind, magnitude=magnitude, bounds=bounds,
        unit=unit, qualifier=qualifier, assay_type=assay_type, assay_text=assay_text,
        cell_line=optional["cell_line"], versus=versus, source=source, verified=verified,
        reported_name=optional["reported_name"], claim=optional["claim"], note=note,
    )


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
        if not isinstance(raw, list) or not raw or not all(
            _is_number(v) and math.isfinite(v) and v >= 0 for v in raw
        ):
            r.fail("values", "be a non-empty list of finite non-negative numbers", raw)
        else:
            values = tuple(float(v) for v in raw)
        unit = r.text("unit", required=True)
        if unit is not None:
            try:
                q = units.Q_(1.0, unit)
                unit_ok = bool(q.dimensionless or q.check("[time]"))
            except Exception:  # pint raises several unrelated types for bad unit strings
                unit_ok = False
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
                    and all(_is_number(v) and math.isfinite(v) for v in ci_raw)
                    and ci_raw[0] < ci_raw[1]):
                ci = (float(ci_raw[0]), float(ci_raw[1]))
            else:
                r.fail("ci", "be [low, high] with low < high", ci_raw)
        qualifier = r.choice("qualifier", QUALIFIERS) or "="
        verified = r.choice("verified", VERIFICATION_STATES, required=True)
        source = r.source("source")
        if (r.ok and measure is not None and text is not None and unit is not None
                and verified is not None and source is not None):
            results.append(TrialResult(
                measure=measure, text=text, values=values, unit=unit, arms=result_arms,
                qualifier=qualifier, ci=ci, verified=verified, source=source,
                note=r.text("note") or "",
            ))
    sources = t.sources("sources")
    verified = t.choice("verified", VERIFICATION_STATES, required=True)
    if not t.ok or trial_id is None or title is None or verified is None:
        return None
    return ClinicalTrial(
        id=trial_id, title=title, phase=t.text("phase"), design=t.text("design") or "",
        condition=t.text("condition") or "", compounds=tuple(compounds), arms=tuple(arms),
        results=tuple(results), sources=sources, verified=verified, notes=t.texts("notes"),
    )


@dataclass(frozen=True, slots=True)
class Loaded:
    """Result of :func:`build`: the complete compound list and trials of the new registry."""

    compounds: tuple[Inhibitor, ...]
    trials: tuple[ClinicalTrial, ...]


def build(
    doc: Mapping[str, Any],
    *,
    origin: str,
    base_compounds: Sequence[Inhibitor] = (),
    base_trials: Sequence[ClinicalTrial] = (),
    base_label: str = "the registry it extends",
) -> Loaded:
    """Validate a parsed data file and merge it into the base compounds.

    Raises
    ------
    RegistryDataError
        Listing every problem found, each with its location.
    """
    problems: list[str] = []
    top = _Table(doc, "", problems, {})
    top.check_keys(("schema_version", "references", "compound", "potency", "trial"))
    version = doc.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION or isinstance(version, bool):
        top.fail("schema_version", f"be {SCHEMA_VERSION}", version)
    refs: dict[str, str] = {}
    raw_refs = doc.get("references", {})
    if not isinstance(raw_refs, dict):
        top.fail("references", "be a table of KEY = \"citation\" strings", raw_refs)
    else:
        for key, text in raw_refs.items():
            if not (isinstance(text, str) and text.strip() and re.fullmatch(r"\w+", key)):
                top.fail(f"references.{key}", "be a non-empty citation string under a word key",
                         text)
            else:
                refs[key] = text
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
    return Loaded(compounds=compounds, trials=(*base_trials, *trials))


def _parse(text: bytes, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RegistryDataError(
            f"registry data in {origin} must be UTF-8 text; got undecodable bytes ({exc})."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise RegistryDataError(
            f"registry data in {origin} must be valid TOML; got a syntax error: {exc}. "
            "Fix the file at that line and column."
        ) from None


def read_file(path: str | os.PathLike[str]) -> tuple[dict[str, Any], str]:
    """Parse a user's TOML data file (no code is executed)."""
    fspath = os.fspath(path)
    with open(fspath, "rb") as fh:
        text = fh.read()
    origin = repr(fspath)
    return _parse(text, origin), origin


def read_builtin() -> tuple[dict[str, Any], str]:
    """Parse the data file shipped with the package."""
    resource = files("mtor_pharm.registry").joinpath(BUILTIN_FILE)
    return _parse(resource.read_bytes(), f"the built-in {BUILTIN_FILE}"), f"built-in {BUILTIN_FILE}"
