"""`alojamientos serve`: uvicorn (uvloop, httptools) in one process per core, each with its own socket.

With several workers, every worker process listens on its own `SO_REUSEPORT` socket bound to the same
address, so the kernel spreads new connections evenly over the processes (Linux hashes each
connection onto one of the listening sockets: socket(7), "SO_REUSEPORT"). The supervisor makes
those sockets before starting the workers and keeps them, so a worker that starts late or restarts
finds its share of connections waiting rather than lost. With uvicorn's own
`--workers`, the processes share one listening socket and whichever wakes first accepts: under
keep-alive load one process ends up holding most connections while the others idle.

The parent process is a small supervisor: it starts the workers (`python -m alojamientos.serving`,
fresh interpreters that import the app but not the command line's modules), starts a replacement
when one dies, and on SIGTERM or SIGINT asks every worker to finish (uvicorn's graceful shutdown)
and waits for them. Prometheus metrics are kept per process in
`PROMETHEUS_MULTIPROC_DIR` (a fresh temporary directory unless set) and summed by /metrics
(`observability.metrics.exposition`).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger("alojamientos.serving")  # also when run as __main__ (a worker)

STARTUP_FAILURE = 3  # uvicorn's exit code when the lifespan or the bind fails: restarting would not help
SHUTDOWN_SECONDS = 30  # how long a worker may take to finish its requests once asked to stop


def uvicorn_options(host: str, port: int) -> dict[str, Any]:
    """The uvicorn settings every worker uses (the app factory, the fast loop and parser)."""
    return {
        "app": "alojamientos.main:create_app",
        "factory": True,
        "host": host,
        "port": port,
        "loop": "uvloop",
        "http": "httptools",
        "ws": "none",  # no WebSocket routes: skip importing a WebSocket implementation
        "lifespan": "on",
        "log_config": None,  # configure_logging owns the handlers (JSON)
        "access_log": False,  # requests are counted and timed by MetricsMiddleware
        "proxy_headers": True,
    }


def listening_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A TCP socket bound to (host, port), with SO_REUSEPORT when several processes share the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def worker_command(host: str, port: int, log_level: str, fd: int | None = None) -> list[str]:
    """A worker is `python -m alojamientos.serving`: it imports the app, not the command line's modules.

    With `fd`, it serves on that inherited listening socket instead of binding one."""
    command = [sys.executable, "-m", "alojamientos.serving", host, str(port), log_level]
    return [*command, str(fd)] if fd is not None else command


def serve(host: str, port: int, workers: int, log_level: str) -> int:
    """Serves until SIGTERM/SIGINT; the exit status (0, or 1 when the workers could not start).

    One worker replaces this process (exec: same pid, signals reach uvicorn directly)."""
    if workers <= 1:
        command = worker_command(host, port, log_level)
        os.execv(command[0], command)  # noqa: S606 - this interpreter, our module, typed arguments
    _check_port_free(host, port)
    # Every worker's socket is made and listening here, before any worker starts, and kept across
    # worker restarts: connections wait in its backlog while its worker starts, so none lands
    # only on the workers that happened to be up first, and none is reset when a worker dies.
    sockets = [listening_socket(host, port, reuse_port=True) for _ in range(workers)]
    for sock in sockets:
        sock.listen(2048)  # uvicorn's default backlog
    own_dir = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    metrics_dir = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="aloj-metrics-"))
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in metrics_dir.glob("*.db"):  # counts of an earlier run must not add up with this one's
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)  # the workers inherit it
    try:
        commands = [worker_command(host, port, log_level, sock.fileno()) for sock in sockets]
        return _Supervisor(commands, port).run()
    finally:
        for sock in sockets:
            sock.close()
        if own_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _check_port_free(host: str, port: int) -> None:
    """SO_REUSEPORT would let a second server share the port with a running one: refuse instead."""
    try:
        listening_socket(host, port, reuse_port=False).close()
    except OSError as exc:
        raise SystemExit(f"serve: cannot listen on {host}:{port}: {exc.strerror}") from None


class _Supervisor:
    """Runs one worker per command (each with its own socket), restarting any that dies."""

    def __init__(self, commands: list[list[str]], port: int) -> None:
        self.commands = commands
        self.port = port
        self.stop = threading.Event()
        self.processes: list[subprocess.Popen[bytes]] = []

    def _start(self, index: int) -> subprocess.Popen[bytes]:
        command = self.commands[index]
        # This interpreter, our module, typed arguments; the socket's descriptor is inherited.
        return subprocess.Popen(command, pass_fds=[int(command[-1])])  # noqa: S603

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, lambda *_: self.stop.set())
        self.processes = [self._start(index) for index in range(len(self.commands))]
        log.info("serve.started", extra={"workers": [p.pid for p in self.processes], "port": self.port})
        status = 0
        while not self.stop.wait(0.5):
            for index, process in enumerate(self.processes):
                exitcode = process.poll()
                if exitcode is None:
                    continue
                _mark_dead(process.pid)
                if exitcode == STARTUP_FAILURE:
                    log.error("serve.worker_failed_to_start", extra={"pid": process.pid})
                    status = 1
                    self.stop.set()
                    break
                log.warning("serve.worker_died", extra={"pid": process.pid, "exitcode": exitcode})
                self.processes[index] = self._start(index)
        self._shutdown()
        return status

    def _shutdown(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(SHUTDOWN_SECONDS)
            except subprocess.TimeoutExpired:
                log.warning("serve.worker_killed", extra={"pid": process.pid})
                process.kill()
                process.wait()
            _mark_dead(process.pid)
        log.info("serve.stopped")


def _mark_dead(pid: int) -> None:
    """Drops a finished worker's live gauges (prometheus_client multiprocess mode)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def _worker(host: str, port: int, log_level: str, fd: int | None) -> None:
    """One uvicorn server, on the socket inherited as `fd` or on its own: the body of every worker."""
    import uvicorn

    from alojamientos.observability.logging import configure_logging

    configure_logging(log_level)
    if fd is not None:
        sock = socket.socket(fileno=fd)
    else:
        try:
            sock = listening_socket(host, port, reuse_port=False)
        except OSError as exc:
            log.error("serve.bind_failed", extra={"host": host, "port": port, "error": exc.strerror})
            raise SystemExit(STARTUP_FAILURE) from None
    uvicorn.Server(uvicorn.Config(**uvicorn_options(host, port))).run(sockets=[sock])


if __name__ == "__main__":
    _worker(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else None)
