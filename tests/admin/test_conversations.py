"""Taking a WhatsApp conversation over from the bot, answering as a person, and giving it back."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.admin.conftest import Panel, log_in, screenshot, upcoming

PHONE = "+5491155551234"


def _conversation(panel: Panel) -> int:
    rows = panel.sql(
        "INSERT INTO conversations (phone, profile_name, state, last_inbound_at)"
        " VALUES (%s, 'Ana', 'choosing_unit', now()) RETURNING id",
        PHONE,
    )
    conversation_id: int = rows[0][0]
    panel.sql(
        "INSERT INTO conversation_messages (conversation_id, direction, author, body)"
        " VALUES (%s, 'in', 'guest', 'Hola, ¿tienen lugar para el finde largo?')",
        conversation_id,
    )
    return conversation_id


def test_take_over_reply_and_release(panel: Panel, page: Page) -> None:
    conversation_id = _conversation(panel)
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/conversaciones")
    expect(page.get_by_role("listitem")).to_contain_text("Bot: Eligiendo cabaña")
    screenshot(page, "conversaciones")

    page.get_by_role("link", name="Ana").click()
    expect(page.locator("#hilo")).to_contain_text("¿tienen lugar para el finde largo?")
    page.get_by_text("Tomar la conversación", exact=True).click()
    page.get_by_role("button", name="Sí, tomar la conversación").click()
    expect(page.locator("#estado-bot")).to_contain_text("Atiende una persona")
    assert panel.sql("SELECT bot_paused FROM conversations WHERE id = %s", conversation_id) == [(True,)]

    page.get_by_label("Tu mensaje").fill("¡Hola Ana! Sí, te paso opciones.")
    page.get_by_role("button", name="Enviar por WhatsApp").click()
    # The test server has no WhatsApp credentials: the reply is kept, and the operator told so.
    expect(page.get_by_role("status")).to_have_text(
        "Mensaje guardado: WhatsApp no está configurado; sale cuando lo configures."
    )
    expect(page.locator("#hilo")).to_contain_text("¡Hola Ana! Sí, te paso opciones.")
    expect(page.locator("#hilo")).to_contain_text("operadora@example.com")
    screenshot(page, "conversacion")
    sent = panel.sql(
        "SELECT m.author, j.status FROM conversation_messages m"
        " JOIN jobs j ON j.kind = 'whatsapp.send' AND (j.payload->>'message_id')::bigint = m.id"
        " WHERE m.conversation_id = %s AND m.direction = 'out'",
        conversation_id,
    )
    assert sent == [("operator:operadora@example.com", "pending")]

    page.get_by_text("Devolver al bot", exact=True).click()
    page.get_by_role("button", name="Sí, devolver al bot").click()
    expect(page.locator("#estado-bot")).to_contain_text("Bot:")
    assert panel.sql("SELECT bot_paused FROM conversations WHERE id = %s", conversation_id) == [(False,)]


def test_the_reservation_shows_the_guest_whatsapp_thread(panel: Panel, page: Page) -> None:
    _conversation(panel)
    unit = panel.unit()
    code = panel.booking(unit["id"], upcoming())["code"]
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/reservas/{code}")
    expect(page.locator("#hilo")).to_contain_text("¿tienen lugar para el finde largo?")


def test_every_thread_is_reachable_by_search_and_pages(panel: Panel, page: Page) -> None:
    panel.sql(
        "INSERT INTO conversations (phone, profile_name, last_inbound_at)"
        " SELECT '+54911' || (40000000 + n), 'Huésped ' || n, now() - n * interval '1 minute'"
        " FROM generate_series(1, 120) AS n"
    )
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/conversaciones")
    expect(page.locator("#cantidad")).to_contain_text("120 conversaciones")
    expect(page.locator(".conversaciones li")).to_have_count(50)
    page.get_by_role("link", name="Más viejas →").click()
    page.get_by_role("link", name="Más viejas →").click()
    expect(page.locator(".conversaciones li")).to_have_count(20)
    expect(page.locator(".conversaciones")).to_contain_text("Huésped 120")

    page.get_by_label("Buscar por nombre o teléfono").fill("40000077")
    page.get_by_role("button", name="Buscar").click()
    expect(page.locator("#cantidad")).to_contain_text("1 conversación")
    expect(page.locator(".conversaciones")).to_contain_text("Huésped 77")
    page.goto(f"{panel.base}/admin/conversaciones?q=huésped 11")
    expect(page.locator(".conversaciones li")).to_have_count(11)  # 11 and 110–119
    page.goto(f"{panel.base}/admin/conversaciones?q=HUESPED 11")  # any case, with or without accents
    expect(page.locator(".conversaciones li")).to_have_count(11)


def test_a_guest_without_a_name_shows_the_number_once(panel: Panel, page: Page) -> None:
    from alojamientos.kit.phone import display as display_phone

    unnamed, booked = "+5492944777001", "+5492944777002"
    for phone in (unnamed, booked):
        rows = panel.sql(
            "INSERT INTO conversations (phone, last_inbound_at) VALUES (%s, now()) RETURNING id", phone
        )
        panel.sql(
            "INSERT INTO conversation_messages (conversation_id, direction, author, body, delivery_status)"
            " VALUES (%s, 'in', 'guest', 'hola', NULL),"
            " (%s, 'out', 'bot', '¡Hola! ¿Para qué fechas buscás?', 'held')",
            rows[0][0],
            rows[0][0],
        )
    panel.booking(panel.unit()["id"], upcoming(), guest_name="Carla Benítez", guest_phone=booked)
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/conversaciones")
    items = page.locator(".conversaciones li")
    first = items.filter(has_text=display_phone(unnamed))
    assert first.inner_text().count(display_phone(unnamed)) == 1
    # A number with a stay on it goes by the name on the stay, with the number under it.
    second = items.filter(has_text="Carla Benítez")
    expect(second).to_contain_text(display_phone(booked))

    page.goto(f"{panel.base}/admin/conversaciones/{unnamed}")
    expect(page.get_by_role("heading", level=1)).to_have_text(display_phone(unnamed))
    assert page.locator("main").inner_text().count(display_phone(unnamed)) == 1
    expect(page.locator("#hilo")).to_contain_text("sin enviar: WhatsApp no está configurado")
    page.goto(f"{panel.base}/admin/conversaciones/{booked}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Carla Benítez")
    expect(page.locator("#estado-bot")).to_contain_text(display_phone(booked))


def test_the_thread_shows_what_kind_of_message_came_and_the_ad_the_guest_came_from(
    panel: Panel, page: Page
) -> None:
    referral = (
        '{"source_type": "ad", "source_id": "120208339283910523", "ctwa_clid": "ARAkLkA8rmlF",'
        ' "headline": "Escapada de invierno", "body": "10% off por WhatsApp", "media_type": "video",'
        ' "source_url": "https://fb.me/3cr4Wqqkv", "received_at": "2026-11-30T12:00:00+00:00"}'
    )
    [(conversation_id,)] = panel.sql(
        "INSERT INTO conversations (phone, profile_name, state, last_inbound_at, referral)"
        " VALUES (%s, 'Ana', 'held', now(), %s::jsonb) RETURNING id",
        PHONE,
        referral,
    )
    for kind, body, detail in (
        ("audio", "", '{"voice": true}'),
        ("location", "Centro Cívico · Bariloche", '{"latitude": -41.13, "longitude": -71.31}'),
        ("reaction", "👍", "{}"),
        ("number_changed", "", '{"new_phone": "+5492944999999"}'),
    ):
        panel.sql(
            "INSERT INTO conversation_messages (conversation_id, direction, author, kind, body, payload)"
            " VALUES (%s, 'in', 'guest', %s, %s, jsonb_build_object('inbound', jsonb_build_object("
            "'kind', %s::text, 'detail', %s::jsonb)))",
            conversation_id,
            kind,
            body,
            kind,
            detail,
        )
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/conversaciones/{PHONE}")
    ad = page.locator("#anuncio")
    expect(ad.get_by_role("heading")).to_have_text("Llegó desde un anuncio")
    for shown in (
        "Escapada de invierno",
        "10% off por WhatsApp",
        "Anuncio con video",
        "120208339283910523",
        "ARAkLkA8rmlF",
    ):
        expect(ad).to_contain_text(shown)
    expect(ad.get_by_role("link", name="https://fb.me/3cr4Wqqkv")).to_be_visible()
    thread = page.locator("#hilo")
    expect(thread).to_contain_text("🎤 Nota de voz")
    expect(thread).to_contain_text("📍 Ubicación: Centro Cívico · Bariloche")
    expect(thread.get_by_role("link", name="Ver en el mapa")).to_have_attribute(
        "href", "https://www.google.com/maps?q=-41.13,-71.31"
    )
    expect(thread).to_contain_text("Reaccionó con 👍")
    expect(thread).to_contain_text("📱 Cambió su número de WhatsApp: ahora es")
    screenshot(page, "conversacion-anuncio")
