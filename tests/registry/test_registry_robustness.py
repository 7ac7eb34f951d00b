"""Malformed registry files and bad arguments give the library's clear errors (issues #16, #17).

Every malformed user file must end in one ``RegistryDataError`` naming the file (and, for
field problems, the entry and the field); registry and ``Inhibitor`` methods must never let
a foreign exception (``RecursionError``, pint or numpy errors, bare ``TypeError`` from deep
inside) reach the caller. The hypothesis tests fuzz file contents and arguments with a
fixed, small profile so that they run in a few seconds.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mtor_pharm.registry as reg
from mtor_pharm.errors import RegistryDataError, UnitError, UnknownInhibitorError
from mtor_pharm.registry import Registry

WriteToml = Callable[[str], Path]
FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

VALID = textwrap.dedent("""
    schema_version = 2

    [references.P1]
    type = "article"
    authors = "Doe J, Roe R"
    year = 2020
    title = "A made-up paper for the tests"
    journal = "J Test 1:1-2"
    doi = "10.1234/test.1"
    pmid = 12345678

    [[compound]]
    name = "LAB-1"
    generation = 2
    mechanism = "atp-competitive-torki"
    targets = ["mTORC1"]
    sources = ["[P1] abstract"]

    [compound.molecular_weight]
    value = 400.5
    unit = "g/mol"
    sources = ["[P1] Table 1"]

    [[potency]]
    compound = "LAB-1"
    target = "mTORC1"
    kind = "IC50"
    value = 5
    unit = "nM"
    assay_type = "cell-free kinase"
    atp = "10 uM"
    source = "[P1] Table 2"
    verified = "sourced"
""")


def _load_text(text: str | bytes) -> Registry:
    """Write `text` to a fresh file and load it (hypothesis cannot use function fixtures).

    A RegistryDataError is re-raised after checking that it names the file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lab.toml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        error: RegistryDataError | None = None
        try:
            return reg.load(path)
        except RegistryDataError as exc:
            error = exc
        assert repr(str(path)) in str(error), str(error)
        raise error


def _raised(call: Callable[[], object]) -> BaseException | None:
    """The exception `call` raises, or None."""
    try:
        call()
    except Exception as exc:  # the kind of exception is what the callers test
        return exc
    return None


def test_the_valid_file_loads_with_its_citations() -> None:
    lab = _load_text(VALID)
    (rec,) = lab.get("LAB-1").potency
    assert rec.citation is not None and rec.citation.where == "Table 2"
    assert rec.citation.reference.doi == "10.1234/test.1" and rec.citation.reference.pmid == "12345678"
    assert rec.atp_concentration is not None
    assert rec.atp_concentration.to("uM").magnitude == pytest.approx(10.0)
    assert rec.source == "Doe et al. 2020"


# -- citations: the rules of issue #16 -------------------------------------------------------

