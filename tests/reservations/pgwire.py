"""A TCP relay in front of PostgreSQL that counts the round trips a client makes, as the server sees them.

Counted from the frontend messages of the PostgreSQL protocol v3 (https://www.postgresql.org/docs/current/
protocol-flow.html): a simple `Query` ('Q') is one round trip, and in the extended protocol everything up
to a `Sync` ('S') is one. BEGIN, COMMIT, the pool's pre-ping and prepared statements count like any other
statement; nothing is parsed on the server's side. The client must not use TLS (`sslmode=disable`).
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

_PROTOCOL_3 = 196608  # the startup message's version 3.0; SSL/GSS/cancel requests use other codes


class RoundTrips:
    """Listens on a free loopback port and relays every connection to `upstream` (host, port)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.statements: list[str] = []  # one entry per round trip: its SQL, or the prepared name
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> RoundTrips:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def url(self, database_url: str) -> str:
        """`database_url` pointed at the relay, without TLS (its bytes must be readable)."""
        parts = urlsplit(database_url)
        netloc = f"{parts.netloc.rsplit('@', 1)[0]}@127.0.0.1:{self.port}" if "@" in parts.netloc else ""
        query = "&".join(q for q in (parts.query, "sslmode=disable&gssencmode=disable") if q)
        return urlunsplit((parts.scheme, netloc or f"127.0.0.1:{self.port}", parts.path, query, ""))

    async def _relay(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        server_in, server_out = await asyncio.open_connection(*self.upstream)
        await asyncio.gather(
            self._client_to_server(client_in, server_out),
            _copy(server_in, client_out),
            return_exceptions=True,
        )
        client_out.close()
        server_out.close()

    async def _client_to_server(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        buffer, started, pending = b"", False, ""
        while data := await source.read(65536):
            buffer += data
            while True:
                if not started:  # untyped: length, then a code (startup, SSL or GSS request, cancel)
                    if len(buffer) < 8 or len(buffer) < (size := int.from_bytes(buffer[:4], "big")):
                        break
                    started = int.from_bytes(buffer[4:8], "big") == _PROTOCOL_3
                    buffer = buffer[size:]
                    continue
                if len(buffer) < 5 or len(buffer) < 1 + (size := int.from_bytes(buffer[1:5], "big")):
                    break
                kind, body, buffer = buffer[:1], buffer[5 : 1 + size], buffer[1 + size :]
                if kind == b"Q":
                    self.statements.append(body.split(b"\0", 1)[0].decode(errors="replace"))
                elif kind == b"P":  # Parse: statement name, then its SQL
                    pending = body.split(b"\0", 2)[1].decode(errors="replace")
                elif kind == b"B" and not pending:  # Bind of a statement prepared earlier
                    pending = "prepared " + body.split(b"\0", 2)[1].decode(errors="replace")
                elif kind == b"S":
                    self.statements.append(pending or "(sync)")
                    pending = ""
            # Forwarded after counting: the server answers only what it got, so once the client has
            # its reply, every statement it sent before is already in `statements`.
            sink.write(data)
            await sink.drain()
        sink.close()


async def _copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    while data := await source.read(65536):
        sink.write(data)
        await sink.drain()
    sink.close()


def upstream_of(database_url: str) -> tuple[str, int]:
    parts = urlsplit(database_url)
    return parts.hostname or "127.0.0.1", parts.port or 5432
