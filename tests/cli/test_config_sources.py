"""Where a command finds its database with nothing typed: the environment, then `.env`, then the
servers `make run` started (.run/dev/services.env); an empty value never overrides. It says where."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from alojamientos.config import database_location

UNREACHABLE = "postgresql://aloj@127.0.0.1:1/nowhere"
# The suite's own choices (conftest) would hide what a person's shell does.
NOT_PASSED = {"DATABASE_URL", "ALOJAMIENTOS_ENV_FILE", "ALOJAMIENTOS_SERVICES_FILE"}


def run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in NOT_PASSED}
    return subprocess.run(
        [sys.executable, "-m", "alojamientos", *args],
        cwd=cwd,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def checkout(tmp_path: Path, database_url: str) -> Path:
    """A checkout as `make run` leaves it: .env copied from .env.example, services running."""
    (tmp_path / ".env").write_text("ALOJAMIENTOS_ENV=development\nDATABASE_URL=\nREDIS_URL=\n")
    (tmp_path / ".run/dev").mkdir(parents=True)
    (tmp_path / ".run/dev/services.env").write_text(f"export DATABASE_URL={database_url}\n")
    return tmp_path


def test_the_running_services_are_found_and_named(checkout: Path, database_url: str) -> None:
    result = run(checkout, "db", "current")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("(head)")
    where = database_location(database_url)
    assert result.stderr == f"using the database at {where} (from .run/dev/services.env)\n"


def test_an_empty_variable_in_the_environment_does_not_hide_them(checkout: Path) -> None:
    result = run(checkout, "db", "current", DATABASE_URL="")
    assert result.returncode == 0, result.stderr
    assert "(from .run/dev/services.env)" in result.stderr


def test_a_value_in_dotenv_wins_over_the_services(checkout: Path) -> None:
    (checkout / ".env").write_text(f"ALOJAMIENTOS_ENV=development\nDATABASE_URL={UNREACHABLE}\n")
    result = run(checkout, "db", "current")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "using the database at 127.0.0.1:1/nowhere (from .env)",
        result.stderr.splitlines()[1],
    ]
    assert result.stderr.splitlines()[1].startswith(
        "error: cannot reach the database at 127.0.0.1:1/nowhere (from .env): "
    )


def test_the_environment_wins_over_both_and_needs_no_announcement(checkout: Path) -> None:
    result = run(checkout, "db", "current", DATABASE_URL=UNREACHABLE)
    assert result.returncode == 1
    assert result.stderr.startswith(
        "error: cannot reach the database at 127.0.0.1:1/nowhere (from the environment): "
    )
    assert len(result.stderr.splitlines()) == 1


def test_after_make_stop_the_services_are_not_assumed(checkout: Path) -> None:
    (checkout / ".run/dev/services.env").unlink()  # what `make stop` does
    result = run(checkout, "db", "current")
    assert (
        result.stderr.splitlines()[0]
        == "using the database at 127.0.0.1:5432/alojamientos (from the default)"
    )


def test_commands_without_a_database_say_nothing_about_one(checkout: Path) -> None:
    result = run(checkout, "nlu", "parse", "--today", "2026-05-13", "--json", "hola")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_help_loads_no_heavy_library() -> None:
    """--help answers in well under a second: the root app and its sub-apps import their libraries
    inside the commands that use them."""
    probe = (
        "import sys, alojamientos.cli;"
        "print(sorted(m for m in ('sqlalchemy', 'pydantic_settings', 'fastapi', 'alembic', 'psycopg',"
        " 'httpx', 'redis', 'jinja2') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert loaded.stdout.strip() == "[]"


def test_outside_a_checkout_a_missing_secret_is_named_with_what_to_do(tmp_path: Path) -> None:
    # No .env, no services file: production is the default, and it refuses to run without a key.
    result = run(tmp_path, "flags", "list", SECRET_KEY="", ALOJAMIENTOS_ENV="")
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: invalid configuration: SECRET_KEY must be set")
    assert ": :" not in line and "Value error" not in line
    assert "make run" in line
