"""`make rollback-drill`: deploys and rollbacks rehearsed end to end on this machine, under a steady load.

Builds release v1.0.0 (this tree) and v1.1.0 (this tree plus one reversible, expand-only migration, a
nullable `reservations.drill_note` that v1.0.0 never reads, and a deliberately broken endpoint) as tags in
a throwaway git repository, and serves them from the two deploy slots of `alojamientos deploy`
(ops/deploy.py) on a throwaway PostgreSQL and Redis, behind Debian's nginx with the production config
(deploy/nginx, laid out as tests/ops/test_deploy.py does; its upstream include file is what deploy
rewrites before each graceful reload). WhatsApp's Graph API and the SMTP server are the local fakes of
tests/fakes, so every message the releases send is counted.

Phases (each prints its seconds, and the requests sent and failed while it ran):

    setup, not under load    build the releases; services, fakes, nginx; `deploy --to v1.0.0` (the
                             first deploy: nothing served guests before it); seed; start the load
    zero-downtime            steady on v1.0.0
                             `deploy --to v1.1.0 --canary 10`: the canary must roll itself back, for
                             its 5xx (exit 3, `canary rolled back: …5xx…`)
                             `deploy --to v1.1.0`: blue-green; its own `verify` passes, traffic moves
                             breakage detected: v1.1.0's availability 5xx, read on its own port
                             `rollback --to v1.0.0`: one reload back to the kept slot
                             steady on v1.0.0 again (until the zero-downtime phases add up to 1,000
                             requests, at most 30 s: M >= 1,000 whatever this machine's speed)
    downtime allowed         `rollback --to v1.0.0 --full`: both slots stopped, the database
                             downgraded, v1.0.0 started again; its failures are reported, not summed
    zero-downtime            back on v1.0.0 (served through nginx, `verify` passes)
    checks                   no confirmed reservation lost; no WhatsApp message and no e-mail sent
                             twice; the database at v1.0.0's revision

The load (scripts/drill_load.py): 30 requests/s on a fixed schedule through nginx's HTTPS port, a mix of
signed WhatsApp webhooks from a dozen guests in conversation, availability queries and holds (API,
bearer token) and panel pages (logged-in session). Failed means a 5xx or no answer (connection error,
timeout); what nginx retried on the other slot and then answered is what the guest got: a success.

The breakage of v1.1.0, and why it fits every phase: its availability query (GET /api/v1/availability)
answers 500. `verify` does not exercise that path (health, headers, /metrics, booking refusing cleanly),
so the blue-green deploy's own check passes and traffic moves, as it would in real life for a release
that looks fine on its checklist. The load does exercise it (3 requests in 10): the canary's watch sees
the canary's 5xx rate far above the stable slot's and rolls it back by itself; after the blue-green
deploy the same 5xx show on the live slot's /metrics, which is how the drill detects the breakage before
rolling back. Guests see none of it: nginx retries a 500 once on the other slot (proxy_next_upstream
http_500, the previous slot is kept as `backup`); handlers commit at the request edge, so a 5xx changed
nothing. Expand-only matters: v1.0.0 keeps running against v1.1.0's schema during the canary and after
the switch back, until the full rollback takes the column away.

Exit 0 only if: the service is back on v1.0.0 at v1.0.0's database revision, no confirmed reservation
was lost, no WhatsApp message or e-mail was sent twice, and no request failed during the zero-downtime
phases. DRILL_RATE, DRILL_MEASURED, DRILL_CANARY_WINDOW override the rate, the 1,000 and the 10 s
canary window; DRILL_KEEP keeps the work directory; DRILL_VERBOSE prints every command's output.
"""

from __future__ import annotations

import os
import re
import shlex
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from drill_load import Load, Target  # noqa: E402
from tests.fakes.graph import ACCESS_TOKEN, PHONE_NUMBER_ID, GraphServer  # noqa: E402
from tests.fakes.smtp import SMTPServer  # noqa: E402

from alojamientos.ops.release import release_repo, tag_head_revision  # noqa: E402

