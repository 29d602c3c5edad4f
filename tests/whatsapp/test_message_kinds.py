"""Every kind of message Meta's webhook can carry, sent as a guest would, answered as a person would.

Shapes follow Meta's webhook reference ("messages" object) and /work/shared/INTEGRATIONS.md: a voice
note from a click-to-WhatsApp ad, a change of number, reactions, stickers, locations, contact cards,
orders, forms, the first open of the chat, and types WhatsApp cannot show us.
"""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

from alojamientos.conversation import replies as r
from tests.fakes.graph import FakeGraph
from tests.fixtures.database import psycopg_url
from tests.whatsapp.conftest import Guest, envelope, post_signed

NEW_PHONE = "+5492944999999"
NOT_UNDERSTOOD = "Perdón, no te entendí bien"
# Meta's `referral` for a click-to-WhatsApp ad (webhook reference, "referral" object).
REFERRAL = {
    "source_url": "https://fb.me/3cr4Wqqkv",
    "source_id": "120208339283910523",
    "source_type": "ad",
    "headline": "Cabañas frente al lago: escapada de invierno",
    "body": "Reservá tu cabaña con 10% off escribiéndonos por WhatsApp",
    "media_type": "image",
    "image_url": "https://scontent.xx.fbcdn.net/v/t45.1600-4/ad.jpg",
    "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ2a",
}