@pytest.mark.parametrize(("old", "new", "match"), [
    ('doi = "10.1234/test.1"', 'doi = "doi:10.1234/test.1"',
     r"`references\.P1\.doi` must be a DOI such as '10\.1021/jm101144f'"),
    ('doi = "10.1234/test.1"', 'doi = "https://doi.org/10.1234/x"', r"`references\.P1\.doi` must be a DOI"),
    ("pmid = 12345678", 'pmid = "PMID:123"', r"`references\.P1\.pmid` must be a PubMed ID"),
    ("pmid = 12345678", "pmid = -4", r"`references\.P1\.pmid` must be a PubMed ID"),
    ("pmid = 12345678", "pmid = 1234567890123", r"`references\.P1\.pmid` must be a PubMed ID"),
    ('type = "article"', 'type = "blog"', r"`references\.P1\.type` must be one of 'article'"),
    ('doi = "10.1234/test.1"\npmid = 12345678', 'url = "https://studylib.net/doc/1/"',
     r"`references\.P1\.url` must not be a mirror or aggregator site; got "
     r"'https://studylib.net/doc/1/'.*studylib\.net copies other sites' content"),
    ('doi = "10.1234/test.1"\npmid = 12345678', "",
     r"`references\.P1\.doi or pmid` must be given for an article .*or the reference's note"),
    ('year = 2020', 'year = "2020"', r"`references\.P1\.year` must be a year such as 2010"),
    ('sources = ["[P1] abstract"]', 'sources = ["http://cryer.org.uk/Rapamune"]',
     r"`compound\[0\]\.sources\[0\]` must cite a reference as \"\[KEY\]\".*\(compound 'LAB-1'\)"),
    ('sources = ["[P1] Table 1"]', 'sources = ["[P2] Table 1"]',
     r"`compound\[0\]\.molecular_weight\.sources\[0\]` must cite a key defined in the file's "
     r"\[references\]; got '\[P2\] Table 1' \(compound 'LAB-1'\)\. Add it to \[references\]"),
    ('source = "[P1] Table 2"', 'source = "Doe 2020"',
     r"`potency\[0\]\.source` must cite a reference .*\(potency record for 'LAB-1'\)"),
    ('assay_type = "cell-free kinase"\n', "", r"`potency\[0\]\.assay_type` must be given"),
    ('unit = "nM"\n', "", r"`potency\[0\]\.unit` must be given"),
    ('atp = "10 uM"\n', "", r"`potency\[0\]\.atp` must be given for a cell-free kinase record"),
])
def test_citation_and_record_rules_name_the_entry_and_field(old: str, new: str, match: str) -> None:
    assert old in VALID
    with pytest.raises(RegistryDataError, match=match):
        _load_text(VALID.replace(old, new))


def test_secondary_and_label_references_need_their_fields() -> None:
    text = VALID + textwrap.dedent("""
        [references.S]
        type = "secondary"
        title = "A wiki page"
        primary = true

        [references.L]
        type = "label"
        title = "Some label"
    """)
    with pytest.raises(RegistryDataError) as info:
        _load_text(text)
    message = str(info.value)
    assert "`references.S.primary` must be false for a secondary source" in message
    assert "`references.S.note` must say why no primary source is cited" in message
    assert "`references.L.agency` must be given for a label" in message
    assert "`references.L.identifier` must be given for a label" in message


def test_a_file_may_cite_builtin_references_but_not_redefine_them() -> None:
    lab = _load_text(VALID.replace('source = "[P1] Table 2"', 'source = "[Thoreen2009] Fig. 1"'))
    (rec,) = lab.get("LAB-1").potency
    assert rec.citation is not None and rec.citation.reference.pmid == "19150980"
    with pytest.raises(RegistryDataError, match=r"`references\.BRH` must be a key the registry does "
                                                r"not already define"):
        _load_text(VALID + '\n[references.BRH]\ntype = "database"\ntitle = "x"\nidentifier = "y"\n')


# -- malformed files (issue #17) -------------------------------------------------------------

@pytest.mark.parametrize(("text", "match"), [
    ("", r"must not be empty"),
    ("   \n\n", r"must not be empty"),
    ("schema_version = 2\n", r"must contain at least one \[\[compound\]\]"),
    ("[[compund]]\nname = 'x'\n", r"`compund` must be a known field.*Did you mean 'compound'"),
    ("x = " + "{a = " * 600 + "1" + "}" * 600, r"must not nest arrays or inline tables this deeply"),
    ("x = " + "[" * 5000 + "]" * 5000, r"must not nest arrays or inline tables this deeply"),
    ("x = " + "9" * 5000, r"must hold values of ordinary size; got a value the TOML parser refuses"),
    ("[[compound]]\nname = 5\ngeneration = 2\nmechanism = 'bitopic'\n",
     r"`compound\[0\]\.name` must be a non-empty string; got 5"),
    ("[[compound]]\nname = 'A'\ngeneration = 3\nmechanism = 'bitopic'\nsynonyms = 'A2'\n",
     r"`compound\[0\]\.synonyms` must be a list of non-empty strings; got 'A2'"),
    ("[[compound]]\nname = 'A'\ngeneration = 3\nmechanism = 'bitopic'\n"
     "[compound.pubchem_cid]\nvalue = " + "7" * 400 + "\nsources = ['[BRH]']\n",
     r"`compound\[0\]\.pubchem_cid\.value` must be a positive integer below 10\*\*15; got "
     r"<an integer of about 400 digits>"),
    ("compound = 3\n", r"`compound` must be an array of tables"),
    ("[[potency]]\ncompound = {a = {b = {c = {d = 1}}}}\n",
     r"`potency\[0\]\.compound` must be a non-empty string; got \{'a': \{'b': \{\.\.\.\}\}\}"),
    ("references = 'x'\n[[compound]]\nname = 'A'\ngeneration = 3\nmechanism = 'bitopic'\n",
     r"`references` must be a table of \[references\.KEY\] tables"),
])
def test_malformed_files_give_one_registry_error_naming_file_and_field(text: str, match: str) -> None:
    with pytest.raises(RegistryDataError, match=match):
        _load_text(text)


