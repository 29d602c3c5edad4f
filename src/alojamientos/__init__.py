"""alojamientos: reservations for a cabin complex, booked over WhatsApp and run from a web panel."""

from alojamientos.version import current_version

__version__ = current_version()
