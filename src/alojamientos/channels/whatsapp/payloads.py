"""Cloud API payloads to and from the engine's `Inbound` and `Reply`, within Meta's limits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from alojamientos.conversation.messages import RECEIPT_KINDS, Inbound, Reply
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
    body: str  # what the transcript shows besides its kind: the text, a caption, a place's name
    raw: dict[str, Any]
    # A click-to-WhatsApp ad or post the guest came from: `source_id`, `ctwa_clid`, `headline`, …
    referral: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class StatusEvent:
    wamid: str
    status: str
    error: str | None


def parse_envelope(envelope: dict[str, Any]) -> tuple[list[InboundEvent], list[StatusEvent], list[str]]:
    """Messages, statuses, and a note for anything we skipped (so it is logged, never a 500).

    Every message Meta sends becomes an `InboundEvent`, whatever its type (Meta's webhook reference,
    "messages" field): unknown types become kind `unsupported`. Statuses (`value.statuses[]`) are
    never messages; `value.errors[]` (a problem on Meta's side) is reported as skipped.
    """
    messages: list[InboundEvent] = []
    statuses: list[StatusEvent] = []
    skipped: list[str] = []
    for entry in _list(_clean(envelope).get("entry")):
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
            for error in _list(value.get("errors")):
                skipped.append(f"webhook error {_dict(error).get('code')}: {_dict(error).get('title')}")
    return messages, statuses, skipped


def _list(value: Any) -> list[Any]:
    """Payload parts as a list, whatever arrived: a well-signed oddity must not become a 500."""
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return str(value) if isinstance(value, str | int | float) else ""


def _clean(value: Any) -> Any:
    """The payload without NUL characters, which PostgreSQL cannot store in text or JSONB."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _message(message: Any, names: dict[Any, Any]) -> InboundEvent | str:
    if not isinstance(message, dict) or not message.get("id") or not message.get("from"):
        return "message without id or sender"
    try:
        phone = to_e164("+" + str(message["from"]).lstrip("+"))
    except InvalidPhone:
        return f"message from an invalid number ({message.get('type')})"
    name = names.get(message["from"])
    inbound, body = _content(message, phone, str(name) if name else None)
    referral = _dict(message.get("referral")) or None
    return InboundEvent(str(message["id"]), inbound, body, message, referral)


def _content(message: dict[str, Any], phone: str, name: str | None) -> tuple[Inbound, str]:
    """Meta's message types (webhook reference, "messages" object) onto the engine's kinds."""
    kind = _str(message.get("type"))
    data = _dict(message.get(kind))

    def made(kind: str, body: str = "", **fields: Any) -> tuple[Inbound, str]:
        return Inbound(phone=phone, profile_name=name, kind=kind, **fields), body

    if kind == "text":
        text = _str(data.get("body"))
        return made("text", text, text=text)
    if kind == "interactive":
        subtype = _str(data.get("type"))
        reply = _dict(data.get(subtype)) if subtype in ("button_reply", "list_reply") else {}
        if reply.get("id"):
            title = _str(reply.get("title"))
            return made("choice", title, choice_id=_str(reply["id"]), text=title)
        if subtype == "nfm_reply":  # a completed WhatsApp Flow (a form)
            return made("form", _form_answers(_dict(data.get("nfm_reply"))))
        return made("unsupported", detail={"type": f"interactive.{subtype}"})
    if kind == "button":  # a quick-reply button on a template
        payload = _str(data.get("payload")) or _str(data.get("text"))
        return made("choice", _str(data.get("text")) or payload, text=payload)
    if kind in ("image", "document", "audio", "video", "sticker"):
        caption = _str(data.get("caption"))
        media_id = _str(data.get("id")) or None
        detail: dict[str, Any] = {"mime_type": _str(data.get("mime_type"))}
        if kind == "audio":
            detail["voice"] = data.get("voice") is True
        if kind == "document" and data.get("filename"):
            detail["filename"] = _str(data.get("filename"))
        receipt = kind in RECEIPT_KINDS
        body = caption or detail.get("filename", "")
        return made(kind, body, text=caption, media=receipt, media_id=media_id, detail=detail)
    if kind == "location":
        place = {k: _str(data.get(k)) for k in ("name", "address", "url") if data.get(k)}
        where = {k: data[k] for k in ("latitude", "longitude") if isinstance(data.get(k), int | float)}
        return made(
            "location", " · ".join(v for k, v in place.items() if k != "url"), detail={**place, **where}
        )
    if kind == "contacts":
        cards = [_contact(c) for c in _list(message.get("contacts"))]
        return made("contacts", "; ".join(c for c in cards if c))
    if kind == "reaction":
        emoji = _str(data.get("emoji"))
        return made("reaction", emoji, detail={"message_id": _str(data.get("message_id"))})
    if kind == "order":
        items = _list(data.get("product_items"))
        return made("order", _str(data.get("text")), detail={"items": len(items)})
    if kind == "system":
        system = _dict(message.get("system"))
        if system.get("type") == "user_changed_number":
            new = _str(system.get("new_wa_id") or system.get("wa_id"))
            try:
                new_phone = to_e164("+" + new.lstrip("+")) if new else None
            except InvalidPhone:
                new_phone = None
            return made("number_changed", detail={"old_phone": phone, "new_phone": new_phone, "wa_id": new})
        return made("system", _str(system.get("body")), detail={"type": _str(system.get("type"))})
    if kind == "request_welcome":  # the guest opened the chat for the first time
        return made("welcome")
    # "unsupported" (Meta's error 131051), "unknown", "ephemeral" or a type newer than this code
    errors = _list(message.get("errors"))
    error = _dict(errors[0]) if errors else {}
    detail = {"type": kind, "error": f"{error.get('code')}: {_str(error.get('title'))}" if error else ""}
    return made("unsupported", detail=detail)


def _contact(card: Any) -> str:
    """`Juan Pérez +5491155551234`: a shared contact card as the operator needs it."""
    card = _dict(card)
    name = _str(_dict(card.get("name")).get("formatted_name"))
    phones = [_str(_dict(p).get("phone")) for p in _list(card.get("phones"))]
    return " ".join(part for part in (name, *phones) if part)


def _form_answers(reply: dict[str, Any]) -> str:
    """A Flow's answers (`response_json`, a JSON string) as `field: value` lines."""
    try:
        answers = json.loads(_str(reply.get("response_json")) or "{}")
    except ValueError:
        return ""
    if not isinstance(answers, dict):
        return ""
    return "\n".join(f"{k}: {v}" for k, v in answers.items() if k != "flow_token")


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
