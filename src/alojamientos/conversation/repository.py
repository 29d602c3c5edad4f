"""Queries over conversations. Builds selects; decides nothing."""

from __future__ import annotations

from sqlalchemy import Select, or_

from alojamientos.conversation.models import Conversation
from alojamientos.kit.queries import digits_of, folded_contains


def matching(query: Select[Conversation], text: str) -> Select[Conversation]:
    """Conversations whose WhatsApp profile name contains `text` ignoring case and accents, or (with 4
    digits or more) whose phone contains those digits; blank `text` leaves `query` as is."""
    text = text.strip()
    if not text:
        return query
    matches = [folded_contains(Conversation.profile_name, text)]
    if len(digits := digits_of(text)) >= 4:
        matches.append(Conversation.phone.contains(digits, autoescape=True))
    return query.where(or_(*matches))
