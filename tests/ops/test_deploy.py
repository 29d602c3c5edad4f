"""Deploy artifacts: the Dockerfile and compose file checked statically, the nginx config run for real.

nginx (Debian package `nginx-light` or `nginx`) and `openssl` are required: a missing one fails the test.
The nginx test lays out deploy/nginx/ the way the compose container does, renders the template's
${NGINX_*} placeholders (the image does it with envsubst), and starts nginx in the foreground on free
loopback ports in front of a real `alojamientos serve` (the `live_server` fixture).
"""

from __future__ import annotations

import http.server
import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.server import free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NGINX_DIR = DEPLOY / "nginx"


# ------------------------------------------------------------------------------------------------ YAML
# PyYAML is not a dependency. The compose file uses a small subset of YAML (block mappings and
# sequences, flow lists, quoted scalars, one anchor and merge key); this reads exactly that subset
# and fails loudly on anything else, so a structural mistake cannot pass unnoticed.


def _strip_comment(line: str) -> str:
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()


def _split_flow(text: str) -> list[str]:
    parts, depth, quote, current = [], 0, None, ""
    for ch in text:
        if quote:
            current += ch
            if ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        current += ch
    if current.strip():
        parts.append(current.strip())
    assert quote is None and depth == 0, f"unbalanced flow collection: {text!r}"
    return parts


def _scalar(text: str) -> Any:
    text = text.strip()
    if text.startswith("["):
        assert text.endswith("]"), text
        return [_scalar(p) for p in _split_flow(text[1:-1])]
    if text.startswith("{"):
        assert text.endswith("}"), text
        return dict(_key_value(p) for p in _split_flow(text[1:-1]))
    if text.startswith('"'):
        assert text.endswith('"') and len(text) >= 2, f"unterminated string: {text}"
        return json.loads(text)
    if text.startswith("'"):
        assert text.endswith("'") and len(text) >= 2, f"unterminated string: {text}"
        return text[1:-1].replace("''", "'")
    assert not text.startswith(("&", "*", "|", ">", "!")), f"unsupported YAML: {text}"
    return text


def _key_value(text: str) -> tuple[str, Any]:
    match = re.match(r"^([A-Za-z0-9_.<-]+):(?:\s+(.*))?$", text)
    assert match, f"not a key: value line: {text!r}"
    return match.group(1), match.group(2) or ""


def parse_compose_yaml(source: str) -> dict[str, Any]:
    lines = [
        (len(raw) - len(raw.lstrip(" ")), _strip_comment(raw).strip())
        for raw in source.splitlines()
        if _strip_comment(raw).strip()
    ]
    assert all("\t" not in raw[: len(raw) - len(raw.lstrip())] for raw in source.splitlines())
    anchors: dict[str, Any] = {}

    def block(i: int, indent: int) -> tuple[Any, int]:
        if lines[i][1].startswith("- "):
            items = []
            while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
                items.append(_scalar(lines[i][1][2:]))
                i += 1
            return items, i
        mapping: dict[str, Any] = {}
        while i < len(lines) and lines[i][0] == indent:
            key, rest = _key_value(lines[i][1])
            assert key not in mapping, f"duplicate key {key!r}"
            i += 1
            anchor = None
            if rest.startswith("&"):
                anchor, _, rest = rest.partition(" ")
                anchor = anchor[1:]
            if rest.startswith("*"):
                value = anchors[rest[1:]]
            elif rest:
                value = _scalar(rest)
            else:
                assert i < len(lines) and lines[i][0] > indent, f"{key}: has no value"
                value, i = block(i, lines[i][0])
            if anchor:
                anchors[anchor] = value
            if key == "<<":
                mapping = {**value, **mapping}
            else:
                mapping[key] = value
        return mapping, i

    result, end = block(0, 0)
    assert end == len(lines), f"unparsed from line: {lines[end][1]!r}"
    assert isinstance(result, dict)
    return result


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return parse_compose_yaml((DEPLOY / "docker-compose.yml").read_text())


# ------------------------------------------------------------------------------------------ Dockerfile


