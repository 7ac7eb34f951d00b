"""Plate-reader exports (#14): readout names and plate ids from Gen5- and Tecan-style files, names=,
a warning for names that cannot be read, and a one-line repr."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

from mtor_pharm import assays
from mtor_pharm.errors import MtorPharmWarning


def _grid(sep: str, first: str, value: float) -> list[str]:
    lines = [sep.join([first] + [str(c) for c in range(1, 13)])]
    lines += [sep.join([r] + [f"{value + 0.01 * c:.3f}" for c in range(12)]) for r in "ABCDEFGH"]
    return lines


def _gen5() -> str:
    lines = ["Software Version\t3.11.19", "Experiment File Path:\tC:\\\\mtt.xpt", "Plate Number\tPlate 7", "",
             "Read 1:570"]
    lines += _grid("\t", "", 1.0) + ["", "Read 2:650"] + _grid("\t", "", 0.04)
    return "\n".join(lines)


def _tecan() -> str:
    lines = ["Application: Tecan i-control", "Plate: SIM-PLATE-42", "Wavelength: 570 nm"]
    lines += _grid(";", "<>", 1.0) + ["Wavelength: 650 nm"] + _grid(";", "<>", 0.04)
    return "\n".join(lines)


def test_gen5_export_names_readouts_by_wavelength_and_reads_the_plate_number() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ex = assays.read_plate_export(io.StringIO(_gen5()))
    assert list(ex.readouts) == ["A570", "A650"] and ex.plate_id == "Plate 7"
    assert ex.readouts["A570"][0, 0] == pytest.approx(1.0) and ex.readouts["A650"][7, 11] == pytest.approx(0.15)


def test_tecan_export_names_readouts_by_wavelength_line_not_by_placeholder() -> None:
    ex = assays.read_plate_export(io.StringIO(_tecan()))
    assert list(ex.readouts) == ["A570", "A650"] and ex.plate_id == "SIM-PLATE-42"


def test_names_override_by_position_or_mapping() -> None:
    ex = assays.read_plate_export(io.StringIO(_tecan()), names=["od570", "od650"])
    assert list(ex.readouts) == ["od570", "od650"]
    ex = assays.read_plate_export(io.StringIO(_tecan()), names={"A650": "ref"})
    assert list(ex.readouts) == ["A570", "ref"]
    with pytest.raises(assays.PlateLayoutError, match="one name per grid"):
        assays.read_plate_export(io.StringIO(_tecan()), names=["x"])
    with pytest.raises(assays.PlateLayoutError, match="does not have"):
        assays.read_plate_export(io.StringIO(_tecan()), names={"A405": "x"})


def test_unreadable_or_repeated_names_warn_and_suggest_names() -> None:
    text = "\n".join(_grid(",", "<>", 1.0) + _grid(",", "<>", 2.0))
    with pytest.warns(MtorPharmWarning, match="names="):
        ex = assays.read_plate_export(io.StringIO(text))
    assert list(ex.readouts) == ["read1", "read2"]
    twice = "\n".join(_grid(",", "A570", 1.0) + _grid(",", "A570", 2.0))
    with pytest.warns(MtorPharmWarning, match="repeats"):
        assays.read_plate_export(io.StringIO(twice))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        named = assays.read_plate_export(io.StringIO(text), names=["a", "b"])  # no warning once named
    np.testing.assert_allclose(named.readouts["b"][0, 0], 2.0)


def test_repr_is_one_line() -> None:
    ex = assays.read_plate_export(io.StringIO(_gen5()))
    text = repr(ex)
    assert "\n" not in text and text == "<PlateExport 'Plate 7' 96-well: A570, A650>"
    assert len(repr(assays.read_plate_export(assays.example_file("example_mtt_plate.csv"))).splitlines()) == 1
