"""Finding reservations and acting on them from the panel, checked through the JSON API."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from playwright.sync_api import Browser, Page, expect

from alojamientos.conversation.format import pesos
from tests.admin.conftest import PHONE_VIEWPORT, Panel, form_session, log_in, screenshot, upcoming


def _open(page: Page, panel: Panel, code: str) -> None:
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/reservas/{code}")


def test_searching_a_name_ignores_accents_and_case(panel: Panel, page: Page) -> None:
    unit = panel.unit()
    ana = panel.booking(unit["id"], upcoming(20), guest_name="Ana Pérez")
    jose = panel.booking(unit["id"], upcoming(25), guest_name="José Núñez", guest_phone="+54 9 11 4444-0001")
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/reservas")
    results = page.locator("#resultados")
    for typed, found, missing in (
        ("Perez", ana, jose),  # issue 13.7: `Perez` finds `Pérez`
        ("PÉREZ", ana, jose),
        ("nunez", jose, ana),
        ("JOSE NÚ", jose, ana),
    ):
        page.get_by_label("Buscar por nombre, teléfono o código").fill(typed)
        expect(results).to_contain_text("1 reserva")
        expect(results).to_contain_text(found["code"])
        expect(results).not_to_contain_text(missing["code"])
    page.goto(f"{panel.base}/admin/reservas?q=gomez")
    expect(results).to_contain_text("0 reservas")


def test_the_list_filters_and_searches_by_name_phone_or_code(panel: Panel, page: Page) -> None:
    unit = panel.unit()
    other = panel.unit("Cabaña del Lago")
    ana = panel.booking(unit["id"], upcoming(20), guest_name="Ana Pérez")
    bruno = panel.booking(
        other["id"], upcoming(30), guest_name="Bruno Díaz", guest_phone="+54 9 351 444-7788"
    )
    panel.api.post(f"/api/v1/reservations/{bruno['code']}/confirm").raise_for_status()

    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/reservas")
    results = page.locator("#resultados")
    expect(results).to_contain_text("2 reservas")
    screenshot(page, "reservas")

    page.get_by_label("Buscar por nombre, teléfono o código").fill("bruno")
    expect(results).to_contain_text("1 reserva")
    expect(results).to_contain_text(bruno["code"])
    expect(results).not_to_contain_text(ana["code"])

    page.goto(f"{panel.base}/admin/reservas?q=4447788")
    expect(results).to_contain_text(bruno["code"])
    page.goto(f"{panel.base}/admin/reservas?q={ana['code'].lower()}")
    expect(results).to_contain_text("Ana Pérez")
    expect(results).to_contain_text("1 reserva")

    page.goto(f"{panel.base}/admin/reservas")
    page.get_by_label("Estado").select_option(label="Confirmada")
    page.get_by_role("button", name="Filtrar").click()
    expect(results).to_contain_text("1 reserva")
    expect(results).to_contain_text("Bruno Díaz")
    page.goto(f"{panel.base}/admin/reservas?unidad={unit['id']}&origen=admin")
    expect(results).to_contain_text("Ana Pérez")
    expect(results).not_to_contain_text("Bruno Díaz")


def test_confirming_a_hold_takes_one_click_and_a_confirmation(panel: Panel, page: Page) -> None:
    unit = panel.unit()
    code = panel.booking(unit["id"], upcoming())["code"]
    _open(page, panel, code)
    expect(page.locator("#estado")).to_have_text("Pre-reserva")
    screenshot(page, "reserva")
    page.get_by_text("Confirmar", exact=True).click()
    page.get_by_role("button", name="Sí, confirmar la reserva").click()
    expect(page.get_by_role("status")).to_have_text("Listo: la reserva quedó confirmada.")
    expect(page.locator("#estado")).to_have_text("Confirmada")
    expect(page.locator("#historial")).to_contain_text("Pre-reserva → Confirmada")
    assert panel.reservation(code)["status"] == "confirmed"


def test_a_payment_covering_the_deposit_confirms_the_hold(panel: Panel, page: Page) -> None:
    unit = panel.unit()
    booked = panel.booking(unit["id"], upcoming())
    deposit = Decimal(booked["deposit_amount"])
    _open(page, panel, booked["code"])
    page.get_by_text("Registrar pago", exact=True).click()
    page.get_by_label("Monto en pesos").fill(pesos(deposit).removeprefix("$ "))
    page.get_by_label("Cómo pagó").select_option(label="Efectivo")
    page.get_by_role("button", name="Sí, registrar el pago").click()
    expect(page.get_by_role("status")).to_contain_text("la reserva quedó confirmada")
    expect(page.locator("#estado")).to_have_text("Confirmada")
    expect(page.locator("#pagado")).to_have_text(pesos(deposit))
    expect(page.locator("#pagos")).to_contain_text("Efectivo")
    found = panel.reservation(booked["code"])
    assert found["status"] == "confirmed"
    assert Decimal(found["paid_amount"]) == deposit


def test_a_wrong_amount_is_explained_in_spanish(panel: Panel, page: Page) -> None:
    unit = panel.unit()
    code = panel.booking(unit["id"], upcoming())["code"]
    _open(page, panel, code)
    page.get_by_text("Registrar pago", exact=True).click()
    page.get_by_label("Monto en pesos").fill("mucho")
    page.get_by_role("button", name="Sí, registrar el pago").click()
    expect(page.get_by_role("alert")).to_contain_text("Revisá el monto")
    assert panel.reservation(code)["status"] == "pre_reserved"


def test_cancelling_asks_for_a_reason_and_keeps_it(panel: Panel, page: Page) -> None:
    unit = panel.unit()
    code = panel.booking(unit["id"], upcoming())["code"]
    _open(page, panel, code)
    page.get_by_text("Cancelar reserva", exact=True).click()
    page.get_by_label("Motivo").fill("El huésped avisó que no viene")
    page.get_by_role("button", name="Sí, cancelar la reserva").click()
    expect(page.locator("#estado")).to_have_text("Cancelada")
    expect(page.locator("#historial")).to_contain_text("El huésped avisó que no viene")
    found = panel.reservation(code)
    assert found["status"] == "cancelled"
    assert found["events"][-1]["reason"] == "El huésped avisó que no viene"
    assert found["events"][-1]["actor"] == "operator:operadora@example.com"


def test_an_action_the_state_no_longer_allows_shows_why_not_a_500(panel: Panel, page: Page) -> None:
    unit = panel.unit()
    code = panel.booking(unit["id"], upcoming())["code"]
    _open(page, panel, code)
    panel.api.post(f"/api/v1/reservations/{code}/cancel", json={"reason": "desde la API"}).raise_for_status()
    page.get_by_text("Confirmar", exact=True).click()
    page.get_by_role("button", name="Sí, confirmar la reserva").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "La reserva ya no está en un estado que permita esa acción"
    )
    expect(page.locator("#estado")).to_have_text("Cancelada")


def test_an_unknown_code_is_a_spanish_not_found_page(panel: Panel, page: Page) -> None:
    log_in(page, panel.base)
    response = page.goto(f"{panel.base}/admin/reservas/ZZZ999")
    assert response is not None and response.status == 404
    expect(page.get_by_role("alert")).to_have_text("No existe una reserva con ese código.")


def test_notes_are_saved_for_the_team(panel: Panel, page: Page) -> None:
    unit = panel.unit()
    code = panel.booking(unit["id"], upcoming())["code"]
    _open(page, panel, code)
    page.get_by_label("Notas internas (el huésped no las ve)").fill(
        "Llega tarde, dejar la llave en recepción"
    )
    page.get_by_role("button", name="Guardar notas").click()
    expect(page.get_by_role("status")).to_have_text("Listo: guardamos las notas.")
    assert panel.reservation(code)["notes"] == "Llega tarde, dejar la llave en recepción"


def test_a_hold_can_be_confirmed_without_javascript(panel: Panel, browser: Browser) -> None:
    unit = panel.unit()
    code = panel.booking(unit["id"], upcoming())["code"]
    context = browser.new_context(java_script_enabled=False, viewport=PHONE_VIEWPORT)
    try:
        page = context.new_page()
        _open(page, panel, code)
        page.get_by_text("Confirmar", exact=True).click()
        page.get_by_role("button", name="Sí, confirmar la reserva").click()
        expect(page.locator("#estado")).to_have_text("Confirmada")
    finally:
        context.close()
    assert panel.reservation(code)["status"] == "confirmed"


def test_paying_everything_leaves_nothing_due(panel: Panel, page: Page) -> None:
    unit = panel.unit()
    booked = panel.booking(unit["id"], upcoming(), status="confirmed")
    total = Decimal(booked["total_amount"])
    _open(page, panel, booked["code"])
    page.get_by_text("Registrar pago", exact=True).click()
    expect(page.get_by_label("Monto en pesos")).to_have_value(pesos(total).removeprefix("$ "))
    page.get_by_role("button", name="Sí, registrar el pago").click()
    expect(page.get_by_role("status")).to_have_text("Listo: registramos el pago.")
    expect(page.locator("#saldo")).to_have_text("$ 0")
    expect(page.locator("#pagos")).to_contain_text("Transferencia")
    assert Decimal(panel.reservation(booked["code"])["paid_amount"]) == total


def test_resending_the_confirmation_queues_a_new_notice_and_shows_who(panel: Panel, page: Page) -> None:
    unit = panel.unit()
    code = panel.booking(unit["id"], upcoming(), status="confirmed", guest_email="ana@example.com")["code"]
    before = panel.sql("SELECT id FROM jobs WHERE kind = 'reservation.notify' ORDER BY id")
    _open(page, panel, code)
    page.get_by_text("Reenviar confirmación", exact=True).click()
    expect(page.locator("form.confirmacion", has_text="ana@example.com")).to_be_visible()
    page.get_by_role("button", name="Sí, reenviar la confirmación").click()
    expect(page.get_by_role("status")).to_have_text(
        "Listo: la confirmación va en camino al huésped otra vez."
    )
    expect(page.locator("#historial")).to_contain_text("Confirmación reenviada al huésped")
    expect(page.locator("#historial")).to_contain_text("operadora@")  # who asked for it
    expect(page.locator("#estado")).to_have_text("Confirmada")

    # No worker runs here: the new job waits in the queue, pointing at the resend event.
    [(status, event_id)] = panel.sql(
        "SELECT status, (payload->>'event_id')::bigint FROM jobs"
        " WHERE kind = 'reservation.notify' AND id <> ALL(%s)",
        [row[0] for row in before],
    )
    assert status == "pending"
    [(from_status, to_status, reason, actor)] = panel.sql(
        "SELECT from_status, to_status, reason, actor FROM reservation_events WHERE id = %s", event_id
    )
    assert (from_status, to_status, reason) == ("confirmed", "confirmed", "resend_confirmation")
    assert actor.startswith("operator:")


def test_a_hold_has_no_confirmation_to_resend(panel: Panel, page: Page) -> None:
    unit = panel.unit()
    code = panel.booking(unit["id"], upcoming())["code"]
    _open(page, panel, code)
    expect(page.get_by_text("Reenviar confirmación", exact=True)).to_have_count(0)
    # A stale page (or a crafted form) is refused with a Spanish reason, not a 500.
    with form_session(panel.base) as (client, csrf):
        response = client.post(
            f"/admin/reservas/{code}/reenviar-confirmacion",
            data={"csrf_token": csrf},
            headers={"Referer": f"{panel.base}/admin/reservas/{code}"},
        )
        assert response.status_code == 409  # the reservation's own page, with the reason on it
    assert "Solo se puede reenviar la confirmación de una reserva confirmada." in response.text
    assert f"Reserva {code}" in response.text
    assert panel.sql("SELECT count(*) FROM reservation_events WHERE reason = 'resend_confirmation'") == [(0,)]


def test_the_receipts_a_guest_sent_are_on_the_reservation_and_never_run_as_a_page(
    panel: Panel, page: Page
) -> None:
    unit = panel.unit()
    ana = panel.booking(unit["id"], upcoming(20))
    other = panel.booking(unit["id"], upcoming(40), guest_name="Bruno Díaz")
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082"
    )
    rows = {}
    for name, mime, content in (
        ("foto", "image/png", png),
        ("pagina", "text/html", b"<script>alert(1)</script>"),
    ):
        rows[name] = panel.sql(
            "INSERT INTO attachments (reservation_id, media_id, mime_type, size, sha256, content, caption)"
            " SELECT id, %s, %s, %s, 'x', %s, 'transferencia' FROM reservations WHERE code = %s RETURNING id",
            f"MEDIA-{name}",
            mime,
            len(content),
            content,
            ana["code"],
        )[0][0]
    _open(page, panel, ana["code"])
    receipts = page.locator(".comprobantes")
    expect(receipts.get_by_role("img")).to_have_count(1)
    expect(receipts).to_contain_text("«transferencia»")

    with form_session(panel.base) as (client, _token):
        image = client.get(f"/admin/reservas/{ana['code']}/comprobantes/{rows['foto']}")
        assert (image.status_code, image.headers["content-type"], image.content) == (200, "image/png", png)
        assert image.headers["content-disposition"].startswith("inline")
        html = client.get(f"/admin/reservas/{ana['code']}/comprobantes/{rows['pagina']}")
        assert html.headers["content-type"] == "application/octet-stream"
        assert html.headers["content-disposition"].startswith("attachment")
        assert html.headers["x-content-type-options"] == "nosniff"
        elsewhere = client.get(f"/admin/reservas/{other['code']}/comprobantes/{rows['foto']}")
        assert elsewhere.status_code == 404
        assert "Ese comprobante no es de esta reserva." in elsewhere.text


def test_a_refused_form_answers_4xx_with_its_own_page_and_the_reason(panel: Panel) -> None:
    unit = panel.unit()
    ana = panel.booking(unit["id"], upcoming(20))
    detail = f"{panel.base}/admin/reservas/{ana['code']}"
    with form_session(panel.base) as (client, token):
        refused = client.post(
            f"/admin/reservas/{ana['code']}/pago",
            data={"monto": "mucho", "medio": "transfer", "csrf_token": token},
            headers={"Referer": detail},
        )
        assert refused.status_code == 422
        assert "Revisá el monto" in refused.text
        assert f"Reserva {ana['code']}" in refused.text  # the reservation's page, not a bare error page
        panel.api.post(f"/api/v1/reservations/{ana['code']}/confirm").raise_for_status()
        again = client.post(
            f"/admin/reservas/{ana['code']}/confirmar",
            data={"csrf_token": token},
            headers={"Referer": detail},
        )
        assert again.status_code == 409
        assert "ya no está en un estado que permita esa acción" in again.text
    assert panel.reservation(ana["code"])["paid_amount"] == "0.00"


def test_a_guest_who_never_came_is_marked_and_the_nights_free_up(panel: Panel, page: Page) -> None:
    unit = panel.unit()
    today = upcoming(0)
    arriving = panel.booking(unit["id"], today, nights=3, guest_name="Marta Gil")["code"]
    later = panel.booking(unit["id"], upcoming(30), guest_name="Bruno Díaz")["code"]
    for code in (arriving, later):
        panel.api.post(f"/api/v1/reservations/{code}/confirm").raise_for_status()

    _open(page, panel, later)
    expect(page.get_by_text("No se presentó", exact=True)).to_have_count(0)  # not before check-in day
    page.goto(f"{panel.base}/admin/reservas/{arriving}")
    page.get_by_text("No se presentó", exact=True).click()
    page.get_by_role("button", name="Sí, no se presentó").click()
    expect(page.get_by_role("status")).to_contain_text("quedó como «No se presentó»")
    expect(page.locator("#estado")).to_have_text("No se presentó")
    assert panel.reservation(arriving)["status"] == "no_show"
    assert panel.sql(
        "SELECT count(*) FROM jobs j JOIN reservation_events e ON (j.payload->>'event_id')::bigint = e.id"
        " WHERE e.to_status = 'no_show'"
    ) == [(1,)]  # the notify job runs, and has nothing to tell the guest
    panel.booking(unit["id"], today + timedelta(days=1), nights=2, guest_name="Walk-in")  # free again


def _quoted_total(panel: Panel, unit_id: int, start: date, nights: int, guests: int) -> Decimal:
    response = panel.api.post(
        "/api/v1/quotes",
        json={
            "accommodation_id": unit_id,
            "check_in": start.isoformat(),
            "check_out": (start + timedelta(days=nights)).isoformat(),
            "guests": guests,
        },
    )
    assert response.status_code == 200, response.text
    return Decimal(response.json()["total"])


def test_moving_a_stay_to_free_dates_updates_dates_and_total(panel: Panel, page: Page) -> None:
    unit = panel.unit()
    lago = panel.unit("Cabaña del Lago", capacity=6, base_price="90000")
    booked = panel.booking(unit["id"], upcoming(20), status="confirmed", guest_email="ana@example.com")
    code = booked["code"]
    _open(page, panel, code)
    page.get_by_text("Cambiar fechas o cabaña", exact=True).click()
    quote = page.locator("#cotizacion")
    # Opening it quotes the stay as it is: its own nights are not "taken" for itself.
    expect(quote).to_contain_text(f"Total {pesos(Decimal(booked['total_amount']))}")
    expect(quote).not_to_contain_text("tomada")
    expect(page.locator("#libres")).to_contain_text("Cabaña del Bosque")

    start = upcoming(40)
    expected = _quoted_total(panel, lago["id"], start, 3, 5)
    page.get_by_label("Cabaña", exact=True).select_option(label="Cabaña del Lago (hasta 6 personas)")
    page.get_by_label("Entrada").fill(start.isoformat())
    page.get_by_label("Salida").fill((start + timedelta(days=3)).isoformat())
    page.get_by_label("Personas").fill("5")
    expect(quote).to_contain_text(f"Total {pesos(expected)} por 3 noches")
    screenshot(page, "reserva-cambiar")
    page.get_by_role("button", name="Guardar el cambio").click()

    expect(page.get_by_role("status")).to_have_text(
        "Listo: guardamos el cambio y le avisamos al huésped con el precio nuevo."
    )
    expect(page.locator("#historial")).to_contain_text("Cambió de Cabaña del Bosque")
    expect(page.locator("#historial")).to_contain_text("a Cabaña del Lago")
    found = panel.reservation(code)
    assert (found["accommodation_id"], found["check_in"], found["check_out"], found["guests"]) == (
        lago["id"],
        start.isoformat(),
        (start + timedelta(days=3)).isoformat(),
        5,
    )
    assert Decimal(found["total_amount"]) == expected != Decimal(booked["total_amount"])
    assert found["status"] == "confirmed"
    assert found["events"][-1]["reason"] == "stay_changed"
    # The guest is told by the worker: the job waits in the queue, pointing at the change.
    assert panel.sql(
        "SELECT count(*) FROM jobs j JOIN reservation_events e ON (j.payload->>'event_id')::bigint = e.id"
        " WHERE e.reason = 'stay_changed'"
    ) == [(1,)]


def test_moving_onto_another_stays_nights_is_refused_and_nothing_changes(panel: Panel, page: Page) -> None:
    unit = panel.unit()
    ana = panel.booking(unit["id"], upcoming(20))
    panel.booking(unit["id"], upcoming(30), guest_name="Bruno Díaz")
    _open(page, panel, ana["code"])
    page.get_by_text("Cambiar fechas o cabaña", exact=True).click()
    page.get_by_label("Entrada").fill(upcoming(29).isoformat())
    page.get_by_label("Salida").fill(upcoming(31).isoformat())
    expect(page.locator("#cotizacion")).to_contain_text("tomada por Bruno Díaz")
    with page.expect_response(lambda r: r.url.endswith("/cambiar")) as refused:
        page.get_by_role("button", name="Guardar el cambio").click()
    assert refused.value.status == 409
    expect(page.get_by_role("alert")).to_have_text("Esas fechas ya no están libres en esa cabaña.")
    expect(page.locator("h1")).to_contain_text(f"Reserva {ana['code']}")

    with form_session(panel.base) as (client, token):
        detail = f"{panel.base}/admin/reservas/{ana['code']}"
        same = client.post(
            f"/admin/reservas/{ana['code']}/cambiar",
            data={
                "unidad": str(unit["id"]),
                "entrada": ana["check_in"],
                "salida": ana["check_out"],
                "personas": "2",
                "csrf_token": token,
            },
            headers={"Referer": detail},
        )
        assert same.status_code == 422
        assert "No cambiaste nada" in same.text
        incomplete = client.post(
            f"/admin/reservas/{ana['code']}/cambiar",
            data={
                "unidad": str(unit["id"]),
                "entrada": "",
                "salida": "",
                "personas": "2",
                "csrf_token": token,
            },
            headers={"Referer": detail},
        )
        assert incomplete.status_code == 422
        assert "Completá cabaña, entrada, salida" in incomplete.text
    found = panel.reservation(ana["code"])
    assert (found["check_in"], found["check_out"], found["total_amount"]) == (
        ana["check_in"],
        ana["check_out"],
        ana["total_amount"],
    )
    assert [e["reason"] for e in found["events"]] == [None]


def test_correcting_the_guests_phone_shows_it_normalised(panel: Panel, page: Page) -> None:
    unit = panel.unit()
    code = panel.booking(unit["id"], upcoming())["code"]
    _open(page, panel, code)
    page.get_by_text("Corregir datos del huésped", exact=True).click()
    expect(page.get_by_label("Teléfono (WhatsApp)")).to_have_value("+54 9 11 5555-1234")
    page.get_by_label("Teléfono (WhatsApp)").fill("0351 15 444-7788")
    page.get_by_label("E-mail", exact=True).fill("ana.perez@example.com")
    page.get_by_role("button", name="Guardar los datos").click()
    expect(page.get_by_role("status")).to_have_text("Listo: corregimos los datos del huésped.")
    expect(page.locator("section", has_text="Huésped").first).to_contain_text("+54 9 351 444-7788")
    expect(page.locator("#historial")).to_contain_text("Datos del huésped corregidos")
    found = panel.reservation(code)
    assert (found["guest_phone"], found["guest_email"]) == ("+5493514447788", "ana.perez@example.com")
    assert found["events"][-1]["reason"] == "guest_updated"
    assert panel.sql(  # nobody is told
        "SELECT count(*) FROM jobs j JOIN reservation_events e ON (j.payload->>'event_id')::bigint = e.id"
        " WHERE e.reason = 'guest_updated'"
    ) == [(0,)]

    with form_session(panel.base) as (client, token):
        refused = client.post(
            f"/admin/reservas/{code}/huesped",
            data={"nombre": "Ana Pérez", "telefono": "123", "email": "", "csrf_token": token},
            headers={"Referer": f"{panel.base}/admin/reservas/{code}"},
        )
        assert refused.status_code == 422
        assert "Ese teléfono no parece válido" in refused.text
    assert panel.reservation(code)["guest_phone"] == "+5493514447788"


def test_dates_outside_the_current_year_show_the_year(panel: Panel, page: Page) -> None:
    from tests.fixtures.api import today_ar

    unit = panel.unit()
    today = today_ar()
    weekdays = ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")

    def short(day: date) -> str:
        return f"{weekdays[day.weekday()]} {day.day}/{day.month}"

    last_year = date(today.year - 1, 3, 10)
    panel.sql(
        "INSERT INTO reservations (code, accommodation_id, check_in, check_out, guests, guest_name, status,"
        " source, kind, total_amount, deposit_amount) VALUES ('VIEJA2', %s, %s, %s, 2, 'Pasado Remoto',"
        " 'completed', 'admin', 'stay', 100000, 30000)",
        unit["id"],
        last_year,
        last_year + timedelta(days=2),
    )
    next_year = date(today.year + 1, 1, 15)
    coming = panel.booking(unit["id"], next_year, nights=3, guest_name="Futuro Cercano")
    now = panel.booking(unit["id"], today, nights=1, guest_name="Hoy Mismo")
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/reservas")
    dates = page.locator("#resultados td[data-t='Fechas']")
    row_of = {
        code: page.locator("#resultados tr", has_text=code)
        for code in ("VIEJA2", coming["code"], now["code"])
    }
    expect(row_of["VIEJA2"].locator("td[data-t='Fechas']")).to_have_text(
        f"{short(last_year)}/{last_year.year} al {short(last_year + timedelta(days=2))}/{last_year.year}"
    )
    expect(row_of[coming["code"]].locator("td[data-t='Fechas']")).to_have_text(
        f"{short(next_year)}/{next_year.year} al {short(next_year + timedelta(days=3))}/{next_year.year}"
    )
    tomorrow = today + timedelta(days=1)
    tail = "" if tomorrow.year == today.year else f"/{tomorrow.year}"
    expect(row_of[now["code"]].locator("td[data-t='Fechas']")).to_have_text(
        f"{short(today)} al {short(tomorrow)}{tail}"
    )
    expect(dates).to_have_count(3)
    # The reservation page says the whole date, with the year when it is not this one.
    page.goto(f"{panel.base}/admin/reservas/{coming['code']}")
    expect(page.locator("main")).to_contain_text(f"15 de enero de {next_year.year}")
