"""alojamientos: reservations for a cabin complex, booked over WhatsApp and run from a web panel."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("alojamientos")
except PackageNotFoundError:  # pragma: no cover - only when run from a bare source tree
    __version__ = "0.0.0+unknown"
