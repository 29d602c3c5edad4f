"""What the conversation engine sees and says, independent of WhatsApp or the terminal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# What a guest can send, as the engine sees it (the channel maps its own types onto these).
KINDS = (
    "text",  # free text
    "choice",  # a tapped button or chosen list row
    "image",
    "document",
    "audio",  # a voice note or an audio file
    "video",
    "sticker",
    "location",
    "contacts",  # contact cards
    "reaction",  # an emoji on one of our messages (empty: the reaction was removed)
    "order",  # a cart from a catalogue
    "form",  # a completed form (a WhatsApp Flow)
    "welcome",  # the guest opened the chat for the first time, nothing typed yet
    "number_changed",  # the guest moved to a new number (`detail["new_phone"]`)
    "system",  # any other notice from the channel about the guest
    "unsupported",  # something the channel cannot show us
)
# Kinds a person would not answer: a nod with an emoji, a sticker, a notice from the channel.
QUIET_KINDS = frozenset({"sticker", "reaction", "number_changed", "system"})
# Only these can be a payment receipt (a photo of the transfer or its PDF).
RECEIPT_KINDS = frozenset({"image", "document"})


@dataclass(frozen=True, slots=True)
class Inbound:
    phone: str  # E.164
    text: str = ""  # what the guest wrote: the text, a caption, a tapped title
    choice_id: str | None = None  # the id of a tapped button or chosen list row
    profile_name: str | None = None
    media: bool = False  # a file that may be a payment receipt (an image or a document)
    media_id: str | None = None  # the channel's id for downloading it
    kind: str = "text"  # one of KINDS
    detail: dict[str, Any] = field(default_factory=dict)  # per kind: voice, new_phone, latitude…


@dataclass(frozen=True, slots=True)
class Button:
    id: str
    title: str


@dataclass(frozen=True, slots=True)
class Row:
    id: str
    title: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """Text, optionally with up to 3 buttons or a list of rows (never both)."""

    text: str
    buttons: tuple[Button, ...] = ()
    rows: tuple[Row, ...] = ()
    list_button: str = "Ver opciones"
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"text": self.text}
        if self.buttons:
            data["buttons"] = [{"id": b.id, "title": b.title} for b in self.buttons]
        if self.rows:
            data["rows"] = [{"id": r.id, "title": r.title, "description": r.description} for r in self.rows]
            data["list_button"] = self.list_button
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        return cls(
            text=data["text"],
            buttons=tuple(Button(**b) for b in data.get("buttons", ())),
            rows=tuple(Row(**r) for r in data.get("rows", ())),
            list_button=data.get("list_button", "Ver opciones"),
        )
