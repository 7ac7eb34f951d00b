"""Plates: layout files, plate-reader grids, tidy tables, xarray Datasets and plate QC.

A **layout file** says what is in each well, as CSV (one row per well)::

    # optional comment lines
    well,role,compound,conc,conc_unit,replicate
    A1,blank,,,,
    A2,sample,Torin1,10,uM,1
    A12,vehicle,,0,uM,

or as TOML, where ``well`` may also be a list of wells::

    plate = "P001"            # optional plate id, checked against the export
    plate_format = 96         # optional; 96 or 384
    conc_unit = "uM"          # default unit for bare numbers in `conc`

    [[wells]]
    well = ["A1", "B1", "C1"]
    role = "blank"

    [[wells]]
    well = "A2"
    role = "sample"
    compound = "Torin1"
    conc = 10                 # or "10 uM"
    replicate = 1

Roles: ``sample`` (compound at a concentration), ``vehicle`` (untreated / no
inhibitor: 100 %), ``blank`` (medium only / no enzyme: background), ``positive``
(full-effect control), ``empty`` (unused; also every well the layout omits).
``replicate`` is optional: when absent, replicates are numbered 1, 2, … in well
order within each (role, compound, conc) group.

A **plate-reader export** is the usual grid CSV: a header row ``<label>,1,2,…,12``
(or up to 24) followed by rows ``A``–``H`` (or ``A``–``P``).  Several grids in
one file (e.g. 570 nm and 650 nm) are read as separate readouts named by the
header's first cell or, where that is a placeholder (Tecan's ``<>``), by the
wavelength line before the grid (Gen5 ``Read 1:570``, Tecan ``Wavelength: 570
nm`` → ``A570``); a ``Plate: <id>``, ``Plate Number``, ``Plate ID`` or
``Barcode`` line gives the plate id.  Cells reading ``OVER``/``OVRFLW``/``Overflow`` become NaN and are flagged;
empty, ``NaN`` or ``NA`` cells are NaN (missing wells, counted, never dropped).
"""

from __future__ import annotations

import io
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any, Literal, TypeAlias

import numpy as np
import pandas as pd
import pint
import xarray as xr
from numpy.typing import ArrayLike, NDArray

from .._typing import BoolArray, FloatArray
from .._validate import choice, optional_number
from ..errors import ShapeError, UnitError
from ..fitting import FitStatus
from ..units import Q_, as_float_array, parse_unit
from ._common import as_float, unit_factor
from ._errors import PlateLayoutError

__all__ = [
    "PLATE_SHAPES",
    "ROLES",
    "PlateExport",
    "PlateQC",
    "plate_dataset",
    "plate_qc",
    "qc_flags",
    "qc_plates",
    "qc_table",
    "read_layout",
    "read_plate_export",
    "tidy_plate",
    "well_names",
]

#: Grid shape (rows, columns) of each supported plate format.
PLATE_SHAPES: Mapping[int, tuple[int, int]] = MappingProxyType({96: (8, 12), 384: (16, 24)})
#: Well roles understood by the layout reader.
ROLES: tuple[str, ...] = ("sample", "vehicle", "blank", "positive", "empty")

Source: TypeAlias = "str | os.PathLike[str] | Traversable | IO[str]"

_LETTERS = "ABCDEFGHIJKLMNOP"
_WELL = re.compile(r"^\s*([A-Pa-p])\s*0*([1-9][0-9]?)\s*$")
_OVERFLOW = {"over", "ovrflw", "overflow", "sat", "saturated", "+over"}
_MISSING = {"", "nan", "na", "n/a", "-", "none"}
_LAYOUT_COLUMNS = ("plate", "well", "row", "col", "role", "compound", "conc", "conc_unit", "replicate")


def _read_text(source: Any) -> tuple[str, str]:
    if hasattr(source, "read"):
        text = source.read()
        name = str(getattr(source, "name", "<stream>"))
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.exists():
            raise PlateLayoutError(f"`source` must be an existing file; got {str(path)!r}, which does not exist.")
        if path.is_dir():
            raise PlateLayoutError(f"`source` must be a file; got the folder {str(path)!r}.")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PlateLayoutError(f"`source` must be a UTF-8 text file; {path}: {exc}.") from None
        name = str(path)
    elif hasattr(source, "read_text"):
        text = source.read_text(encoding="utf-8-sig")
        name = str(getattr(source, "name", source))
    else:
        raise TypeError(
            f"`source` must be a path, a text stream or an importlib.resources file; got "
            f"{type(source).__name__}."
        )
    if not isinstance(text, str):
        raise TypeError(f"`source` must yield text; got {type(text).__name__} from {name}.")
    return text.lstrip("\ufeff"), name


def well_names(plate_format: int = 96) -> list[str]:
    """Well names in row-major order: ``A1, A2, …, H12`` for 96 wells.

    Examples
    --------
    >>> names = mp.assays.well_names(384)
    >>> len(names), names[0], names[-1]
    (384, 'A1', 'P24')
    """
    nrow, ncol = _shape_of(plate_format, "plate_format")
    return [f"{_LETTERS[r]}{c + 1}" for r in range(nrow) for c in range(ncol)]


def _shape_of(plate_format: Any, name: str) -> tuple[int, int]:
    try:
        if isinstance(plate_format, bool) or not isinstance(plate_format, int | np.integer | float | str):
            raise TypeError
        return PLATE_SHAPES[int(plate_format)]
    except (KeyError, TypeError, ValueError, OverflowError):
        raise PlateLayoutError(
            f"`{name}` must be 96 or 384; got {plate_format!r}."
        ) from None


def _parse_well(well: Any) -> tuple[int, int] | None:
    m = _WELL.match(str(well))
    if m is None:
        return None
    return _LETTERS.index(m.group(1).upper()), int(m.group(2)) - 1


# ----------------------------------------------------------------------------- layouts
_TOML_META = ("plate", "plate_format", "conc_unit", "description")


