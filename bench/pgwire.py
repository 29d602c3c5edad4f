"""A PostgreSQL wire-protocol relay that counts the statements its clients send (a benchmark aid).

    python bench/pgwire.py HOST PORT NAME [NAME ...]

Listens on one free loopback port per NAME and relays every connection to HOST:PORT unchanged,
counting per NAME what `log_statement = all` would log: simple queries (`Q`) and executions of the
extended protocol (`E`), so `BEGIN`, `COMMIT` and a pool's ping count like any statement. Prints
`{"NAME": port, ...}` on its first line; then, for each line read on stdin, the counts so far as
`{"NAME": statements, ...}`. Message framing follows the PostgreSQL docs, "Message Formats"
(untyped start-up packets, then a type byte and an int32 length per message).
"""

from __future__ import annotations

import asyncio
import json
import sys

SSL_REQUEST, GSSENC_REQUEST = 80877103, 80877104
COUNTED = frozenset(b"QE")


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def _count(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, counts: dict[str, int], name: str
) -> None:
    """Relays the client's bytes, counting its statements on the way."""
    buffer, at, starting = bytearray(), 0, True
    try:
        while data := await reader.read(65536):
            writer.write(data)
            buffer += data
            while True:
                if starting:  # int32 length (itself included), int32 code
                    if len(buffer) - at < 8:
                        break
                    length = int.from_bytes(buffer[at : at + 4], "big")
                    if len(buffer) - at < length:
                        break
                    code = int.from_bytes(buffer[at + 4 : at + 8], "big")
                    starting = code in (SSL_REQUEST, GSSENC_REQUEST)  # the start-up packet follows
                    at += length
                else:  # type byte, int32 length (itself included, not the type)
                    if len(buffer) - at < 5:
                        break
                    length = int.from_bytes(buffer[at + 1 : at + 5], "big")
                    if len(buffer) - at < length + 1:
                        break
                    if buffer[at] in COUNTED:
                        counts[name] += 1
                    at += length + 1
            del buffer[:at]
            at = 0
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main(host: str, port: int, names: list[str]) -> None:
    counts = dict.fromkeys(names, 0)
    ports = {}
    for name in names:

        async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, name: str = name) -> None:
            up_reader, up_writer = await asyncio.open_connection(host, port)
            await asyncio.gather(_count(reader, up_writer, counts, name), _pipe(up_reader, writer))

        server = await asyncio.start_server(relay, "127.0.0.1", 0)
        ports[name] = server.sockets[0].getsockname()[1]
    print(json.dumps(ports), flush=True)
    loop = asyncio.get_running_loop()
    while await loop.run_in_executor(None, sys.stdin.readline):
        print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3:]))
