"""WhatsApp webhook to reply enqueued: signed messages at a steady rate into a real server and worker.

Simulated guests talk at once, each going through the same five-line script: message i goes to
guest i % guests on a fixed schedule (the inbound rate), and a guest's next message waits until the
bot's reply to the last is queued; replies are followed to the (local, fake) Graph API meanwhile. A
share of the messages is delivered twice at once, as Meta may (`--redeliver`).

Printed: messages/s sent and handled; latency from the webhook POST to the reply's delivery job
being committed (the server acknowledges only after it: signature check, storage, NLU, the state
machine, availability and quotes, the outbox row and its job) and on to the reply's arrival at the
Graph API (the worker and the Cloud API client); the statements each message costs at PostgreSQL
(counted on the wire by `bench/pgwire.py`, a relay the server and the worker connect through);
the server's CPU seconds per message and peak RSS; errors. Exits non-zero when a message got no
reply, a second reply, or an error.

    make bench-webhook BENCH_ARGS="--rate 50 --seconds 15"
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
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from psycopg.conninfo import conninfo_to_dict

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import free_port, percentile, scratch_database, wait_healthy
from tests.fakes.graph import ACCESS_TOKEN, PHONE_NUMBER_ID, FakeGraph, GraphServer

from alojamientos.channels.whatsapp.signature import sign

SECRET = "bench-app-secret"
# One reply each (the bench checks exactly one per message).
SCRIPT = [
    "hola, tienen lugar del 10 al 13 de marzo para 2?",
    "y del 17 al 20 de marzo?",
    "aceptan mascotas?",
    "a qué hora es el check in?",
    "gracias!",
]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


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


@dataclass
class Run:
    enqueued: list[float] = field(default_factory=list)  # seconds, POST to the reply's job committed
    delivered: list[float] = field(default_factory=list)  # seconds, POST to the reply at the Graph API
    errors: list[str] = field(default_factory=list)
    posted: int = 0
    first_post: float = 0.0
    last_post: float = 0.0
    last_ack: float = 0.0


class Arrivals:
    """The Graph API's sends per recipient, watched by one task (not one scan per waiting guest)."""

    def __init__(self, graph: FakeGraph) -> None:
        self.graph, self.seen = graph, 0
        self.at: dict[str, list[float]] = defaultdict(list)
        self.changed = asyncio.Event()

    async def watch(self) -> None:
        while True:
            sent = self.graph.sent
            if len(sent) > self.seen:
                for message in sent[self.seen : len(sent)]:
                    self.at[message["to"]].append(message["_at"])
                self.seen = len(sent)
                self.changed.set()
                self.changed = asyncio.Event()
            await asyncio.sleep(0.001)

    async def nth(self, phone: str, n: int, deadline: float) -> float | None:
        """When the `n`-th (0-based) message to `phone` arrived; None if not by `deadline`."""
        while len(self.at[phone]) <= n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                return None
        return self.at[phone][n]


