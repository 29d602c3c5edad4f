"""Runs a local ASGI fake under uvicorn in a thread, on a free loopback port."""

from __future__ import annotations

import asyncio
import threading
import time

import uvicorn
from starlette.types import ASGIApp

from tests.fixtures.server import free_port


class ThreadedServer:
    def __init__(self, app: ASGIApp) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
