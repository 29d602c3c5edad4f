"""Feature flags through the CLI and the admin API, audited and live without a restart."""

from __future__ import annotations

import json

import httpx
import psycopg

from alojamientos.ops.flags import flags
from tests.cli.test_cli import cli
from tests.fixtures.database import psycopg_url


def test_cli_lists_and_sets_flags_with_an_audit_trail(clean_db: str) -> None:
    listed = cli("flags", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert {r["name"] for r in rows} == {"whatsapp_auto_replies", "mercadopago", "email", "ical_sync"}
    assert all(r["enabled"] is True and r["description"] for r in rows)

    off = cli("flags", "set", "mercadopago", "off")
    assert (off.returncode, off.stdout.strip()) == (0, "mercadopago is now off")
    after = {r["name"]: r["enabled"] for r in json.loads(cli("flags", "list", "--json").stdout)}
    assert after["mercadopago"] is False
    with psycopg.connect(psycopg_url(clean_db)) as conn:
        [(name, enabled, actor)] = conn.execute(
            "SELECT name, enabled, actor FROM feature_flag_changes"
        ).fetchall()
    assert (name, enabled) == ("mercadopago", False) and actor.startswith("cli:")

    unknown = cli("flags", "set", "nope", "on")
    assert unknown.returncode == 1 and "unknown flag 'nope'" in unknown.stderr
    bad = cli("flags", "set", "email", "maybe")
    assert bad.returncode == 2 and "on' or 'off'" in bad.stderr


async def test_api_toggles_and_every_process_sees_it(client: httpx.AsyncClient, clean_db: str) -> None:
    flags.forget()
    response = await client.put("/api/v1/flags/email", json={"enabled": False})
    assert response.status_code == 200
    assert response.json()["updated_by"] == "operator:operadora@example.com"
    assert (await client.put("/api/v1/flags/nope", json={"enabled": False})).status_code == 404
    assert (await client.put("/api/v1/flags/email", json={"enabled": "x"})).status_code == 422
    # Another process (the CLI) reads the database, not this process's cache.
    seen = {r["name"]: r["enabled"] for r in json.loads(cli("flags", "list", "--json").stdout)}
    assert seen["email"] is False
