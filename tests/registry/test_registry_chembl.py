"""The ChEMBL importer on a small fixture with ChEMBL's table and column names (issue #16, item 6).

The fixture's rows are synthetic (made-up IDs, values and documents): they test the mapping
from ChEMBL's schema to potency records, not any real measurement.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import mtor_pharm.registry as reg
from mtor_pharm.errors import MtorPharmWarning, RegistryDataError

SCHEMA = """
CREATE TABLE molecule_dictionary (molregno INTEGER PRIMARY KEY, pref_name TEXT, chembl_id TEXT);
CREATE TABLE target_dictionary (tid INTEGER PRIMARY KEY, pref_name TEXT, chembl_id TEXT,
                                target_type TEXT);
CREATE TABLE assays (assay_id INTEGER PRIMARY KEY, chembl_id TEXT, tid INTEGER,
                     assay_type TEXT, description TEXT, assay_cell_type TEXT);
CREATE TABLE docs (doc_id INTEGER PRIMARY KEY, chembl_id TEXT, pubmed_id INTEGER, doi TEXT,
                   journal TEXT, year INTEGER, title TEXT, authors TEXT);
CREATE TABLE activities (activity_id INTEGER PRIMARY KEY, molregno INTEGER, assay_id INTEGER,
                         doc_id INTEGER, standard_type TEXT, standard_relation TEXT,
                         standard_value REAL, standard_units TEXT);
"""
ROWS = {
    "molecule_dictionary": [(1, "TORIN-1", "CHEMBL_T1"), (2, None, "CHEMBL413"),
                            (3, "ASPIRIN", "CHEMBL25")],
    "target_dictionary": [
        (10, "Serine/threonine-protein kinase mTOR", "CHEMBL_X1", "SINGLE PROTEIN"),
        (11, "PI3-kinase p110-alpha subunit", "CHEMBL_X2", "SINGLE PROTEIN"),
        (12, "Cyclooxygenase-1", "CHEMBL_X3", "SINGLE PROTEIN"),
    ],
    "assays": [
        (100, "CHEMBL_A1", 10, "B", "Inhibition of mTOR kinase at 100 uM ATP", None),
        (101, "CHEMBL_A2", 11, "B", "Inhibition of PI3K p110alpha", None),
        (102, "CHEMBL_A3", 10, "F", "Inhibition of mTOR in MCF7 cells", "MCF7"),
        (103, "CHEMBL_A4", 12, "B", "COX-1 inhibition", None),
    ],
    "docs": [
        (1000, "CHEMBL_D1", 11111111, "10.9999/fixture.1", "J Fixture Chem", 2011,
         "A synthetic fixture document", "Roe A, Doe B"),
        (1001, "CHEMBL_D2", None, None, None, None, None, None),
    ],
    "activities": [
        (1, 1, 100, 1000, "IC50", "=", 2.0, "nM"),      # Torin1 mTOR, biochemical, 100 uM ATP
        (2, 1, 101, 1000, "Ki", "<", 1800.0, "nM"),     # Torin1 PI3Kα
        (3, 2, 102, 1001, "IC50", "=", 0.1, "nM"),      # sirolimus (by ChEMBL ID), cellular
        (4, 3, 103, 1000, "IC50", "=", 5.0, "uM"),      # aspirin: not in the registry
        (5, 1, 103, 1000, "IC50", "=", 5.0, "nM"),      # not an mTOR/PI3K target
        (6, 1, 100, 1000, "Inhibition", "=", 50.0, "%"),  # not a potency type
        (7, 1, 100, 1000, "IC50", ">=", 10.0, "nM"),    # relation not kept
        (8, 1, 100, 1000, "IC50", "=", None, "nM"),     # no value
        (9, 1, 100, 1000, "IC50", "=", 3.0, "ug.mL-1"),  # not molar
    ],
}


def _fixture(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    for table, rows in ROWS.items():
        marks = ", ".join("?" * len(rows[0]))
        conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    conn.commit()
    conn.close()
    return path


def test_importer_maps_chembl_rows_to_cited_records(tmp_path: Path) -> None:
    db = _fixture(tmp_path / "chembl_fixture.db")
    with pytest.warns(MtorPharmWarning, match=r"6 of 9 activities were not imported \("
                                              r"1 molecule not in the registry; 1 relation not "
                                              r"=, <, > or ~; 1 target not mTOR or a class I PI3K; "
                                              r"1 type not IC50, Ki, EC50 or GI50; 1 unit not a "
                                              r"molar concentration; 1 value missing"):
        lab = reg.import_chembl(db)
    before = len(reg.get("Torin1").potency)
    torin = lab.get("Torin1")
    new = torin.potency[before:]
    assert [(r.target, r.kind, r.magnitude, r.unit, r.qualifier) for r in new] == [
        ("mTOR", "IC50", 2.0, "nM", "="), ("PI3Kα", "Ki", 1800.0, "nM", "<")]
    mtor = new[0]
    assert mtor.assay_type == "cell-free kinase" and mtor.atp == "100 uM"
    assert new[1].atp == "not read"
    assert mtor.verified == "unverified"
    assert mtor.citation is not None
    assert mtor.citation.where == "ChEMBL activity 1, assay CHEMBL_A1"
    ref = mtor.citation.reference
    assert (ref.key, ref.type, ref.doi, ref.pmid, ref.year) == (
        "CHEMBL_D1", "article", "10.9999/fixture.1", "11111111", 2011)
    assert mtor.source == "Roe et al. 2011"
    (siro,) = lab.get("rapamycin").potency[len(reg.get("rapamycin").potency):]
    assert siro.assay_type == "cellular" and siro.cell_line == "MCF7" and siro.atp is None
    assert siro.citation is not None and siro.citation.reference.type == "database"
    assert lab.references["CHEMBL_D2"].identifier == "ChEMBL document CHEMBL_D2"
    assert "CHEMBL_D1" not in reg.references()  # the built-in registry is unchanged


def test_importer_refuses_files_that_are_not_chembl(tmp_path: Path) -> None:
    with pytest.raises(RegistryDataError, match=r"must name an existing ChEMBL SQLite file"):
        reg.import_chembl(tmp_path / "absent.db")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 10)
    with pytest.raises(RegistryDataError, match=r"must be an SQLite database"):
        reg.import_chembl(junk)
    partial = tmp_path / "partial.db"
    conn = sqlite3.connect(partial)
    conn.execute("CREATE TABLE activities (activity_id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(RegistryDataError, match=r"must have columns molregno, assay_id"):
        reg.import_chembl(partial)
    with pytest.raises(TypeError, match=r"`path` must be a str or os.PathLike"):
        reg.import_chembl(42)  # type: ignore[arg-type]
