"""Assay math: from raw plate and blot readings to normalized values, fits and tables.

Four modules, each re-exported here:

:mod:`~mtor_pharm.assays.normalize`
    Blank subtraction, percent of control / activity / inhibition with
    delta-method standard errors, Western blot ratios and fold changes, and
    :func:`with_vehicle` (fit the vehicle wells as data at ``x = 0``).
:mod:`~mtor_pharm.assays.viability`
    MTT reference-wavelength correction, percent viability, NCI-60 growth percent
    with GI50/TGI/LC50, GR values and GR metrics, AUC with explicit metadata.
:mod:`~mtor_pharm.assays.kinase`
    Cheng–Prusoff IC50 → Ki (competitive, non-competitive, uncompetitive) with the
    interval carried through, and the Morrison tight-binding fit.
:mod:`~mtor_pharm.assays.plates`
    Layout files (CSV/TOML), plate-reader grids, tidy tables, ``xarray.Dataset``,
    plate QC (Z′, SSMD, S/B, CV) and the ``PLATE_QC_FAILED`` fit-status bit.

Simulated example datasets for the three protocols are loaded with
:func:`load_example` (see ``docs/assays.md``).
"""

from . import curves, kinase, normalize, plates, viability
from ._common import Normalized
from ._errors import ControlError, PlateLayoutError
from ._examples import example_file, load_example
from .curves import fit_plate, plate_curves
from .kinase import (
    KiEstimate,
    Mechanism,
    MorrisonFit,
    cheng_prusoff,
    fit_morrison,
    ki_from_fit,
    morrison,
    morrison_ic50,
)
from .normalize import (
    cross_blot_scale,
    fold_change,
    loading_normalize,
    percent_activity,
    percent_inhibition,
    percent_of_control,
    phospho_ratio,
    subtract_blank,
    with_vehicle,
)
from .plates import (
    PLATE_SHAPES,
    ROLES,
    PlateExport,
    PlateQC,
    plate_dataset,
    plate_qc,
    qc_flags,
    qc_plates,
    qc_table,
    read_layout,
    read_plate_export,
    tidy_plate,
    well_names,
)
from .viability import (
    AreaUnderCurve,
    GRMetrics,
    GrowthMetrics,
    auc,
    gr_metrics,
    gr_values,
    growth_percent,
    mtt_absorbance,
    nci60_metrics,
    percent_viability,
)

__all__ = [
    "PLATE_SHAPES",
    "ROLES",
    "AreaUnderCurve",
    "ControlError",
    "GRMetrics",
    "GrowthMetrics",
    "KiEstimate",
    "Mechanism",
    "MorrisonFit",
    "Normalized",
    "PlateExport",
    "PlateLayoutError",
    "PlateQC",
    "auc",
    "cheng_prusoff",
    "cross_blot_scale",
    "curves",
    "example_file",
    "fit_morrison",
    "fit_plate",
    "fold_change",
    "gr_metrics",
    "gr_values",
    "growth_percent",
    "ki_from_fit",
    "kinase",
    "load_example",
    "loading_normalize",
    "morrison",
    "morrison_ic50",
    "mtt_absorbance",
    "nci60_metrics",
    "normalize",
    "percent_activity",
    "percent_inhibition",
    "percent_of_control",
    "percent_viability",
    "phospho_ratio",
    "plate_curves",
    "plate_dataset",
    "plate_qc",
    "plates",
    "qc_flags",
    "qc_plates",
    "qc_table",
    "read_layout",
    "read_plate_export",
    "subtract_blank",
    "tidy_plate",
    "viability",
    "well_names",
    "with_vehicle",
]