def test_dockerfile_is_multi_stage_pinned_and_non_root() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    instructions = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    froms = [line for line in instructions if line.startswith("FROM ")]
    assert len(froms) >= 2, "multi-stage: a builder and a runtime stage"
    assert any(" AS builder" in line for line in froms)
    assert any(line.startswith("COPY --from=builder") for line in instructions)
    # Pinned: an exact Python patch release on a named Debian release, never a floating tag.
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert base and re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", base.group(1))
    assert "@sha256:" in text, "a comment shows how to pin by digest in production"
    assert re.search(r'pip install "uv==\$\{UV_VERSION\}"', text)
    makefile_uv = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert makefile_uv and f"ARG UV_VERSION={makefile_uv.group(1)}" in text, "same uv as the Makefile"
    assert "uv sync --frozen --no-dev" in text
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users, "a USER instruction"
    assert users[-1].split(":")[0] not in ("root", "0"), "the final stage runs as a non-root user"
    last_stage = text[text.rindex("\nFROM ") :]
    assert "USER " in last_stage
    assert re.search(r"^HEALTHCHECK .*\n?.*\/api\/v1\/healthz", last_stage, re.M)
    assert 'CMD ["alojamientos", "serve", "--host", "0.0.0.0", "--port", "8000"]' in last_stage
    ignored = (DEPLOY / "dockerignore.txt").read_text().split()
    assert {".env", ".git", ".venv", "backups"} <= set(ignored)


# --------------------------------------------------------------------------------------------- compose


SLOTS = ("blue", "green")


def test_compose_parses_and_has_the_two_slot_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {
        "postgres", "redis", "api-blue", "worker-blue", "api-green", "worker-green", "nginx"
    }  # fmt: skip
    for name, service in compose["services"].items():
        assert service.get("restart") in ("unless-stopped", "always"), name
        assert "healthcheck" in service and service["healthcheck"]["test"], name
    declared = set(compose["volumes"])
    used = {
        volume.split(":")[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
        if not volume.startswith((".", "/"))
    }
    assert used and used <= declared, "named volumes are declared"


def test_compose_cross_checked_with_pyyaml_when_the_system_has_it(compose: dict[str, Any]) -> None:
    """PyYAML is not ours to depend on, but when the system Python has it, both readings must agree."""
    python = shutil.which("python3")
    assert python
    probe = subprocess.run([python, "-c", "import yaml"], capture_output=True, check=False)
    if probe.returncode != 0:
        return  # the structural reader above is the check
    dumped = subprocess.run(
        [python, "-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"],
        input=(DEPLOY / "docker-compose.yml").read_text(),
        capture_output=True,
        text=True,
        check=True,
    )
    reference = json.loads(dumped.stdout)
    reference.pop("x-app", None)
    ours = {k: v for k, v in compose.items() if k != "x-app"}

    def normalise(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: normalise(v) for k, v in value.items()}
        if isinstance(value, list):
            return [normalise(v) for v in value]
        return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)

    assert normalise(ours) == normalise(reference)


