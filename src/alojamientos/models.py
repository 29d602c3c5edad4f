"""Every table, imported in one place for Alembic and for tests."""

from alojamientos.auth.models import Operator
from alojamientos.calendar_sync.models import IcalFeed
from alojamientos.conversation.models import BotAnswer, Conversation, ConversationMessage
from alojamientos.jobs.models import Job
from alojamientos.kit.models import Base
from alojamientos.notifications.models import OperatorAlert
from alojamientos.ops.models import Deployment, DeployRun, DeployStep, FeatureFlag, FlagChange
from alojamientos.payments.models import Attachment, ExternalEvent, Payment
from alojamientos.pricing.models import PriceSettings, Season
from alojamientos.reservations.models import Accommodation, Reservation, ReservationEvent

__all__ = [
    "Accommodation",
    "Attachment",
    "Base",
    "BotAnswer",
    "Conversation",
    "ConversationMessage",
    "DeployRun",
    "DeployStep",
    "Deployment",
    "ExternalEvent",
    "FeatureFlag",
    "FlagChange",
    "IcalFeed",
    "Job",
    "Operator",
    "OperatorAlert",
    "Payment",
    "PriceSettings",
    "Reservation",
    "ReservationEvent",
    "Season",
]
