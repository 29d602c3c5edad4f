"""The first hour, as a newcomer lives it: `make run` in a fresh checkout, then the CLI beside it.

The checkout is a copy of this one's files (tracked and new, nothing git ignores: no .env, no .run),
so `make run` starts its own PostgreSQL and Redis on free ports and never meets CI's (.run/test).
The copy shares this checkout's virtualenv, which `make -o .venv/.installed` leaves untouched.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.fixtures.server import free_port

ROOT = Path(__file__).resolve().parents[2]
# What a person's shell has; none of the test suite's own settings.
PASSED_ON = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "UV_CACHE_DIR")


# What .gitignore keeps out of a clone, for a source tree that is not a git checkout.
NOT_IN_A_CLONE = (
    ".git",
    ".venv",
    ".run",
    ".env",
    "backups",
    "__pycache__",
    "*.pyc",
    ".*_cache",
    "test-output",
)


def fresh_checkout(target: Path) -> None:
    """The files a clone has (with their times, so make sees the shared virtualenv as current)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0:
        shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(*NOT_IN_A_CLONE), dirs_exist_ok=True)
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / ".venv").symlink_to(ROOT / ".venv")


class Checkout:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if k in PASSED_ON}
        self.server: subprocess.Popen[str] | None = None
        self.drain = threading.Thread()

    def make_run(self) -> list[str]:
        """Starts `make run` in the background; returns its output up to "serving on"."""
        self.server = subprocess.Popen(
            ["make", "-o", ".venv/.installed", "run"],
            cwd=self.path,
            env={**self.env, "PORT": str(self.port)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        lines: list[str] = []
        assert self.server.stdout is not None
        for line in self.server.stdout:
            lines.append(line.rstrip())
            if line.startswith("run: serving on"):
                break
        else:
            pytest.fail("make run ended before serving:\n" + "\n".join(lines))
        # The server and worker log on: keep reading, or they block on a full pipe.
        self.drain = threading.Thread(target=self.server.stdout.read, daemon=True)
        self.drain.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v1/healthz", timeout=2).status_code == 200:
                    return lines
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        pytest.fail("the server never answered:\n" + "\n".join(lines))

    def stop_server(self) -> None:
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGINT)  # Ctrl-C, as a person stops it
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait()
        if self.server is not None:
            self.drain.join(timeout=10)
            assert self.server.stdout is not None
            self.server.stdout.close()
        self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """`alojamientos ARGS` in the checkout, with nothing else typed."""
        return subprocess.run(
            [".venv/bin/alojamientos", *args],
            cwd=self.path,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def dotenv(self, name: str) -> str:
        match = re.search(rf"^{name}=(.*)$", (self.path / ".env").read_text(), re.MULTILINE)
        assert match, f"{name} is not in .env"
        return match.group(1)

    def database_url(self) -> str:
        match = re.search(r"DATABASE_URL=(\S+)", (self.path / ".run/dev/services.env").read_text())
        assert match
        return match.group(1)


@pytest.fixture
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checkout]:
    path = tmp_path_factory.mktemp("clone")
    path.chmod(0o755)  # PostgreSQL runs as its own user when we are root: it must reach the cluster
    fresh_checkout(path)
    made = Checkout(path)
    try:
        yield made
    finally:
        made.stop_server()
        subprocess.run(["scripts/services.sh", "stop", ".run/dev"], cwd=path, env=made.env, check=False)
        pg_dir = path / ".run/dev/pg.dir"
        if pg_dir.is_file():  # the cluster may live outside the checkout (see services.sh)
            shutil.rmtree(pg_dir.read_text().strip(), ignore_errors=True)
        shutil.rmtree(path, ignore_errors=True)


def home_attention(checkout: Checkout) -> str:
    """The text of the panel home's "Requiere atención" card, logged in as the demo operator."""
    with httpx.Client(base_url=checkout.url, timeout=10) as panel:
        form = panel.get("/admin/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token
        login = panel.post(
            "/admin/login",
            data={
                "email": "operador@demo.local",
                "password": checkout.dotenv("DEMO_OPERATOR_PASSWORD"),
                "csrf_token": token.group(1),
            },
        )
        assert login.status_code == 303, login.text
        home = panel.get("/admin/")
        assert home.status_code == 200
    card = re.search(r'<section class="tarjeta atencion" id="atencion">(.*?)</section>', home.text, re.S)
    assert card, home.text
    return " ".join(re.sub(r"<[^>]+>", " ", card.group(1)).split())


def counts(checkout: Checkout) -> tuple[int, int]:
    with psycopg.connect(checkout.database_url()) as conn:
        units = conn.execute("SELECT count(*) FROM accommodations").fetchone()
        operators = conn.execute("SELECT count(*) FROM operators").fetchone()
    assert units and operators
    return units[0], operators[0]


def test_make_run_then_the_cli_beside_it(checkout: Checkout) -> None:
    first = checkout.make_run()
    assert any("demo data loaded" in line for line in first), first

    chat = checkout.cli("chat", stdin="hola! tienen lugar para 2 el finde?\n")
    assert chat.returncode == 0, chat.stderr
    assert "bot> " in chat.stdout
    where = f"127.0.0.1:{checkout.database_url().rsplit(':', 1)[1]}"
    assert chat.stderr.strip() == f"using the database at {where} (from .run/dev/services.env)"

    # The worker takes the first backup on its own a moment after start; until then doctor says so.
    deadline = time.monotonic() + 90
    while (doctor := checkout.cli("doctor")).returncode != 0 and time.monotonic() < deadline:
        time.sleep(2)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "✓ channels: WhatsApp and e-mail not configured" in doctor.stdout

    assert home_attention(checkout) == "Requiere atención (0) Todo en orden."
    for command in (("flags", "list"), ("backup", "list"), ("ical", "sync")):
        result = checkout.cli(*command)
        assert result.returncode == 0, (command, result.stderr)
        assert result.stderr.startswith("using the database at"), (command, result.stderr)

    checkout.stop_server()
    before = counts(checkout)
    assert before == (3, 1)
    again = checkout.make_run()
    assert any("demo not loaded" in line for line in again), again
    assert counts(checkout) == before
    assert home_attention(checkout) == "Requiere atención (0) Todo en orden."
