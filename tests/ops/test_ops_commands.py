"""verify, doctor, predeploy and rollback's plan, through the CLI as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from alojamientos.ops import release
from alojamientos.ops.release import migrations_between
from tests.cli.test_cli import cli
from tests.fakes.http import ThreadedServer
from tests.fixtures.database import psycopg_url

ROOT = Path(__file__).resolve().parents[2]


def test_verify_passes_against_the_running_app(live_server: str) -> None:
    result = cli("verify", live_server, "--verify-token", "whatsapp-test-verify-token")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("✓ healthz healthy with a version: healthy, version ")
    for name in (
        "security headers",
        "/metrics answers",
        "reservation endpoint refuses cleanly",
        "WhatsApp webhook handshake",
        "database and Redis ports closed",
    ):
        assert any(line.startswith(f"✓ {name}") for line in lines), name
    assert lines[-1] == "6/6 checks passed"
    as_json = json.loads(cli("verify", live_server, "--json").stdout)
    assert as_json["ok"] is True and {c["name"] for c in as_json["checks"]} >= {"security headers"}


def test_verify_fails_against_something_that_is_not_this_application() -> None:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def hello(request: object) -> JSONResponse:
        return JSONResponse({"status": "healthy"})

    server = ThreadedServer(Starlette(routes=[Route("/api/v1/healthz", hello)]))
    server.start()
    try:
        result = cli("verify", server.base)
    finally:
        server.stop()
    assert result.returncode == 1
    assert result.stdout.startswith("✗ healthz is alojamientos: HTTP 200, not our health document")
    nothing = cli("verify", "http://127.0.0.1:9")
    assert nothing.returncode == 1 and nothing.stdout.startswith("✗ healthz answers")
    assert cli("verify", "ftp://example.com").returncode == 1


def test_doctor_finds_stuck_holds_and_dead_letters(clean_db: str, tmp_path: Path) -> None:
    env = {"BACKUP_DIR": str(tmp_path)}
    first = cli("doctor", env=env)
    assert "✓ migrations at head" in first.stdout and "✓ no overlapping stays: none" in first.stdout
    assert "✗ backup within a day: no backup" in first.stdout and first.returncode == 1
    with psycopg.connect(psycopg_url(clean_db), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO accommodations (name, capacity, base_occupancy, base_price) VALUES ('A', 2, 2, 1)"
        )
        conn.execute(
            "INSERT INTO reservations (code, accommodation_id, check_in, check_out, guests, guest_name, status,"
            " source, total_amount, deposit_amount, expires_at) VALUES ('AB2CD3', 1, current_date + 5,"
            " current_date + 7, 2, 'X', 'pre_reserved', 'admin', 1, 1, now() - interval '1 hour')"
        )
        conn.execute("INSERT INTO jobs (kind, status) VALUES ('email.send', 'dead')")
        # Paid without a single ledger entry: someone wrote the figure by hand.
        conn.execute(
            "INSERT INTO reservations (code, accommodation_id, check_in, check_out, guests, guest_name, status,"
            " source, total_amount, deposit_amount, paid_amount) VALUES ('EF4GH5', 1, current_date + 20,"
            " current_date + 22, 2, 'Y', 'confirmed', 'admin', 100, 30, 50)"
        )
    second = cli("doctor", "--json", env=env)
    checks = {c["name"]: c for c in json.loads(second.stdout)["checks"]}
    assert checks["no holds past their expiry"] == {
        "name": "no holds past their expiry",
        "ok": False,
        "detail": "1 found",
        "fix": "the worker is not running or is stuck: `alojamientos worker`, then check its logs",
    }
    assert checks["no dead letters"]["ok"] is False
    assert (
        checks["paid figures match the payments ledger"]["ok"],
        checks["paid figures match the payments ledger"]["detail"],
    ) == (
        False,
        "1 found",
    )
    assert checks["Redis reachable"]["ok"] is True


def test_migrations_between_walks_down_this_codes_chain() -> None:
    steps = migrations_between("0005_deployments", "0003_payments")
    assert [s.revision for s in steps] == ["0005_deployments", "0004_ical_sync"]
    assert not any(s.irreversible for s in steps)
    assert migrations_between("0003_payments", "0003_payments") == []


@pytest.fixture
def release_repo(tmp_path: Path) -> Path:
    """This tree as release v1.0.0 in a throwaway git repository."""
    repo = tmp_path / "deploy"
    release.release_repo(ROOT, repo, "v1.0.0")
    return repo


def test_rollback_plan_names_points_of_no_return_and_refuses(release_repo: Path, clean_db: str) -> None:
    env = {"DEPLOY_DIR": str(release_repo), "RESTART_COMMAND": "true"}
    dry = cli("rollback", "--to", "v1.0.0", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "Rollback plan (full):" in dry.stdout and "dry run: nothing changed" in dry.stdout
    with psycopg.connect(psycopg_url(clean_db), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO deployments (version, revision, action, at) VALUES ('1.1.0', '0005_deployments', 'upgrade', now() - interval '1 hour')"
        )
        conn.execute("INSERT INTO conversations (phone) VALUES ('+5492944111111')")
        conn.execute(
            "INSERT INTO conversation_messages (conversation_id, direction, author, body, wamid, delivery_status)"
            " VALUES (1, 'out', 'bot', 'hola', 'wamid.X', 'sent')"
        )
    risky = cli("rollback", "--to", "v1.0.0", "--dry-run", env=env)
    assert "POINT OF NO RETURN: 1 WhatsApp messages went out since the deploy" in risky.stdout
    refused = cli("rollback", "--to", "v1.0.0", env=env)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: rollback refused: points of no return (pass --accept-risk")
    assert cli("rollback", "--to", "latest", env=env).stderr.startswith(
        "error: rollback refused: --to must be a release tag"
    )
    assert cli("rollback", "--to", "v9.9.9", env=env).returncode == 1


def test_predeploy_passes_only_for_a_clean_tagged_tree_with_a_fresh_backup(
    release_repo: Path, clean_db: str, tmp_path: Path
) -> None:
    backups = tmp_path / "backups"
    (release_repo / ".env").write_text(
        "".join(
            f"{line.split('=')[0]}=x\n"
            for line in (release_repo / ".env.example").read_text().splitlines()
            if line and not line.startswith("#")
        )
    )
    env = {"DEPLOY_DIR": str(release_repo), "BACKUP_DIR": str(backups)}
    no_backup = cli("predeploy", env=env)
    assert no_backup.returncode == 1
    assert "✓ clean working tree: clean" in no_backup.stdout
    assert "✓ HEAD is a release tag: v1.0.0" in no_backup.stdout
    assert "✓ migrations reversible: upgrade → downgrade → upgrade to " in no_backup.stdout
    assert "✗ recent backup: no backup found" in no_backup.stdout
    assert cli("backup", "create", "-q", env=env).returncode == 0
    ready = cli("predeploy", env=env)
    assert ready.returncode == 0, ready.stdout
    assert "✓ .env snapshot for rollback" in ready.stdout and len(list((backups / "env").iterdir())) == 1
    (release_repo / "README.md").write_text("changed")
    (release_repo / ".env.example").write_text("NEW_REQUIRED_SETTING=\nOTHER=with-a-default\n")
    dirty = cli("predeploy", env=env)
    assert dirty.returncode == 1
    assert "✗ clean working tree: 2 changed files" in dirty.stdout
    assert "✗ environment complete: missing: NEW_REQUIRED_SETTING, OTHER" in dirty.stdout


def test_config_only_rollback_restores_the_previous_env_and_verifies(
    release_repo: Path, live_server: str, clean_db: str, tmp_path: Path
) -> None:
    backups = tmp_path / "backups"
    (backups / "env").mkdir(parents=True)
    (backups / "env" / ".env.20261101T000000Z").write_text("LOG_LEVEL=INFO\n")
    (release_repo / ".env").write_text("LOG_LEVEL=DEBUG\n")
    env = {"DEPLOY_DIR": str(release_repo), "BACKUP_DIR": str(backups), "RESTART_COMMAND": "true"}
    result = cli("rollback", "--to", "v1.0.0", "--config-only", "--url", live_server, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (release_repo / ".env").read_text() == "LOG_LEVEL=INFO\n"
    assert (release_repo / ".env.before-rollback").read_text() == "LOG_LEVEL=DEBUG\n"
    assert "✓ restore the previous .env" in result.stdout and "Rollback strategy: config" in result.stdout
    code_only = cli("rollback", "--to", "v1.0.0", "--code-only", "--dry-run", env=env)
    assert "switch the code (database untouched)" in code_only.stdout