def test_undecodable_bytes_are_a_registry_error() -> None:
    with pytest.raises(RegistryDataError, match=r"must be UTF-8 text; got undecodable bytes at byte 10"):
        _load_text(b'name = "ab\xff\xfe"\n')


def test_a_folder_is_a_registry_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryDataError, match=rf"{str(tmp_path)!r} must be a TOML file; got a folder"):
        reg.load(tmp_path)


@pytest.mark.parametrize("path", [5, None, b"lab.toml", ["lab.toml"]])
def test_a_path_of_the_wrong_type_is_a_type_error(path: Any) -> None:
    with pytest.raises(TypeError, match=r"`path` must be a"):
        reg.load(path)


# -- fuzzing the loader ----------------------------------------------------------------------

_SCALARS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["9" * 400, "-" + "9" * 5000, "1e400", "-1e400", "nan", "inf", "0", "0.0",
                     "true", "false", '""', '" "', "1979-05-27", "1979-05-27T07:32:00Z",
                     '"nM"', '"dimensionless"', '"(1+1) uM"', '"uM ** 0"', '"1/0"', '"[P1]"',
                     '"[P1] x"', '"[NOPE]"', '"http://cryer.org.uk/x"', '"cell-free kinase"']),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters='"\\\n\r'),
            max_size=20).map(lambda s: f'"{s}"'),
)


def _nested(depth: int, leaf: str, kind: str) -> str:
    return ("[" * depth + leaf + "]" * depth) if kind == "array" else (
        "{a = " * depth + leaf + "}" * depth)


_VALUES = st.one_of(
    _SCALARS,
    st.tuples(st.integers(1, 700), _SCALARS, st.sampled_from(["array", "table"])).map(
        lambda t: _nested(*t)),
    st.lists(_SCALARS, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
)
_FIELDS = [line.split(" = ")[0] for line in VALID.splitlines() if " = " in line]


@FUZZ
@given(field=st.sampled_from(_FIELDS), value=_VALUES)
def test_any_value_in_any_field_loads_or_gives_a_registry_error(field: str, value: str) -> None:
    lines = VALID.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith(field + " = "))
    lines[i] = f"{field} = {value}"
    with contextlib.suppress(RegistryDataError):
        _load_text("\n".join(lines))


@FUZZ
@given(cut=st.integers(0, len(VALID)), junk=st.text(max_size=12), drop=st.integers(0, 40))
def test_mangled_files_load_or_give_a_registry_error(cut: int, junk: str, drop: int) -> None:
    lines = VALID.splitlines()
    del lines[drop % len(lines)]
    text = "\n".join(lines)
    text = text[:cut] + junk + text[cut:]
    with contextlib.suppress(RegistryDataError):
        _load_text(text)


@FUZZ
@given(data=st.binary(max_size=200))
def test_arbitrary_bytes_load_or_give_a_registry_error(data: bytes) -> None:
    with contextlib.suppress(RegistryDataError):
        _load_text(data)


