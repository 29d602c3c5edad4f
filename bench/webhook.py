"""Webhook-to-reply latency: signed WhatsApp messages at a steady rate into a real server and worker.

Each simulated guest sends a message, waits for the bot's reply to reach the (local, fake) Graph
API, then sends its next one; new messages start on a fixed schedule (the inbound rate). Latency is
from the webhook POST to the reply's arrival at the Graph API: signature check, storage, NLU, the
state machine, availability and quotes, the outbox, the worker, and the Cloud API client.

    make bench-webhook BENCH_ARGS="--rate 20 --seconds 20"
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import free_port, percentile, scratch_database, wait_healthy
from tests.fakes.graph import ACCESS_TOKEN, PHONE_NUMBER_ID, GraphServer

from alojamientos.channels.whatsapp.signature import sign

SECRET = "bench-app-secret"
SCRIPT = [
    "hola, tienen lugar del 10 al 13 de marzo para 2?",
    "y del 17 al 20 de marzo?",
    "aceptan mascotas?",
    "a qué hora es el check in?",
    "gracias!",
]


def envelope(phone: str, n: int, text: str) -> bytes:
    message = {
        "from": phone,
        "id": f"wamid.BENCH{phone}{n}",
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": text},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Bench"}, "wa_id": phone}],
        "messages": [message],
    }
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "W", "changes": [{"field": "messages", "value": value}]}],
        }
    ).encode()


async def drive(base: str, graph, args: argparse.Namespace) -> tuple[list[float], int]:  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    errors = 0
    interval = 1 / args.rate
    total = int(args.rate * args.seconds)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def one(i: int) -> None:
            nonlocal errors
            phone = f"54929440{i // len(SCRIPT):05d}"
            text = SCRIPT[i % len(SCRIPT)]
            body = envelope(phone, i, text)
            before = len([m for m in graph.sent if m["to"] == phone])
            started = time.monotonic()
            response = await client.post(
                "/api/v1/webhooks/whatsapp", content=body, headers={"x-hub-signature-256": sign(SECRET, body)}
            )
            if response.status_code != 200:
                errors += 1
                return
            deadline = started + 20
            while time.monotonic() < deadline:
                arrived = [m for m in graph.sent if m["to"] == phone]
                if len(arrived) > before:
                    latencies.append(arrived[before]["_at"] - started)
                    return
                await asyncio.sleep(0.002)
            errors += 1

        # Each phone's messages run in order; phones start on the fixed inbound schedule.
        async def conversation(first: int) -> None:
            for i in range(first, min(first + len(SCRIPT), total)):
                await asyncio.sleep(max(0.0, t0 + i * interval - time.monotonic()))
                await one(i)

        t0 = time.monotonic()
        await asyncio.gather(*(conversation(first) for first in range(0, total, len(SCRIPT))))
    return latencies, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=20, help="inbound messages per second")
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()

    with scratch_database() as url:
        return measure(url, args)


def measure(url: str, args: argparse.Namespace) -> int:
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            for unit, capacity, price in (("Bosque", 4, 60000), ("Lago", 6, 90000), ("Sierra", 2, 45000)):
                conn.execute(
                    "INSERT INTO accommodations (name, capacity, base_occupancy, base_price)"
                    " VALUES (%s, %s, 2, %s)",
                    (unit, capacity, price),
                )
        with GraphServer() as graph:
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "ALOJAMIENTOS_ENV": "testing",
                "ALOJAMIENTOS_ENV_FILE": "",
                "SECRET_KEY": "bench-only-signing-key-0123456789abcdef",
                "LOG_LEVEL": "WARNING",
                "WHATSAPP_APP_SECRET": SECRET,
                "WHATSAPP_API_BASE": graph.url,
                "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
                "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
                "RATE_LIMIT_WEBHOOKS_PER_MINUTE": "0",  # measuring the pipeline, not the limiter
            }
            port = free_port()
            cli = [sys.executable, "-m", "alojamientos"]
            procs.append(subprocess.Popen([*cli, "serve", "--port", str(port)], env=env))
            procs.append(subprocess.Popen([*cli, "worker"], env=env))
            base = f"http://127.0.0.1:{port}"
            wait_healthy(base)
            time.sleep(1)  # the worker connects and LISTENs
            latencies, errors = asyncio.run(drive(base, graph, args))
        ms = [x * 1000 for x in latencies]
        print(
            f"inbound           {args.rate:g} messages/s for {args.seconds:g} s ({len(ms) + errors} messages)"
        )
        print(f"replies           {len(ms)} arrived, {errors} missing or refused")
        if ms:
            print(
                f"latency ms        p50 {percentile(ms, 50):.1f}  p95 {percentile(ms, 95):.1f}  "
                f"p99 {percentile(ms, 99):.1f}  max {max(ms):.1f}  mean {statistics.fmean(ms):.1f}"
            )
        return 0 if errors == 0 else 1
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=15)


if __name__ == "__main__":
    raise SystemExit(main())