def _toml_rows(data: Mapping[str, Any], name: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    meta = {k: v for k, v in data.items() if k != "wells"}
    tables = [k for k, v in meta.items() if isinstance(v, dict | list)]
    if tables:
        raise PlateLayoutError(
            f"`source` {name} has tables or arrays the layout format does not know: "
            f"{', '.join(repr(t) for t in tables)}; wells go in a [[wells]] array of tables, and the "
            f"other top-level keys are {', '.join(_TOML_META)}."
        )
    if "wells" not in data:
        found = f"keys {sorted(data)}" if data else "nothing (an empty file)"
        raise PlateLayoutError(
            f"`source` {name} must hold a [[wells]] array of tables; found {found}."
        )
    wells = data["wells"]
    if not isinstance(wells, list):
        raise PlateLayoutError(f"`source` must hold a [[wells]] array of tables; got {type(wells).__name__}.")
    rows: list[dict[str, Any]] = []
    for entry in wells:
        if not isinstance(entry, dict):
            raise PlateLayoutError(f"`source` [[wells]] entries must be tables; got {entry!r}.")
        names = entry.get("well")
        for w in names if isinstance(names, list) else [names]:
            rows.append({**entry, "well": w})
    return rows, meta


def _csv_rows(text: str, name: str = "<text>") -> list[dict[str, Any]]:
    if not [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]:
        return []
    try:
        frame = pd.read_csv(io.StringIO(text), comment="#", dtype=str, keep_default_na=False,
                            skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise PlateLayoutError(f"`source` must be a layout CSV; {name}: {exc}.") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    records: list[dict[str, Any]] = frame.to_dict(orient="records")  # type: ignore[assignment]
    return records


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "") or (
        isinstance(value, float) and np.isnan(value)
    )


def read_layout(
    source: Source, *, plate_format: int | None = None, conc_unit: str | None = None,
    kind: Literal["csv", "toml"] | None = None,
) -> pd.DataFrame:
    """Read a plate layout (CSV or TOML) into a table with one row per well of the plate.

    Parameters
    ----------
    source : path, text stream or importlib.resources file
        The layout file (format described in :mod:`mtor_pharm.assays.plates`).
    plate_format : {96, 384}, optional
        Plate size; default: the file's ``plate_format``, else the smallest format
        holding every listed well.
    conc_unit : str, optional
        Unit for the `conc` column; default: the file's ``conc_unit``, else the
        first unit used, else ``"uM"``.  All concentrations are converted to it.
    kind : {"csv", "toml"}, optional
        File format; default: from the file name (``.toml``), else sniffed.

    Returns
    -------
    pandas.DataFrame
        Columns ``plate, well, row, col, role, compound, conc, conc_unit, replicate``,
        one row per well in row-major order (unlisted wells have role ``"empty"``).
        ``attrs`` holds ``plate``, ``plate_format`` and ``conc_unit``.

    Raises
    ------
    PlateLayoutError
        Unknown or duplicate wells, unknown roles, samples without compound or
        concentration, vehicles with a concentration, bad replicate numbers — all
        problems listed at once.
    UnitError
        A concentration unit that is not molar.

    Examples
    --------
    >>> import io
    >>> text = "well,role,compound,conc,conc_unit\\nA1,blank,,,\\nA2,sample,Torin1,1,uM\\nA3,vehicle,,0,uM\\n"
    >>> lay = mp.assays.read_layout(io.StringIO(text))
    >>> lay.attrs["plate_format"], lay.loc[lay.well == "A2", "conc"].item()
    (96, 1.0)
    """
    if kind is not None:
        choice(kind, "kind", ("csv", "toml"))
    if conc_unit is not None:
        parse_unit(conc_unit, name="conc_unit")
    if plate_format is not None:
        _shape_of(plate_format, "plate_format")
    rows, meta, name = _layout_rows(source, kind)
    return _build_layout(rows, meta, plate_format=plate_format, conc_unit=conc_unit, name=name)


def _layout_rows(source: Source, kind: str | None) -> tuple[list[dict[str, Any]], dict[str, Any], str]:
    """The entries, the file-level settings and the name of a layout file (CSV or TOML);
    a file that lists no wells is refused (used by both ``read_layout`` functions)."""
    text, name = _read_text(source)
    if kind is None:
        stripped = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        first = stripped[0] if stripped else ""
        kind = "toml" if name.endswith(".toml") or first.startswith("[") or "=" in first else "csv"
    if kind == "toml":
        try:
            data = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, RecursionError, ValueError) as exc:
            raise PlateLayoutError(f"`source` must be valid TOML; {name}: {exc}.") from None
        rows, meta = _toml_rows(data, name)
    elif kind == "csv":
        rows, meta = _csv_rows(text, name), {}
    else:
        raise ValueError(f"`kind` must be 'csv', 'toml' or None; got {kind!r}.")
    if not rows:
        raise PlateLayoutError(
            f"`source` {name} lists no wells; a layout must describe at least one well "
            "(unlisted wells are then 'empty')."
        )
    return rows, dict(meta), name