# -- fuzzing registry and Inhibitor methods --------------------------------------------------

_ARGS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=12),
    st.binary(max_size=4), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.sampled_from(["mTORC1", "mTORC2", "mTOR", "IC50", "cell-free kinase", "vendor review",
                     "1 ug/mL", "10 nM", "uM", "ug/mL", "(1+1) uM", "uM ** 0", "1/0", "uM; x",
                     "10**400 nM", 10**400, complex(1, 1), float("nan"), math.inf]),
)
_CLEAN = (ValueError, TypeError, LookupError)


def _clean_error(exc: BaseException) -> bool:
    """A library error, or a built-in one whose message names an argument in backticks."""
    if type(exc).__module__.startswith("mtor_pharm"):
        return True
    return isinstance(exc, _CLEAN) and "`" in str(exc)


@FUZZ
@given(target=_ARGS, reference=_ARGS, kind=_ARGS, assay_type=_ARGS, source=_ARGS)
def test_selectivity_and_records_never_leak_foreign_exceptions(
    target: Any, reference: Any, kind: Any, assay_type: Any, source: Any
) -> None:
    inh = reg.get("OSI-027")
    for call in (lambda: inh.selectivity(target, reference, kind=kind, assay_type=assay_type,
                                         source=source),
                 lambda: inh.records(target=target, kind=kind, assay_type=assay_type,
                                     source=source)):
        exc = _raised(call)
        assert exc is None or _clean_error(exc), repr(exc)


@FUZZ
@given(conc=_ARGS, unit=_ARGS)
def test_unit_conversions_never_leak_foreign_exceptions(conc: Any, unit: Any) -> None:
    inh = reg.get("rapamycin")
    for call in (lambda: inh.to_molar(conc, unit=unit), lambda: inh.to_mass(conc, unit=unit),
                 lambda: inh.to_molar(conc), lambda: inh.to_mass(conc)):
        exc = _raised(call)
        assert exc is None or (isinstance(exc, UnitError | TypeError) and _clean_error(exc)), repr(exc)


@FUZZ
@given(arg=_ARGS, other=_ARGS)
def test_lookups_never_leak_foreign_exceptions(arg: Any, other: Any) -> None:
    calls = (
        lambda: reg.get(arg),
        lambda: reg.search(arg),
        lambda: reg.filter(generation=arg),
        lambda: reg.filter(target=arg, mechanism=other),
        lambda: reg.molecular_weight(arg),
        lambda: reg.molecular_weight("rapamycin", registry=arg),
        lambda: Registry(arg),
        lambda: Registry((), trials=arg),
        lambda: Registry((), references=arg),
        lambda: arg in Registry.builtin(),
    )
    for call in calls:
        exc = _raised(call)
        assert exc is None or _clean_error(exc), repr(exc)


def test_documented_bad_arguments_get_named_errors() -> None:
    osi = reg.get("OSI-027")
    with pytest.raises(TypeError, match=r"`target` must be a non-empty string naming a target"):
        osi.selectivity(5, "mTORC1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"`kind` must be one of 'IC50'.*got 'IC90'"):
        osi.records(kind="IC90")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"`assay_type` must be one of"):
        osi.selectivity("mTORC2", "mTORC1", assay_type=["cellular"])  # type: ignore[arg-type]
    with pytest.raises(UnitError, match=r"`unit` must be a unit string"):
        reg.get("rapamycin").to_molar("1 ug/mL", unit=5)  # type: ignore[arg-type]
    with pytest.raises(UnitError, match=r"`unit` must be a unit such as 'uM'.*got 'uM \*\* 0'"):
        reg.get("rapamycin").to_molar("1 ug/mL", unit="uM ** 0")
    with pytest.raises(UnknownInhibitorError):
        reg.get("no such compound")
    with pytest.raises(TypeError, match=r"`registry` must be a Registry or None; got int"):
        reg.molecular_weight("rapamycin", registry=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"`compounds` must be an iterable of Inhibitor"):
        Registry(5)  # type: ignore[arg-type]

