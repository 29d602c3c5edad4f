"""What the conversation engine sees and says, independent of WhatsApp or the terminal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Inbound:
    phone: str  # E.164
    text: str = ""
    choice_id: str | None = None  # the id of a tapped button or chosen list row
    profile_name: str | None = None
    media: bool = False  # an image, document or other attachment (no text)
    media_id: str | None = None  # the channel's id for downloading it


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