def _require_table(table: Any, name: str, columns: Iterable[str], origin: str) -> None:
    """`table` is a DataFrame holding `columns`; else a TypeError or a PlateLayoutError that
    names the missing columns and the columns present."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"`{name}` must be a pandas DataFrame from {origin}; got {type(table).__name__}.")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        present = [str(c) for c in table.columns]
        raise PlateLayoutError(
            f"`{name}` must be a table from {origin}; it lacks column(s) {missing} "
            f"(columns present: {present[:20]}{' …' if len(present) > 20 else ''})."
        )


def _build_layout(rows: list[dict[str, Any]], meta: Mapping[str, Any], *, plate_format: int | None,
                  conc_unit: str | None, name: str) -> pd.DataFrame:
    problems: list[str] = []
    file_format = meta.get("plate_format")
    if file_format is not None:
        _shape_of(file_format, f"source` {name}: `plate_format")
    if plate_format is not None:
        _shape_of(plate_format, "plate_format")
    if plate_format is not None and file_format is not None and int(file_format) != int(plate_format):
        raise PlateLayoutError(
            f"`plate_format` must agree with the layout file; got {plate_format} but {name} says "
            f"plate_format = {file_format}."
        )
    fmt = plate_format if plate_format is not None else file_format
    if fmt is not None:
        _shape_of(fmt, "plate_format")
    plate_id = meta.get("plate")
    if rows and "well" not in rows[0]:
        raise PlateLayoutError(f"`source` must have a 'well' column; {name} has {sorted(rows[0])}.")
    default_unit = conc_unit or meta.get("conc_unit")
    parsed: list[dict[str, Any]] = []
    seen: dict[tuple[int, int], str] = {}
    for i, row in enumerate(rows, start=1):
        well = row.get("well")
        pos = _parse_well(well)
        where = f"entry {i} ({well!r})"
        if pos is None:
            problems.append(f"{where}: unknown well name; use e.g. 'A1' or 'H12'")
            continue
        if pos in seen:
            problems.append(f"{where}: duplicate of {seen[pos]!r}")
            continue
        seen[pos] = str(well).strip()
        role = str(row.get("role", "")).strip().lower()
        if role not in ROLES:
            problems.append(f"{where}: role must be one of {', '.join(ROLES)}; got {role!r}")
            continue
        compound = "" if _blank(row.get("compound")) else str(row.get("compound")).strip()
        conc, unit, err = _parse_conc(row.get("conc"), row.get("conc_unit"), default_unit)
        if err:
            problems.append(f"{where}: {err}")
            continue
        if role == "sample" and (not compound or np.isnan(conc)):
            problems.append(f"{where}: a sample needs a compound and a concentration")
        if role == "vehicle":
            if not np.isnan(conc) and conc != 0:
                problems.append(f"{where}: a vehicle well must have conc 0 or none; got {conc:g}")
            conc = 0.0
        rep = row.get("replicate")
        replicate: int | None = None
        if not _blank(rep):
            try:
                replicate = int(str(rep).strip())
                if replicate < 1:
                    raise ValueError
            except ValueError:
                problems.append(f"{where}: replicate must be a positive integer; got {rep!r}")
                continue
        parsed.append({"pos": pos, "role": role, "compound": compound, "conc": conc,
                       "unit": unit, "replicate": replicate,
                       "plate": None if _blank(row.get("plate")) else str(row.get("plate")).strip()})
    if problems:
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise PlateLayoutError(
            f"`source` {name} has {len(problems)} bad entr{'y' if len(problems) == 1 else 'ies'}: "
            + "; ".join(problems[:10]) + more + "."
        )
    if fmt is None:
        fmt = 96 if all(r < 8 and c < 12 for r, c in seen) else 384
    nrow, ncol = _shape_of(fmt, "plate_format")
    outside = [seen[p] for p in seen if p[0] >= nrow or p[1] >= ncol]
    if outside:
        raise PlateLayoutError(
            f"`source` names wells that are not on a {fmt}-well plate: {', '.join(outside)}."
        )
    plates = {p["plate"] for p in parsed if p["plate"] is not None}
    if len(plates) > 1 or (plates and plate_id is not None and plates != {str(plate_id)}):
        ids = sorted(plates | ({str(plate_id)} if plate_id else set()))
        raise PlateLayoutError(f"`source` must describe one plate; got plate ids {ids}.")
    plate_id = str(plate_id) if plate_id is not None else (plates.pop() if plates else "")
    units = [p["unit"] for p in parsed if p["unit"] is not None]
    target = default_unit or (units[0] if units else "uM")
    try:
        target_q = Q_(1.0, str(target).replace("µ", "u").replace("μ", "u"))
        target_q.to("M")
        target_unit = str(target_q.units)
    except Exception:  # pint raises several unrelated types for bad or non-molar units
        raise UnitError(f"`conc_unit` must be a molar unit such as 'uM'; got {target!r}.") from None
    by_pos = {p["pos"]: p for p in parsed}
    records = []
    for r in range(nrow):
        for c in range(ncol):
            p = by_pos.get((r, c))
            conc = np.nan
            if p is not None and not np.isnan(p["conc"]):
                conc = p["conc"] * (unit_factor(p["unit"], target_unit) if p["unit"] else 1.0)
            records.append({
                "plate": plate_id, "well": f"{_LETTERS[r]}{c + 1}", "row": _LETTERS[r], "col": c + 1,
                "role": p["role"] if p else "empty", "compound": p["compound"] if p else "",
                "conc": conc, "conc_unit": target_unit,
                "replicate": p["replicate"] if p else None,
            })
    table = pd.DataFrame.from_records(records, columns=list(_LAYOUT_COLUMNS))
    table["replicate"] = _number_replicates(table)
    table.attrs.update({"plate": plate_id, "plate_format": int(fmt), "conc_unit": target_unit})
    return table


def _number_replicates(table: pd.DataFrame) -> pd.Series:
    """Given replicate numbers, or 1, 2, … in well order within each (role, compound, conc)."""
    counters: dict[tuple[str, str, str], int] = {}
    out: list[int | None] = []
    for role, compound, conc, rep in zip(table["role"], table["compound"], table["conc"],
                                         table["replicate"], strict=True):
        if role == "empty":
            out.append(None)
        elif rep is not None and not pd.isna(rep):
            out.append(int(rep))
        else:
            key = (str(role), str(compound), repr(float(conc)))
            counters[key] = counters.get(key, 0) + 1
            out.append(counters[key])
    return pd.Series(out, index=table.index, name="replicate", dtype="Int64")


def _parse_conc(value: Any, unit: Any, default_unit: Any) -> tuple[float, str | None, str]:
    """(magnitude, unit or None, error message)."""
    if _blank(value):
        return np.nan, None, ""
    if isinstance(value, str):
        try:
            number = float(value)
            text_unit = None
        except ValueError:
            try:
                q = Q_(value.replace("µ", "u").replace("μ", "u"))
            except Exception:
                return np.nan, None, f"conc must be a number or e.g. '10 uM'; got {value!r}"
            number, text_unit = float(q.magnitude), str(q.units)
    else:
        if isinstance(value, bool) or np.iscomplexobj(value):
            return np.nan, None, f"conc must be a number; got {value!r}"
        try:
            number, text_unit = float(value), None
        except (TypeError, ValueError, OverflowError):
            return np.nan, None, f"conc must be a number; got {value!r}"
    u = text_unit or (None if _blank(unit) else str(unit).strip()) or default_unit
    if not np.isfinite(number) or number < 0:
        return np.nan, None, f"conc must be a finite number ≥ 0; got {value!r}"
    if u is None:
        return np.nan, None, f"conc {number:g} has no unit; add a conc_unit column or key"
    try:
        q1 = Q_(1.0, str(u).replace("µ", "u").replace("μ", "u"))
        q1.to("M")
    except (pint.errors.DimensionalityError, pint.errors.UndefinedUnitError, AttributeError,
            ValueError, TypeError):
        return np.nan, None, f"conc_unit must be a molar unit such as 'uM'; got {u!r}"
    return number, str(q1.units), ""


# ----------------------------------------------------------------------------- exports
@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PlateExport:
    """Readings from one plate-reader export.

    Attributes
    ----------
    readouts : mapping of str to ndarray, shape (rows, cols)
        One grid per readout (e.g. ``"A570"``, ``"A650"``), read-only.
    overflow : mapping of str to ndarray of bool
        Wells the reader flagged as overflow/saturated (their reading is NaN).
    plate_id : str or None
        From a ``Plate:``/``Barcode:`` line.
    plate_format : int
        96 or 384.
    metadata : mapping of str to str
        Other ``key: value`` lines.
    """

    readouts: Mapping[str, FloatArray]
    overflow: Mapping[str, BoolArray]
    plate_id: str | None
    plate_format: int
    metadata: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        def ro(arr: Any, dtype: Any) -> NDArray[Any]:
            out = np.array(arr, dtype=dtype, copy=True)
            out.flags.writeable = False
            return out

        object.__setattr__(self, "readouts",
                           MappingProxyType({k: ro(v, np.float64) for k, v in self.readouts.items()}))
        object.__setattr__(self, "overflow",
                           MappingProxyType({k: ro(v, bool) for k, v in self.overflow.items()}))
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

    def __repr__(self) -> str:
        n_over = sum(int(np.count_nonzero(v)) for v in self.overflow.values())
        plate = f" {self.plate_id!r}" if self.plate_id else ""
        over = f", {n_over} overflow wells" if n_over else ""
        return f"<PlateExport{plate} {self.plate_format}-well: {', '.join(self.readouts)}{over}>"


#: Placeholder first cells of a grid header (no readout name in them): Tecan writes ``<>``.
_PLACEHOLDERS = {"", "<>", "read", "well", "wells", "data", "value", "values", "results", "raw data"}
#: Keys of lines that give the plate id (Gen5: "Plate Number", Tecan: "Plate", others: "Barcode").
_PLATE_KEYS = ("plate", "barcode", "plate id", "plate_id", "plate number", "plate name", "plate barcode")
_WAVELENGTH = re.compile(r"(?<![\d.])(\d{3,4})(?:\s*nm)?(?:\s*/\s*(\d{3,4})(?:\s*nm)?)?(?![\d.])", re.I)


def _name_from_context(text: str) -> str | None:
    """A readout name from a line such as ``Read 1:570``, ``Wavelength: 570 nm``, ``Absorbance @ 650``,
    ``485/528`` (fluorescence excitation/emission) or ``Luminescence``."""
    low = text.lower()
    if "lumin" in low:
        return "lum"
    body = re.sub(r"^\s*read\s*\d+\s*[:,;]?", "", text, flags=re.I)  # Gen5 "Read 1:" prefix
    m = _WAVELENGTH.search(body)
    if m is None:
        return None
    if m.group(2):
        return f"F{m.group(1)}_{m.group(2)}"
    if "fluor" in low or "ex" in low.split():
        return f"F{m.group(1)}"
    return f"A{m.group(1)}"


def _header_name(cell: str) -> str | None:
    """The readout name written in a grid header's first cell, or None for a placeholder."""
    text = cell.strip()
    if text.lower() in _PLACEHOLDERS:
        return None
    if _is_number(text) and 200 <= float(text) <= 1000:
        return f"A{int(float(text))}"  # a bare wavelength, as Gen5 writes "570"
    named = _name_from_context(text) if re.match(r"^\s*read\s*\d", text, re.I) else None
    return named or text


