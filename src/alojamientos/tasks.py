"""Registers every domain's worker jobs (the worker's composition root, as main.py is the API's)."""

from alojamientos.calendar_sync import tasks as calendar_tasks
from alojamientos.channels.whatsapp import tasks as whatsapp_tasks
from alojamientos.notifications import email as email_tasks
from alojamientos.notifications import tasks as notification_tasks
from alojamientos.ops import tasks as ops_tasks
from alojamientos.payments import tasks as payment_tasks
from alojamientos.reservations import tasks as reservation_tasks

__all__ = [
    "calendar_tasks",
    "email_tasks",
    "notification_tasks",
    "ops_tasks",
    "payment_tasks",
    "reservation_tasks",
    "whatsapp_tasks",
]
