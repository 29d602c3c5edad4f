"""Cloud API payloads to and from the engine's `Inbound` and `Reply`, within Meta's limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alojamientos.conversation.messages import Inbound, Reply
from alojamientos.kit.phone import InvalidPhone, to_e164

TEXT_LIMIT = 4096
INTERACTIVE_BODY_LIMIT = 1024
BUTTON_TITLE_LIMIT = 20
MAX_BUTTONS = 3
ROW_TITLE_LIMIT = 24
ROW_DESCRIPTION_LIMIT = 72
MAX_ROWS = 10
LIST_BUTTON_LIMIT = 20
TEMPLATE_PARAM_LIMIT = 1024
STATUS_ORDER = {"queued": 0, "sent": 1, "delivered": 2, "read": 3}


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class InboundEvent:
    wamid: str
    inbound: Inbound
    body: str  # what the transcript shows
    raw: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StatusEvent:
    wamid: str
    status: str
    error: str | None


def parse_envelope(envelope: dict[str, Any]) -> tuple[list[InboundEvent], list[StatusEvent], list[str]]:
    """Messages, statuses, and a note for anything we skipped (so it is logged, never a 500)."""
    messages: list[InboundEvent] = []
    statuses: list[StatusEvent] = []
    skipped: list[str] = []
    for entry in _list(envelope.get("entry")):
        for change in _list(_dict(entry).get("changes")):
            value = _dict(_dict(change).get("value"))
            names = {
                c.get("wa_id"): _dict(c.get("profile")).get("name")
                for c in _list(value.get("contacts"))
                if isinstance(c, dict)
            }
            for message in _list(value.get("messages")):
                event = _message(message, names)
                if isinstance(event, str):
                    skipped.append(event)
                else:
                    messages.append(event)
            for status in _list(value.get("statuses")):
                if isinstance(status, dict) and status.get("id") and status.get("status"):
                    errors = _list(status.get("errors"))
                    error = None
                    if errors and isinstance(errors[0], dict):
                        error = f"{errors[0].get('code')}: {errors[0].get('title', '')}".strip()
                    statuses.append(StatusEvent(str(status["id"]), str(status["status"]), error))
                else:
                    skipped.append("status without id")
    return messages, statuses, skipped


def _list(value: Any) -> list[Any]:
    """Payload parts as a list, whatever arrived: a well-signed oddity must not become a 500."""
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _message(message: Any, names: dict[Any, Any]) -> InboundEvent | str:
    if not isinstance(message, dict) or not message.get("id") or not message.get("from"):
        return "message without id or sender"
    try:
        phone = to_e164("+" + str(message["from"]).lstrip("+"))
    except InvalidPhone:
        return f"message from an invalid number ({message.get('type')})"
    kind = message.get("type")
    name = names.get(message["from"])
    name = str(name) if name else None
    if kind == "text":
        text = str(_dict(message.get("text")).get("body") or "")
        return InboundEvent(message["id"], Inbound(text=text, phone=phone, profile_name=name), text, message)
    if kind == "interactive":
        interactive = _dict(message.get("interactive"))
        reply = _dict(interactive.get("button_reply") or interactive.get("list_reply"))
        if reply.get("id"):
            title = str(reply.get("title") or "")
            return InboundEvent(
                message["id"],
                Inbound(choice_id=str(reply["id"]), text=title, phone=phone, profile_name=name),
                title,
                message,
            )
        return f"interactive message of type {interactive.get('type')}"
    if kind == "button":  # a quick-reply button on a template
        payload = (
            (message.get("button") or {}).get("payload") or (message.get("button") or {}).get("text") or ""
        )
        return InboundEvent(
            message["id"], Inbound(text=str(payload), phone=phone, profile_name=name), str(payload), message
        )
    if kind in ("image", "document", "audio", "video", "sticker"):
        media = _dict(message.get(kind))
        caption = str(media.get("caption") or "")
        media_id = str(media["id"]) if media.get("id") else None
        inbound = Inbound(media=True, media_id=media_id, text=caption, phone=phone, profile_name=name)
        return InboundEvent(message["id"], inbound, f"[{kind}] {caption}".strip(), message)
    # location, contacts, reaction, unsupported...: answered with the menu so the guest is not ignored
    return InboundEvent(message["id"], Inbound(text="", phone=phone, profile_name=name), f"[{kind}]", message)


def outbound(to: str, reply: Reply) -> dict[str, Any]:
    """A session message (inside the 24-hour window): text, reply buttons or a list."""
    recipient = to.lstrip("+")
    if reply.buttons:
        interactive: dict[str, Any] = {
            "type": "button",
            "body": {"text": _fit(reply.text, INTERACTIVE_BODY_LIMIT)},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": b.id[:256], "title": _fit(b.title, BUTTON_TITLE_LIMIT)}}
                    for b in reply.buttons[:MAX_BUTTONS]
                ]
            },
        }
        return {
            "messaging_product": "whatsapp",
            "to": recipient,
            "type": "interactive",
            "interactive": interactive,
        }
    if reply.rows:
        interactive = {
            "type": "list",
            "body": {"text": _fit(reply.text, INTERACTIVE_BODY_LIMIT)},
            "action": {
                "button": _fit(reply.list_button, LIST_BUTTON_LIMIT),
                "sections": [
                    {
                        "title": "Opciones",
                        "rows": [
                            {
                                "id": row.id[:200],
                                "title": _fit(row.title, ROW_TITLE_LIMIT),
                                **(
                                    {"description": _fit(row.description, ROW_DESCRIPTION_LIMIT)}
                                    if row.description
                                    else {}
                                ),
                            }
                            for row in reply.rows[:MAX_ROWS]
                        ],
                    }
                ],
            },
        }
        return {
            "messaging_product": "whatsapp",
            "to": recipient,
            "type": "interactive",
            "interactive": interactive,
        }
    return {
        "messaging_product": "whatsapp",
        "to": recipient,
        "type": "text",
        "text": {"body": _fit(reply.text, TEXT_LIMIT), "preview_url": False},
    }


def template(to: str, text: str, name: str, language: str) -> dict[str, Any]:
    """Outside the 24-hour window only an approved template may go; the text rides as its parameter.

    Meta rejects parameters that are empty or contain newlines, tabs or more than four spaces in a row.
    """
    flat = " · ".join(line.strip() for line in text.splitlines() if line.strip()) or "-"
    flat = " ".join(flat.split())
    return {
        "messaging_product": "whatsapp",
        "to": to.lstrip("+"),
        "type": "template",
        "template": {
            "name": name,
            "language": {"code": language},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": _fit(flat, TEMPLATE_PARAM_LIMIT)}]}
            ],
        },
    }
