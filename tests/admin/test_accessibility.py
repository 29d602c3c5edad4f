"""Every main page: a title, Spanish (Argentina) as its language, a label on every form field, and
no sideways scrolling on a phone (the calendar grid scrolls inside its own box)."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.admin.conftest import PHONE_VIEWPORT, Panel, log_in, upcoming

UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => el.type !== 'hidden')
  .filter(el => !(el.id && document.querySelector(`label[for="${el.id}"]`)) && !el.getAttribute('aria-label'))
  .map(el => el.name)"""


def _check(page: Page) -> None:
    assert page.title().strip(), page.url
    assert page.get_attribute("html", "lang") == "es-AR"
    assert page.evaluate(UNLABELLED) == [], page.url
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"], page.url


def test_pages_have_a_title_language_and_labelled_fields(panel: Panel, page: Page) -> None:
    unit = panel.unit()
    code = panel.booking(unit["id"], upcoming())["code"]
    panel.sql("INSERT INTO conversations (phone, profile_name) VALUES ('+5491155551234', 'Ana')")
    page.goto(f"{panel.base}/admin/login")
    _check(page)
    log_in(page, panel.base)
    pages = ["/admin/", "/admin/reservas", f"/admin/reservas/{code}", "/admin/reservas/nueva"]
    settings = [f"/admin/ajustes/{p}" for p in ("cabanas", f"cabanas/{unit['id']}", "precios", "respuestas")]
    settings += ["/admin/ajustes/calendarios", "/admin/ajustes/funciones", "/admin/ajustes/operadores"]
    others = [
        "/admin/conversaciones",
        "/admin/clave",
        "/admin/calendario",
        "/admin/bloqueos/nuevo",
        "/admin/sistema",
    ]
    for path in [*pages, *others, *settings]:
        page.goto(f"{panel.base}{path}")
        _check(page)
    page.goto(f"{panel.base}/admin/conversaciones/+5491155551234")
    _check(page)
    page.get_by_text("Tomar la conversación", exact=True).click()
    page.get_by_role("button", name="Sí, tomar la conversación").click()
    _check(page)