def _split(line: str, sep: str) -> list[str]:
    return [c.strip().strip('"') for c in line.split(sep)]


def _is_header(cells: list[str]) -> int:
    """Number of columns if `cells[1:]` read 1, 2, …, N with N in (12, 24), else 0."""
    nums = [c for c in cells[1:] if c != ""]
    if len(nums) in (12, 24) and nums == [str(i) for i in range(1, len(nums) + 1)]:
        return len(nums)
    return 0


def read_plate_export(
    source: Source, *, plate_format: int | None = None, names: Iterable[str] | Mapping[str, str] | None = None
) -> PlateExport:
    """Read a plate-reader grid export (8×12 or 16×24, one or several readouts).

    Parameters
    ----------
    source : path, text stream or importlib.resources file
        The export (format described in :mod:`mtor_pharm.assays.plates`).  A bare
        grid of numbers without labels is also accepted (readout ``"signal"``).
    plate_format : {96, 384}, optional
        Expected plate size; a grid of another size raises.
    names : sequence of str or mapping, optional
        Readout names overriding those read from the file: one per grid in file
        order, or a mapping from the name read to the name wanted.

    Returns
    -------
    PlateExport
        Readout names come from the file: the header's first cell when it names
        the readout (``A570``, or a bare wavelength ``570`` → ``"A570"``), else
        the wavelength line before the grid (Gen5 ``Read 1:570``, Tecan
        ``Wavelength: 570 nm`` → ``"A570"``; ``485/528`` → ``"F485_528"``;
        luminescence → ``"lum"``).  The plate id comes from a ``Plate:``,
        ``Plate Number``, ``Barcode`` or ``Plate ID`` line.

    Warns
    -----
    MtorPharmWarning
        A readout name that could not be read from the file (named ``read1``, …)
        or that repeats (suffixed ``_2``): pass ``names=``.

    Raises
    ------
    ShapeError
        A grid that is not 8×12 or 16×24, ragged rows, or grids of different sizes.
    PlateLayoutError
        Row labels out of order, or a cell that is not a number, blank or overflow.

    Examples
    --------
    >>> import io
    >>> rows = [",".join(["A570"] + [str(c) for c in range(1, 13)])]
    >>> rows += [",".join([r] + ["0.5"] * 12) for r in "ABCDEFGH"]
    >>> ex = mp.assays.read_plate_export(io.StringIO("Plate: P1\\n" + "\\n".join(rows)))
    >>> ex.plate_id, ex.readouts["A570"].shape
    ('P1', (8, 12))
    """
    if plate_format is not None:
        _shape_of(plate_format, "plate_format")
    text, name = _read_text(source)
    lines = [ln.rstrip("\r\n") for ln in text.splitlines()]
    content = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    sep = max((",", ";", "\t"), key=lambda s: sum(ln.count(s) for ln in content))
    metadata: dict[str, str] = {}
    plate_id: str | None = None
    readouts: dict[str, FloatArray] = {}
    overflow: dict[str, BoolArray] = {}
    i = 0
    context: str | None = None  # readout name from the line(s) before a grid
    problems: list[str] = []
    while i < len(content):
        cells = _split(content[i], sep)
        ncol = _is_header(cells)
        if not ncol:
            line = content[i]
            key, colon, value = line.partition(":")
            first = cells[0] if cells else ""
            rest = next((c for c in cells[1:] if c), "")
            if first.strip().lower() in _PLATE_KEYS and rest:  # "Plate Number<sep>Plate 1"
                plate_id = rest
                metadata[first.strip()] = rest
            elif colon and value.strip() and not any(ch.isdigit() for ch in key):
                metadata[key.strip()] = value.strip().strip(sep).strip()
                if key.strip().lower() in _PLATE_KEYS:
                    plate_id = value.strip().strip(sep).strip()
                found = _name_from_context(line) if "wave" in key.lower() or "read" in key.lower() else None
                context = found or context
            else:
                found = _name_from_context(" ".join(c for c in cells if c))
                if found is not None:
                    context = found
                elif first and not _is_number(first) and first.lower() not in _PLACEHOLDERS:
                    context = first
            i += 1
            continue
        nrow = PLATE_SHAPES[96 if ncol == 12 else 384][0]
        label = _header_name(cells[0]) or context
        if label is None:
            label = f"read{len(readouts) + 1}"
            problems.append(f"grid {len(readouts) + 1} has no readout name (header {cells[0]!r}); named {label!r}")
        if label in readouts:
            new_label = f"{label}_{len(readouts) + 1}"
            problems.append(f"readout name {label!r} repeats; the later grid is named {new_label!r}")
            label = new_label
        grid, over = _read_grid(content[i + 1:i + 1 + nrow], sep, nrow, ncol, label, name)
        readouts[label], overflow[label] = grid, over
        context = None
        i += 1 + nrow
    if not readouts:
        grid, over = _bare_grid(content, sep, name)
        readouts["signal"], overflow["signal"] = grid, over
    shapes = {k: v.shape for k, v in readouts.items()}
    if len(set(shapes.values())) > 1:
        raise ShapeError(f"`source` grids must all have one size; got {shapes} in {name}.")
    shape = next(iter(shapes.values()))
    fmt = 96 if shape == (8, 12) else 384
    if plate_format is not None and PLATE_SHAPES.get(int(plate_format)) != shape:
        raise ShapeError(
            f"`plate_format` is {plate_format} but `source` holds a {shape[0]}×{shape[1]} grid "
            f"({fmt}-well) in {name}."
        )
    if names is not None:
        readouts, overflow = _rename(readouts, overflow, names, name)
    elif problems:
        import warnings

        from ..errors import MtorPharmWarning

        warnings.warn(
            f"{name}: {'; '.join(problems)}. Pass names=[...] to read_plate_export to name the readouts.",
            MtorPharmWarning,
            stacklevel=2,
        )
    return PlateExport(readouts=readouts, overflow=overflow, plate_id=plate_id, plate_format=fmt,
                       metadata=metadata)


