"""`make fuzz`: schemathesis over /openapi.json against a real server, as an operator, with a fixed seed.

Needs TEST_DATABASE_URL and REDIS_URL (scripts/with-services.sh provides them). A database of its own
(`<test database>_fuzz`) is rebuilt from the migrations and the demo data, so the suite's database is
left alone. Every operation is called with an operator's bearer token; a server error (5xx) or any
response slower than one second fails the run. Extra arguments go to `schemathesis run`.

    scripts/with-services.sh .run/test -- .venv/bin/python scripts/fuzz.py [--seed N] [-n N]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures.server import serve  # noqa: E402 - the repository root is on the path only now

SEED = 20261130
EXAMPLES = 40
MAX_RESPONSE_SECONDS = 1
OPERATOR = ("fuzz@example.com", "fuzz-operator-password")
BIN = Path(sys.executable).parent


def fresh_database(test_url: str) -> str:
    """`<test database>_fuzz` on the same server, empty."""
    base, _, name = test_url.rpartition("/")
    fuzz_name = f"{name.split('?')[0]}_fuzz"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(fuzz_name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(fuzz_name)))
    return f"{base}/{fuzz_name}"


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> None:
    subprocess.run([str(BIN / "alojamientos"), *args], env=env, input=stdin, text=True, check=True)


def main(extra: list[str]) -> int:
    for name in ("TEST_DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(name):
            print(f"fuzz: {name} is not set; run `make fuzz`", file=sys.stderr)
            return 2
    env = {
        **os.environ,
        "DATABASE_URL": fresh_database(os.environ["TEST_DATABASE_URL"]),
        "ALOJAMIENTOS_ENV": "testing",
        "ALOJAMIENTOS_ENV_FILE": "",
        "SECRET_KEY": "fuzz-only-signing-key-not-a-secret-0123456789",
        "LOG_LEVEL": "WARNING",
        # The fuzzer logs in once but calls thousands of times from one address.
        "RATE_LIMIT_LOGIN_PER_MINUTE": "0",
        "RATE_LIMIT_WEBHOOKS_PER_MINUTE": "0",
        "WHATSAPP_APP_SECRET": "fuzz-whatsapp-app-secret",
        "WHATSAPP_VERIFY_TOKEN": "fuzz-whatsapp-verify-token",
        "BACKUP_EVERY_HOURS": "0",
    }
    cli(env, "db", "upgrade")
    cli(env, "db", "seed-demo")
    cli(env, "users", "create", OPERATOR[0], "--password-stdin", stdin=OPERATOR[1])
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        os.environ.update(env)  # serve() starts the server with os.environ
        with serve(Path(tmp), startup_seconds=180) as base:
            login = httpx.post(
                f"{base}/api/v1/auth/token", data={"username": OPERATOR[0], "password": OPERATOR[1]}
            )
            login.raise_for_status()
            token = login.json()["access_token"]
            # One request per kind before timing starts: the first of each warms lazy imports and caches.
            auth = {"Authorization": f"Bearer {token}"}
            for path in ("/api/v1/accommodations", "/api/v1/reservations", "/api/v1/conversations"):
                httpx.get(f"{base}{path}", headers=auth, timeout=30)
            command = [
                str(BIN / "schemathesis"),
                "--no-color",
                "run",
                f"{base}/openapi.json",
                "--checks",
                "not_a_server_error",
                "--max-examples",
                str(EXAMPLES),
                "--seed",
                str(SEED),
                "--max-response-time",
                str(MAX_RESPONSE_SECONDS),
                "--request-timeout",
                "10",
                "--header",
                f"Authorization: Bearer {token}",
                "--workers",
                "1",
                *extra,
            ]
            result = subprocess.run(command, cwd=tmp, check=False)
            if result.returncode != 0:
                log = Path(tmp) / "server.log"
                print("fuzz: the server's log ends with:\n" + log.read_text()[-4000:], file=sys.stderr)
            return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
