"""Test setup: real PostgreSQL and Redis, named by the environment `make test` prepares.

A missing service fails the run; nothing is skipped and nothing falls back.
"""

from __future__ import annotations

import os

import pytest

for required in ("TEST_DATABASE_URL", "REDIS_URL"):
    if not os.environ.get(required):
        raise pytest.UsageError(
            f"{required} is not set: run the suite with `make test`, which starts PostgreSQL and Redis"
        )

# Before anything imports the application: the settings object reads these once.
os.environ["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
os.environ["ALOJAMIENTOS_ENV"] = "testing"
os.environ["SECRET_KEY"] = "tests-only-signing-key-not-a-secret-0123456789"
os.environ["LOG_LEVEL"] = "WARNING"
os.environ["WHATSAPP_APP_SECRET"] = "whatsapp-test-app-secret"
os.environ["WHATSAPP_VERIFY_TOKEN"] = "whatsapp-test-verify-token"
# Tests log in far more often than a person; the limiter itself is tested with its own numbers.
os.environ["RATE_LIMIT_LOGIN_PER_MINUTE"] = "100000"
os.environ["RATE_LIMIT_WEBHOOKS_PER_MINUTE"] = "100000"
os.environ["BACKUP_EVERY_HOURS"] = "0"  # tests that run the periodic jobs must not write backups
os.environ["ALOJAMIENTOS_ENV_FILE"] = ""  # a developer's .env must not leak into tests
os.environ["ALOJAMIENTOS_SERVICES_FILE"] = ""  # nor the servers of their `make run`

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.api",
    "tests.fixtures.server",
    "tests.fixtures.fakes",
]
