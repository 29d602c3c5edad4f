"""Service-level rules the HTTP API does not expose directly: hold expiry."""

from __future__ import annotations

from datetime import timedelta

import httpx
from pydantic import SecretStr

from alojamientos.config import get_settings
from alojamientos.db import Database
from alojamientos.kit.clock import utc_now
from alojamientos.reservations import transitions
from tests.fixtures.api import create_unit, hold, operator_client, today_ar


async def test_expiry_releases_due_holds_once(operator: None, db: Database) -> None:
    # A Mercado Pago hold needs Mercado Pago configured (else 422); no link is asked for here.
    settings = get_settings().model_copy(update={"mercadopago_access_token": SecretStr("TEST-token")})
    async with operator_client(settings) as client:
        await _expiry_releases_due_holds_once(client, db)


async def _expiry_releases_due_holds_once(client: httpx.AsyncClient, db: Database) -> None:
    unit = await create_unit(client)
    start = today_ar() + timedelta(days=15)
    due = (await hold(client, unit["id"], start)).json()
    later = (await hold(client, unit["id"], start + timedelta(days=5), payment_method="mercadopago")).json()
    confirmed = (await hold(client, unit["id"], start + timedelta(days=10), status="confirmed")).json()

    # The transfer hold lasts 24 h and the Mercado Pago one 60 min (defaults): 2 h from now only
    # the Mercado Pago hold is due; 25 h from now both are.
    async with db.session_scope() as session:
        assert await transitions.expire_due(session, now=utc_now() + timedelta(hours=2)) == [later["code"]]
    async with db.session_scope() as session:
        assert await transitions.expire_due(session, now=utc_now() + timedelta(hours=25)) == [due["code"]]
    async with db.session_scope() as session:
        assert await transitions.expire_due(session, now=utc_now() + timedelta(days=30)) == []

    detail = (await client.get(f"/api/v1/reservations/{due['code']}")).json()
    assert detail["status"] == "expired"
    assert detail["events"][-1]["actor"] == "system:expiry"
    assert (await client.get(f"/api/v1/reservations/{confirmed['code']}")).json()["status"] == "confirmed"
    # Expired holds no longer occupy their dates, and cannot be confirmed.
    assert (await hold(client, unit["id"], start)).status_code == 201
    assert (await client.post(f"/api/v1/reservations/{due['code']}/confirm")).status_code == 409
