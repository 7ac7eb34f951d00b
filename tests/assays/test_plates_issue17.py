"""Regression tests for #17 in the plate layouts and FitResult methods: clear errors, never
an all-empty layout."""

from __future__ import annotations

import io

import numpy as np
import pytest

import mtor_pharm as mp
from mtor_pharm import assays
from mtor_pharm.errors import PlateLayoutError, ShapeError, UnitError


def test_read_layout_with_a_misspelt_table_name_issue_17_is_an_error():
    text = "plate_format = 96\n[[well]]\nwell = ['A1', 'B1']\nrole = 'blank'\n"
    with pytest.raises(PlateLayoutError, match=r"tables or arrays the layout format does not know: 'well'"):
        assays.read_layout(io.StringIO(text), kind="toml")


def test_read_layout_of_a_toml_without_wells_names_what_it_found():
    with pytest.raises(PlateLayoutError, match=r"must hold a \[\[wells\]\] array of tables; found keys"):
        assays.read_layout(io.StringIO('plate = "P1"\nplate_format = 96\n'), kind="toml")


@pytest.mark.parametrize("kind", [None, "toml", "csv"])
@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_read_layout_of_an_empty_file_issue_17_is_an_error(kind, text):
    with pytest.raises(PlateLayoutError, match="`source`"):
        assays.read_layout(io.StringIO(text), kind=kind)


def test_read_layout_of_an_empty_file_on_disk_is_an_error(tmp_path):
    path = tmp_path / "layout.toml"
    path.write_text("")
    with pytest.raises(PlateLayoutError, match="layout.toml"):
        assays.read_layout(path)


def test_read_layout_refuses_folders_missing_files_and_bad_options(tmp_path):
    with pytest.raises(PlateLayoutError, match="`source` must be a file; got the folder"):
        assays.read_layout(tmp_path)
    with pytest.raises(PlateLayoutError, match="`source` must be an existing file"):
        assays.read_layout(tmp_path / "missing.csv")
    good = "well,role\nA1,blank\n"
    with pytest.raises(ValueError, match="`kind` must be one of 'csv', 'toml'"):
        assays.read_layout(io.StringIO(good), kind="xlsx")  # type: ignore[arg-type]
    with pytest.raises(PlateLayoutError, match="`plate_format` must be 96 or 384"):
        assays.read_layout(io.StringIO(good), plate_format=float("inf"))  # type: ignore[arg-type]
    with pytest.raises(UnitError, match="`conc_unit`"):
        assays.read_layout(io.StringIO(good), conc_unit="uM; x")


def test_read_layout_refuses_a_toml_with_a_bad_plate_format_naming_the_file():
    text = "plate_format = 'x'\n[[wells]]\nwell = 'A1'\nrole = 'blank'\n"
    with pytest.raises(PlateLayoutError, match=r"`source` <stream>: `plate_format` must be 96 or 384; got 'x'"):
        assays.read_layout(io.StringIO(text))


def test_read_layout_refuses_a_concentration_beyond_float64():
    text = "[[wells]]\nwell = 'A1'\nrole = 'sample'\ncompound = 'X'\nconc = 1" + "0" * 400 + "\n"
    with pytest.raises(PlateLayoutError, match="conc must be a number"):
        assays.read_layout(io.StringIO(text))


def test_a_valid_toml_layout_still_reads():
    text = "plate_format = 96\nconc_unit = 'uM'\n[[wells]]\nwell = ['A1', 'B1']\nrole = 'blank'\n"
    lay = assays.read_layout(io.StringIO(text))
    assert (lay.role == "blank").sum() == 2 and len(lay) == 96


# ----------------------------------------------------------------------------- FitResult methods
@pytest.fixture(scope="module")
def res():
    conc = mp.Q_([0.01, 0.1, 1, 10, 100], "uM")
    return mp.fit(conc, [[98.0, 91.0, 52.0, 11.0, 3.0], [99.0, 97.0, 80.0, 40.0, 10.0]])


def test_fit_result_methods_name_their_bad_arguments_issue_17(res):
    with pytest.raises(TypeError, match="`response` must be a real number"):
        res.conc_at("50")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`response` must be a finite number"):
        res.conc_at(10**400)
    with pytest.raises(ValueError, match="`p` must be a percentage"):
        res.icx(10**400)
    with pytest.raises(ValueError, match="`level` must be a number in"):
        res.ci("ic50", level=10**400)
    with pytest.raises(TypeError, match="`name` must be a parameter name"):
        res.ci(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="`flags` must be FitStatus bits"):
        res.with_flags("32")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`flags` must be FitStatus bits in 0-255"):
        res.with_flags(-1)
    with pytest.raises(ShapeError, match="`flags` must be one value or broadcast"):
        res.with_flags(np.zeros((7, 3), dtype=int))
    with pytest.raises(TypeError, match="`flags`"):
        res.with_flags(mp.Q_(32, "uM"))  # type: ignore[arg-type]
    with pytest.raises(UnitError, match="`unit`"):
        res.to_dataframe(unit="uM; x")
    with pytest.raises(UnitError, match="`unit` must be a concentration unit"):
        res.to_dataframe(unit="s")
    with pytest.raises(TypeError, match="`index`"):
        res.to_dataframe(index=5)
    with pytest.raises(TypeError, match="`dims`"):
        res.to_dataframe(dims=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="`conc` must hold real numbers"):
        res.predict(np.array([1 + 1j]), conc_unit="uM")


def test_with_flags_still_ors_the_bits(res):
    flagged = res.with_flags(np.array([0, int(mp.FitStatus.PLATE_QC_FAILED)]))
    assert (flagged.status & mp.FitStatus.PLATE_QC_FAILED).tolist() == [0, 32]
