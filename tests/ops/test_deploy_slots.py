"""`alojamientos deploy` and `rollback` through two slots behind Debian's nginx, with requests flowing.

One throwaway git repository holds four releases built from this tree (as `make rollback-drill` does):
v1.0.0; v1.1.0 with an extra, additive migration; v1.2.0, v1.1.0 with the unit list broken on purpose
(an endpoint `verify` does not call, so only the canary's watch can catch it); v1.3.0, v1.1.0 plus a
harmless change. The tests run in order against one stack (a scratch database, Redis db of the helper,
nginx on free ports, the slots under a temporary directory), each through the CLI as an operator would.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from alojamientos.ops.release import release_repo, tag_head_revision
from tests.fixtures.database import psycopg_url
from tests.fixtures.server import free_port
from tests.ops.test_deploy import nginx_args, render, tls  # noqa: F401 - tls is a fixture used here

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "slots-operator-password"
EMAIL = "slots@example.com"


def _run(*args: str, cwd: Path | None = None) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True, timeout=120)


def build_releases(repo: Path) -> None:
    git = release_repo(ROOT, repo, "v1.0.0")
    head = tag_head_revision(repo, "v1.0.0")
    (
        repo / "src/alojamientos/migrations/versions/2099-01-01-0000_slots_extra.py"
    ).write_text(f'''"""Slots test: an additive migration."""

import sqlalchemy as sa
from alembic import op

revision = "9001_slots_extra"
down_revision = "{head}"
branch_labels = None
depends_on = None
irreversible = False


def upgrade() -> None:
    op.add_column("reservations", sa.Column("slots_note", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("reservations", "slots_note")
''')
    _run(*git, "add", "-A")
    _run(*git, "commit", "-q", "-m", "v1.1.0: an additive migration")
    _run(*git, "tag", "v1.1.0")
    api = repo / "src/alojamientos/reservations/api.py"
    source = api.read_text()
    broken = re.sub(
        r"(async def list_accommodations\(.*?\) -> list\[AccommodationOut\]:\n)",
        r'\1    raise RuntimeError("v1.2.0: the unit list is broken on purpose")\n',
        source,
        count=1,
        flags=re.S,
    )
    assert broken != source
    api.write_text(broken)
    _run(*git, "commit", "-q", "-am", "v1.2.0: broken unit list")
    _run(*git, "tag", "v1.2.0")
    api.write_text(source + "\n# v1.3.0: a harmless change\n")
    _run(*git, "commit", "-q", "-am", "v1.3.0")
    _run(*git, "tag", "v1.3.0")
    _run(*git, "checkout", "-q", "--detach", "v1.0.0")


@dataclass
class Stack:
    repo: Path
    slots: Path
    upstream: Path
    edge: str
    env: dict[str, str]
    database_url: str

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "alojamientos", *args],
            env=self.env, cwd=self.repo, input=stdin, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip

    def ok(self, *args: str) -> str:
        result = self.cli(*args)
        assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
        if args[:2] != ("deploy", "status"):
            print(f"$ alojamientos {' '.join(args)}\n{result.stdout}")  # shown by pytest -rA
        return result.stdout

    def version(self) -> str:
        body = httpx.get(f"{self.edge}/api/v1/healthz", verify=False, timeout=10).json()  # noqa: S501
        return str(body["version"])

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.ok("deploy", "status", "--json"))
        return result

    def pid(self, slot: str, name: str = "serve") -> int:
        return int((self.slots / slot / f"{name}.pid").read_text())

    def slot_of(self, version: str) -> str:
        return next(s for s, i in self.state()["slots"].items() if i["version"] == version)

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(psycopg_url(self.database_url), autocommit=True) as conn:
            return conn.execute(query).fetchall()


def _kill_slots(slots: Path) -> None:
    for pidfile in slots.glob("*/*.pid"):
        try:
            os.kill(int(pidfile.read_text()), signal.SIGTERM)
        except (ProcessLookupError, ValueError):
            pass


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, tls: tuple[Path, Path]) -> Iterator[Stack]:  # noqa: F811
    work = tmp_path_factory.mktemp("slots")
    repo = work / "deploy"
    build_releases(repo)
    admin_url = psycopg_url(os.environ["TEST_DATABASE_URL"])
    name = f"aloj_slots_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    database_url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    blue, green = free_port(), free_port()
    prefix = work / "nginx"
    conf, _, https_port = render(prefix, upstream=f"127.0.0.1:{blue}", tls=tls)
    upstream = conf.parent / "alojamientos-upstream.conf"
    args = nginx_args(prefix, conf)  # ends with -g "pid …;": nginx takes one -g, so daemon off joins it
    log = (prefix / "nginx.log").open("wb")
    nginx = subprocess.Popen([*args[:-1], args[-1] + " daemon off;"], stdout=log, stderr=subprocess.STDOUT)
    edge = f"https://127.0.0.1:{https_port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ALOJAMIENTOS_ENV": "production",
        "ALOJAMIENTOS_ENV_FILE": "",
        "ALOJAMIENTOS_SERVICES_FILE": "",
        "SECRET_KEY": "slots-test-signing-key-0123456789abcdef-0123",
        "PUBLIC_BASE_URL": edge,
        "DEPLOY_DIR": str(repo),
        "DEPLOY_SLOTS_DIR": str(work / "slots"),
        "DEPLOY_BLUE_PORT": str(blue),
        "DEPLOY_GREEN_PORT": str(green),
        "DEPLOY_NGINX_UPSTREAM": str(upstream),
        "DEPLOY_NGINX_RELOAD": shlex.join([*args, "-s", "reload"]),
        "BACKUP_DIR": str(work / "backups"),
        "LOG_LEVEL": "WARNING",
    }
    for key in ("PYTHONPATH", "DEPLOY_MODE", "RESTART_COMMAND"):
        env.pop(key, None)
    try:
        yield Stack(repo, work / "slots", upstream, edge, env, database_url)
    finally:
        _kill_slots(work / "slots")
        nginx.terminate()
        nginx.wait(timeout=10)
        log.close()
        time.sleep(1)  # the slots' pools close before the database goes
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@dataclass
class Load:
    """Requests through nginx the whole time, as guests and the operator make them: any 5xx or
    connection error is a failure."""

    edge: str
    token: str
    sent: int = 0
    resent: int = 0
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def _loop(self) -> None:
        with httpx.Client(base_url=self.edge, verify=False, timeout=15) as http:  # noqa: S501
            auth = {"Authorization": f"Bearer {self.token}"}
            calls = [
                lambda: http.get("/api/v1/accommodations", headers=auth),
                lambda: http.get("/api/v1/healthz"),
                lambda: http.post("/api/v1/reservations", json={}, headers=auth),
            ]
            n = 0
            while not self.stop.is_set():
                n += 1
                try:
                    try:
                        response = calls[n % len(calls)]()
                    except httpx.RemoteProtocolError:
                        # nginx's reload closes idle keep-alive connections; a request sent on one at that
                        # instant gets no response. Browsers resend it on a fresh connection (RFC 9112
                        # 9.3.1); so does this client, once, and counts it.
                        self.resent += 1
                        response = calls[n % len(calls)]()
                    if response.status_code >= 500:
                        self.failures.append(f"{response.request.url.path}: {response.status_code}")
                except httpx.HTTPError as exc:
                    self.failures.append(f"{type(exc).__name__}: {exc}")
                self.sent += 1
                time.sleep(0.02)

    def __enter__(self) -> Load:
        self.threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(3)]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def _token(stack: Stack) -> str:
    response = httpx.post(
        f"{stack.edge}/api/v1/auth/token",
        data={"username": EMAIL, "password": PASSWORD},
        verify=False,  # noqa: S501
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_first_deploy_then_blue_green_under_load_then_rollback_by_switching(stack: Stack) -> None:
    out = stack.ok("deploy", "--to", "v1.0.0")
    assert "✓ switch" in out and stack.version() == "1.0.0"
    state = stack.state()
    assert state["active"] == "blue" and state["slots"]["blue"]["role"] == "active"
    created = stack.cli("users", "create", EMAIL, "--password-stdin", stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    token = _token(stack)
    unit = httpx.post(f"{stack.edge}/api/v1/accommodations", verify=False,  # noqa: S501
                      headers={"Authorization": f"Bearer {token}"},
                      json={"name": "Cabaña Slots", "capacity": 4, "base_price": "50000"})  # fmt: skip
    assert unit.status_code == 201, unit.text

    with Load(stack.edge, token) as load:
        time.sleep(1)
        out = stack.ok("deploy", "--to", "v1.1.0")
        time.sleep(1)
    assert load.failures == [] and load.sent > 50, load.failures[:5]
    assert stack.version() == "1.1.0"
    assert stack.sql("SELECT version_num FROM alembic_version") == [("9001_slots_extra",)]
    text = stack.upstream.read_text()
    green, blue = stack.env["DEPLOY_GREEN_PORT"], stack.env["DEPLOY_BLUE_PORT"]
    assert re.search(rf"server 127\.0\.0\.1:{green} weight=100 max_fails=0;", text), text
    assert re.search(rf"server 127\.0\.0\.1:{blue} backup;", text), text
    assert "active green v1.1.0, previous blue v1.0.0" in text
    state = stack.state()
    assert state["slots"]["blue"]["role"] == "backup" and state["slots"]["green"]["role"] == "active"
    assert all(state["slots"]["blue"]["pids"].values()), "the previous slot keeps running"

    blue_serve, blue_worker = stack.pid("blue"), stack.pid("blue", "worker")
    with Load(stack.edge, token) as load:
        time.sleep(1)
        result = stack.cli("rollback", "--to", "v1.0.0")
        time.sleep(1)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no checkout, no build, no restart" in result.stdout
    took = re.search(r"rollback took (\d+\.\d) s; the service never stopped", result.stdout)
    assert took and float(took.group(1)) < 5, result.stdout
    assert load.failures == [] and load.sent > 50, load.failures[:5]
    assert stack.version() == "1.0.0"
    assert (stack.pid("blue"), stack.pid("blue", "worker")) == (blue_serve, blue_worker), "no restart"
    assert stack.sql("SELECT version_num FROM alembic_version") == [("9001_slots_extra",)], "no downgrade"
    assert stack.state()["active"] == "blue"


def test_a_canary_whose_endpoint_fails_rolls_itself_back(stack: Stack) -> None:
    stack.ok("deploy", "--to", "v1.1.0")
    assert stack.version() == "1.1.0"
    token = _token(stack)
    with Load(stack.edge, token) as load:
        result = stack.cli("deploy", "--to", "v1.2.0", "--canary", "10", "--canary-window", "20")
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr.startswith("canary rolled back: errores 5xx del canario"), result.stderr
    assert load.failures == [], load.failures[:5]  # nginx retried the canary's 500s on the stable slot
    assert stack.version() == "1.1.0"
    canary = stack.slot_of("v1.2.0")
    state = stack.state()
    assert state["slots"][canary]["role"] == "stopped"
    assert not any(state["slots"][canary]["pids"].values())
    assert f":{state['slots'][canary]['port']} " not in stack.upstream.read_text()
    run = state["last"][0]
    assert (run["kind"], run["version"], run["from_version"], run["status"]) == (
        "canary",
        "v1.2.0",
        "v1.1.0",
        "rolled_back",
    )
    steps = [s["step"] for s in run["steps"]]
    assert steps[-4:] == ["canary", "watch", "rollback", "stop"], steps
    watch = run["steps"][-3]
    assert watch["canary_weight"] == 10 and watch["canary_5xx"] > 0.02 and watch["stable_5xx"] == 0
    assert not watch["ok"]


def test_a_healthy_canary_is_promoted_in_steps(stack: Stack) -> None:
    token = _token(stack)
    with Load(stack.edge, token) as load:
        out = stack.ok("deploy", "--to", "v1.3.0", "--canary", "10", "--canary-window", "2")
    assert load.failures == [], load.failures[:5]
    assert stack.version() == "1.3.0"
    run = stack.state()["last"][0]
    assert (run["kind"], run["status"]) == ("canary", "done")
    weights = [(s["step"], s["canary_weight"]) for s in run["steps"] if s["canary_weight"] is not None]
    assert weights == [("canary", 10), ("watch", 10), ("canary", 50), ("watch", 50), ("promote", 100)]
    assert all(s["ok"] for s in run["steps"])
    assert "Qué pasó: v1.3.0 pasó el canario (10 → 50 → 100 %) y reemplazó a v1.1.0." in out


def test_the_panel_shows_the_steps_and_the_stakeholder_message(stack: Stack) -> None:
    with httpx.Client(base_url=stack.edge, verify=False, timeout=10) as http:  # noqa: S501
        form = http.get("/admin/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf, form.text[:500]
        login = http.post(
            "/admin/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": csrf.group(1)}
        )
        assert login.status_code in (200, 303), login.text[:300]
        page = http.get("/admin/sistema")
    assert page.status_code == 200
    html = page.text
    section = html[html.index('id="despliegues"') :]
    section = section[: section.index("</section>")]
    assert "Despliegue con canario: <code>v1.3.0</code>" in section
    assert "pasó el canario" in section
    assert 'data-status="rolled_back"' in section and "volvió solo a v1.1.0" in section
    assert "Canario <small>(10 %)</small>" in section and "Canario <small>(50 %)</small>" in section
    assert "errores 5xx: canario" in section
    message = re.search(r'<pre id="mensaje-despliegue">(.*?)</pre>', section, re.S)
    assert message
    text = message.group(1)
    assert "DESPLIEGUE CON CANARIO COMPLETADO" in text and "Versión: v1.3.0 (antes: v1.1.0)" in text
    assert re.search(r"Hora: \d\d/\d\d/\d{4} \d\d:\d\d", text)
    assert "Interrupción del servicio: ninguna" in text and "Estado actual: atiende v1.3.0" in text


def test_both_slots_workers_overlap_without_running_a_job_twice(stack: Stack) -> None:
    """After a deploy the previous slot's worker keeps running beside the new one: each job is claimed by
    exactly one of them (FOR UPDATE SKIP LOCKED). Jobs of a kind no release handles go straight to the
    dead letters, one log line each, in the log of the worker that claimed it."""
    state = stack.state()
    workers = [s for s, i in state["slots"].items() if i["pids"]["worker"]]
    assert sorted(workers) == ["blue", "green"]
    with psycopg.connect(psycopg_url(stack.database_url), autocommit=True) as conn:
        ids = [
            row[0]
            for row in conn.execute(
                "INSERT INTO jobs (kind, payload, max_attempts) SELECT 'slots.overlap', '{}', 1"
                " FROM generate_series(1, 300) RETURNING id"
            ).fetchall()
        ]
        conn.execute("NOTIFY alojamientos_jobs")
    deadline = time.monotonic() + 60
    while stack.sql("SELECT count(*) FROM jobs WHERE kind = 'slots.overlap' AND status != 'dead'")[0][0]:
        assert time.monotonic() < deadline, "the workers did not finish the jobs"
        time.sleep(0.5)  # waiting for the workers
    assert stack.sql("SELECT DISTINCT attempts FROM jobs WHERE kind = 'slots.overlap'") == [(1,)]
    claimed: dict[str, list[int]] = {}
    for slot in workers:
        log = (stack.slots / slot / "worker.log").read_text()
        claimed[slot] = [int(i) for i in re.findall(r'"job_id": (\d+)', log) if int(i) in set(ids)]
    everything = claimed["blue"] + claimed["green"]
    assert sorted(everything) == sorted(ids), "each job ran exactly once"
    assert claimed["blue"] and claimed["green"], "both workers took jobs"


def test_full_rollback_downgrades_and_says_how_long_the_service_was_down(stack: Stack) -> None:
    result = stack.cli("rollback", "--to", "v1.0.0", "--full")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"the service will be unavailable for about \d+ s", result.stdout)
    assert "revert 9001_slots_extra: Slots test: an additive migration." in result.stdout
    assert re.search(r"the service was unavailable for \d+\.\d s", result.stdout)
    assert stack.version() == "1.0.0"
    assert stack.sql("SELECT version_num FROM alembic_version")[0][0] != "9001_slots_extra"
    state = stack.state()
    assert state["slots"][state["active"]]["version"] == "v1.0.0"
    assert [s for s, i in state["slots"].items() if any(i["pids"].values())] == [state["active"]]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--to", "latest"), 1, "error: deploy failed: --to must be a release tag like v1.2.3, not 'latest'"),
        (("--to", "v9.9.9"), 1, "has no tag v9.9.9"),
        (("--to", "v1.3.0", "--canary", "0"), 1, "--canary must be a percentage between 1 and 99, not 0"),
        (("--to", "v1.3.0", "--canary", "100"), 1, "--canary must be a percentage between 1 and 99, not 100"),
        (("--to", "v1.3.0", "--canary", "10", "--with-downtime"), 1, "do not go together"),
        (("--to", "v1.3.0", "--canary", "10", "--canary-window", "0"), 2, "must be more than 0 seconds"),
        (
            (
                "--canary",
                "10",
            ),
            2,
            "--to is required",
        ),
    ],
)
def test_bad_deploy_input_is_one_clear_line_and_changes_nothing(
    stack: Stack, args: tuple[str, ...], code: int, message: str
) -> None:
    before = stack.upstream.read_text()
    result = stack.cli("deploy", *args)
    assert result.returncode == code, result.stdout + result.stderr
    assert message in " ".join(result.stderr.split()), result.stderr
    assert "Traceback" not in result.stderr
    assert stack.upstream.read_text() == before


def test_dry_run_prints_the_plan_and_changes_nothing(stack: Stack) -> None:
    before, state = stack.upstream.read_text(), stack.state()
    out = stack.ok("deploy", "--to", "v1.3.0", "--canary", "10", "--dry-run")
    assert "Deploy plan (canary): v1.0.0 → v1.3.0" in out
    assert "5. canary 10 % → 50 % → 100 %, each watched" in out and out.rstrip().endswith(
        "dry run: nothing changed"
    )
    assert stack.upstream.read_text() == before
    assert stack.state()["slots"] == state["slots"]
    forward = stack.cli("rollback", "--to", "v1.1.0", "--full", "--dry-run")
    assert forward.returncode == 1, forward.stdout + forward.stderr
    assert "is not ahead of 9001_slots_extra: nothing to downgrade (deploy it instead)" in forward.stderr
    assert stack.state()["slots"] == state["slots"]