async def drive(base: str, graph: FakeGraph, args: argparse.Namespace) -> Run:
    run = Run()
    interval = 1 / args.rate
    total = int(args.rate * args.seconds)
    # Guests talk at once: message i goes to guest i % guests, so each writes every
    # `guests / rate` seconds and the server sees the inbound rate for real.
    guests = max(1, -(-total // len(SCRIPT)))
    every = round(1 / args.redeliver) if args.redeliver > 0 else 0
    arrivals = Arrivals(graph)
    watcher = asyncio.create_task(arrivals.watch())
    # Idle connections expire before uvicorn's keep-alive (5 s) closes them under our feet.
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None, keepalive_expiry=2)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

        async def post(body: bytes) -> httpx.Response:
            headers = {"x-hub-signature-256": sign(SECRET, body)}
            return await client.post("/api/v1/webhooks/whatsapp", content=body, headers=headers)

        async def one(i: int, phone: str, turn: int) -> None:
            body = envelope(phone, i, SCRIPT[turn])
            started = time.monotonic()
            run.first_post = run.first_post or started
            run.last_post = started
            twice = every and i % every == every - 1
            try:
                responses = await asyncio.gather(*(post(body) for _ in range(2 if twice else 1)))
            except httpx.HTTPError as exc:
                run.posted += 1
                run.errors.append(f"message {i}: {type(exc).__name__} {exc}")
                return
            acked = time.monotonic()
            run.posted += 1
            run.last_ack = max(run.last_ack, acked)
            if any(r.status_code != 200 for r in responses):
                run.errors.append(f"message {i}: HTTP {[r.status_code for r in responses]}")
                return
            run.enqueued.append(acked - started)
            deliveries.append(asyncio.create_task(delivered(i, phone, turn, started)))

        async def delivered(i: int, phone: str, turn: int, started: float) -> None:
            arrived = await arrivals.nth(phone, turn, started + 20)
            if arrived is None:
                run.errors.append(f"message {i}: no reply at the Graph API within 20 s")
            else:
                run.delivered.append(arrived - started)

        # Each guest's messages run in order: the next is posted once the last one's reply is
        # queued (the 200), not delivered, so a slow delivery cannot slow the inbound rate down.
        async def conversation(guest: int) -> None:
            phone = f"54929440{guest:05d}"
            for turn, i in enumerate(range(guest, total, guests)):
                await asyncio.sleep(max(0.0, t0 + i * interval - time.monotonic()))
                await one(i, phone, turn)

        deliveries: list[asyncio.Task[None]] = []
        t0 = time.monotonic()
        await asyncio.gather(*(conversation(guest) for guest in range(guests)))
        await asyncio.gather(*deliveries)
    watcher.cancel()
    return run


def exactly_once(url: str, graph: FakeGraph) -> list[str]:
    """Every message stored once and answered once (one reply row, sent once), by SQL and the Graph API."""
    problems = []
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT c.phone, m.direction, m.id, m.wamid, m.processed_at IS NOT NULL"
            " FROM conversation_messages m JOIN conversations c ON c.id = m.conversation_id"
            " ORDER BY c.phone, m.id"
        ).fetchall()
        late = conn.execute(  # the worker's safety net had to answer them
            "SELECT count(*) FROM jobs WHERE kind = 'whatsapp.process_inbound' AND attempts > 0"
        ).fetchone()
    if late and late[0]:
        problems.append(f"{late[0]} messages could not be answered at once (answered by the worker)")
    replies: dict[tuple[str, str], int] = {}
    outbound: dict[str, set[str]] = defaultdict(set)
    last_in: str | None = None
    for phone, direction, _, wamid, processed in rows:
        if direction == "in":
            last_in = wamid
            replies[(phone, wamid)] = 0
            if not processed:
                problems.append(f"{wamid}: stored, never answered")
        elif last_in is not None:
            replies[(phone, last_in)] += 1
            if wamid:
                outbound[phone.lstrip("+")].add(wamid)
    for (_, wamid), count in replies.items():
        if count != 1:
            problems.append(f"{wamid}: {count} replies")
    per_phone: dict[str, int] = defaultdict(int)
    for message in graph.sent:
        per_phone[message["to"]] += 1
    for phone, count in per_phone.items():
        if count != len(outbound[phone]):
            problems.append(f"{phone}: the Graph API got {count} sends for {len(outbound[phone])} replies")
    return problems


