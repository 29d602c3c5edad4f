"""`make rollback-drill`: the rollback plan rehearsed end to end on this machine.

Builds release v1.0.0 (this tree) and v1.1.0 (this tree plus an extra reversible migration and a
deliberately broken reservation endpoint) as tags in a throwaway git repository, serves v1.0.0 on a
throwaway PostgreSQL and Redis, takes reservations, deploys v1.1.0, checks that `verify` catches the
breakage, runs `alojamientos rollback --to v1.0.0`, checks that `verify` passes again and that no
confirmed reservation was lost, and prints each phase's time. Exit 0 only if all of that held.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from alojamientos.ops.release import release_repo, tag_head_revision

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PASSWORD = "drill-operator-password"
BROKEN = """

def _deliberately_broken() -> None:
    raise RuntimeError("v1.1.0 drill: booking is broken on purpose")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def run(
    *args: str, env: dict[str, str], cwd: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    if check and result.returncode != 0:
        raise SystemExit(
            f"drill: {' '.join(args[:4])} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


class Drill:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.repo = work / "deploy"
        self.phases: list[tuple[str, float]] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def phase(self, name: str, step: Callable[[], str | None]) -> None:
        started = time.perf_counter()
        print(f"… {name}", flush=True)
        detail = step()
        elapsed = time.perf_counter() - started
        self.phases.append((name, elapsed))
        print(f"✓ {name} ({elapsed:.1f} s){': ' + detail if detail else ''}", flush=True)

    # -- releases ------------------------------------------------------------------------------------

    def build_releases(self) -> str:
        git = release_repo(ROOT, self.repo, "v1.0.0")
        env = dict(os.environ)
        head = tag_head_revision(self.repo, "v1.0.0")
        migration = self.repo / "src/alojamientos/migrations/versions/2099-01-01-0000_drill_extra.py"
        migration.write_text(f'''"""Drill: an extra reversible migration."""

import sqlalchemy as sa
from alembic import op

revision = "9001_drill_extra"
down_revision = "{head}"
branch_labels = None
depends_on = None
irreversible = False


def upgrade() -> None:
    op.add_column("reservations", sa.Column("drill_note", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("reservations", "drill_note")
''')
        api = self.repo / "src/alojamientos/reservations/api.py"
        source = api.read_text()
        source = source.replace("router = APIRouter(", BROKEN + "\n\nrouter = APIRouter(", 1)
        source = source.replace(
            "async def create_reservation(\n",
            "async def create_reservation(\n    _broken: Annotated[None, Depends(_deliberately_broken)],\n",
            1,
        )
        source = source.replace(
            "from fastapi import APIRouter,", "from fastapi import APIRouter, Depends,", 1
        )
        api.write_text(source)
        run(*git, "add", "-A", env=env)
        run(*git, "commit", "-q", "-m", "release 1.1.0 (broken on purpose)", env=env)
        run(*git, "tag", "v1.1.0", env=env)
        run(*git, "checkout", "-q", "--detach", "v1.0.0", env=env)
        return f"v1.0.0 and v1.1.0 in {self.repo} (extra migration on top of {head})"

    # -- services and the app ------------------------------------------------------------------------

    def start_services(self) -> str:
        run(str(ROOT / "scripts/services.sh"), "start", str(self.work / "run"), env=dict(os.environ))
        values = {}
        for line in (self.work / "run/services.env").read_text().splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            values[key] = value
        self.env = {
            **os.environ,
            "DATABASE_URL": values["DATABASE_URL"],
            "REDIS_URL": values["REDIS_URL"],
            "ALOJAMIENTOS_ENV": "production",
            "ALOJAMIENTOS_ENV_FILE": "",
            "SECRET_KEY": "drill-only-signing-key-0123456789abcdef-0123",
            "PUBLIC_BASE_URL": self.url,
            "PYTHONPATH": str(self.repo / "src"),
            "DEPLOY_DIR": str(self.repo),
            "BACKUP_DIR": str(self.work / "backups"),
            "RESTART_COMMAND": f"sh {self.work / 'restart.sh'}",
            "LOG_LEVEL": "WARNING",
        }
        restart = self.work / "restart.sh"
        restart.write_text(f"""#!/bin/sh
# Restarts the drill's API from whatever the deploy checkout holds now.
pidfile={self.work / "api.pid"}
if [ -f "$pidfile" ]; then
  pid=$(cat "$pidfile"); kill "$pid" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
fi
cd {self.repo}
nohup {PY} -m alojamientos serve --port {self.port} >> {self.work / "api.log"} 2>&1 &
echo $! > "$pidfile"
""")
        return f"PostgreSQL and Redis under {self.work / 'run'}"

    def cli(
        self, *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [PY, "-m", "alojamientos", *args],
            env=self.env,
            cwd=self.repo,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if check and result.returncode != 0:
            raise SystemExit(
                f"drill: alojamientos {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def restart_and_wait(self, version: str) -> str:
        run("sh", str(self.work / "restart.sh"), env=self.env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                body = httpx.get(f"{self.url}/api/v1/healthz", timeout=2).json()
                if body.get("version") == version:
                    return f"serving {version} at revision {body['revision']}"
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.2)
        raise SystemExit(
            f"drill: {version} did not come up; log:\n{(self.work / 'api.log').read_text()[-3000:]}"
        )

    def deploy(self, tag: str) -> str:
        run("git", "-C", str(self.repo), "checkout", "-q", "--detach", tag, env=self.env)
        self.cli("db", "upgrade")
        return self.restart_and_wait(tag.removeprefix("v"))

    # -- data ----------------------------------------------------------------------------------------

    def take_reservations(self) -> str:
        self.cli("users", "create", "drill@example.com", "--password-stdin", stdin=PASSWORD + "\n")
        with httpx.Client(base_url=self.url, timeout=10) as http:
            token = http.post(
                "/api/v1/auth/token", data={"username": "drill@example.com", "password": PASSWORD}
            )
            http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            unit = http.post(
                "/api/v1/accommodations", json={"name": "Cabaña Drill", "capacity": 4, "base_price": "50000"}
            )
            start = date.today() + timedelta(days=10)
            for n in range(8):
                check_in = start + timedelta(days=3 * n)
                response = http.post(
                    "/api/v1/reservations",
                    json={
                        "accommodation_id": unit.json()["id"],
                        "check_in": check_in.isoformat(),
                        "check_out": (check_in + timedelta(days=2)).isoformat(),
                        "guests": 2,
                        "guest_name": f"Huésped {n}",
                        "guest_phone": f"+54911{55500000 + n}",
                        "status": "confirmed" if n % 3 else "pre_reserved",
                    },
                )
                if response.status_code != 201:
                    raise SystemExit(f"drill: a reservation failed on v1.0.0: {response.text}")
        self.confirmed = self.confirmed_codes()
        return f"{len(self.confirmed)} confirmed and {8 - len(self.confirmed)} held"

    def confirmed_codes(self) -> set[str]:
        with psycopg.connect(self.env["DATABASE_URL"]) as conn:
            rows = conn.execute(
                "SELECT code FROM reservations WHERE status = 'confirmed' AND kind = 'stay'"
            ).fetchall()
        return {code for (code,) in rows}

    def verify(self, *, expect_ok: bool) -> str:
        result = self.cli("verify", self.url, check=False)
        ok = result.returncode == 0
        print(result.stdout.rstrip())
        if ok != expect_ok:
            raise SystemExit(f"drill: verify {'passed' if ok else 'failed'}, expected the opposite")
        failed = [line for line in result.stdout.splitlines() if line.startswith("✗")]
        return "all checks pass" if ok else f"caught: {'; '.join(failed)}"

    def rollback(self) -> str:
        result = self.cli(
            "rollback",
            "--to",
            "v1.0.0",
            "--severity",
            "SEV2",
            "--reason",
            "v1.1.0 rompió la creación de reservas (simulacro)",
            check=False,
        )
        print(result.stdout.rstrip())
        if result.returncode != 0:
            raise SystemExit(f"drill: rollback failed:\n{result.stderr}")
        return "rolled back to v1.0.0"

    def nothing_lost(self) -> str:
        after = self.confirmed_codes()
        lost = self.confirmed - after
        if lost:
            raise SystemExit(f"drill: confirmed reservations lost: {sorted(lost)}")
        with psycopg.connect(self.env["DATABASE_URL"]) as conn:
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return f"all {len(self.confirmed)} confirmed reservations present; database at {revision[0] if revision else None}"

    def stop(self) -> None:
        pidfile = self.work / "api.pid"
        if pidfile.exists():
            try:
                os.kill(int(pidfile.read_text()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(
            [str(ROOT / "scripts/services.sh"), "stop", str(self.work / "run")],
            capture_output=True,
            timeout=120,
            check=False,
        )


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="aloj-drill-"))
    os.chmod(work, 0o755)  # noqa: S103 - PostgreSQL (user postgres) keeps its data under it
    drill = Drill(work)
    started = time.perf_counter()
    try:
        drill.phase("build releases v1.0.0 and v1.1.0", drill.build_releases)
        drill.phase("throwaway PostgreSQL and Redis", drill.start_services)
        drill.phase("deploy v1.0.0", lambda: drill.deploy("v1.0.0"))
        drill.phase("take reservations", drill.take_reservations)
        drill.phase("deploy v1.1.0 (broken)", lambda: drill.deploy("v1.1.0"))
        drill.phase("verify catches the breakage", lambda: drill.verify(expect_ok=False))
        drill.phase("rollback --to v1.0.0", drill.rollback)
        drill.phase("verify passes", lambda: drill.verify(expect_ok=True))
        drill.phase("no confirmed reservation lost", drill.nothing_lost)
    finally:
        drill.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("\nRollback drill timings")
    for name, seconds in drill.phases:
        print(f"  {name:<36} {seconds:6.1f} s")
    print(f"  {'total':<36} {time.perf_counter() - started:6.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
