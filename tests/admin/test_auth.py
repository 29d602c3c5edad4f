"""Logging in and out, sessions on every page, and CSRF on every form."""

from __future__ import annotations

import re

import httpx
from fastapi.openapi.utils import get_openapi
from playwright.sync_api import Page, expect
from starlette.routing import Mount

from tests.admin.conftest import CSRF_INPUT, Panel, form_session, log_in, screenshot, upcoming
from tests.fixtures.api import OPERATOR_EMAIL


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


def _every_admin_route() -> list[tuple[str, str]]:
    """(method, path) of every page and action the panel serves, path parameters filled in."""
    from alojamientos.config import get_settings
    from alojamientos.main import create_app

    samples = {"code": "K7M2QX", "phone": "+5491155551234", "topic": "ubicacion", "name": "email"}
    [admin] = [r for r in create_app(get_settings()).routes if isinstance(r, Mount) and r.path == "/admin"]
    schema = get_openapi(title="panel", version="0", routes=admin.routes)  # the routes, as FastAPI sees them
    found = []
    for path, operations in schema["paths"].items():
        if path in ("/login", "/logout"):
            continue
        filled = re.sub(r"{(\w+)}", lambda m: samples.get(m.group(1), "1"), path)
        found += [(method.upper(), f"/admin{filled}") for method in operations]
    return found


def test_every_page_and_action_of_the_panel_needs_a_session(panel: Panel) -> None:
    routes = _every_admin_route()
    assert len(routes) > 40  # the whole panel, not an empty list
    for method, path in routes:
        response = httpx.request(method, f"{panel.base}{path}", follow_redirects=False)
        assert response.status_code == 303, (method, path, response.status_code)
        assert response.headers["location"].startswith("/admin/login"), (method, path)


def test_every_action_of_the_panel_needs_the_sessions_csrf_token(panel: Panel) -> None:
    posts = [path for method, path in _every_admin_route() if method == "POST"]
    assert len(posts) > 25
    with form_session(panel.base) as (client, _token):
        for path in posts:
            refused = client.post(path, data={"csrf_token": "not-this-sessions-token"})
            assert refused.status_code == 403, (path, refused.status_code)
            assert "El formulario venció o no vino de esta página" in refused.text, path


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


def test_a_tampered_session_cookie_is_refused_and_counted(panel: Panel) -> None:
    def rejected() -> float:
        metrics = httpx.get(f"{panel.base}/metrics").text
        found = re.search(r'alojamientos_errors_total\{where="admin\.session_cookie"\} ([0-9.]+)', metrics)
        return float(found.group(1)) if found else 0.0

    before = rejected()
    with form_session(panel.base) as (client, _token):
        good = client.cookies["aloj_admin"]
        payload, signature = good.rsplit(".", 1)
        forged = f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
        client.cookies.set("aloj_admin", forged, path="/admin")
        response = client.get("/admin/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login")
    assert rejected() == before + 1
