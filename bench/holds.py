"""Concurrent holds through the HTTP API against a real server and PostgreSQL.

N clients book random, often overlapping ranges over M units for a fixed number of requests, then
the script prints holds/s, latency percentiles, outcome counts, the server's peak memory, and the
number of double bookings found by SQL over the whole table (it must be 0).

    make bench BENCH_ARGS="--clients 32 --units 5 --requests 3000"

It makes its own scratch database next to DATABASE_URL / TEST_DATABASE_URL and drops it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import free_port, percentile, scratch_database, wait_healthy

DOUBLE_BOOKINGS_SQL = """
    SELECT count(*) FROM reservations a JOIN reservations b
      ON a.accommodation_id = b.accommodation_id AND a.id < b.id AND a.period && b.period
     WHERE a.status IN ('pre_reserved', 'confirmed') AND b.status IN ('pre_reserved', 'confirmed')
"""
PASSWORD = "bench-password-123"


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run_load(
    base: str, args: argparse.Namespace, token: str
) -> tuple[list[float], Counter[int], float]:
    rnd = random.Random(args.seed)
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=args.clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as client:
        units = []
        for i in range(args.units):
            r = await client.post(
                "/api/v1/accommodations",
                json={"name": f"Unidad {i}", "capacity": 6, "base_price": "60000"},
            )
            r.raise_for_status()
            units.append(r.json()["id"])
        start_day = date.today() + timedelta(days=3)
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(args.requests):
            queue.put_nowait(i)
        latencies: list[float] = []
        outcomes: Counter[int] = Counter()

        async def client_loop() -> None:
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                check_in = start_day + timedelta(days=rnd.randrange(args.days))
                body = {
                    "accommodation_id": rnd.choice(units),
                    "check_in": check_in.isoformat(),
                    "check_out": (check_in + timedelta(days=rnd.randint(1, 5))).isoformat(),
                    "guests": rnd.randint(1, 6),
                    "guest_name": f"Huésped {i}",
                    "guest_phone": f"+54911{50000000 + i}",
                }
                t0 = time.perf_counter()
                r = await client.post("/api/v1/reservations", json=body)
                latencies.append(time.perf_counter() - t0)
                outcomes[r.status_code] += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(client_loop() for _ in range(args.clients)))
        elapsed = time.perf_counter() - t0
    return latencies, outcomes, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--units", type=int, default=5)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--days", type=int, default=60, help="spread of check-in dates")
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    with scratch_database() as url:
        return measure(url, args)


def measure(url: str, args: argparse.Namespace) -> int:
    server = None
    try:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "ALOJAMIENTOS_ENV": "testing",
            "ALOJAMIENTOS_ENV_FILE": "",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-signing-key-0123456789abcdef",
            "LOG_LEVEL": "WARNING",
            "DATABASE_POOL_SIZE": "10",
            "DATABASE_MAX_OVERFLOW": "10",
        }
        cli = [sys.executable, "-m", "alojamientos"]
        subprocess.run(
            [*cli, "users", "create", "bench@example.com", "--password-stdin"],
            input=PASSWORD,
            text=True,
            env=env,
            check=True,
            capture_output=True,
        )
        port = free_port()
        server = subprocess.Popen(
            [*cli, "serve", "--port", str(port), "--workers", str(args.workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base)
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"username": "bench@example.com", "password": PASSWORD},
        ).json()["access_token"]
        latencies, outcomes, elapsed = asyncio.run(run_load(base, args, token))
        with psycopg.connect(url) as conn:
            doubles = conn.execute(DOUBLE_BOOKINGS_SQL).fetchone()[0]  # type: ignore[index]
            held = conn.execute("SELECT count(*) FROM reservations").fetchone()[0]  # type: ignore[index]
        rss = sum(
            peak_rss_mib(int(p))
            for p in subprocess.run(
                ["pgrep", "-P", str(server.pid)], capture_output=True, text=True, check=False
            ).stdout.split()
        ) + peak_rss_mib(server.pid)
        ms = [x * 1000 for x in latencies]
        print(
            f"requests          {len(latencies)} from {args.clients} clients"
            f" over {args.units} units, {args.days} days"
        )
        print("outcomes          " + ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items())))
        print(
            f"throughput        {len(latencies) / elapsed:.1f} requests/s,"
            f" {outcomes[201] / elapsed:.1f} holds/s"
        )
        print(
            f"latency ms        p50 {percentile(ms, 50):.1f}  p95 {percentile(ms, 95):.1f}  "
            f"p99 {percentile(ms, 99):.1f}  mean {statistics.fmean(ms):.1f}"
        )
        print(f"server peak RSS   {rss:.0f} MiB ({args.workers} workers + supervisor)")
        print(f"reservations      {held} stored")
        print(f"double bookings   {doubles}")
        return 0 if doubles == 0 and set(outcomes) <= {201, 409} else 1
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=15)


if __name__ == "__main__":
    raise SystemExit(main())