def process_tree(pid: int) -> list[int]:
    pids, i = [pid], 0
    while i < len(pids):
        for task in Path(f"/proc/{pids[i]}/task").glob("*/children"):
            pids += [int(child) for child in task.read_text().split()]
        i += 1
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (proc(5): /proc/PID/stat fields 14 and 15)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def peak_rss_mb(pids: list[int]) -> float:
    """The largest peak resident set (VmHWM) among these processes, in MiB."""
    peak = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except FileNotFoundError:
            continue
    return peak / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=50, help="inbound messages per second")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--redeliver", type=float, default=0.1, help="share of messages delivered twice")
    parser.add_argument("--workers", type=int, default=1, help="server processes (serve --workers)")
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
        target = conninfo_to_dict(url)
        relay = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("pgwire.py")), target["host"], target["port"],
             "server", "worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        procs.append(relay)  # type: ignore[arg-type]
        assert relay.stdin is not None and relay.stdout is not None
        ports = json.loads(relay.stdout.readline())

        def statements() -> dict[str, int]:
            assert relay.stdin is not None and relay.stdout is not None
            relay.stdin.write("\n")
            relay.stdin.flush()
            counts: dict[str, int] = json.loads(relay.stdout.readline())
            return counts

        def through(name: str) -> str:
            return url.replace(f"{target['host']}:{target['port']}", f"127.0.0.1:{ports[name]}")

        with GraphServer() as graph:
            env = {
                **os.environ,
                "ALOJAMIENTOS_ENV": "testing",
                "ALOJAMIENTOS_ENV_FILE": "",
                "SECRET_KEY": "bench-only-signing-key-0123456789abcdef",
                "LOG_LEVEL": "WARNING",
                "WHATSAPP_APP_SECRET": SECRET,
                "WHATSAPP_API_BASE": graph.url,
                "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
                "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
            }
            port = free_port()
            cli = [sys.executable, "-m", "alojamientos"]
            serve = [*cli, "serve", "--port", str(port), "--workers", str(args.workers)]
            server = subprocess.Popen(serve, env={**env, "DATABASE_URL": through("server")})
            procs.append(server)
            procs.append(subprocess.Popen([*cli, "worker"], env={**env, "DATABASE_URL": through("worker")}))
            base = f"http://127.0.0.1:{port}"
            wait_healthy(base, 180)  # a loaded machine imports the app slowly
            time.sleep(1)  # the worker connects and LISTENs
            pids = process_tree(server.pid)
            cpu_before, counted_before = cpu_seconds(pids), statements()
            run = asyncio.run(drive(base, graph, args))
            cpu, counted = cpu_seconds(pids) - cpu_before, statements()
            rss = peak_rss_mb(pids)
            time.sleep(0.5)  # the last sends' status updates
            problems = exactly_once(url, graph)

        answered = len(run.enqueued)
        sending = max(run.last_post - run.first_post, 1e-9)
        handling = max(run.last_ack - run.first_post, 1e-9)
        per = max(answered, 1)
        print(
            f"inbound           {args.rate:g} messages/s for {args.seconds:g} s: {run.posted} messages"
            f" ({args.redeliver:.0%} delivered twice)"
        )
        print(f"rate              {run.posted / sending:.1f}/s sent, {answered / handling:.1f}/s handled")
        for label, values in (("enqueued ms", run.enqueued), ("delivered ms", run.delivered)):
            ms = [x * 1000 for x in values]
            if ms:
                print(
                    f"{label:<18}p50 {percentile(ms, 50):.1f}  p95 {percentile(ms, 95):.1f}  "
                    f"p99 {percentile(ms, 99):.1f}  max {max(ms):.1f}  mean {statistics.fmean(ms):.1f}"
                )
        server_statements = counted["server"] - counted_before["server"]
        worker_statements = counted["worker"] - counted_before["worker"]
        print(
            f"statements        {server_statements / per:.1f} per message by the server"
            f" (redeliveries included), {worker_statements / per:.1f} by the worker"
        )
        print(
            f"server            {cpu * 1000 / per:.1f} ms CPU per message,"
            f" peak RSS {rss:.0f} MiB ({len(pids)} processes)"
        )
        errors = run.errors + problems
        print(f"errors            {len(errors)}")
        for error in errors[:10]:
            print(f"  {error}")
        return 0 if not errors and answered == run.posted else 1
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=15)


if __name__ == "__main__":
    raise SystemExit(main())
