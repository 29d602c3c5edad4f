"""Logging in and out, sessions on every page, and CSRF on every form."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.admin.conftest import CSRF_INPUT, Panel, form_session, log_in, screenshot, upcoming
from tests.fixtures.api import OPERATOR_EMAIL

PAGES = [
    "/admin/",
    "/admin/reservas",
    "/admin/reservas/K7M2QX",
    "/admin/reservas/nueva",
    "/admin/conversaciones",
    "/admin/conversaciones/+5491155551234",
    "/admin/clave",
    "/admin/calendario",
    "/admin/ajustes",
]


def test_a_wrong_password_is_refused_in_spanish(panel: Panel, page: Page) -> None:
    log_in(page, panel.base, password="no-es-la-clave")
    expect(page.get_by_role("alert")).to_have_text("El e-mail o la contraseña no son correctos.")
    assert page.url.endswith("/admin/login")
    screenshot(page, "login")


def test_logging_in_opens_the_dashboard_and_logging_out_closes_it(panel: Panel, page: Page) -> None:
    log_in(page, panel.base)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hoy,")
    page.get_by_role("button", name="Salir").click()
    expect(page.get_by_role("button", name="Ingresar")).to_be_visible()
    page.goto(f"{panel.base}/admin/")
    expect(page.get_by_role("button", name="Ingresar")).to_be_visible()


def test_after_login_the_operator_lands_on_the_page_they_asked_for(panel: Panel, page: Page) -> None:
    page.goto(f"{panel.base}/admin/conversaciones")
    assert "/admin/login?next=" in page.url
    page.get_by_label("E-mail").fill(OPERATOR_EMAIL)
    page.get_by_label("Contraseña").fill("una-clave-larga-de-prueba")
    page.get_by_role("button", name="Ingresar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Conversaciones")


@pytest.mark.parametrize("path", PAGES)
def test_every_page_without_a_session_redirects_to_login(panel: Panel, path: str) -> None:
    response = httpx.get(f"{panel.base}{path}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login?next=/admin/")


def test_actions_without_a_session_do_nothing(panel: Panel) -> None:
    unit = panel.unit()
    code = panel.booking(unit["id"], upcoming())["code"]
    response = httpx.post(f"{panel.base}/admin/reservas/{code}/confirmar", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login"
    assert panel.reservation(code)["status"] == "pre_reserved"


def test_a_post_without_the_csrf_token_is_refused(panel: Panel) -> None:
    unit = panel.unit()
    code = panel.booking(unit["id"], upcoming())["code"]
    with form_session(panel.base) as (client, token):
        refused = client.post(f"/admin/reservas/{code}/confirmar", data={})
        assert refused.status_code == 403
        assert "Recargá la página" in refused.text
        wrong = client.post(f"/admin/reservas/{code}/confirmar", data={"csrf_token": "otro"})
        assert wrong.status_code == 403
        assert panel.reservation(code)["status"] == "pre_reserved"
        # The htmx way: the token in a header.
        accepted = client.post(f"/admin/reservas/{code}/confirmar", headers={"X-CSRF-Token": token})
        assert accepted.status_code == 303
    assert panel.reservation(code)["status"] == "confirmed"


def test_the_login_form_has_its_own_csrf_token(panel: Panel) -> None:
    with httpx.Client(base_url=panel.base) as client:
        form = client.get("/admin/login")
        assert CSRF_INPUT.search(form.text)
        response = client.post(
            "/admin/login", data={"email": OPERATOR_EMAIL, "password": "una-clave-larga-de-prueba"}
        )
        assert response.status_code == 403
        assert "aloj_admin" not in response.cookies


def test_the_session_cookie_is_httponly_and_samesite_lax(panel: Panel) -> None:
    with form_session(panel.base) as (client, _token):
        response = client.get("/admin/login")  # already logged in: straight to the dashboard
        assert response.status_code == 303
    with httpx.Client(base_url=panel.base) as fresh:
        form = fresh.get("/admin/login")
        token = CSRF_INPUT.search(form.text)
        assert token
        login = fresh.post(
            "/admin/login",
            data={
                "email": OPERATOR_EMAIL,
                "password": "una-clave-larga-de-prueba",
                "csrf_token": token.group(1),
            },
        )
        cookie = next(h for h in login.headers.get_list("set-cookie") if h.startswith("aloj_admin="))
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
        assert "Path=/admin" in cookie
        assert "Max-Age=43200" in cookie


def test_changing_the_password_ends_other_sessions(panel: Panel, page: Page) -> None:
    new_password = "otra-clave-bien-larga"
    with form_session(panel.base) as (other_browser, _token):
        log_in(page, panel.base)
        page.goto(f"{panel.base}/admin/clave")
        page.get_by_label("Contraseña actual").fill("no-es-la-clave")
        page.get_by_label("Contraseña nueva (al menos").fill(new_password)
        page.get_by_label("Repetí la contraseña nueva").fill(new_password)
        page.get_by_role("button", name="Cambiar la contraseña").click()
        expect(page.get_by_role("alert")).to_have_text("La contraseña actual no es correcta.")

        page.get_by_label("Contraseña actual").fill("una-clave-larga-de-prueba")
        page.get_by_label("Contraseña nueva (al menos").fill(new_password)
        page.get_by_label("Repetí la contraseña nueva").fill(new_password)
        page.get_by_role("button", name="Cambiar la contraseña").click()
        expect(page.get_by_role("status")).to_have_text("Listo: cambiaste tu contraseña.")
        screenshot(page, "clave")
        page.goto(f"{panel.base}/admin/")  # this browser is still logged in
        expect(page.get_by_role("heading", level=1)).to_contain_text("Hoy,")
        assert other_browser.get("/admin/").status_code == 303  # the other one is not

    page.get_by_role("button", name="Salir").click()
    log_in(page, panel.base, password=new_password)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hoy,")


def test_an_htmx_request_without_a_session_is_sent_to_login(panel: Panel) -> None:
    response = httpx.get(f"{panel.base}/admin/reservas", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/admin/login?next=")
