"""Bad input to the registry gets the library's own error, naming the argument (audit item 16)."""

from __future__ import annotations

from pathlib import Path

import pytest

import mtor_pharm as mp
from mtor_pharm.errors import RegistryDataError


def test_load_of_a_missing_file_names_the_path(tmp_path: Path) -> None:
    for path in (tmp_path / "absent.toml", str(tmp_path / "no_folder" / "absent.toml")):
        match = r"`path` must name an existing TOML file; got '.*absent\.toml'"
        with pytest.raises(RegistryDataError, match=match) as info:
            mp.registry.load(path)
        assert not isinstance(info.value, OSError)


def test_load_and_import_chembl_refuse_a_missing_file_alike(tmp_path: Path) -> None:
    missing = tmp_path / "absent"
    for call in (mp.registry.load, mp.registry.import_chembl):
        with pytest.raises(RegistryDataError, match=r"^`path` must name an existing .* file; got '.*absent'\.$"):
            call(missing)
