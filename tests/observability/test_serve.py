"""`alojamientos serve` with several worker processes: connections spread, metrics summed, clean stop."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from bench.common import established_connections, listening_processes, process_role, process_tree

from tests.fixtures.server import free_port, serve_process

CONNECTIONS = 32


def listening_workers(supervisor: int, port: int) -> list[int]:
    """Worker processes that hold a listening socket on `port` (inherited from the supervisor)."""
    workers = [pid for pid in process_tree(supervisor) if process_role(pid) == "worker"]
    return listening_processes(workers, port)


def requests_counted(base: str) -> float:
    text = httpx.get(f"{base}/metrics").text
    found = re.search(
        r'^alojamientos_http_requests_total\{method="GET",route="/",status="307"\} (\S+)$', text, re.M
    )
    return float(found.group(1)) if found else 0.0


def test_two_workers_share_the_connections_and_the_metrics(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with serve_process(tmp_path_factory.mktemp("serve-2"), workers=2) as (base, server):
        port = int(base.rsplit(":", 1)[1])
        workers = listening_workers(server.pid, port)
        assert len(workers) == 2  # sockets made by the supervisor: listening before the workers start
        clients = [
            httpx.Client(base_url=base, limits=httpx.Limits(max_connections=1), timeout=120)
            for _ in range(CONNECTIONS)
        ]
        try:
            for client in clients:  # one kept-alive connection each, two requests on it
                assert client.get("/").status_code == 307
            split = established_connections(workers, port)
            for client in clients:
                assert client.get("/").status_code == 307
        finally:
            for client in clients:
                client.close()
        # The kernel spreads connections over the SO_REUSEPORT sockets: neither process is left idle
        # (each gets fewer than 4 of 32 with probability ~1e-6 if the spread is fair).
        assert sum(split.values()) == CONNECTIONS, split
        assert min(split.values()) >= 4, split
        # /metrics sums every process's counts, whichever process answers the scrape.
        assert {requests_counted(base) for _ in range(6)} == {2.0 * CONNECTIONS}
    for pid in [server.pid, *workers]:  # SIGTERM to the supervisor stops every worker
        assert not Path(f"/proc/{pid}").exists() or _zombie(pid), pid


def _zombie(pid: int) -> bool:
    return " Z " in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1][:3]


def test_a_port_already_in_use_is_a_one_line_error() -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        done = subprocess.run(
            [sys.executable, "-m", "alojamientos", "serve", "--port", str(port), "--workers", "2"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1] == (
        f"serve: cannot listen on 127.0.0.1:{port}: Address already in use"
    )
    assert "Traceback" not in done.stderr


def test_serve_help_names_the_per_core_default() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "alojamientos", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "200"},  # one line per option
    )
    assert re.search(r"--workers .* worker processes \(default: one per core\)", done.stdout)
