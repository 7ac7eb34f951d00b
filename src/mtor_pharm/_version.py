"""The installed version (one place, imported by the package and by the result writers)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mtor_pharm")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = ["__version__"]