def rows(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(psycopg_url(url)) as conn:
        return conn.execute(sql, params).fetchall()


async def hold(guest: Guest, api: httpx.AsyncClient) -> str:
    """The guest books on WhatsApp and is left with an open hold; its code."""
    await guest.say("hola, tienen lugar del 10 al 13 de marzo para 2?")
    await guest.tap(*guest.last_choices()[0], kind="list_reply")
    [held] = await guest.say("Ana Pérez")
    code = held.split("Código de reserva: *")[1].split("*")[0]
    assert (await api.get(f"/api/v1/reservations/{code}")).json()["status"] == "pre_reserved"
    return code


async def thread(api: httpx.AsyncClient, phone: str) -> dict[str, Any]:
    response = await api.get(f"/api/v1/conversations/{phone}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def alert_kinds(alerts: list[dict[str, Any]]) -> list[str]:
    return [a["kind"] for a in alerts]


# -- issue 11, point 3: a voice note is not a receipt ------------------------------------------------


async def test_a_voice_note_from_an_ad_is_answered_kindly_and_never_taken_for_a_receipt(
    guest: Guest, wa_client: httpx.AsyncClient, graph: FakeGraph, clean_db: str
) -> None:
    code = await hold(guest, wa_client)
    graph.media["AUDIO1"] = (b"OggS voice", "audio/ogg; codecs=opus")
    [answer] = await guest.send({
        "type": "audio",
        "audio": {"id": "AUDIO1", "mime_type": "audio/ogg; codecs=opus", "sha256": "x", "voice": True},
        "referral": REFERRAL,
    })  # fmt: skip
    assert answer == (
        "¡Gracias por el audio! Por ahora no puedo escuchar audios 🙈. ¿Me escribís para qué fechas y"
        " cuántas personas serían? Por ejemplo: «del 10 al 13 de marzo, somos 2»."
        f" Si es por tu reserva {code}, escribime qué necesitás y te ayudo."
    )
    assert "comprobante" not in answer
    assert (await wa_client.get(f"/api/v1/reservations/{code}/attachments")).json() == []
    assert rows(clean_db, "SELECT count(*) FROM attachments") == [(0,)]
    assert rows(clean_db, "SELECT count(*) FROM jobs WHERE kind = 'whatsapp.download_media'") == [(0,)]
    assert "receipt_received" not in alert_kinds((await wa_client.get("/api/v1/alerts")).json())

    conversation = await thread(wa_client, guest.phone)
    referral = conversation["referral"]
    assert {k: referral[k] for k in REFERRAL} == REFERRAL
    assert referral["received_at"]
    assert conversation["messages"][-2]["kind"] == "audio"  # then the bot's answer


async def test_audio_files_and_videos_are_not_receipts_either(
    guest: Guest, wa_client: httpx.AsyncClient, clean_db: str
) -> None:
    code = await hold(guest, wa_client)
    [audio] = await guest.send({"type": "audio", "audio": {"id": "AUDIO2", "mime_type": "audio/mpeg"}})
    assert audio.startswith("¡Gracias por el audio! Por ahora no puedo escuchar audios")
    [video] = await guest.send(
        {"type": "video", "video": {"id": "VIDEO1", "mime_type": "video/mp4", "caption": "la transferencia"}}
    )
    assert video == (
        "¡Gracias por el video! Por acá no puedo verlo 🙈. ¿Me escribís para qué fechas y cuántas personas"
        f" serían? Si es por tu reserva {code}, escribime qué necesitás y te ayudo."
    )
    assert rows(clean_db, "SELECT count(*) FROM jobs WHERE kind = 'whatsapp.download_media'") == [(0,)]
    kinds = [(m["kind"], m["body"]) for m in (await thread(wa_client, guest.phone))["messages"]]
    assert ("audio", "") in kinds and ("video", "la transferencia") in kinds


async def test_a_photo_with_an_open_hold_is_still_its_receipt(
    guest: Guest, wa_client: httpx.AsyncClient, graph: FakeGraph
) -> None:
    code = await hold(guest, wa_client)
    graph.media["IMG1"] = (b"\xff\xd8\xff jpeg", "image/jpeg")
    [thanks] = await guest.send({"type": "image", "image": {"id": "IMG1", "mime_type": "image/jpeg"}})
    assert thanks == r.say("receipt_attached", code=code)
    [attachment] = (await wa_client.get(f"/api/v1/reservations/{code}/attachments")).json()
    assert attachment["mime_type"] == "image/jpeg"


async def test_a_photo_without_a_hold_is_acknowledged_for_a_person(
    guest: Guest, wa_client: httpx.AsyncClient
) -> None:
    [media] = await guest.send({"type": "image", "image": {"id": "MEDIA1", "mime_type": "image/jpeg"}})
    assert media == r.say("media_received")
    assert "guest_media" in alert_kinds((await wa_client.get("/api/v1/alerts")).json())


async def test_an_ad_referral_on_the_first_text_is_kept_and_the_latest_ad_wins(
    guest: Guest, wa_client: httpx.AsyncClient
) -> None:
    [welcome] = await guest.send({
        "type": "text", "text": {"body": "¡Hola! Quiero más información."}, "referral": REFERRAL,
    })  # fmt: skip
    assert welcome.startswith("¡Hola, Ana!")
    assert (await thread(wa_client, guest.phone))["referral"]["ctwa_clid"] == REFERRAL["ctwa_clid"]
    await guest.say("tienen lugar del 10 al 13 de marzo para 2?")  # no referral: the ad is kept
    assert (await thread(wa_client, guest.phone))["referral"]["source_id"] == REFERRAL["source_id"]
    post = {**REFERRAL, "source_type": "post", "source_id": "999", "headline": "Otra publicación"}
    await guest.send({"type": "text", "text": {"body": "hola de nuevo"}, "referral": post})
    assert (await thread(wa_client, guest.phone))["referral"]["source_id"] == "999"


# -- issue 11, point 4: a change of number is not guest text ----------------------------------------


def number_changed(old: str, system: dict[str, Any], wamid: str) -> dict[str, Any]:
    """Meta's `user_changed_number` system message: from the old number, with no `contacts` block."""
    payload = envelope(old, {
        "id": wamid, "type": "system",
        "system": {"body": "Ana changed from 5492944111111 to 5492944999999", "type": "user_changed_number",
                   **system},
    })  # fmt: skip
    del payload["entry"][0]["changes"][0]["value"]["contacts"]
    return payload


async def test_a_change_of_number_moves_the_thread_and_the_hold_without_a_word_to_the_old_number(
    guest: Guest, guest_factory: Any, wa_client: httpx.AsyncClient, graph: FakeGraph
) -> None:
    code = await hold(guest, wa_client)
    sent_before = len(graph.sent)
    payload = number_changed(guest.phone, {"new_wa_id": NEW_PHONE.lstrip("+")}, "wamid.SYS1")
    assert (await post_signed(wa_client, payload)).status_code == 200
    assert await guest.read() == []
    assert len(graph.sent) == sent_before  # nobody was messaged: not the old number, not the new one
    assert not any(NOT_UNDERSTOOD in m for m in graph.texts_to(NEW_PHONE))

    assert (await post_signed(wa_client, payload)).status_code == 200  # Meta redelivers it
    assert (await wa_client.get(f"/api/v1/conversations/{guest.phone}")).status_code == 404
    moved = await thread(wa_client, NEW_PHONE)
    assert moved["state"] == "held" and moved["context"]["hold_code"] == code
    assert moved["messages"][0]["body"] == "hola, tienen lugar del 10 al 13 de marzo para 2?"
    assert moved["messages"][-1]["kind"] == "number_changed"
    reservation = (await wa_client.get(f"/api/v1/reservations/{code}")).json()
    assert reservation["guest_phone"] == NEW_PHONE
    [changed] = [
        a for a in (await wa_client.get("/api/v1/alerts")).json() if a["kind"] == "guest_number_changed"
    ]
    assert changed["data"]["old_phone"] == guest.phone and changed["data"]["codes"] == [code]

    # The guest goes on from the new number, and the bot still knows their hold.
    new = guest_factory(NEW_PHONE)
    [ask] = await new.say("quiero cancelar la reserva")
    assert ask.startswith(f"¿Confirmás que querés cancelar la reserva {code}")


async def test_a_change_of_number_in_the_older_shape_joins_a_thread_already_open_on_the_new_number(
    guest: Guest, guest_factory: Any, wa_client: httpx.AsyncClient
) -> None:
    code = await hold(guest, wa_client)
    [handoff] = await guest.say("quiero hablar con una persona")
    assert handoff == r.say("handoff")
    new = guest_factory(NEW_PHONE)
    await new.say("hola")  # the new number wrote before WhatsApp told us about the change
    payload = number_changed(guest.phone, {"wa_id": NEW_PHONE.lstrip("+")}, "wamid.SYS2")
    assert (await post_signed(wa_client, payload)).status_code == 200
    assert await guest.read() == [] and await new.read() == []
    assert (await wa_client.get(f"/api/v1/conversations/{guest.phone}")).status_code == 404
    joined = await thread(wa_client, NEW_PHONE)
    bodies = [m["body"] for m in joined["messages"]]
    assert "Ana Pérez" in bodies and "hola" in bodies
    assert joined["context"]["hold_code"] == code
    assert (await wa_client.get(f"/api/v1/reservations/{code}")).json()["guest_phone"] == NEW_PHONE
    assert joined["bot_paused"] is True  # a person was going to answer: still so on the new number
    assert (await wa_client.post(f"/api/v1/conversations/{NEW_PHONE}/release")).status_code == 200
    assert "handoff" not in alert_kinds((await wa_client.get("/api/v1/alerts")).json())


async def test_a_change_of_number_without_the_new_number_is_only_recorded_and_told(
    guest: Guest, wa_client: httpx.AsyncClient, graph: FakeGraph
) -> None:
    await guest.say("hola")
    sent_before = len(graph.sent)
    payload = number_changed(guest.phone, {}, "wamid.SYS3")
    assert (await post_signed(wa_client, payload)).status_code == 200
    assert len(graph.sent) == sent_before
    assert (await thread(wa_client, guest.phone))["messages"][-1]["kind"] == "number_changed"
    assert "guest_number_changed" in alert_kinds((await wa_client.get("/api/v1/alerts")).json())


async def test_other_system_notices_are_stored_and_not_answered(
    guest: Guest, wa_client: httpx.AsyncClient, graph: FakeGraph
) -> None:
    await guest.say("hola")
    sent_before = len(graph.sent)
    payload = envelope(guest.phone, {
        "id": "wamid.SYS4", "type": "system",
        "system": {"body": "User A's security code changed", "identity": "acbd", "type": "customer_identity_changed",
                   "customer": "5492944111111"},
    })  # fmt: skip
    assert (await post_signed(wa_client, payload)).status_code == 200
    assert len(graph.sent) == sent_before
    last = (await thread(wa_client, guest.phone))["messages"][-1]
    assert (last["kind"], last["body"]) == ("system", "User A's security code changed")


# -- the kind: every other message type ---------------------------------------------------------------

SILENT = {
    "reaction": {"type": "reaction", "reaction": {"message_id": "wamid.FAKE000001", "emoji": "👍"}},
    "reaction removed": {"type": "reaction", "reaction": {"message_id": "wamid.FAKE000001"}},
    "sticker": {
        "type": "sticker",
        "sticker": {"id": "STK1", "mime_type": "image/webp", "sha256": "x", "animated": False},
    },
}


@pytest.mark.parametrize("name", SILENT)
async def test_reactions_and_stickers_are_stored_and_not_answered(
    name: str, guest: Guest, wa_client: httpx.AsyncClient, clean_db: str
) -> None:
    await guest.say("hola")
    assert await guest.send(SILENT[name]) == []
    last = (await thread(wa_client, guest.phone))["messages"][-1]
    assert last["kind"] == SILENT[name]["type"] and last["direction"] == "in"
    assert rows(clean_db, "SELECT count(*) FROM jobs WHERE kind = 'whatsapp.download_media'") == [(0,)]


LOCATION_ANSWER = (
    "¡Gracias por la ubicación! 📍 ¿En qué te ayudo? Si querés saber cómo llegar, escribime «cómo llego»;"
    " si querés consultar lugar, contame para qué fechas y cuántas personas serían."
)
CONTACTS_ANSWER = (
    "¡Gracias por el contacto! Si la reserva es para otra persona, escribime para qué fechas y cuántas"
    " personas serían, y a nombre de quién la hago."
)
UNSUPPORTED_ANSWER = (
    "Perdón, ese tipo de mensaje no me llega por acá 🙈. ¿Me lo escribís en un mensaje de texto?"
)
ANSWERED = {
    "location": (
        {"type": "location", "location": {
            "latitude": -41.1335, "longitude": -71.3103, "name": "Centro Cívico", "address": "Bariloche",
        }},
        LOCATION_ANSWER, "location", "Centro Cívico · Bariloche",
    ),
    "contacts": (
        {"type": "contacts", "contacts": [{
            "name": {"formatted_name": "Juan Pérez", "first_name": "Juan"},
            "phones": [{"phone": "+54 9 11 5555-1234", "wa_id": "5491155551234", "type": "CELL"}],
        }]},
        CONTACTS_ANSWER, "contacts", "Juan Pérez +54 9 11 5555-1234",
    ),
    "unsupported": (
        {"type": "unsupported", "errors": [{
            "code": 131051, "title": "Message type unknown", "message": "Message type unknown",
            "error_data": {"details": "Message type is currently not supported."},
        }]},
        UNSUPPORTED_ANSWER, "unsupported", "",
    ),
    "unknown (older name)": (
        {"type": "unknown", "errors": [{"code": 131051, "title": "Unsupported message type"}]},
        UNSUPPORTED_ANSWER, "unsupported", "",
    ),
    "ephemeral": ({"type": "ephemeral"}, UNSUPPORTED_ANSWER, "unsupported", ""),
    "a type newer than us": ({"type": "poll", "poll": {"question": "?"}}, UNSUPPORTED_ANSWER, "unsupported", ""),
    "interactive of an unknown subtype": (
        {"type": "interactive", "interactive": {"type": "call_permission_reply", "call_permission_reply": {}}},
        UNSUPPORTED_ANSWER, "unsupported", "",
    ),
    "template quick-reply button": (
        {"type": "button", "context": {"from": "5492944000001", "id": "wamid.T"},
         "button": {"text": "Hablar con alguien", "payload": "hablar con una persona"}},
        r.say("handoff"), "choice", "Hablar con alguien",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", ANSWERED)
async def test_each_kind_gets_the_answer_a_person_would_give(
    name: str, guest: Guest, wa_client: httpx.AsyncClient
) -> None:
    message, expected, kind, body = ANSWERED[name]
    assert await guest.send(message) == [expected]
    first = (await thread(wa_client, guest.phone))["messages"][0]
    assert (first["kind"], first["body"]) == (kind, body)


async def test_opening_the_chat_for_the_first_time_gets_the_welcome(
    guest: Guest, wa_client: httpx.AsyncClient
) -> None:
    [welcome] = await guest.send({"type": "request_welcome"})
    assert welcome.startswith("¡Hola, Ana! 👋 Soy el asistente de reservas")
    assert (await thread(wa_client, guest.phone))["messages"][0]["kind"] == "welcome"


async def test_orders_and_forms_are_passed_to_a_person(guest: Guest, wa_client: httpx.AsyncClient) -> None:
    [order] = await guest.send({
        "type": "order",
        "order": {"catalog_id": "CAT1", "text": "para el finde",
                  "product_items": [{"product_retailer_id": "cab-1", "quantity": 1, "item_price": 90000,
                                     "currency": "ARS"}]},
    })  # fmt: skip
    assert order == r.say("order_received")
    [form] = await guest.send({
        "type": "interactive",
        "interactive": {"type": "nfm_reply", "nfm_reply": {
            "name": "flow", "body": "Sent",
            "response_json": '{"flow_token": "t", "llegada": "2027-01-05", "personas": "3"}',
        }},
    })  # fmt: skip
    assert form == r.say("form_received")
    kinds = alert_kinds((await wa_client.get("/api/v1/alerts")).json())
    assert "guest_order" in kinds and "guest_form" in kinds
    messages = (await thread(wa_client, guest.phone))["messages"]
    assert ("order", "para el finde") in [(m["kind"], m["body"]) for m in messages]
    assert ("form", "llegada: 2027-01-05\npersonas: 3") in [(m["kind"], m["body"]) for m in messages]


async def test_no_kind_of_message_is_met_with_not_understood(guest: Guest, graph: FakeGraph) -> None:
    for message in [*SILENT.values(), *(m for m, *_ in ANSWERED.values())]:
        await guest.send(message)
    assert not any(
        NOT_UNDERSTOOD in text or "no te estoy entendiendo" in text for text in graph.texts_to(guest.phone)
    )


# -- statuses and oddities are not messages -----------------------------------------------------------


async def test_statuses_and_webhook_errors_are_never_taken_for_messages(
    guest: Guest, wa_client: httpx.AsyncClient, graph: FakeGraph, clean_db: str
) -> None:
    for state in ("sent", "delivered", "read", "failed", "played"):
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5492944000001", "phone_number_id": "1"},
            "statuses": [{"id": "wamid.UNKNOWN", "status": state, "timestamp": "1", "recipient_id": "5492944111111",
                          "errors": [{"code": 131047, "title": "Re-engagement message"}]}],
        }  # fmt: skip
        payload = {
            "object": "whatsapp_business_account",
            "entry": [{"id": "W", "changes": [{"value": value}]}],
        }
        assert (await post_signed(wa_client, payload)).status_code == 200
    errors = {"messaging_product": "whatsapp", "errors": [{"code": 131000, "title": "Something went wrong"}]}
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [{"value": errors}]}]}
    assert (await post_signed(wa_client, payload)).status_code == 200
    assert await guest.read() == []
    assert graph.sent == []
    assert rows(clean_db, "SELECT count(*) FROM conversations") == [(0,)]
    assert rows(clean_db, "SELECT count(*) FROM conversation_messages") == [(0,)]


async def test_a_nul_character_in_a_message_is_stored_without_it(
    guest: Guest, wa_client: httpx.AsyncClient
) -> None:
    [welcome] = await guest.say("ho\u0000la")
    assert welcome.startswith("¡Hola, Ana!")
    assert (await thread(wa_client, guest.phone))["messages"][0]["body"] == "hola"


async def test_with_auto_replies_off_only_what_needs_an_answer_waits_for_a_person(
    guest: Guest, wa_client: httpx.AsyncClient, graph: FakeGraph
) -> None:
    assert (
        await wa_client.put("/api/v1/flags/whatsapp_auto_replies", json={"enabled": False})
    ).status_code == 200
    for message in SILENT.values():
        assert await guest.send(message) == []
    assert "guest_waiting" not in alert_kinds((await wa_client.get("/api/v1/alerts")).json())
    assert await guest.send({"type": "audio", "audio": {"id": "AUDIO3", "voice": True}}) == []
    assert alert_kinds((await wa_client.get("/api/v1/alerts")).json()).count("guest_waiting") == 1
    assert graph.sent == []