PY = sys.executable
PASSWORD = "drill-operator-password"
OPERATOR = "drill@example.com"
APP_SECRET = "drill-whatsapp-app-secret"
RATE = float(os.environ.get("DRILL_RATE", "30"))  # requests/s: at least 20; 1,000 within the deploys
MEASURED = int(
    os.environ.get("DRILL_MEASURED", "1000")
)  # requests the zero-downtime phases must add up to (the last steady phase waits for them)  # requests/s: M >= 1,000 within the zero-downtime phases
NGINX_DIR = ROOT / "deploy/nginx"
BROKEN = """

def _deliberately_broken() -> None:
    raise RuntimeError("v1.1.0 drill: availability is broken on purpose")
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


def uv_command() -> str:
    """How slots install their .venv: uv on PATH, else the one `make install` put in python3.11."""
    if found := shutil.which("uv"):
        return found
    return f"{shutil.which('python3.11') or 'python3'} -m uv"


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if not found:  # scripts/services.sh start installs it (nginx-light) on a clean Debian machine
        raise SystemExit("drill: nginx is not installed: apt-get install -y nginx-light")
    return found


class Edge:
    """Debian's nginx with the production config (deploy/nginx) on a free loopback port.

    The app's upstream is the include file next to nginx.conf that `alojamientos deploy` and `rollback`
    rewrite before each graceful reload (DEPLOY_NGINX_UPSTREAM, DEPLOY_NGINX_RELOAD).
    """

    def __init__(self, work: Path) -> None:
        self.prefix = work / "nginx"
        self.conf = self.prefix / "conf"
        self.upstream = self.conf / "alojamientos-upstream.conf"
        self.https_port = free_port()
        self.url = f"https://127.0.0.1:{self.https_port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def args(self, directives: str = "") -> list[str]:
        # One -g only: nginx keeps the last one it is given.
        return [nginx_binary(), "-p", f"{self.prefix}/", "-c", str(self.conf / "nginx.conf"),
                "-e", "stderr", "-g", f"pid {self.prefix}/nginx.pid;{directives}"]  # fmt: skip

    @property
    def reload_command(self) -> str:
        return shlex.join([*self.args(), "-s", "reload"])

    def render(self, first_port: int) -> None:
        """The container's /etc/nginx layout, as tests/ops/test_deploy.py lays it out, plus the upstream file."""
        (self.conf / "conf.d").mkdir(parents=True)
        shutil.copy(NGINX_DIR / "nginx.conf", self.conf / "nginx.conf")
        shutil.copy(NGINX_DIR / "security-headers.conf", self.conf / "security-headers.conf")
        (self.conf / "mime.types").write_text("types {\n    text/html html;\n    application/json json;\n}\n")
        cert, key = self.prefix / "fullchain.pem", self.prefix / "privkey.pem"
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-keyout", str(key), "-out", str(cert), env=dict(os.environ))  # fmt: skip
        values = {
            "NGINX_LISTEN_HTTP": f"127.0.0.1:{free_port()}",
            "NGINX_LISTEN_HTTPS": f"127.0.0.1:{self.https_port}",
            "NGINX_SERVER_NAME": "localhost",
            "NGINX_UPSTREAM": f"127.0.0.1:{first_port}",
            "NGINX_TLS_CERT": str(cert),
            "NGINX_TLS_KEY": str(key),
        }
        text = re.sub(
            r"\$\{(NGINX_[A-Z_]+)\}",
            lambda m: values[m.group(1)],
            (NGINX_DIR / "alojamientos.conf").read_text(),
        )
        # The upstream lives in its own file that deploy rewrites (deploy/nginx/alojamientos-upstream.conf);
        # a template that still has the block inline gets the same include.
        text = re.sub(
            r"^upstream alojamientos_app \{.*?^\}", f"include {self.upstream.name};", text, flags=re.S | re.M
        )
        assert f"include {self.upstream.name};" in text, (
            "the nginx template no longer includes the upstream file"
        )
        # Until the first deploy writes it: the first slot's port, not answering yet.
        self.upstream.write_text(f"upstream alojamientos_app {{\n    server 127.0.0.1:{first_port};\n}}\n")
        (self.conf / "conf.d/alojamientos.conf").write_text(text)

    def start(self) -> str:
        log = (self.prefix / "nginx.log").open("wb")
        self.proc = subprocess.Popen(self.args(" daemon off;"), stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.https_port), timeout=0.5):
                    return f"nginx on {self.url}"
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"drill: nginx did not start:\n{self.log_tail()}") from None
                time.sleep(0.05)

    def log_tail(self, lines: int = 30) -> str:
        text = (self.prefix / "nginx.log").read_text(errors="replace")
        return (
            "\n".join(line for line in text.splitlines() if "[" in line and "] " in line)[-4000:]
            or text[-2000:]
        )

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Drill:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.repo = work / "deploy"
        self.phases: list[tuple[str, float, bool]] = []  # name, seconds, zero-downtime
        self.ports = {"blue": free_port(), "green": free_port()}
        self.edge = Edge(work)
        self.load: Load | None = None
        self.procs: list[subprocess.Popen[bytes]] = []

    def phase(self, name: str, step: Callable[[], str | None], *, zero_downtime: bool | None = None) -> None:
        """One step; under load when the load runs (`zero_downtime` says which total it counts in)."""
        if self.load:
            self.load.set_phase(name)
        started = time.perf_counter()
        print(f"… {name}", flush=True)
        try:
            detail = step()
        finally:  # a phase that fails is still reported, with what the load saw during it
            elapsed = time.perf_counter() - started
            self.phases.append((name, elapsed, bool(zero_downtime)))
        print(f"✓ {name} ({elapsed:.1f} s){': ' + detail if detail else ''}", flush=True)

    # -- releases ------------------------------------------------------------------------------------

    def build_releases(self) -> str:
        git = release_repo(ROOT, self.repo, "v1.0.0")
        env = dict(os.environ)
        head = tag_head_revision(self.repo, "v1.0.0")
        migration = self.repo / "src/alojamientos/migrations/versions/2099-01-01-0000_drill_extra.py"
        migration.write_text(f'''"""Drill: an extra reversible, expand-only migration (a nullable column v1.0.0 ignores)."""

import sqlalchemy as sa
from alembic import op

revision: str = "9001_drill_extra"
down_revision: str | None = "{head}"
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
        marker = "async def availability(\n"
        assert marker in source, "the availability endpoint moved: update the drill's breakage"
        source = source.replace(
            marker, marker + "    _broken: Annotated[None, Depends(_deliberately_broken)],\n", 1
        )
        if "Depends" not in source.split("router = APIRouter(")[0].split("def _deliberately_broken")[0]:
            source = source.replace(
                "from fastapi import APIRouter,", "from fastapi import APIRouter, Depends,", 1
            )
        api.write_text(source)
        run(*git, "add", "-A", env=env)
        run(*git, "commit", "-q", "-m", "release 1.1.0 (availability broken on purpose)", env=env)
        run(*git, "tag", "v1.1.0", env=env)
        run(*git, "checkout", "-q", "--detach", "v1.0.0", env=env)
        return f"v1.0.0 and v1.1.0 in {self.repo} (extra migration on top of {head})"

    # -- services, fakes, nginx ----------------------------------------------------------------------

    def start_services(self) -> str:
        run(str(ROOT / "scripts/services.sh"), "start", str(self.work / "run"), env=dict(os.environ))
        values = {}
        for line in (self.work / "run/services.env").read_text().splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            values[key] = value
        self.graph_server = GraphServer()
        self.graph = self.graph_server.__enter__()
        self.smtp_server = SMTPServer()
        self.smtp = self.smtp_server.__enter__()
        self.edge.render(self.ports["blue"])
        self.env = {
            **os.environ,
            "DATABASE_URL": values["DATABASE_URL"],
            "REDIS_URL": values["REDIS_URL"],
            "ALOJAMIENTOS_ENV": "production",
            "ALOJAMIENTOS_ENV_FILE": "",
            "SECRET_KEY": "drill-only-signing-key-0123456789abcdef-0123",
            "PUBLIC_BASE_URL": self.edge.url,
            "PYTHONPATH": str(self.repo / "src"),
            "DEPLOY_DIR": str(self.repo),
            "BACKUP_DIR": str(self.work / "backups"),
            "DEPLOY_SLOTS_DIR": str(self.work / "slots"),
            "DEPLOY_BLUE_PORT": str(self.ports["blue"]),
            "DEPLOY_GREEN_PORT": str(self.ports["green"]),
            "DEPLOY_NGINX_UPSTREAM": str(self.edge.upstream),
            "DEPLOY_NGINX_RELOAD": self.edge.reload_command,
            "DEPLOY_UV": uv_command(),
            "LOG_LEVEL": "WARNING",
            "WHATSAPP_APP_SECRET": APP_SECRET,
            "WHATSAPP_API_BASE": self.graph.url,
            "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
            "WHATSAPP_VERIFY_TOKEN": "drill-verify-token",
            "SMTP_HOST": self.smtp.host,
            "SMTP_PORT": str(self.smtp.port),
            "SMTP_FROM": "Cabañas del Drill <reservas@example.com>",
            "SMTP_STARTTLS": "false",
            "OPERATOR_EMAIL": "dueno@example.com",
            # Every simulated guest reaches nginx from 127.0.0.1: the per-address webhook limit would
            # be measuring one address, not the deploy (nginx's own 20 r/s zone still applies).
            "RATE_LIMIT_WEBHOOKS_PER_MINUTE": "0",
        }
        edge = self.edge.start()
        return f"PostgreSQL and Redis under {self.work / 'run'}; Graph and SMTP fakes; {edge}"

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

    def deploy(self, *args: str, expect: int = 0) -> str:
        """`alojamientos deploy ARGS`; its exit status must be `expect` (3: a canary that rolled back)."""
        result = self.cli("deploy", *args, check=False)
        self.transcript(f"deploy {' '.join(args)}", result)
        if result.returncode != expect:
            raise SystemExit(
                f"drill: alojamientos deploy {' '.join(args)} exited {result.returncode}, expected {expect}:\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-2000:]}"
            )
        if expect == 3:  # the canary rolled back: it must have been for the breakage, not anything else
            why = result.stderr.strip().splitlines()[-1]
            if "5xx" not in why:
                raise SystemExit(f"drill: the canary rolled back, but not for its 5xx: {why}")
            return why
        return result.stdout.strip().splitlines()[-1]

    def rollback(self, *args: str) -> str:
        result = self.cli(
            "rollback", "--to", "v1.0.0", *args, "--accept-risk", "--severity", "SEV2",
            "--reason", "v1.1.0 rompió la consulta de disponibilidad (simulacro)", check=False,
        )  # fmt: skip
        self.transcript(f"rollback --to v1.0.0 {' '.join(args)}", result)
        if result.returncode != 0:
            raise SystemExit(f"drill: rollback failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
        lines = result.stdout.strip().splitlines()
        return "; ".join(
            line for line in lines if line.startswith(("rolled back", "the service", "full rollback"))
        )

    def transcript(self, what: str, result: subprocess.CompletedProcess[str]) -> None:
        """Every command's output goes to the drill's log (printed when DRILL_VERBOSE is set)."""
        text = f"$ alojamientos {what}  (exit {result.returncode})\n{result.stdout}{result.stderr}\n"
        with (self.work / "commands.log").open("a") as log:
            log.write(text)
        if os.environ.get("DRILL_VERBOSE"):
            print(text, flush=True)

    def serving(self, version: str) -> str:
        """The version nginx serves, asked through nginx."""
        body = httpx.get(f"{self.edge.url}/api/v1/healthz", timeout=10, verify=False).json()  # noqa: S501
        if body.get("version") != version:
            raise SystemExit(f"drill: nginx serves {body.get('version')}, expected {version}")
        return f"nginx serves {version} at revision {body['revision']}"

    # -- data ----------------------------------------------------------------------------------------

    def seed(self) -> str:
        self.cli("users", "create", OPERATOR, "--password-stdin", stdin=PASSWORD + "\n")
        with httpx.Client(base_url=self.edge.url, timeout=10, verify=False) as http:  # noqa: S501
            token = http.post("/api/v1/auth/token", data={"username": OPERATOR, "password": PASSWORD})
            http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            self.units = []
            for name, capacity in (("Cabaña Bosque", 4), ("Cabaña Lago", 6), ("Cabaña Sierra", 4)):
                unit = http.post(
                    "/api/v1/accommodations", json={"name": name, "capacity": capacity, "base_price": "50000"}
                )
                if unit.status_code != 201:
                    raise SystemExit(f"drill: creating a unit failed: {unit.text}")
                self.units.append(unit.json()["id"])
            start = date.today() + timedelta(days=10)
            for n in range(8):
                check_in = start + timedelta(days=3 * n)
                response = http.post(
                    "/api/v1/reservations",
                    json={
                        "accommodation_id": self.units[0],
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
        return f"{len(self.units)} units, {len(self.confirmed)} confirmed and {8 - len(self.confirmed)} held"

    def start_load(self) -> str:
        target = Target(
            base=self.edge.url,
            app_secret=APP_SECRET,
            phone_number_id=PHONE_NUMBER_ID,
            operator_email=OPERATOR,
            operator_password=PASSWORD,
            units=self.units,
            holds_from=date.today() + timedelta(days=60),
        )
        self.load = Load(target, rate=RATE)
        self.load.start()
        return f"{RATE:g} requests/s through nginx: webhooks, availability, holds, panel pages"

    def until_measured(self, at_least: int, *, minimum: float = 2, cap: float = 30) -> str:
        """Keeps watching v1.0.0 under load until the zero-downtime phases have `at_least` requests."""
        assert self.load is not None
        started = time.monotonic()
        zero = {name for name, _, zero_downtime in self.phases if zero_downtime} | {self.load.phase}
        while time.monotonic() - started < cap:
            measured = sum(c.sent for name, c in self.load.counts().items() if name in zero)
            if measured >= at_least and time.monotonic() - started >= minimum:
                break
            time.sleep(0.25)
        return f"; {measured} requests measured in zero-downtime phases so far"

    def steady(self, seconds: float) -> str:
        time.sleep(seconds)
        return ""

    def confirmed_codes(self) -> set[str]:
        with psycopg.connect(self.env["DATABASE_URL"]) as conn:
            rows = conn.execute(
                "SELECT code FROM reservations WHERE status = 'confirmed' AND kind = 'stay'"
            ).fetchall()
        return {code for (code,) in rows}

    # -- checks --------------------------------------------------------------------------------------

    def verify(self, url: str, *, expect_ok: bool) -> str:
        result = (
            self.cli("verify", url, "--insecure", check=False)
            if url.startswith("https")
            else self.cli("verify", url, check=False)
        )
        ok = result.returncode == 0
        if ok != expect_ok:
            print(result.stdout.rstrip())
            raise SystemExit(f"drill: verify {'passed' if ok else 'failed'}, expected the opposite")
        failed = [line for line in result.stdout.splitlines() if line.startswith("✗")]
        return "all checks pass" if ok else f"caught: {'; '.join(failed)}"

    def availability_5xx(self, url: str) -> int:
        """5xx answers of the availability route, from that release's own /metrics."""
        text = httpx.get(f"{url}/metrics", timeout=5).text
        total = 0
        for line in text.splitlines():
            if line.startswith("alojamientos_http_requests_total{") and "availability" in line:
                if re.search(r'status="5\d\d"', line):
                    total += int(float(line.rsplit(" ", 1)[1]))
        return total

    def settle(self) -> None:
        """Wait until the worker has sent everything the load queued (or give up after 20 s)."""
        deadline = time.monotonic() + 20
        with psycopg.connect(self.env["DATABASE_URL"], autocommit=True) as conn:
            while time.monotonic() < deadline:
                row = conn.execute(
                    "SELECT count(*) FROM jobs WHERE status IN ('pending', 'running') AND run_at <= now()"
                ).fetchone()
                if row and row[0] == 0:
                    return
                time.sleep(0.3)

    def nothing_lost_or_doubled(self) -> str:
        self.settle()
        problems = []
        after = self.confirmed_codes()
        lost = self.confirmed - after
        if lost:
            problems.append(f"confirmed reservations lost: {sorted(lost)}")
        with psycopg.connect(self.env["DATABASE_URL"]) as conn:
            recorded = [
                wamid
                for (wamid,) in conn.execute(
                    "SELECT wamid FROM conversation_messages WHERE direction = 'out' AND wamid IS NOT NULL"
                ).fetchall()
            ]
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
        # Graph gives every accepted send a new wamid; the worker records it on the one outbound
        # message row (only while it has none), so a message sent twice leaves a wamid unrecorded.
        sent = [m["_wamid"] for m in list(self.graph.sent)]
        unrecorded = set(sent) - set(recorded)
        if len(sent) != len(set(recorded)) or unrecorded:
            problems.append(
                f"WhatsApp: {len(sent)} sends to Graph for {len(set(recorded))} recorded messages"
                f" ({len(unrecorded)} sends not recorded: sent twice)"
            )
        ids = [d.message["Message-ID"] for d in list(self.smtp.messages)]
        doubled = {i for i in ids if ids.count(i) > 1}
        if doubled:
            problems.append(f"e-mails delivered twice: {sorted(doubled)[:5]}")
        expected = tag_head_revision(self.repo, "v1.0.0")
        if revision != expected:
            problems.append(f"database at {revision}, v1.0.0 expects {expected}")
        if problems:
            raise SystemExit("drill: " + "; ".join(problems))
        return (
            f"all {len(self.confirmed)} confirmed reservations present; {len(sent)} WhatsApp messages and"
            f" {len(ids)} e-mails, none twice; database at {revision}"
        )

    def breakage_detected(self) -> str:
        """The live release's own 5xx on the path the load uses and `verify` does not (availability),
        read on its slot's port (the slot answering as 1.1.0), as the canary's watch reads it."""
        slot, url = next(
            (
                (slot, f"http://127.0.0.1:{port}")
                for slot, port in self.ports.items()
                if self.version_at(port) == "1.1.0"
            ),
            (None, ""),
        )
        if slot is None:
            raise SystemExit("drill: no slot answers as 1.1.0 after the blue-green deploy")
        deadline = time.monotonic() + 20
        while (errors := self.availability_5xx(url)) == 0 and time.monotonic() < deadline:
            time.sleep(0.25)
        if errors == 0:
            raise SystemExit(f"drill: 1.1.0 ({slot} slot) answered no availability query with 5xx in 20 s")
        return f"v1.1.0 ({slot} slot) answered {errors} availability queries with 5xx; nginx retried them on the backup"

    @staticmethod
    def version_at(port: int) -> str | None:
        try:
            version = httpx.get(f"http://127.0.0.1:{port}/api/v1/healthz", timeout=5).json().get("version")
        except (httpx.HTTPError, ValueError):
            return None
        return str(version) if version else None

    # -- teardown ------------------------------------------------------------------------------------

    def stop(self) -> None:
        if self.load:
            self.load.stop()
        # The slots' processes, started by `alojamientos deploy` with pid files in each slot directory.
        for pidfile in sorted((self.work / "slots").glob("*/*.pid")):
            try:
                os.kill(int(pidfile.read_text()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass
        self.edge.stop()
        for server in ("graph_server", "smtp_server"):
            if hasattr(self, server):
                getattr(self, server).__exit__(None, None, None)
        subprocess.run(
            [str(ROOT / "scripts/services.sh"), "stop", str(self.work / "run")],
            capture_output=True,
            timeout=120,
            check=False,
        )


def report(drill: Drill, total: float) -> int:
    assert drill.load is not None
    counts = drill.load.counts()
    print("\nRollback drill: per phase (requests sent through nginx during the phase, and failed)")
    zd_sent = zd_failed = 0
    for name, seconds, zero_downtime in drill.phases:
        count = counts.get(name)
        sent, failed = (count.sent, count.failed) if count else (0, 0)
        if zero_downtime:
            zd_sent, zd_failed = zd_sent + sent, zd_failed + failed
        kind = "zero-downtime" if zero_downtime else ("downtime allowed" if count else "not under load")
        line = f"  {name:<44} {seconds:6.1f} s  {sent:6d} sent  {failed:5d} failed  ({kind})"
        if count and count.failures:
            line += "  " + ", ".join(f"{k} ×{v}" for k, v in count.failures.most_common(4))
        print(line)
    print(f"  {'total':<44} {total:6.1f} s")
    print(
        "  latency through nginx: "
        + "; ".join(
            f"{kind} {n} p50 {p50:.0f} ms p95 {p95:.0f} ms"
            for kind, (n, p50, p95) in drill.load.latencies().items()
        )
    )
    print(f"failed requests during zero-downtime phases: {zd_failed} of {zd_sent}")
    return zd_failed


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="aloj-drill-"))
    os.chmod(work, 0o755)  # noqa: S103 - PostgreSQL (user postgres) keeps its data under it
    drill = Drill(work)
    started = time.perf_counter()
    failed_zero_downtime = -1
    window = os.environ.get("DRILL_CANARY_WINDOW", "10")
    try:
        # Setup, not under load: nothing serves guests before the first deploy.
        drill.phase("build releases v1.0.0 and v1.1.0", drill.build_releases)
        drill.phase("throwaway PostgreSQL, Redis, fakes, nginx", drill.start_services)
        drill.phase("first deploy v1.0.0 (blue)", lambda: drill.deploy("--to", "v1.0.0"))
        drill.phase("seed units and reservations", drill.seed)
        drill.phase("start the load", drill.start_load)
        # Under load; guests must not notice any of these.
        zero = {"zero_downtime": True}
        drill.phase("steady on v1.0.0", lambda: drill.steady(2), **zero)
        drill.phase(
            "canary v1.1.0 at 10 % (rolls itself back)",
            lambda: drill.deploy("--to", "v1.1.0", "--canary", "10", "--canary-window", window, expect=3),
            **zero,
        )
        drill.phase("blue-green deploy v1.1.0", lambda: drill.deploy("--to", "v1.1.0"), **zero)
        drill.phase("breakage detected (availability 5xx)", drill.breakage_detected, **zero)
        drill.phase("rollback --to v1.0.0 (traffic switch)", drill.rollback, **zero)
        drill.phase(
            "steady on v1.0.0 again", lambda: drill.serving("1.0.0") + drill.until_measured(MEASURED), **zero
        )
        # Downtime allowed, and measured: the database goes back too.
        drill.phase("full rollback --to v1.0.0 --full (downgrade)", lambda: drill.rollback("--full"))
        drill.phase(
            "back on v1.0.0",
            lambda: drill.serving("1.0.0") + "; " + drill.verify(drill.edge.url, expect_ok=True),
            **zero,
        )
        assert drill.load is not None
        drill.load.stop()
        drill.load.set_phase("after")
        drill.phase("no reservation lost, nothing sent twice", drill.nothing_lost_or_doubled)
        failed_zero_downtime = report(drill, time.perf_counter() - started)
    except SystemExit as exc:  # a check failed: say so, and still show what the load saw until then
        print(exc, file=sys.stderr, flush=True)
        if drill.load:
            drill.load.stop()
            report(drill, time.perf_counter() - started)
        return 1
    finally:
        drill.stop()
        if os.environ.get("DRILL_KEEP"):
            print(f"drill: kept {work} (DRILL_KEEP)")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if failed_zero_downtime == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
