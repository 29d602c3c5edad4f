"""The `alojamientos` command as an operator runs it: real processes, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx


def cli(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alojamientos", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )


def test_users_create_then_log_in(clean_db: str, anon: httpx.AsyncClient) -> None:
    created = cli("users", "create", "Dueno@Example.com", "--password-stdin", stdin="clave-muy-segura\n")
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().startswith("operator dueno@example.com created")
    again = cli("users", "create", "dueno@example.com", "--password-stdin", stdin="clave-muy-segura\n")
    assert again.returncode == 1
    assert again.stderr.strip() == "error: an operator dueno@example.com already exists"
    short = cli("users", "create", "otro@example.com", "--password-stdin", stdin="corta\n")
    assert short.returncode == 1 and "at least 10 characters" in short.stderr


async def test_created_user_gets_a_token(clean_db: str, anon: httpx.AsyncClient) -> None:
    assert (
        cli("users", "create", "a@example.com", "--password-stdin", stdin="clave-muy-segura\n").returncode
        == 0
    )
    response = await anon.post(
        "/api/v1/auth/token", data={"username": "A@example.com", "password": "clave-muy-segura"}
    )
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"


def test_db_current_says_head(database_url: str) -> None:
    result = cli("db", "current")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("(head)")


def test_configuration_errors_are_one_line(database_url: str) -> None:
    result = cli("db", "current", env={"ALOJAMIENTOS_ENV": "production", "SECRET_KEY": "short"})
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "SECRET_KEY must be set" in result.stderr
    unreachable = cli("db", "current", env={"DATABASE_URL": "postgresql://aloj@127.0.0.1:1/x"})
    assert unreachable.returncode == 1
    assert unreachable.stderr.startswith("error: cannot reach the database")
    assert "Traceback" not in unreachable.stderr