def _rename(readouts: dict[str, FloatArray], overflow: dict[str, BoolArray], names: Any, source: str
            ) -> tuple[dict[str, FloatArray], dict[str, BoolArray]]:
    read = list(readouts)
    if isinstance(names, Mapping):
        unknown = [k for k in names if k not in readouts]
        if unknown:
            raise PlateLayoutError(f"`names` renames readouts {unknown} that {source} does not have; it has {read}.")
        new = [str(names.get(k, k)) for k in read]
    else:
        if isinstance(names, str):
            raise TypeError(f"`names` must be a sequence of readout names or a mapping; got {names!r}.")
        new = [str(n) for n in names]
        if len(new) != len(read):
            raise PlateLayoutError(
                f"`names` must give one name per grid of {source} ({len(read)}: {read}); got {len(new)}."
            )
    if len(set(new)) != len(new) or any(not n.strip() for n in new):
        raise PlateLayoutError(f"`names` must be distinct, non-empty readout names; got {new}.")
    return ({n: readouts[k] for n, k in zip(new, read, strict=True)},
            {n: overflow[k] for n, k in zip(new, read, strict=True)})


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _cell(text: str, where: str, name: str) -> tuple[float, bool]:
    t = text.strip().strip('"')
    low = t.lower()
    if low in _MISSING:
        return np.nan, False
    if low in _OVERFLOW or low.startswith(">"):
        return np.nan, True
    try:
        return float(t), False
    except ValueError:
        raise PlateLayoutError(
            f"`source` cell {where} must be a number, blank or an overflow mark; got {text!r} in {name}."
        ) from None


def _read_grid(rows: list[str], sep: str, nrow: int, ncol: int, label: str, name: str
               ) -> tuple[FloatArray, BoolArray]:
    if len(rows) < nrow:
        raise ShapeError(
            f"`source` grid {label!r} must have {nrow} rows (A–{_LETTERS[nrow - 1]}); got {len(rows)} "
            f"in {name}."
        )
    grid = np.full((nrow, ncol), np.nan)
    over = np.zeros((nrow, ncol), dtype=bool)
    for r, line in enumerate(rows):
        cells = _split(line, sep)
        if cells[0].upper() != _LETTERS[r]:
            raise PlateLayoutError(
                f"`source` grid {label!r} row {r + 1} must be labelled {_LETTERS[r]!r}; got "
                f"{cells[0]!r} in {name}."
            )
        values = cells[1:1 + ncol]
        extra = [c for c in cells[1 + ncol:] if c]
        if len(values) < ncol or extra:
            raise ShapeError(
                f"`source` grid {label!r} row {_LETTERS[r]} must have {ncol} values; got "
                f"{len([c for c in cells[1:] if c != ''])} in {name}."
            )
        for c, text in enumerate(values):
            grid[r, c], over[r, c] = _cell(text, f"{_LETTERS[r]}{c + 1}", name)
    return grid, over


def _bare_grid(content: list[str], sep: str, name: str) -> tuple[FloatArray, BoolArray]:
    rows = [_split(ln, sep) for ln in content]
    shape = (len(rows), max((len(r) for r in rows), default=0))
    if shape not in ((8, 12), (16, 24)) or any(len(r) != shape[1] for r in rows):
        lengths = sorted({len(r) for r in rows})
        raise ShapeError(
            f"`source` must hold an 8×12 (96-well) or 16×24 (384-well) grid; got {len(rows)} rows "
            f"of {lengths} values in {name}. Exports need a header row '<label>,1,2,…,12' or a "
            "bare numeric grid."
        )
    grid = np.full(shape, np.nan)
    over = np.zeros(shape, dtype=bool)
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            grid[r, c], over[r, c] = _cell(text, f"{_LETTERS[r]}{c + 1}", name)
    return grid, over