def test_compose_keeps_database_and_redis_private(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("postgres", "redis", *(f"{kind}-{slot}" for kind in ("api", "worker") for slot in SLOTS)):
        assert "ports" not in services[name], f"{name} must not publish ports"
    assert services["nginx"]["ports"] == ["80:80", "443:443"]
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    command = services["redis"]["command"]
    assert command[command.index("--requirepass") + 1] == "${REDIS_PASSWORD:?set REDIS_PASSWORD in .env}"
    assert command[command.index("--appendonly") + 1] == "yes"
    init = [v for v in services["postgres"]["volumes"] if "/docker-entrypoint-initdb.d/" in v]
    assert init and init[0].startswith("./postgres-init.sql:")
    assert re.search(r"CREATE EXTENSION IF NOT EXISTS btree_gist", (DEPLOY / "postgres-init.sql").read_text())


def test_compose_each_slot_runs_its_own_release(compose: dict[str, Any]) -> None:
    """Blue and green: an API and a worker each, on the slot's image tag (falling back to the one tag
    `rollback --full` rewrites), the same settings, `serve` with its default worker count."""
    services = compose["services"]
    for slot in SLOTS:
        api, worker = services[f"api-{slot}"], services[f"worker-{slot}"]
        assert (
            api["image"]
            == worker["image"]
            == (
                "${ALOJAMIENTOS_IMAGE:-alojamientos}:"
                f"${{ALOJAMIENTOS_{slot.upper()}_TAG:-${{ALOJAMIENTOS_IMAGE_TAG:?set ALOJAMIENTOS_IMAGE_TAG in .env}}}}"
            )
        )
        assert worker["command"] == ["alojamientos", "worker"]
        assert api["command"] == ["alojamientos", "serve", "--host", "0.0.0.0", "--port", "8000"]  # noqa: S104 - inside the container
        assert "8000/api/v1/healthz" in " ".join(api["healthcheck"]["test"])
        for service in (api, worker):
            assert service["env_file"] == "../.env"  # the checkout root, where rollback edits it
            assert "@postgres:5432/" in service["environment"]["DATABASE_URL"]
            assert service["environment"]["REDIS_URL"].startswith("redis://:${REDIS_PASSWORD")
            assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
            assert service["volumes"] == ["../backups:/app/backups"]
    blue = {k: v for k, v in services["api-blue"].items() if k != "image"}
    assert blue == {k: v for k, v in services["api-green"].items() if k != "image"}
    assert {k: v for k, v in services["worker-blue"].items() if k != "image"} == {
        k: v for k, v in services["worker-green"].items() if k != "image"
    }


def test_compose_nginx_reads_the_upstream_file_from_a_mounted_directory(compose: dict[str, Any]) -> None:
    """The include is linked into a mounted directory: the file can be rewritten in place or by rename
    (a file mounted alone keeps its old inode), and a reload moves traffic between the slots."""
    nginx = compose["services"]["nginx"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in nginx["volumes"]}
    assert mounts["/etc/nginx/upstream"] == "./upstream"
    assert "./upstream:/etc/nginx/upstream:ro" in nginx["volumes"]
    shell, flag, script = nginx["command"]
    assert (shell, flag) == ("sh", "-c")
    assert "test -f /etc/nginx/upstream/alojamientos-upstream.conf ||" in script
    assert (
        "ln -sf /etc/nginx/upstream/alojamientos-upstream.conf /etc/nginx/alojamientos-upstream.conf"
        in script
    )
    # The image's entrypoint still runs (it renders the templates), then nginx in the foreground.
    assert script.endswith("exec /docker-entrypoint.sh nginx -g 'daemon off; user nginx;'")
    # The first start waits for both slots: the upstream file may name either.
    assert {name: dep["condition"] for name, dep in nginx["depends_on"].items()} == {
        "api-blue": "service_healthy",
        "api-green": "service_healthy",
    }
    assert (DEPLOY.parent / ".gitignore").read_text().splitlines().count("deploy/upstream/") == 1


def test_compose_header_comments_name_what_the_file_runs() -> None:
    header = (DEPLOY / "docker-compose.yml").read_text().split("\nname: ", 1)[0]
    for word in ("ALOJAMIENTOS_IMAGE_TAG", "ALOJAMIENTOS_BLUE_TAG", "ALOJAMIENTOS_GREEN_TAG",
                 "upstream/alojamientos-upstream.conf", "api-blue", "worker-green", "SKIP LOCKED",
                 "run --rm api-green alojamientos db upgrade"):  # fmt: skip
        assert word in header, word
    assert "api and worker" not in header and " api:" not in header


def test_compose_nginx_gets_every_template_variable(compose: dict[str, Any]) -> None:
    nginx = compose["services"]["nginx"]
    placeholders = set(re.findall(r"\$\{(NGINX_[A-Z_]+)\}", (NGINX_DIR / "alojamientos.conf").read_text()))
    assert placeholders and placeholders <= set(nginx["environment"])
    mounts = {v.split(":")[1]: v.split(":")[0] for v in nginx["volumes"]}
    assert mounts["/etc/nginx/nginx.conf"] == "./nginx/nginx.conf"
    assert mounts["/etc/nginx/templates/alojamientos.conf.template"] == "./nginx/alojamientos.conf"
    assert mounts["/etc/nginx/security-headers.conf"] == "./nginx/security-headers.conf"
    assert mounts["/etc/nginx/certs"] == "./certs"
    assert nginx["environment"]["NGINX_TLS_CERT"].startswith("/etc/nginx/certs/")


# ----------------------------------------------------------------------------------------------- nginx


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if not found:
        pytest.fail("nginx is not installed: apt-get install -y nginx-light (or nginx)")
    return found


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if not openssl:
        pytest.fail("openssl is not installed: apt-get install -y openssl")
    directory = tmp_path_factory.mktemp("certs")
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def render(
    prefix: Path, *, upstream: str, tls: tuple[Path, Path], metrics_allow: bool = True
) -> tuple[Path, int, int]:
    """The container's /etc/nginx layout under `prefix`; returns the main config and the two ports."""
    http_port, https_port = free_port(), free_port()
    conf = prefix / "conf"
    (conf / "conf.d").mkdir(parents=True)
    shutil.copy(NGINX_DIR / "nginx.conf", conf / "nginx.conf")
    shutil.copy(NGINX_DIR / "security-headers.conf", conf / "security-headers.conf")
    (conf / "mime.types").write_text("types {\n    text/html html;\n    application/json json;\n}\n")
    values = {
        "NGINX_LISTEN_HTTP": f"127.0.0.1:{http_port}",
        "NGINX_LISTEN_HTTPS": f"127.0.0.1:{https_port}",
        "NGINX_SERVER_NAME": "localhost",
        "NGINX_TLS_CERT": str(tls[0]),
        "NGINX_TLS_KEY": str(tls[1]),
    }
    text = re.sub(
        r"\$\{(NGINX_[A-Z_]+)\}", lambda m: values[m.group(1)], (NGINX_DIR / "alojamientos.conf").read_text()
    )
    assert "${" not in text
    if not metrics_allow:
        text, count = re.subn(r"^\s*allow [^;]+;\n", "", text, flags=re.M)
        assert count >= 2
    (conf / "conf.d" / "alojamientos.conf").write_text(text)
    # The shipped upstream file's shape, pointed at this test's app (deploy rewrites it the same way).
    shipped = (NGINX_DIR / "alojamientos-upstream.conf").read_text()
    assert "server api:8000;" in shipped
    (conf / "alojamientos-upstream.conf").write_text(
        shipped.replace("server api:8000;", f"server {upstream};")
    )
    return conf / "nginx.conf", http_port, https_port


def nginx_args(prefix: Path, conf: Path) -> list[str]:
    return [
        nginx_binary(),
        "-p",
        f"{prefix}/",
        "-c",
        str(conf),
        "-e",
        "stderr",
        "-g",
        f"pid {prefix}/nginx.pid;",
    ]


@dataclass
class Edge:
    http: str
    https: str
    log: Path


@pytest.fixture
def start_nginx(tmp_path: Path) -> Iterator[Any]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str, **kwargs: Any) -> Edge:
        prefix = tmp_path / name
        conf, http_port, https_port = render(prefix, **kwargs)
        log = prefix / "nginx.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [*nginx_args(prefix, conf), "-g", "daemon off;"], stdout=out, stderr=subprocess.STDOUT
            )
        procs.append(proc)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", https_port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"nginx did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.05)
        return Edge(f"http://127.0.0.1:{http_port}", f"https://127.0.0.1:{https_port}", log)

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_nginx_config_is_valid(tmp_path: Path, tls: tuple[Path, Path]) -> None:
    conf, _, _ = render(tmp_path, upstream="127.0.0.1:8000", tls=tls)
    result = subprocess.run([*nginx_args(tmp_path, conf), "-t"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr
    assert "[warn]" not in result.stderr and "[emerg]" not in result.stderr, result.stderr


def test_nginx_config_text_keeps_metrics_private_and_limits_login() -> None:
    text = (NGINX_DIR / "alojamientos.conf").read_text()
    metrics = re.search(r"location = /metrics \{(.*?)\}", text, re.S)
    assert metrics
    rules = re.findall(r"^\s*(allow|deny) ([^;]+);", metrics.group(1), re.M)
    assert rules[-1] == ("deny", "all")
    allowed = {address for verb, address in rules if verb == "allow"}
    assert allowed == {"127.0.0.1", "::1", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}
    assert re.search(r"client_max_body_size 2m;", text)
    for path, zone in (("= /api/v1/auth/token", "aloj_login"), ("= /admin/login", "aloj_login"),
                       ("/api/v1/webhooks/", "aloj_webhooks")):  # fmt: skip
        block = re.search(rf"location {re.escape(path)} \{{(.*?)\}}", text, re.S)
        assert block and f"limit_req zone={zone}" in block.group(1), path
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in text  # overwritten, not appended


def get(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(url, verify=False, timeout=10, **kwargs)  # noqa: S501 - our throwaway self-signed cert


def post(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(url, verify=False, timeout=10, **kwargs)  # noqa: S501


def test_nginx_in_front_of_the_app(live_server: str, start_nginx: Any, tls: tuple[Path, Path]) -> None:
    edge: Edge = start_nginx("edge", upstream=live_server.removeprefix("http://"), tls=tls)

    # Health is proxied with the app's own JSON, and TLS is really in use.
    response = get(f"{edge.https}/api/v1/healthz", headers={"X-Request-ID": "deploy-test-0001"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] in ("healthy", "degraded") and body["version"] and body["revision"]
    assert response.headers["x-request-id"] == "deploy-test-0001"
    # Security headers: present once each (the app's copies are hidden), HSTS because this is HTTPS.
    for name, value in {
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "same-origin",
        "content-security-policy": "frame-ancestors 'none'",
        "strict-transport-security": "max-age=31536000; includeSubDomains",
    }.items():
        assert response.headers.get_list(name) == [value], name
    assert response.headers["server"] == "nginx"  # no version

    # Without a caller's id, nginx makes one and the app adopts it.
    assert re.fullmatch(r"[0-9a-f]{32}", get(f"{edge.https}/api/v1/healthz").headers["x-request-id"])

    # The app sees https (X-Forwarded-Proto): the URLs it builds itself are https.
    redirect = get(f"{edge.https}/api/v1/reservations/", follow_redirects=False)
    assert redirect.status_code == 307
    assert redirect.headers["location"].startswith("https://")

    # Too big a body is refused by nginx, in the API's error format.
    big = post(f"{edge.https}/api/v1/webhooks/mercadopago", content=b"x" * (3 * 1024 * 1024))
    assert big.status_code == 413
    assert big.json()["error"]["code"] == "payload_too_large"
    assert big.headers.get_list("x-frame-options") == ["DENY"]
    # A normal-sized webhook goes through to the app (which answers for itself).
    small = post(f"{edge.https}/api/v1/webhooks/whatsapp", content=b"{}")
    assert small.status_code not in (413, 429, 502, 503)
    assert small.headers["content-type"].startswith("application/json")

    # Rapid logins: a few reach the app (burst), then nginx answers 429 itself.
    statuses = []
    for _ in range(12):
        login = post(
            f"{edge.https}/api/v1/auth/token", data={"username": "nadie@example.com", "password": "x"}
        )
        statuses.append(login.status_code)
        if login.status_code == 429:
            break
    assert statuses[-1] == 429, statuses
    assert set(statuses[:-1]) == {401}, statuses
    assert login.json()["error"]["code"] == "rate_limited"
    assert login.headers["retry-after"] == "60"
    assert login.headers.get_list("strict-transport-security")
    # Loading the admin login form is not limited, only POSTs count.
    assert all(get(f"{edge.https}/admin/login").status_code != 429 for _ in range(8))

    # /metrics: loopback is an allowed scraper.
    metrics = get(f"{edge.https}/metrics")
    assert metrics.status_code == 200
    assert "alojamientos_http_requests_total" in metrics.text

    # Plain HTTP only redirects to HTTPS.
    plain = httpx.get(f"{edge.http}/api/v1/healthz?x=1", follow_redirects=False, timeout=10)
    assert plain.status_code == 301
    assert plain.headers["location"] == "https://127.0.0.1/api/v1/healthz?x=1"
    assert "strict-transport-security" not in plain.headers

    # TLS 1.2 or newer is what gets negotiated.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    port = int(edge.https.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls_socket:
            assert tls_socket.version() in ("TLSv1.2", "TLSv1.3")


class _Echo(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_nginx_forwards_client_headers_and_denies_metrics_when_not_allowed(
    start_nginx: Any, tls: tuple[Path, Path]
) -> None:
    """Against an upstream that echoes what it received; a variant with no /metrics allow rule."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        edge: Edge = start_nginx("locked", upstream=f"127.0.0.1:{server.server_address[1]}", tls=tls,
                                 metrics_allow=False)  # fmt: skip
        seen = get(
            f"{edge.https}/api/v1/healthz",
            headers={"X-Forwarded-For": "6.6.6.6", "X-Request-ID": "abcdefgh1234"},
        ).json()
        assert seen["x-forwarded-proto"] == "https"
        assert seen["x-forwarded-for"] == "127.0.0.1"  # the client's made-up hop is not passed on
        assert seen["x-real-ip"] == "127.0.0.1"
        assert seen["x-request-id"] == "abcdefgh1234"
        assert seen["host"] == "127.0.0.1"
        assert re.fullmatch(r"[0-9a-f]{32}", get(f"{edge.https}/").json()["x-request-id"])

        denied = get(f"{edge.https}/metrics")
        assert denied.status_code == 403
        assert denied.json()["error"]["code"] == "forbidden"
        assert get(f"{edge.https}/metricsx").status_code == 200  # only the exact path is guarded

        # A webhook burst well beyond the login budget passes.
        assert all(
            post(f"{edge.https}/api/v1/webhooks/whatsapp", content=b"{}").status_code == 200
            for _ in range(40)
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    # Upstream gone: nginx answers 503 in JSON, not an HTML 502.
    down = get(f"{edge.https}/api/v1/healthz")
    assert down.status_code == 503
    assert down.json()["error"]["code"] == "service_unavailable"
    assert down.headers["retry-after"] == "30"


def test_nginx_missing_fails_instead_of_skipping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(Path, "exists", lambda self: False)
    with pytest.raises(pytest.fail.Exception, match="nginx is not installed"):
        nginx_binary()
