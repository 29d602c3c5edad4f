"""What a Mercado Pago notification names: a topic and a resource id, from any of its two formats.

Mercado Pago sends two formats to the same URL (INTEGRATIONS.md, "Mercado Pago facts"):

- Webhooks: a JSON body `{"type": "payment", "action": "payment.updated", "id": <notification id>,
  "data": {"id": "<payment id>"}, ...}`, the query repeating the resource as `?data.id=<id>&type=payment`.
- IPN (still sent to a preference's `notification_url`): `?topic=payment&id=<id>` with an empty body,
  or a body `{"resource": "<id or URL ending in /<id>>", "topic": "merchant_order"}`.

Either way the notification is only a pointer: the resource is always fetched with our token.

What gets which answer, and why (Mercado Pago retries anything but 200/201 every 15 minutes):
- a topic we do not act on (`chargebacks`, `order`, `point_integration_wh`, …) is something Mercado
  Pago really sends when the operator ticks it in the dashboard: 200 "ignored", so it stops retrying;
- no topic, no id, a non-numeric id, ids that disagree, a body that is not a JSON object: shapes Mercado
  Pago never sends for `payment` and `merchant_order`, so the sender is a person or a bug, who is
  better served by a clear 400 `invalid_notification` (no retry storm can follow).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from alojamientos.errors import AppError
from alojamientos.kit.inputs import without_nul

PAYMENT = "payment"
MERCHANT_ORDER = "merchant_order"
# The Webhooks dashboard names the merchant-order event `topic_merchant_order_wh`; IPN says `merchant_order`.
TOPICS = {"payment": PAYMENT, "merchant_order": MERCHANT_ORDER, "topic_merchant_order_wh": MERCHANT_ORDER}
# Payment and merchant-order ids are positive integers (64-bit at most).
_ID = re.compile(r"[0-9]{1,19}")


class InvalidNotification(AppError):
    code = "invalid_notification"
    status = 400


@dataclass(frozen=True)
class Notification:
    """`topic` is None for a topic we do not act on (`raw_topic` says which)."""

    topic: str | None
    raw_topic: str
    resource_id: str
    action: str
    notification_id: str
    body: dict[str, Any]


def parse(query: dict[str, str], raw_body: bytes) -> Notification:
    """The topic and resource a notification names; raises `InvalidNotification` (400) for shapes
    Mercado Pago never sends. The query wins over the body: its id is the one Mercado Pago signs."""
    body = _body(raw_body)
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    assert isinstance(data, dict)
    if query.get("type") and query.get("topic") and query["type"] != query["topic"]:
        raise InvalidNotification("the query gives both `type` and `topic`, and they differ", field="type")
    query_topic = query.get("type") or query.get("topic") or ""
    body_topic = _text(body.get("type")) or _text(body.get("topic"))
    if query_topic and body_topic and query_topic != body_topic:
        raise InvalidNotification(
            f"the query says topic {query_topic!r} and the body {body_topic!r}", field="type"
        )
    raw_topic = (query_topic or body_topic)[:60]
    if not raw_topic:
        raise InvalidNotification("no topic: expected `type` (Webhooks) or `topic` (IPN)", field="type")
    topic = TOPICS.get(raw_topic)
    action = _text(body.get("action"))[:60]
    notification_id = _text(body.get("id"))[:60]
    if topic is None:
        return Notification(None, raw_topic, "", action, notification_id, body)

    query_id = query.get("data.id") or query.get("id") or ""
    body_id = _text(data.get("id")) or _resource_id(_text(body.get("resource")))
    if query_id and body_id and query_id != body_id:
        raise InvalidNotification(
            f"the query names {query_topic or topic} {query_id!r} and the body {body_id!r}", field="data.id"
        )
    resource_id = query_id or body_id
    if not resource_id:
        raise InvalidNotification(
            f"no {topic} id: expected `data.id` (Webhooks) or `id` (IPN)", field="data.id"
        )
    if not _ID.fullmatch(resource_id):
        raise InvalidNotification(
            f"a {topic} id is a positive integer, not {resource_id[:40]!r}", field="data.id"
        )
    return Notification(topic, raw_topic, resource_id, action, notification_id, body)


def _body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}  # IPN: everything is in the query
    try:
        parsed = without_nul(json.loads(raw))  # PostgreSQL cannot store U+0000
    except (ValueError, UnicodeDecodeError):
        raise InvalidNotification("the body is not JSON") from None
    if not isinstance(parsed, dict):
        raise InvalidNotification("the body is not a JSON object")
    return parsed


def _text(value: Any) -> str:
    """Ids arrive as strings or numbers; anything else (objects, booleans) is not an id."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | str):
        return str(value).strip()
    return ""


def _resource_id(resource: str) -> str:
    """IPN's `resource` is a bare id or a URL such as `https://api.mercadolibre.com/merchant_orders/123`."""
    return resource.rstrip("/").rsplit("/", 1)[-1] if resource else ""