# ----------------------------------------------------------------------------- joining
def tidy_plate(
    layout: pd.DataFrame | Source, export: PlateExport | Mapping[str, ArrayLike] | ArrayLike | Source,
    *, plate: str | None = None,
) -> pd.DataFrame:
    """Join a layout with a plate-reader export into a tidy table (one row per well).

    Parameters
    ----------
    layout : DataFrame or path
        From :func:`read_layout` (a path is read with it).
    export : PlateExport, mapping of name to grid, 2-D array, or path
        The readings; a bare grid becomes the readout ``"signal"``.
    plate : str, optional
        Plate id for the table; default: the layout's, else the export's.

    Returns
    -------
    pandas.DataFrame
        The layout columns plus one float column per readout (and a
        ``<readout>_overflow`` column where the reader flagged wells).  ``attrs``
        carries ``plate_format``, ``conc_unit``, ``plate`` and ``n_missing``
        (NaN readings in wells that are in use, per readout).

    Raises
    ------
    ShapeError
        A grid whose shape does not match the layout's plate format.
    PlateLayoutError
        Layout wells that are not on the export's plate, a well listed more than
        once, a grid cell that is not a number, plate ids that differ, or readout
        names that clash with layout columns.
    TypeError
        A `layout` that is not a DataFrame or path; grids that are not real numbers.

    Examples
    --------
    >>> import io
    >>> lay = mp.assays.read_layout(io.StringIO("well,role\\nA1,blank\\nA12,vehicle\\n"))
    >>> grid = np.full((8, 12), 0.05); grid[0, 11] = 1.0
    >>> tab = mp.assays.tidy_plate(lay, {"A570": grid})
    >>> tab.loc[tab.role != "empty", ["well", "role", "A570"]].to_dict("records")
    [{'well': 'A1', 'role': 'blank', 'A570': 0.05}, {'well': 'A12', 'role': 'vehicle', 'A570': 1.0}]
    """
    lay = layout if isinstance(layout, pd.DataFrame) else read_layout(layout)
    _require_table(lay, "layout", _LAYOUT_COLUMNS, "read_layout()")
    repeated = lay["well"][lay["well"].astype(str).str.strip().str.upper().duplicated(keep=False)]
    if len(repeated):
        wells = list(dict.fromkeys(str(w) for w in repeated))
        raise PlateLayoutError(
            f"`layout` must list each well once; {', '.join(wells[:10])}{' …' if len(wells) > 10 else ''} "
            f"appear(s) more than once ({len(repeated)} rows). A well holds one thing: drop or fix "
            "the repeated rows."
        )
    ex = _as_export(export)
    fmt = int(lay.attrs.get("plate_format", 96 if len(lay) == 96 else 384))
    shape = PLATE_SHAPES.get(fmt)
    ex_shape = PLATE_SHAPES[ex.plate_format]
    if shape != ex_shape:
        used = lay[lay["role"] != "empty"]
        off = [w for w, r, c in zip(used["well"], used["row"], used["col"], strict=True)
               if _LETTERS.index(r) >= ex_shape[0] or c > ex_shape[1]]
        if off:
            raise PlateLayoutError(
                f"`layout` names wells that are not on the {ex.plate_format}-well plate of `export`: "
                f"{', '.join(off[:10])}{' …' if len(off) > 10 else ''}."
            )
        raise ShapeError(
            f"`export` is a {ex_shape[0]}×{ex_shape[1]} grid ({ex.plate_format}-well plate) but "
            f"`layout` describes a {fmt}-well plate. Pass plate_format= to read_layout."
        )
    lay_id = str(lay.attrs.get("plate") or "")
    if lay_id and ex.plate_id and lay_id != ex.plate_id:
        raise PlateLayoutError(
            f"`layout` and `export` must describe the same plate; the layout is for plate "
            f"{lay_id!r} but the export says {ex.plate_id!r}."
        )
    table = lay.copy()
    plate_id = plate or lay_id or ex.plate_id or ""
    table["plate"] = plate_id
    rows = np.array([_LETTERS.index(r) for r in table["row"]])
    cols = table["col"].to_numpy(dtype=int) - 1
    in_use = (table["role"] != "empty").to_numpy()
    n_missing: dict[str, int] = {}
    for key, grid in ex.readouts.items():
        if key in _LAYOUT_COLUMNS:
            raise PlateLayoutError(
                f"`export` readout names must differ from layout columns; got {key!r}."
            )
        values = grid[rows, cols]
        table[key] = values
        n_missing[key] = int(np.isnan(values[in_use]).sum())
        over = ex.overflow.get(key)
        if over is not None and over.any():
            table[f"{key}_overflow"] = over[rows, cols]
    table.attrs = {**lay.attrs, "plate": plate_id, "n_missing": n_missing}
    return table


def _as_export(export: Any) -> PlateExport:
    if isinstance(export, PlateExport):
        return export
    if isinstance(export, Mapping):
        grids = {str(k): _grid_values(v, f"export[{str(k)!r}]") for k, v in export.items()}
    elif isinstance(export, str | os.PathLike) or hasattr(export, "read") or hasattr(export, "read_text"):
        return read_plate_export(export)
    else:
        grids = {"signal": _grid_values(export, "export")}
    shapes = {k: g.shape for k, g in grids.items()}
    fmt = None
    for f, s in PLATE_SHAPES.items():
        if all(sh == s for sh in shapes.values()):
            fmt = f
    if fmt is None or not grids:
        raise ShapeError(
            f"`export` grids must be 8×12 (96-well) or 16×24 (384-well); got shapes {shapes}."
        )
    return PlateExport(readouts=grids, overflow={k: np.zeros(g.shape, bool) for k, g in grids.items()},
                       plate_id=None, plate_format=fmt)


def _grid_values(values: Any, name: str) -> FloatArray:
    """A plate grid of readings as float64; a cell that is not a number is refused by position."""
    try:
        return as_float_array(values, name=name)
    except ShapeError:
        raise
    except ValueError:
        cells = np.asarray(values, dtype=object)
    for pos, cell in np.ndenumerate(cells):
        try:
            float(cell)
        except (TypeError, ValueError):
            where = f" at row {_LETTERS[pos[0]]}, column {pos[1] + 1}" if len(pos) == 2 and pos[0] < 16 else ""
            raise PlateLayoutError(
                f"`{name}` must hold one number per well (NaN for a missing well); got {cell!r:.40}"
                f"{where}. Read a reader's file with read_plate_export(), which turns 'OVER' cells "
                "into NaN."
            ) from None
    raise PlateLayoutError(f"`{name}` must hold one number per well; got {values!r:.80}.")


def plate_dataset(table: pd.DataFrame) -> xr.Dataset:
    """Tidy plate table(s) → ``xarray.Dataset`` along ``well`` (and ``plate`` for several plates).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`tidy_plate`, or several of them concatenated.

    Returns
    -------
    xarray.Dataset
        Readouts as data variables; ``row, col, role, compound, conc, replicate``
        as coordinates (2-D ``(plate, well)`` for several plates); ``conc`` carries
        ``attrs["units"]``.

    Examples
    --------
    >>> import io
    >>> lay = mp.assays.read_layout(io.StringIO("well,role\\nA1,blank\\nA12,vehicle\\n"))
    >>> ds = mp.assays.plate_dataset(mp.assays.tidy_plate(lay, np.ones((8, 12))))
    >>> dict(ds.sizes), ds["signal"].dims
    ({'well': 96}, ('well',))
    """
    _require_table(table, "table", ("plate", "well"), "tidy_plate()")
    coords = [c for c in _LAYOUT_COLUMNS if c in table.columns and c not in ("plate", "well")]
    plates = pd.unique(table["plate"])
    frame = table.copy()
    frame["replicate"] = frame["replicate"].astype("float64") if "replicate" in frame else np.nan
    repeated = frame.duplicated(["plate", "well"], keep=False)
    if repeated.any():
        first = frame.loc[repeated, ["plate", "well"]].iloc[0]
        raise PlateLayoutError(
            f"`table` must have one row per (plate, well); well {first['well']!r} of plate {first['plate']!r} "
            f"appears more than once ({int(repeated.sum())} rows repeat a well)."
        )
    if len(plates) == 1:
        ds = frame.drop(columns=["plate"]).set_index("well").to_xarray()
        ds = ds.assign_coords(plate=plates[0])
    else:
        ds = frame.set_index(["plate", "well"]).to_xarray()
        ds = ds.reindex(well=pd.unique(frame["well"]))  # keep row-major well order
    ds = ds.set_coords([c for c in coords if c in ds.data_vars])
    unit = table.attrs.get("conc_unit") or (
        str(table["conc_unit"].iloc[0]) if "conc_unit" in table.columns and len(table) else None
    )
    if unit is not None and "conc" in ds.coords:
        ds["conc"].attrs["units"] = unit
    ds.attrs.update({k: v for k, v in table.attrs.items() if isinstance(v, str | int | float)})
    return ds


