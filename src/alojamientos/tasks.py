"""Registers every domain's worker jobs (the worker's composition root, as main.py is the API's)."""

from alojamientos.channels.whatsapp import tasks as whatsapp_tasks
from alojamientos.reservations import tasks as reservation_tasks

__all__ = ["reservation_tasks", "whatsapp_tasks"]
