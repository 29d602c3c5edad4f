"""What the benchmarks share: a scratch database, free ports, percentiles, waiting for a server."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
from alembic import command

from alojamientos.migrations import alembic_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@contextmanager
def scratch_database() -> Iterator[str]:
    """A migrated database next to TEST_DATABASE_URL (or DATABASE_URL), dropped afterwards."""
    admin = os.environ.get("TEST_DATABASE_URL") or os.environ["DATABASE_URL"]
    name = f"aloj_bench_{uuid.uuid4().hex[:8]}"
    url = admin.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        command.upgrade(alembic_config(url), "head")
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def wait_healthy(base: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v1/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server at {base} did not become healthy")


# A server's processes, read from /proc (Linux): the benchmarks report memory and CPU per process.
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (a `serve` supervisor and its workers)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo += [int(child) for child in task.read_text().split()]
            except FileNotFoundError:  # the thread or process has exited
                continue
    return found


def process_role(pid: int) -> str:
    """'worker' (`python -m alojamientos.serving`, also `serve --workers 1`) or 'supervisor'."""
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return "worker" if b"alojamientos.serving" in cmdline else "supervisor"


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory (VmHWM), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mib(pid: int) -> float:
    """The process's resident memory now (VmRSS), MiB; 0 once it has exited."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except FileNotFoundError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in lines if line.startswith("VmRSS:")), 0.0)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used, seconds; 0 once it has exited."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14 and 15)


def machine_busy_seconds() -> float:
    """CPU-seconds every core of the machine has spent busy since boot (/proc/stat: all but idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / CLOCK_TICKS


def established_connections(pids: list[int], port: int) -> dict[int, int]:
    """Per process, how many established TCP connections it holds on local `port` (IPv4 loopback)."""
    return _sockets_by_process(pids, port, "01")  # 01: ESTABLISHED


def listening_processes(pids: list[int], port: int) -> list[int]:
    """The processes among `pids` that listen on `port` (IPv4)."""
    return [pid for pid, n in _sockets_by_process(pids, port, "0A").items() if n]  # 0A: LISTEN


def wait_listening(server_pid: int, port: int, workers: int, seconds: float = 120) -> None:
    """Until `workers` processes of the server listen on `port`: with one SO_REUSEPORT socket per
    process, a connection made earlier lands on the processes already up and stays there."""
    deadline = time.monotonic() + seconds
    while len(listening_processes(process_tree(server_pid), port)) < workers:
        if time.monotonic() > deadline:
            raise SystemExit(f"fewer than {workers} server processes listen on port {port}")
        time.sleep(0.2)


def _sockets_by_process(pids: list[int], port: int, state: str) -> dict[int, int]:
    inodes: dict[str, int] = {}
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except FileNotFoundError:  # the process has exited
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:  # closed meanwhile
                continue
            if target.startswith("socket:["):
                inodes[target[8:-1]] = pid
    counts = dict.fromkeys(pids, 0)
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == state and fields[9] in inodes:
            counts[inodes[fields[9]]] += 1
    return counts