# ----------------------------------------------------------------------------- QC
@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PlateQC:
    """Quality-control statistics of one plate's controls.

    Attributes
    ----------
    plate : str
        Plate id.
    z_prime : float
        ``1 − 3(σ_high + σ_low)/|μ_high − μ_low|``.
    ssmd : float
        ``(μ_high − μ_low)/sqrt(σ_high² + σ_low²)``.
    signal_to_background : float
        ``μ_high / μ_low`` (NaN when ``μ_low ≤ 0``).
    cv_high, cv_low : float
        Coefficients of variation in percent, ``100 σ/μ``.
    mean_high, sd_high, mean_low, sd_low : float
        Control statistics (sample SD, ``ddof=1``).
    n_high, n_low : int
        Finite control wells used.
    n_missing : int
        NaN control wells (counted, left out of the statistics).
    thresholds : mapping
        The thresholds applied (None = not applied).
    failures : tuple of str
        Why the plate failed; empty when it passed.
    """

    plate: str
    z_prime: float
    ssmd: float
    signal_to_background: float
    cv_high: float
    cv_low: float
    mean_high: float
    sd_high: float
    mean_low: float
    sd_low: float
    n_high: int
    n_low: int
    n_missing: int
    thresholds: Mapping[str, float | None]
    failures: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "thresholds", MappingProxyType(dict(self.thresholds)))

    @property
    def passed(self) -> bool:
        """True when no threshold failed."""
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        """The statistics as a flat dict (one row of :func:`qc_table`)."""
        out: dict[str, Any] = {name: getattr(self, name) for name in (
            "plate", "z_prime", "ssmd", "signal_to_background", "cv_high", "cv_low", "mean_high",
            "sd_high", "mean_low", "sd_low", "n_high", "n_low", "n_missing")}
        out["passed"] = self.passed
        out["failures"] = "; ".join(self.failures)
        return out


def _finite_stats(values: ArrayLike, name: str) -> tuple[float, float, int, int]:
    arr = as_float(values, name).ravel()
    ok = arr[~np.isnan(arr)]
    n_missing = int(arr.size - ok.size)
    mean = float(ok.mean()) if ok.size else float("nan")
    sd = float(ok.std(ddof=1)) if ok.size > 1 else float("nan")
    return mean, sd, int(ok.size), n_missing


def plate_qc(
    high: ArrayLike, low: ArrayLike, *, plate: str = "", z_prime_min: float | None = 0.5,
    cv_max: float | None = 20.0, cv_low_max: float | None = None, ssmd_min: float | None = None,
    sb_min: float | None = None, min_wells: int = 2,
) -> PlateQC:
    """Plate QC from the high and low control wells: Z′, SSMD, S/B and CVs, with thresholds.

    Parameters
    ----------
    high : array_like
        High-signal controls (vehicle in viability, no-inhibitor in kinase assays).
    low : array_like
        Low-signal controls (blank, positive/full-inhibition, no-enzyme).
    plate : str
        Plate id, carried into the result.
    z_prime_min : float or None, default 0.5
        Fail below this Z′ (at most 1; Zhang et al.: 0.5 ≤ Z′ < 1 is an excellent assay).
    cv_max : float or None, default 20
        Fail when the high controls' CV (%, ≥ 0) exceeds this.
    cv_low_max : float or None
        Same for the low controls (off by default: a blank near zero has a large CV).
    ssmd_min, sb_min : float or None
        Optional minimum SSMD and signal/background.
    min_wells : int, default 2
        Fewer finite wells than this in either control fails the plate.

    Returns
    -------
    PlateQC
        Statistics, thresholds and the reasons for failure (if any).

    Notes
    -----
    NaN wells are left out and counted in ``n_missing``; statistics use the sample
    SD.  ``Z′ = 1 − 3(σ_h + σ_l)/|μ_h − μ_l|``; ``SSMD = (μ_h − μ_l)/sqrt(σ_h² + σ_l²)``;
    ``S/B = μ_h/μ_l``; ``CV = 100 σ/μ``.

    References
    ----------
    Zhang JH, Chung TDY, Oldenburg KR. A simple statistical parameter for use in
    evaluation and validation of high throughput screening assays. J Biomol Screen
    1999;4:67–73.  Zhang XD. A pair of new statistical parameters for quality control
    in RNA interference high-throughput screening assays. Genomics 2007;89:552–561 (SSMD).

    Examples
    --------
    >>> qc = mp.assays.plate_qc([1.0, 1.1, 0.9, 1.0], [0.05, 0.06, 0.04, 0.05])
    >>> round(qc.z_prime, 3), qc.passed   # 1 - 3*(0.0816 + 0.0082)/0.95
    (0.716, True)
    """
    optional_number(z_prime_min, "z_prime_min", high=1.0,
                    accepted="a finite number ≤ 1 (Z′ never exceeds 1) or None")
    for nm, v in (("cv_max", cv_max), ("cv_low_max", cv_low_max)):
        optional_number(v, nm, low=0.0, accepted="a finite number ≥ 0 (a CV in percent) or None")
    for nm, v in (("ssmd_min", ssmd_min), ("sb_min", sb_min)):
        optional_number(v, nm, accepted="a finite number or None")
    if isinstance(min_wells, bool) or not isinstance(min_wells, int) or not 2 <= min_wells <= 10**6:
        raise ValueError(f"`min_wells` must be an integer ≥ 2; got {min_wells!r:.40} (at most 1,000,000).")
    if not isinstance(plate, str):
        raise TypeError(f"`plate` must be a plate id (str); got {plate!r}.")
    mh, sh, nh, mh_missing = _finite_stats(high, "high")
    ml, sl, nl, ml_missing = _finite_stats(low, "low")
    with np.errstate(invalid="ignore", divide="ignore"):
        window = abs(mh - ml)
        z = 1.0 - 3.0 * (sh + sl) / window if window > 0 else float("nan")
        ssmd = (mh - ml) / np.sqrt(sh**2 + sl**2) if (sh > 0 or sl > 0) else float("nan")
        sb = mh / ml if ml > 0 else float("nan")
        cvh = 100.0 * sh / mh if mh != 0 else float("nan")
        cvl = 100.0 * sl / ml if ml != 0 else float("nan")
    failures: list[str] = []
    if nh < min_wells or nl < min_wells:
        failures.append(f"fewer than {min_wells} finite wells (high {nh}, low {nl})")
    checks = (
        ("Z′", z, z_prime_min, "<"), ("SSMD", ssmd, ssmd_min, "<"), ("S/B", sb, sb_min, "<"),
        ("CV of high controls (%)", cvh, cv_max, ">"), ("CV of low controls (%)", cvl, cv_low_max, ">"),
    )
    for label, value, limit, bad in checks:
        if limit is None:
            continue
        if np.isnan(value):
            failures.append(f"{label} could not be computed")
        elif (bad == "<" and value < limit) or (bad == ">" and value > limit):
            failures.append(f"{label} = {value:.3g} {bad} {limit:g}")
    return PlateQC(
        plate=str(plate), z_prime=float(z), ssmd=float(ssmd), signal_to_background=float(sb),
        cv_high=float(cvh), cv_low=float(cvl), mean_high=mh, sd_high=sh, mean_low=ml, sd_low=sl,
        n_high=nh, n_low=nl, n_missing=mh_missing + ml_missing,
        thresholds={"z_prime_min": z_prime_min, "cv_max": cv_max, "cv_low_max": cv_low_max,
                    "ssmd_min": ssmd_min, "sb_min": sb_min, "min_wells": float(min_wells)},
        failures=tuple(failures),
    )


