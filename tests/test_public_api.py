"""Pin the public surface other pipelines code against."""

from __future__ import annotations

import mtor_pharm as mp


def test_top_level_all_is_sorted_and_complete() -> None:
    # isort-style order (as ruff's RUF022 keeps it): CONSTANTS, then Classes, then functions
    def key(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)

    assert mp.__all__ == sorted(mp.__all__, key=key)
    assert len(set(mp.__all__)) == len(mp.__all__)
    for name in mp.__all__:
        assert hasattr(mp, name), name


def test_contract_names_exist() -> None:
    for name in ("ureg", "Q_", "dilution_series", "fit", "FitResult", "FitStatus", "pic50", "lmfit_model"):
        assert name in mp.__all__


def test_fitstatus_values_are_stable() -> None:
    assert int(mp.FitStatus.OK) == 0
    assert [
        int(f)
        for f in (
            mp.FitStatus.NOT_CONVERGED,
            mp.FitStatus.AT_BOUND,
            mp.FitStatus.FLAT_RESPONSE,
            mp.FitStatus.IC50_OUTSIDE_RANGE,
            mp.FitStatus.TOO_FEW_POINTS,
        )
    ] == [1, 2, 4, 8, 16]
    assert set(mp.STATUS_MESSAGES) >= set(mp.FitStatus)


def test_package_ships_type_marker() -> None:
    from importlib.resources import files

    assert files("mtor_pharm").joinpath("py.typed").is_file()


ASSAYS = [
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

REGISTRY = [
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
    "Registry",
    "ReviewRow",
    "Selectivity",
    "TrialArm",
    "TrialResult",
    "Verdict",
    "Verification",
    "all",
    "filter",
    "get",
    "import_chembl",
    "load",
    "molecular_weight",
    "potency_table",
    "references",
    "review",
    "search",
    "table",
    "trials",
]
PATHWAY = [
    "EDGES",
    "NODES",
    "OTHER_KINASES",
    "READOUTS",
    "Direction",
    "Edge",
    "Effect",
    "Node",
    "Readout",
    "expected_readouts",
    "sites_of_action",
    "to_dot",
]
ERRORS = [
    "ControlError",
    "MtorPharmError",
    "MtorPharmWarning",
    "PlateLayoutError",
    "RegistryDataError",
    "ShapeError",
    "UnitError",
    "UnknownInhibitorError",
    "UnknownModelError",
]


PLOT = [
    "CurveArtists",
    "CurvesArtists",
    "DoseResponseArtists",
    "HeatmapArtists",
    "ResidualArtists",
    "curve",
    "curves",
    "dose_response",
    "plate_heatmap",
    "residuals",
]


COMPARE = [
    "Band",
    "BandKind",
    "Criterion",
    "FTest",
    "IntervalMethod",
    "LackOfFit",
    "Loss",
    "Outliers",
    "PotencyComparison",
    "ProfileInterval",
    "Ratio",
    "ResponseTest",
    "RobustFit",
    "Selection",
    "SharedFit",
    "bands",
    "compare_potency",
    "f_test",
    "find_outliers",
    "fit_robust",
    "fit_shared",
    "lack_of_fit",
    "potency_ratio",
    "profile_ci",
    "response_test",
    "select",
]


COMBINATION = [
    "MODELS",
    "STATUS_MESSAGES",
    "CombinationArtists",
    "CombinationIndex",
    "DoseMatrix",
    "ModelName",
    "ResponseKind",
    "Score",
    "SynergyResult",
    "SynergyStatus",
    "fa_ci_plot",
    "heatmap",
    "isobologram",
    "read_layout",
    "score",
]


def test_public_submodules_pin_their_names() -> None:
    assert mp.combination.__all__ == COMBINATION
    assert mp.compare.__all__ == COMPARE
    assert mp.plot.__all__ == PLOT
    assert mp.registry.__all__ == REGISTRY
    assert mp.pathway.__all__ == PATHWAY
    assert mp.errors.__all__ == ERRORS
    assert mp.xarray.__all__ == ["fit"]
    assert mp.assays.__all__ == ASSAYS
    assert "fit" in mp.fitting.__all__


def test_import_does_not_load_xarray_submodule_eagerly() -> None:
    import subprocess
    import sys

    code = "import sys, mtor_pharm; print([m for m in ('mtor_pharm.xarray', 'matplotlib') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_import_loads_neither_pint_nor_pandas_until_they_are_used() -> None:
    # issue #12: pint (and the dask it probes for) and pandas load on first use
    import subprocess
    import sys

    code = (
        "import sys, mtor_pharm as mp\n"
        "heavy = ('pint', 'pandas', 'dask', 'xarray', 'matplotlib')\n"
        "print([m for m in heavy if m in sys.modules])\n"
        "mp.fit(mp.Q_([0.01, 0.1, 1, 10, 100], 'uM'), [99, 90, 50, 10, 2])\n"
        "print('pint' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "True"]


def test_models_all_is_pinned() -> None:
    assert mp.models.__all__ == [
        "MODELS",
        "PARAM_KINDS",
        "Model",
        "ModelFamily",
        "five_pl",
        "four_pl",
        "get_model",
        "linear_cells",
        "weibull1",
        "weibull2",
    ]
    for name in mp.models.__all__:
        assert hasattr(mp.models, name), name


def test_the_layers_above_read_results_only_through_their_public_interface() -> None:
    # issue #13: what compare, plot and the tables need from a result is public; no module
    # reads FitResult/SharedFit private attributes from outside (self._x inside is fine)
    import re
    from pathlib import Path

    src = Path(mp.__file__).parent
    private = re.compile(r"(?<!self)\.(_model|_internal|_internal_cov|_log_icx)\b(?!\.py)")
    offenders = []
    for path in src.rglob("*.py"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if private.search(code) and "import" not in code:
                offenders.append(f"{path.relative_to(src)}:{n}: {line.strip()}")
    assert offenders == []
