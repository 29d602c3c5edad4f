"""Bearer tokens are trusted for a few seconds once verified; deactivation still ends them promptly."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import psycopg
import pytest
from fastapi import FastAPI

from alojamientos.auth import service
from alojamientos.auth.service import TOKEN_AUDIENCE, auth
from alojamientos.db import Database
from tests.fixtures.api import OPERATOR_EMAIL

OTHER_EMAIL = "juan@example.com"
OTHER_PASSWORD = "otra-clave-bien-larga"


async def log_in(anon: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    response = await anon.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
async def juan(db: Database, operator: None) -> int:
    async with db.session_scope() as session:
        created = await auth.create_operator(session, OTHER_EMAIL, OTHER_PASSWORD, name="Juan")
        return created.id


async def operator_id(db: Database, email: str) -> int:
    async with db.session_scope() as session:
        return next(o.id for o in await auth.operators(session) if o.email == email)


async def test_deactivating_an_operator_ends_their_token_at_once(
    anon: httpx.AsyncClient, db: Database, juan: int
) -> None:
    headers = await log_in(anon, OTHER_EMAIL, OTHER_PASSWORD)
    assert (await anon.get("/api/v1/accommodations", headers=headers)).status_code == 200
    assert (await anon.get("/api/v1/accommodations", headers=headers)).status_code == 200  # cached now
    async with db.session_scope() as session:  # what the panel's "Desactivar" does
        await auth.set_active(session, juan, False, by=await operator_id(db, OPERATOR_EMAIL))
    refused = await anon.get("/api/v1/accommodations", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_credentials"
    async with db.session_scope() as session:
        await auth.set_active(session, juan, True, by=await operator_id(db, OPERATOR_EMAIL))
    assert (await anon.get("/api/v1/accommodations", headers=headers)).status_code == 200


async def test_deactivated_by_another_process_the_token_ends_within_the_cache_seconds(
    anon: httpx.AsyncClient, clean_db: str, juan: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "TOKEN_CACHE_SECONDS", 2.0)
    headers = await log_in(anon, OTHER_EMAIL, OTHER_PASSWORD)
    assert (await anon.get("/api/v1/accommodations", headers=headers)).status_code == 200
    verified_at = time.monotonic()
    with psycopg.connect(clean_db, autocommit=True) as conn:  # another server process deactivates
        conn.execute("UPDATE operators SET active = false WHERE id = %s", [juan])
    await asyncio.sleep(max(0.0, verified_at + 2.1 - time.monotonic()))
    assert (await anon.get("/api/v1/accommodations", headers=headers)).status_code == 401


async def test_an_expired_token_is_refused_even_while_cached(
    app: FastAPI, anon: httpx.AsyncClient, juan: int
) -> None:
    now = datetime.now(UTC)
    token = jwt.encode(
        {"sub": str(juan), "aud": TOKEN_AUDIENCE, "iat": now, "exp": now + timedelta(seconds=1.5)},
        app.state.settings.signing_key,
        algorithm="HS256",
    )
    headers = {"Authorization": f"Bearer {token}"}
    assert (await anon.get("/api/v1/accommodations", headers=headers)).status_code == 200
    await asyncio.sleep(max(0.0, (now + timedelta(seconds=1.6) - datetime.now(UTC)).total_seconds()))
    assert (await anon.get("/api/v1/accommodations", headers=headers)).status_code == 401


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "{juan}", "aud": "someone-else"},  # another audience
        {"sub": "{juan}"},  # no audience
        {"sub": "{juan}", "aud": TOKEN_AUDIENCE, "exp": 1},  # expired in 1970
        {"sub": "not-a-number", "aud": TOKEN_AUDIENCE},
        {"aud": TOKEN_AUDIENCE},  # nobody
        {"sub": "999999", "aud": TOKEN_AUDIENCE},  # an operator that does not exist
    ],
)
async def test_tokens_that_do_not_name_an_active_operator_are_401(
    app: FastAPI, anon: httpx.AsyncClient, juan: int, claims: dict[str, object]
) -> None:
    claims = {k: (v.format(juan=juan) if isinstance(v, str) else v) for k, v in claims.items()}
    claims.setdefault("exp", int(time.time()) + 600)
    token = jwt.encode(claims, app.state.settings.signing_key, algorithm="HS256")
    for _ in range(2):  # refused tokens are never cached
        refused = await anon.get("/api/v1/accommodations", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "invalid_credentials"


async def test_a_token_signed_with_another_key_is_refused_though_its_twin_is_cached(
    app: FastAPI, anon: httpx.AsyncClient, juan: int
) -> None:
    claims = {"sub": str(juan), "aud": TOKEN_AUDIENCE, "exp": int(time.time()) + 600}
    good = jwt.encode(claims, app.state.settings.signing_key, algorithm="HS256")
    forged = jwt.encode(claims, "another-key-of-at-least-32-characters!!", algorithm="HS256")
    assert (
        await anon.get("/api/v1/accommodations", headers={"Authorization": f"Bearer {good}"})
    ).status_code == 200
    response = await anon.get("/api/v1/accommodations", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