def qc_plates(
    table: pd.DataFrame, *, signal: str, high: str = "vehicle", low: str = "blank",
    **thresholds: Any,
) -> dict[str, PlateQC]:
    """:func:`plate_qc` for every plate of a tidy table.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`tidy_plate` (possibly several plates concatenated).
    signal : str
        Readout column to assess (e.g. the reference-corrected absorbance).
    high, low : str
        Roles of the high and low controls.
    **thresholds
        Passed to :func:`plate_qc`.

    Returns
    -------
    dict of str to PlateQC
        Keyed by plate id.

    Raises
    ------
    TypeError
        A `table` that is not a DataFrame.
    PlateLayoutError
        A `table` without the ``plate`` or ``role`` column, a `signal` that is not one of
        its columns, unknown roles.

    Examples
    --------
    >>> import io
    >>> lay = mp.assays.read_layout(io.StringIO("well,role\\nA1,blank\\nB1,blank\\nA12,vehicle\\nB12,vehicle\\n"))
    >>> grid = np.full((8, 12), 0.05); grid[0, 11] = 1.0; grid[1, 11] = 1.1
    >>> qc = mp.assays.qc_plates(mp.assays.tidy_plate(lay, grid, plate="P1"), signal="signal")
    >>> qc["P1"].passed, qc["P1"].n_high
    (True, 2)
    """
    _require_table(table, "table", ("plate", "role"), "tidy_plate()")
    if not isinstance(signal, str) or signal not in table.columns:
        raise PlateLayoutError(
            f"`signal` must name a readout column of `table`; got {signal!r} (columns: "
            f"{[str(c) for c in table.columns][:20]})."
        )
    for name, role in (("high", high), ("low", low)):
        if role not in ROLES:
            raise PlateLayoutError(f"`{name}` must be one of {', '.join(ROLES)}; got {role!r}.")
    out: dict[str, PlateQC] = {}
    for plate, group in table.groupby("plate", sort=False):
        h = group.loc[group["role"] == high, signal].to_numpy(dtype=np.float64)
        lo = group.loc[group["role"] == low, signal].to_numpy(dtype=np.float64)
        out[str(plate)] = plate_qc(h, lo, plate=str(plate), **thresholds)
    return out


def qc_table(qc: Mapping[str, PlateQC] | Iterable[PlateQC]) -> pd.DataFrame:
    """One row per plate: the QC statistics, ``passed`` and the failure reasons.

    Examples
    --------
    >>> qc = mp.assays.plate_qc([1.0, 1.1, 0.9], [0.5, 0.9, 0.1], plate="P2")
    >>> mp.assays.qc_table([qc])[["plate", "passed"]].to_dict("records")
    [{'plate': 'P2', 'passed': False}]
    """
    try:
        items = list(qc.values()) if isinstance(qc, Mapping) else list(qc)
    except TypeError:
        raise TypeError(f"`qc` must be PlateQC results (a mapping or an iterable); got {type(qc).__name__}.") from None
    bad = [q for q in items if not isinstance(q, PlateQC)]
    if bad:
        raise TypeError(f"`qc` must hold PlateQC results (from plate_qc); got {type(bad[0]).__name__}.")
    return pd.DataFrame([q.to_dict() for q in items])


def qc_flags(qc: PlateQC | Mapping[str, PlateQC], plate: ArrayLike | None = None) -> NDArray[np.uint8]:
    """:class:`~mtor_pharm.FitStatus` bits (``PLATE_QC_FAILED``) for curves from failed plates.

    Parameters
    ----------
    qc : PlateQC or mapping of plate id to PlateQC
        From :func:`plate_qc` / :func:`qc_plates`.
    plate : array_like of str, optional
        The plate id of each curve (the fit's batch shape).  Required with a mapping.

    Returns
    -------
    ndarray of uint8
        ``FitStatus.PLATE_QC_FAILED`` where the curve's plate failed, else 0; pass it
        to ``FitResult.with_flags``.

    Raises
    ------
    PlateLayoutError
        A curve's plate id that has no QC.

    Examples
    --------
    >>> good = mp.assays.plate_qc([1.0, 1.1, 0.9], [0.05, 0.06, 0.04], plate="P1")
    >>> bad = mp.assays.plate_qc([1.0, 1.1, 0.9], [0.5, 0.9, 0.1], plate="P2")
    >>> mp.assays.qc_flags({"P1": good, "P2": bad}, ["P1", "P2", "P2"]).tolist()
    [0, 32, 32]
    """
    bit = np.uint8(FitStatus.PLATE_QC_FAILED)
    if not isinstance(qc, PlateQC | Mapping) or (
            isinstance(qc, Mapping) and not all(isinstance(q, PlateQC) for q in qc.values())):
        raise TypeError(f"`qc` must be a PlateQC or a mapping of plate id to PlateQC; got {type(qc).__name__}.")
    if isinstance(plate, pint.Quantity) or (plate is not None and np.iscomplexobj(plate)):
        raise TypeError(f"`plate` must be plate ids (str); got {plate!r:.80}.")
    if isinstance(qc, PlateQC):
        if plate is None:
            return np.asarray(np.uint8(0) if qc.passed else bit, dtype=np.uint8)
        ids = np.asarray(plate, dtype=object)
        return np.full(ids.shape, 0 if qc.passed else bit, dtype=np.uint8)
    if plate is None:
        raise ValueError("`plate` is required with a mapping of QC results: give each curve's plate id.")
    ids = np.asarray(plate, dtype=object)
    flat = ids.ravel()
    unknown = sorted({str(p) for p in flat if str(p) not in qc})
    if unknown:
        raise PlateLayoutError(
            f"`plate` ids must all have a QC result; got {', '.join(map(repr, unknown[:10]))}, and "
            f"`qc` has {', '.join(map(repr, list(qc)[:10]))}."
        )
    out = np.array([0 if qc[str(p)].passed else bit for p in flat], dtype=np.uint8)
    return out.reshape(ids.shape)

