"""`alojamientos deploy --to vX.Y.Z`: the new release beside the running one, traffic moved by one reload.

Two slots, `blue` and `green`, under DEPLOY_SLOTS_DIR. A slot is a `git worktree add --detach` of the
release tag with its own `.venv` (`uv sync --frozen --no-dev`: seconds, from the shared uv cache), the
deploy dir's `.env`, and its own `alojamientos serve` (on DEPLOY_BLUE_PORT / DEPLOY_GREEN_PORT) and
`alojamientos worker`, detached, with pid and log files in the slot directory. Jobs are claimed with
`FOR UPDATE SKIP LOCKED` (jobs/worker.py), so both slots' workers may overlap without running a job twice.

A deploy: compat check (ops/compat.py; refused unless --with-downtime), the idle slot prepared,
`db upgrade` with the new code, the slot started and `verify`-ed on its own port, then the nginx upstream
include file (DEPLOY_NGINX_UPSTREAM) rewritten and DEPLOY_NGINX_RELOAD run once. The previous slot
stays up as `backup` (nginx's retry target, and `rollback --to` without redeploy) until the next deploy or
DEPLOY_KEEP_PREVIOUS_MINUTES. A canary weights the two slots and is watched by ops/deploy_canary.py.
Which slot runs what is kept in `<slots>/state.json`; every step goes to `deploy_runs`/`deploy_steps`.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, insert, pool, text, update
from sqlalchemy.exc import DBAPIError

from alojamientos.config import Settings, sqlalchemy_url
from alojamientos.kit.clock import utc_now
from alojamientos.observability.metrics import ERRORS
from alojamientos.ops.models import DeployRun, DeployStep
from alojamientos.ops.release import _DOWN, _REVISION, TAG, ReleaseError, git, tag_head_revision
from alojamientos.ops.verify import verify
from alojamientos.version import CHECKOUT

log = logging.getLogger(__name__)
Out = Callable[[str], None]
SLOTS = ("blue", "green")
UPSTREAM_NAME = "alojamientos_app"
READY_SECONDS = 90.0
STOP_SECONDS = 30.0


class DeployError(Exception):
    """The deploy stopped; the message is the one line the operator reads. `code` is the exit status."""

    code = 1


class Refused(DeployError):
    code = 2


class CanaryRolledBack(DeployError):
    code = 3


# --------------------------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Layout:
    repo: Path
    slots_dir: Path
    upstream: Path | None
    reload: str | None
    ports: dict[str, int]
    keep_minutes: int
    uv: str

    @classmethod
    def of(cls, settings: Settings) -> Layout:
        repo = (settings.deploy_dir or CHECKOUT).resolve()
        return cls(
            repo=repo,
            slots_dir=(settings.deploy_slots_dir or repo / ".slots").resolve(),
            upstream=settings.deploy_nginx_upstream,
            reload=settings.deploy_nginx_reload,
            ports={"blue": settings.deploy_blue_port, "green": settings.deploy_green_port},
            keep_minutes=settings.deploy_keep_previous_minutes,
            uv=settings.deploy_uv,
        )

    def dir(self, slot: str) -> Path:
        return self.slots_dir / slot

    def url(self, slot: str) -> str:
        return f"http://127.0.0.1:{self.ports[slot]}"

    def require_nginx(self) -> tuple[Path, str]:
        if self.upstream is None:
            raise DeployError(
                "DEPLOY_NGINX_UPSTREAM is not set: which nginx upstream file should deploy write?"
            )
        if not self.reload:
            raise DeployError("DEPLOY_NGINX_RELOAD is not set: how should nginx be reloaded?")
        return self.upstream, self.reload


def other(slot: str) -> str:
    return "green" if slot == "blue" else "blue"


# ---------------------------------------------------------------------------------------------- state


@dataclass
class SlotState:
    version: str | None = None  # the tag, e.g. v1.1.0
    role: str = "stopped"  # active | backup | canary | stopped
    keep_until: str | None = None  # ISO time the backup is stopped after
    start_seconds: float | None = None  # how long its last start took (for downtime estimates)


@dataclass
class State:
    active: str | None = None
    slots: dict[str, SlotState] = field(default_factory=lambda: {s: SlotState() for s in SLOTS})
    weights: dict[str, int | str] = field(default_factory=dict)  # slot → weight, or "backup"

    @classmethod
    def load(cls, layout: Layout) -> State:
        path = layout.slots_dir / "state.json"
        if not path.exists():
            return cls()
        raw = json.loads(path.read_text())
        slots = {s: SlotState(**raw.get("slots", {}).get(s, {})) for s in SLOTS}
        return cls(raw.get("active"), slots, raw.get("weights", {}))

    def save(self, layout: Layout) -> None:
        layout.slots_dir.mkdir(parents=True, exist_ok=True)
        path = layout.slots_dir / "state.json"
        body: dict[str, Any] = {"active": self.active, "weights": self.weights}
        body["slots"] = {s: asdict(v) for s, v in self.slots.items()}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, indent=2) + "\n")
        tmp.replace(path)

    def slot_with(self, version: str) -> str | None:
        return next((s for s, v in self.slots.items() if v.version == version and v.role != "stopped"), None)


def in_use(settings: Settings) -> bool:
    """True once `deploy` has run here: rollbacks then go through the slots."""
    layout = Layout.of(settings)
    return State.load(layout).active is not None


@contextmanager
def locked(layout: Layout) -> Iterator[None]:
    layout.slots_dir.mkdir(parents=True, exist_ok=True)
    with (layout.slots_dir / "deploy.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DeployError("another deploy or rollback is running here") from None
        yield


# ------------------------------------------------------------------------------------------ processes


def _pid(layout: Layout, slot: str, name: str) -> int | None:
    """The pid in `<slot>/<name>.pid` when that process is alive and really runs from this slot."""
    path = layout.dir(slot) / f"{name}.pid"
    try:
        pid = int(path.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (OSError, ValueError):
        return None
    return pid if str(layout.dir(slot)) in cmdline else None


def pids(layout: Layout, slot: str) -> dict[str, int | None]:
    return {name: _pid(layout, slot, name) for name in ("serve", "worker")}


def _pid_text(layout: Layout, slot: str) -> str:
    return ", ".join(f"{name} {pid}" for name, pid in pids(layout, slot).items())


def running(layout: Layout, slot: str) -> bool:
    return all(pids(layout, slot).values())


def _slot_env(layout: Layout, slot: str) -> dict[str, str]:
    """The deploy command's environment, minus what would point the slot at another checkout's code."""
    drop = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "ALOJAMIENTOS_VERSION"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        DEPLOY_DIR=str(layout.repo),
        DEPLOY_SLOTS_DIR=str(layout.slots_dir),
        ALOJAMIENTOS_SLOT=slot,
    )
    if layout.upstream:
        env["DEPLOY_NGINX_UPSTREAM"] = str(layout.upstream)
    if layout.reload:
        env["DEPLOY_NGINX_RELOAD"] = layout.reload
    return env


def slot_cli(layout: Layout, slot: str, *args: str, timeout: float = 600) -> str:
    """`alojamientos ARGS` with the slot's own code (its .venv), in the slot directory."""
    directory = layout.dir(slot)
    result = subprocess.run(  # noqa: S603 - our own executable, arguments from our code
        [str(directory / ".venv/bin/alojamientos"), *args],
        cwd=directory,
        env=_slot_env(layout, slot),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise DeployError(f"`alojamientos {' '.join(args)}` in the {slot} slot failed: {detail[0]}")
    return result.stdout.strip()


def prepare(layout: Layout, slot: str, tag: str) -> str:
    """The slot's directory at `tag` (a detached git worktree of the deploy dir) with its own .venv."""
    directory = layout.dir(slot)
    git(layout.repo, "worktree", "prune")
    if (directory / ".git").is_file():
        git(directory, "checkout", "--quiet", "--force", "--detach", tag)
    else:
        if directory.exists():  # not a worktree of this repository: a leftover
            shutil.rmtree(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        git(layout.repo, "worktree", "add", "--quiet", "--force", "--detach", str(directory), tag)
    env_file = layout.repo / ".env"
    if env_file.exists():
        shutil.copy2(env_file, directory / ".env")
    env = _slot_env(layout, slot)
    env["UV_PYTHON_DOWNLOADS"] = "never"
    python = getattr(sys, "_base_executable", None) or sys.executable
    started = time.perf_counter()
    result = subprocess.run(  # noqa: S603 - the operator's configured uv
        [*shlex.split(layout.uv), "sync", "--frozen", "--no-dev", "--python", python],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise DeployError(f"uv sync in the {slot} slot failed: {result.stderr.strip()[-300:]}")
    return f"{directory} en {tag}, .venv en {time.perf_counter() - started:.1f} s"


def start(layout: Layout, slot: str, tag: str) -> float:
    """Starts the slot's `serve` and `worker`, detached; returns the seconds until it answered as `tag`."""
    directory, port = layout.dir(slot), layout.ports[slot]
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise DeployError(f"port {port} ({slot} slot) is already in use by another process")
    executable = str(directory / ".venv/bin/alojamientos")
    commands = {
        "serve": [executable, "serve", "--host", "127.0.0.1", "--port", str(port)],
        "worker": [executable, "worker"],
    }
    started = time.perf_counter()
    processes: dict[str, subprocess.Popen[bytes]] = {}
    for name, command in commands.items():
        with (directory / f"{name}.log").open("ab") as log_file:
            process = subprocess.Popen(  # noqa: S603 - our own executable
                command,
                cwd=directory,
                env=_slot_env(layout, slot),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives this command, like a service
            )
        (directory / f"{name}.pid").write_text(f"{process.pid}\n")
        processes[name] = process
    _wait_ready(layout, slot, tag.removeprefix("v"), processes)
    return time.perf_counter() - started


def _wait_ready(
    layout: Layout, slot: str, version: str, processes: dict[str, subprocess.Popen[bytes]]
) -> None:
    deadline = time.monotonic() + READY_SECONDS
    seen = "no answer"
    while time.monotonic() < deadline:
        dead = [name for name, process in processes.items() if process.poll() is not None]
        if dead:
            tail = (layout.dir(slot) / f"{dead[0]}.log").read_text(errors="replace").strip().splitlines()[-3:]
            raise DeployError(f"the {slot} slot's {dead[0]} exited on start: {' / '.join(tail)}")
        try:
            body = httpx.get(f"{layout.url(slot)}/api/v1/healthz", timeout=2).json()
            seen = f"{body.get('status')} {body.get('version')}"
            if body.get("status") in ("healthy", "degraded") and body.get("version") == version:
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.2)  # polling a starting process
    raise DeployError(f"the {slot} slot did not answer as {version} within {READY_SECONDS:.0f} s ({seen})")


def stop(layout: Layout, slot: str) -> str:
    """SIGTERM to the slot's serve (uvicorn finishes in-flight requests) and worker (finishes its job)."""
    alive = {name: pid for name, pid in pids(layout, slot).items() if pid}
    for pid in alive.values():
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    while time.monotonic() < deadline and any(_pid(layout, slot, n) for n in alive):
        time.sleep(0.1)
    for name in alive:
        if (survivor := _pid(layout, slot, name)) is not None:
            log.warning("deploy.slot_killed", extra={"slot": slot, "slot_process": name})
            os.kill(survivor, signal.SIGKILL)
        (layout.dir(slot) / f"{name}.pid").unlink(missing_ok=True)
    return f"detenidos {', '.join(f'{n} {p}' for n, p in alive.items())}" if alive else "no estaba corriendo"


# -------------------------------------------------------------------------------------------- nginx


def upstream_text(layout: Layout, state: State, servers: dict[str, int | str], why: str) -> str:
    """The include file: `servers` maps slot → weight (0..100) or "backup". max_fails=0: a 5xx or a
    refused connection is retried on the other slot (proxy_next_upstream) but never takes a slot out of
    rotation, so a canary keeps receiving its share and the watcher sees its real error rate."""
    lines = [f"# written by alojamientos deploy at {utc_now():%Y-%m-%d %H:%M:%S} UTC: {why}"]
    lines.append(f"upstream {UPSTREAM_NAME} {{")
    for slot, weight in servers.items():
        version = state.slots[slot].version
        address = f"127.0.0.1:{layout.ports[slot]}"
        if weight == "backup":
            lines.append(
                f"    server {address} backup;  # previous slot {slot} {version}: rollback and retry target"
            )
        else:
            lines.append(f"    server {address} weight={weight} max_fails=0;  # {slot} {version}")
    lines += ["    keepalive 16;", "}", ""]
    return "\n".join(lines)


def move_traffic(layout: Layout, state: State, servers: dict[str, int | str], why: str) -> float:
    """Rewrites the upstream file and runs the reload once; the previous file comes back if it fails."""
    path, reload = layout.require_nginx()
    previous = path.read_text() if path.exists() else None
    started = time.perf_counter()
    # Written in place (not renamed over): a bind-mounted file keeps its inode, the container sees it.
    with path.open("w") as handle:
        handle.write(upstream_text(layout, state, servers, why))
        handle.flush()
        os.fsync(handle.fileno())
    # An operator-configured command, run as configured (it may need the shell).
    result = subprocess.run(  # noqa: S603
        ["/bin/sh", "-c", reload], capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        if previous is not None:
            path.write_text(previous)
        raise DeployError(f"the nginx reload failed ({result.returncode}): {result.stderr.strip()[:300]}")
    state.weights = dict(servers)
    return time.perf_counter() - started


# ------------------------------------------------------------------------------------------ journal


@dataclass
class Journal:
    """A deploy run and its steps: printed as they happen, stored in deploy_runs/deploy_steps as soon as
    the table exists (a first deploy creates it with its own migrations)."""

    settings: Settings
    kind: str
    version: str
    from_version: str | None
    out: Out
    run_id: int | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    started_at: datetime = field(default_factory=utc_now)
    unavailable: float | None = None

    def step(
        self,
        step: str,
        detail: str,
        *,
        seconds: float | None = None,
        ok: bool = True,
        weight: int | None = None,
        canary: float | None = None,
        stable: float | None = None,
    ) -> None:
        row = {
            "at": utc_now(),
            "step": step,
            "ok": ok,
            "detail": detail,
            "seconds": seconds,
            "canary_weight": weight,
            "canary_5xx": canary,
            "stable_5xx": stable,
        }
        self.steps.append(row)
        self.pending.append(row)
        took = f" ({seconds:.1f} s)" if seconds is not None else ""
        self.out(f"{'✓' if ok else '✗'} {step}{took}: {detail}")
        self.flush()

    def flush(self, status: str = "running", summary: str | None = None) -> bool:
        engine = create_engine(sqlalchemy_url(self.settings.database_url), poolclass=pool.NullPool)
        try:
            with engine.begin() as conn:
                run_id = self.run_id
                if run_id is None:
                    run_id = conn.scalar(
                        insert(DeployRun)
                        .values(
                            kind=self.kind,
                            version=self.version,
                            from_version=self.from_version,
                            status="running",
                            started_at=self.started_at,
                        )
                        .returning(DeployRun.id)
                    )
                if self.pending:
                    conn.execute(insert(DeployStep), [{**r, "run_id": run_id} for r in self.pending])
                if status != "running":
                    conn.execute(
                        update(DeployRun)
                        .where(DeployRun.id == run_id)
                        .values(
                            status=status,
                            summary=summary,
                            finished_at=utc_now(),
                            unavailable_seconds=self.unavailable,
                        )
                    )
            self.run_id, self.pending = run_id, []
            return True
        except DBAPIError as exc:
            # Before the first `db upgrade` the table does not exist yet: kept, written once it does.
            log.info("deploy.journal_pending", extra={"error": str(exc).splitlines()[0]})
            return False
        finally:
            engine.dispose()

    def finish(self, status: str, summary: str) -> None:
        if not self.flush(status, summary):
            ERRORS.labels("deploy.journal").inc()
            log.warning("deploy.journal_not_saved", extra={"status": status, "summary": summary})
            self.out("note: the deploy_runs table is not there (database below 0014): steps not saved")


def current_revision(settings: Settings) -> str | None:
    engine = create_engine(sqlalchemy_url(settings.database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            found = conn.scalar(text("SELECT version_num FROM alembic_version"))
            return str(found) if found else None
    except DBAPIError:
        return None  # an empty database: no alembic_version yet
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------------------- deploy


def _check_tag(layout: Layout, tag: str) -> None:
    if not TAG.match(tag):
        raise DeployError(f"--to must be a release tag like v1.2.3, not {tag!r}")
    try:
        git(layout.repo, "rev-parse", "--verify", "--quiet", f"{tag}^{{commit}}")
    except ReleaseError:
        raise DeployError(f"{layout.repo} has no tag {tag} (git fetch --tags?)") from None


def expire_backup(layout: Layout, state: State, out: Out) -> None:
    """The previous slot is stopped once DEPLOY_KEEP_PREVIOUS_MINUTES have passed."""
    for slot, info in state.slots.items():
        if info.role == "backup" and info.keep_until and datetime.fromisoformat(info.keep_until) < utc_now():
            if state.active:
                move_traffic(layout, state, {state.active: 100}, f"active {state.active}, backup expired")
            out(f"backup slot {slot} ({info.version}) kept past its time: {stop(layout, slot)}")
            info.role, info.keep_until = "stopped", None
            state.save(layout)


def deploy(
    settings: Settings,
    tag: str,
    *,
    canary: int | None = None,
    window: float | None = None,
    with_downtime: bool = False,
    dry_run: bool = False,
    out: Out = print,
) -> str:
    """Runs a deploy; returns the one-line outcome. Raises Refused (exit 2), CanaryRolledBack (exit 3),
    DeployError (exit 1)."""
    from alojamientos.ops.compat import unsafe_migrations

    layout = Layout.of(settings)
    _check_tag(layout, tag)
    if canary is not None and not 1 <= canary <= 99:
        raise DeployError(f"--canary must be a percentage between 1 and 99, not {canary}")
    if canary is not None and with_downtime:
        raise DeployError("--canary and --with-downtime do not go together: a canary needs both slots up")
    revision = current_revision(settings)
    unsafe = unsafe_migrations(layout.repo, revision, tag)
    if unsafe and not with_downtime:
        reasons = "; ".join(map(str, unsafe))
        if not dry_run:
            before = State.load(layout)
            journal = Journal(
                settings,
                "canary" if canary else "blue-green",
                tag,
                before.slots[before.active].version if before.active else None,
                out,
            )
            journal.step("compat", f"la versión en uso no puede convivir con: {reasons}", ok=False)
            journal.finish("refused", reasons)
        raise Refused(f"refused: {reasons} (use --with-downtime)")
    layout.require_nginx()
    with locked(layout):
        state = State.load(layout)
        active = state.active if state.active and running(layout, state.active) else None
        if active and state.slots[active].version == tag:
            return f"{tag} is already live in the {active} slot"
        idle = other(active) if active else "blue"
        mode = "downtime" if with_downtime else "canary" if canary else "blue-green"
        current = state.slots[active].version if active else None
        if dry_run:
            out(f"Deploy plan ({mode}): {current or 'nothing'} → {tag}")
            out(f"  database revision {revision or 'empty'} → {tag_head_revision(layout.repo, tag)}")
            for problem in unsafe:
                out(f"  needs downtime: {problem}")
            out(f"  1. prepare the {idle} slot ({layout.dir(idle)}), port {layout.ports[idle]}")
            out("  2. db upgrade with the new code, 3. start it, 4. verify it on its own port")
            if canary:
                out(f"  5. canary {' → '.join(f'{w} %' for w in canary_steps(canary))}, each watched")
            else:
                out(f"  5. move traffic: one nginx reload ({layout.upstream})")
            out("dry run: nothing changed")
            return "dry run"
        expire_backup(layout, state, out)
        journal = Journal(settings, mode, tag, current, out)
        try:
            stop_first: list[Any] = list(unsafe) or (["--with-downtime"] if with_downtime else [])
            return _deploy(settings, layout, state, journal, tag, active, idle, canary, window, stop_first)
        except DeployError as exc:
            journal.finish("rolled_back" if isinstance(exc, CanaryRolledBack) else "failed", str(exc))
            raise


def canary_steps(first: int) -> list[int]:
    return [first, *([50] if first < 50 else []), 100]


def _deploy(
    settings: Settings,
    layout: Layout,
    state: State,
    journal: Journal,
    tag: str,
    active: str | None,
    idle: str,
    canary: int | None,
    window: float | None,
    unsafe: list[Any],
) -> str:
    out = journal.out
    if unsafe:
        journal.step("compat", "; ".join(map(str, unsafe)) + ": se despliega con el servicio detenido")
    else:
        journal.step("compat", "las migraciones dejan funcionando a la versión en uso")
    reuse = state.slots[idle].version == tag and running(layout, idle) and not unsafe
    if reuse:  # the kept previous slot already runs this release (a deploy after a rollback)
        journal.step(
            "prepare", f"ranura {idle}: {tag} ya corre ahí ({_pid_text(layout, idle)}), sin reinstalar"
        )
    else:
        if any(pids(layout, idle).values()):
            journal.step("free", f"ranura {idle} ({state.slots[idle].version}): {stop(layout, idle)}")
        state.slots[idle] = SlotState(tag, "stopped")
        state.save(layout)
        started = time.perf_counter()
        journal.step("prepare", prepare(layout, idle, tag), seconds=time.perf_counter() - started)
    down_from = None
    if unsafe and active:
        down_from = time.perf_counter()
        journal.step("stop", f"ranura {active} ({state.slots[active].version}): {stop(layout, active)}")
        state.slots[active].role = "stopped"
        state.save(layout)
    started = time.perf_counter()
    migrated = slot_cli(layout, idle, "db", "upgrade").removeprefix("database at ")
    journal.step("migrate", f"base de datos en {migrated}", seconds=time.perf_counter() - started)
    if not reuse:
        seconds = start(layout, idle, tag)
        state.slots[idle].start_seconds = seconds
        journal.step(
            "start",
            f"ranura {idle} en el puerto {layout.ports[idle]}, procesos {_pid_text(layout, idle)}",
            seconds=seconds,
        )
    started = time.perf_counter()
    checks = asyncio.run(verify(layout.url(idle)))
    failed = [c for c in checks if not c.ok]
    journal.step(
        "verify",
        f"{layout.url(idle)}: "
        + ("; ".join(f"{c.name}: {c.detail}" for c in failed) or f"{len(checks)} chequeos bien"),
        seconds=time.perf_counter() - started,
        ok=not failed,
    )
    if failed:
        journal.step("stop", f"ranura {idle}: {stop(layout, idle)}")
        state.slots[idle].role = "stopped"
        state.save(layout)
        raise DeployError(f"verify failed on the new {idle} slot ({failed[0].name}): traffic not moved")
    if canary and active:
        from alojamientos.ops.deploy_canary import run_canary

        run_canary(
            settings,
            layout,
            state,
            journal,
            stable=active,
            canary_slot=idle,
            first=canary,
            window=window or settings.deploy_canary_window_seconds,
        )
    else:
        keep = bool(active) and not unsafe
        servers: dict[str, int | str] = {idle: 100}
        if keep and active:
            servers[active] = "backup"
        why = f"active {idle} {tag}" + (
            f", previous {active} {state.slots[active].version}" if keep and active else ""
        )
        seconds = move_traffic(layout, state, servers, why)
        journal.step(
            "switch",
            f"nginx manda todos los pedidos a {tag} ({idle}); una sola recarga",
            seconds=seconds,
            weight=100,
        )
    if down_from is not None:
        journal.unavailable = time.perf_counter() - down_from
        out(f"the service was unavailable for {journal.unavailable:.1f} s")
    previous = active
    state.active = idle
    state.slots[idle].role, state.slots[idle].keep_until = "active", None
    if previous and state.slots[previous].role != "stopped":
        state.slots[previous].role = "backup"
        state.slots[previous].keep_until = (utc_now() + timedelta(minutes=layout.keep_minutes)).isoformat()
        journal.step(
            "keep",
            f"{state.slots[previous].version} ({previous}) terminó lo que atendía y queda de "
            f"respaldo {layout.keep_minutes} min: `alojamientos rollback --to "
            f"{state.slots[previous].version}` es una recarga",
        )
    state.save(layout)
    summary = f"{tag} live in the {idle} slot" + (
        f" (was {journal.from_version})" if journal.from_version else ""
    )
    journal.finish("done", summary)
    return summary


# ----------------------------------------------------------------------------------------- rollback


def switch_back(settings: Settings, tag: str, out: Out) -> str | None:
    """`rollback --to TAG` while a slot still runs TAG: one upstream rewrite and one reload, no checkout,
    no build, no restart. None when no running slot has TAG (the caller takes the full path)."""
    layout = Layout.of(settings)
    with locked(layout):
        state = State.load(layout)
        slot = state.slot_with(tag)
        if slot is None or not running(layout, slot):
            return None
        if slot == state.active:
            return f"{tag} is already live in the {slot} slot"
        current = state.active
        journal = Journal(settings, "rollback", tag, state.slots[current].version if current else None, out)
        started = time.perf_counter()
        try:
            body = httpx.get(f"{layout.url(slot)}/api/v1/healthz", timeout=5).json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DeployError(f"the {slot} slot ({tag}) does not answer: {exc}") from None
        if body.get("version") != tag.removeprefix("v"):
            return None
        servers: dict[str, int | str] = {slot: 100}
        if current:
            servers[current] = "backup"
        seconds = move_traffic(layout, state, servers, f"rollback: active {slot} {tag}, previous {current}")
        journal.step(
            "switch",
            f"nginx vuelve a mandar todo a {tag} ({slot}); una recarga, sin reiniciar "
            f"(procesos {_pid_text(layout, slot)})",
            seconds=seconds,
            weight=100,
        )
        if current:
            state.slots[current].role = "backup"
            state.slots[current].keep_until = (utc_now() + timedelta(minutes=layout.keep_minutes)).isoformat()
        state.slots[slot].role, state.slots[slot].keep_until = "active", None
        state.active = slot
        state.save(layout)
        elapsed = time.perf_counter() - started
        summary = f"rolled back to {tag} in {elapsed:.1f} s by switching traffic to the {slot} slot"
        journal.finish("done", summary)
        return summary + " (no checkout, no build, no restart)"


def _reverts(repo: Path, tag: str, current: str | None, target: str | None) -> list[tuple[str, bool, str]]:
    """(revision, irreversible, doc) from `current` down to `target`, read from `tag`'s migration files."""
    files = git(repo, "ls-tree", "-r", "--name-only", tag, "--", "src/alojamientos/migrations/versions")
    chain: dict[str, tuple[str | None, bool, str]] = {}
    for name in files.splitlines():
        if not name.endswith(".py") or name.endswith("__init__.py"):
            continue
        body = git(repo, "show", f"{tag}:{name}")
        revision, down = _REVISION.search(body), _DOWN.search(body)
        if revision:
            doc = body.split('"""')[1].strip().splitlines()[0] if body.startswith('"""') else ""
            irreversible = bool(re.search(r"^irreversible\s*=\s*True", body, re.M))
            chain[revision.group(1)] = (down.group(1) if down else None, irreversible, doc)
    steps, at = [], current
    while at and at != target:
        if at not in chain:
            raise DeployError(f"{tag} does not know revision {at}: cannot plan the downgrade")
        below, irreversible, doc = chain[at]
        steps.append((at, irreversible, doc))
        at = below
    if at != target:
        raise DeployError(
            f"the database ({current}) is not ahead of {target}: nothing to downgrade (deploy it instead)"
        )
    return steps


def newest_slot(settings: Settings, layout: Layout, state: State) -> str | None:
    """The slot whose release has the database's current revision as its head: its code knows the newer
    migrations and can downgrade them. After `rollback --to` switched traffic back, that is the backup
    slot, not the active one. The active slot when no slot matches."""
    current = current_revision(settings)
    for slot in SLOTS:
        version = state.slots[slot].version
        if (
            version
            and (layout.dir(slot) / ".venv").exists()
            and tag_head_revision(layout.repo, version) == current
        ):
            return slot
    return state.active


def full_plan_reverts(settings: Settings, target_revision: str | None) -> list[tuple[str, bool, str]]:
    """What a full rollback reverts, read with the newest slot's release (it knows the newer
    migrations; the code running this command may not)."""
    layout = Layout.of(settings)
    state = State.load(layout)
    slot = newest_slot(settings, layout, state)
    newest = state.slots[slot].version if slot else None
    if newest is None:
        return []
    return _reverts(layout.repo, newest, current_revision(settings), target_revision)


def estimate_unavailable(settings: Settings, reverts: int) -> float:
    layout = Layout.of(settings)
    state = State.load(layout)
    starts = [s.start_seconds for s in state.slots.values() if s.start_seconds]
    return (max(starts) if starts else 8.0) + 1.5 * reverts + 2.0


def full_rollback(
    settings: Settings,
    tag: str,
    target_revision: str | None,
    *,
    severity: str,
    reason: str,
    backup: Callable[[], str],
    out: Out,
) -> tuple[str, float]:
    """Today's path through the slots: both stopped, database downgraded with the newest slot's code, the
    target release started (its slot kept, or the idle one checked out), traffic switched, `verify`.
    Returns (summary, seconds the service was unavailable)."""
    layout = Layout.of(settings)
    layout.require_nginx()
    with locked(layout):
        state = State.load(layout)
        newest = newest_slot(settings, layout, state)
        if newest is None:
            raise DeployError("no slot is active: nothing to roll back through the slots")
        journal = Journal(settings, "rollback-full", tag, state.slots[newest].version, out)
        try:
            started = time.perf_counter()
            journal.step("backup", f"copia de seguridad {backup()}", seconds=time.perf_counter() - started)
            target = state.slot_with(tag) if state.slot_with(tag) != newest else None
            target = target or other(newest)
            down_from = time.perf_counter()
            for slot in SLOTS:
                if any(pids(layout, slot).values()):
                    journal.step("stop", f"ranura {slot} ({state.slots[slot].version}): {stop(layout, slot)}")
                    state.slots[slot].role = "stopped"
            state.save(layout)
            started = time.perf_counter()
            detail = slot_cli(layout, newest, "db", "downgrade", target_revision or "base")
            journal.step(
                "downgrade",
                f"con el código de {state.slots[newest].version}: {detail}",
                seconds=time.perf_counter() - started,
            )
            if state.slots[target].version != tag or not (layout.dir(target) / ".venv").exists():
                started = time.perf_counter()
                journal.step("prepare", prepare(layout, target, tag), seconds=time.perf_counter() - started)
            state.slots[target] = SlotState(tag, "stopped")
            state.save(layout)
            seconds = start(layout, target, tag)
            state.slots[target].start_seconds = seconds
            journal.step(
                "start", f"ranura {target} ({tag}) en el puerto {layout.ports[target]}", seconds=seconds
            )
            seconds = move_traffic(layout, state, {target: 100}, f"full rollback: active {target} {tag}")
            journal.unavailable = time.perf_counter() - down_from
            journal.step(
                "switch", f"nginx manda todos los pedidos a {tag} ({target})", seconds=seconds, weight=100
            )
            state.active = target
            state.slots[target].role = "active"
            state.save(layout)
            checks = asyncio.run(verify(layout.url(target)))
            failed = [c for c in checks if not c.ok]
            journal.step(
                "verify",
                "; ".join(f"{c.name}: {c.detail}" for c in failed) or f"{len(checks)} chequeos bien",
                ok=not failed,
            )
        except DeployError as exc:
            journal.finish("failed", str(exc))
            raise
        summary = (
            f"full rollback to {tag} ({severity}: {reason}); the service was unavailable for "
            f"{journal.unavailable:.1f} s"
        )
        journal.finish("done" if not failed else "failed", summary)
        if failed:
            raise DeployError(f"rolled back to {tag} but verify fails: {failed[0].name}")
        return summary, journal.unavailable or 0.0


# ------------------------------------------------------------------------------------------- status


def status(settings: Settings) -> dict[str, Any]:
    layout = Layout.of(settings)
    state = State.load(layout)
    slots = {}
    for slot in SLOTS:
        info = state.slots[slot]
        slots[slot] = {
            "version": info.version,
            "role": info.role,
            "port": layout.ports[slot],
            "pids": pids(layout, slot),
            "keep_until": info.keep_until,
            "weight": state.weights.get(slot),
        }
    return {
        "active": state.active,
        "slots": slots,
        "upstream": str(layout.upstream or ""),
        "last": last_runs(settings, 1),
    }


def last_runs(settings: Settings, limit: int = 5) -> list[dict[str, Any]]:
    engine = create_engine(sqlalchemy_url(settings.database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            runs = (
                conn.execute(text("SELECT * FROM deploy_runs ORDER BY id DESC LIMIT :n"), {"n": limit})
                .mappings()
                .all()
            )
            result = []
            for run in runs:
                steps = (
                    conn.execute(
                        text("SELECT * FROM deploy_steps WHERE run_id = :id ORDER BY id"), {"id": run["id"]}
                    )
                    .mappings()
                    .all()
                )
                result.append({**_plain(dict(run)), "steps": [_plain(dict(s)) for s in steps]})
            return result
    except DBAPIError:
        return []
    finally:
        engine.dispose()


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


# ------------------------------------------------------------------------------- stakeholder message

STEP_LABELS = {
    "compat": "Compatibilidad de las migraciones",
    "free": "Ranura libre",
    "prepare": "Versión nueva preparada al lado de la actual",
    "stop": "Procesos detenidos",
    "migrate": "Migraciones de la base aplicadas",
    "start": "Versión nueva en marcha",
    "verify": "Verificación de la versión nueva",
    "switch": "Tráfico movido",
    "canary": "Canario",
    "watch": "Observación del canario",
    "promote": "Canario promovido",
    "rollback": "Canario retirado",
    "keep": "Versión anterior de respaldo",
    "backup": "Copia de seguridad",
    "downgrade": "Base de datos vuelta atrás",
}
KIND_LABELS = {
    "blue-green": "Despliegue sin cortes",
    "canary": "Despliegue con canario",
    "downtime": "Despliegue con el servicio detenido",
    "rollback": "Vuelta atrás sin redesplegar",
    "rollback-full": "Vuelta atrás completa",
}


def what_happened(run: dict[str, Any]) -> str:
    """One sentence, in Spanish, from the run's kind and status."""
    version, before = run["version"], run.get("from_version") or "ninguna"
    kind, status = run["kind"], run["status"]
    if status == "running":
        return f"En curso: {before} → {version}."
    if status == "rolled_back":
        return (
            f"El canario de {version} tuvo problemas y volvió solo a {before}: los huéspedes no lo notaron."
        )
    if status in ("failed", "refused"):
        return f"No se pudo pasar a {version}; sigue atendiendo {before}."
    if kind == "rollback":
        return f"Se volvió a {version} (desde {before}) con una sola recarga, sin reiniciar."
    if kind == "rollback-full":
        return f"Se volvió a {version} (desde {before}) con la base de datos incluida."
    if kind == "canary":
        return f"{version} pasó el canario (10 → 50 → 100 %) y reemplazó a {before}."
    if not run.get("from_version"):
        return f"{version} quedó atendiendo: es el primer despliegue con ranuras."
    return f"{version} reemplazó a {before} sin cortar el servicio."


def stakeholder_message(run: dict[str, Any], when: str) -> str:
    """The rollback plan's notice for stakeholders ("Template de Notificación"), filled with what the
    run really did. `when` is the run's start, already in the operator's time zone."""
    done = {s["step"] for s in run["steps"] if s["ok"]}
    title = {
        "done": "COMPLETADO",
        "rolled_back": "VUELTO ATRÁS SOLO",
        "failed": "CON PROBLEMAS",
        "running": "EN PROGRESO",
        "refused": "RECHAZADO",
    }.get(run["status"], run["status"])
    unavailable = run.get("unavailable_seconds")
    lines = [
        f"🔄 {KIND_LABELS.get(run['kind'], run['kind']).upper()} {title} - Sistema Alojamientos",
        f"Versión: {run['version']} (antes: {run.get('from_version') or 'ninguna'})",
        f"Hora: {when}",
        f"Qué pasó: {what_happened(run)}",
        "Interrupción del servicio: " + ("ninguna" if not unavailable else f"{unavailable:.0f} s"),
        "Acciones tomadas:",
    ]
    for step in run["steps"]:
        mark = "[x]" if step["ok"] else "[ ]"
        lines.append(f"- {mark} {STEP_LABELS.get(step['step'], step['step'])}: {step['detail']}")
    serving = run["version"] if run["status"] == "done" else (run.get("from_version") or "—")
    lines.append(f"Estado actual: atiende {serving}" + ("; verificación OK" if "verify" in done else ""))
    return "\n".join(lines)
