"""Holds through the HTTP API for a fixed time, next to PostgreSQL's own rate for the same insert.

32 connections (aiohttp, keep-alive) post random, often overlapping 1–6 night holds over a year on
10 units to `POST /api/v1/reservations` of a real `alojamientos serve` for 15 s. Then pgbench drives
the same insert shape (`INSERT ... ON CONFLICT DO NOTHING` into a copy of the reservations table with
its EXCLUDE constraint) with as many clients for as long, on the same cluster, and the script prints:

- attempts/s, holds created, 409s, other errors, latency p50/p95/p99;
- statements per hold and per refused (409) hold, counted by PostgreSQL (pg_stat_statements,
  BEGIN/COMMIT included; a statement that fails is not counted) on a quiet unit after the load,
  and statements per attempt during the load;
- the server: peak RSS and CPU seconds per process, CPU-milliseconds per request (less affected
  than rates by other work on the machine), established connections per process mid-load;
- this client's CPU share (it must not be the bottleneck);
- pgbench's rate and the ratio between the two;
- overlapping occupying stays, by SQL: anything but 0 exits 1 (as do errors other than 409).

    make bench BENCH_ARGS="--seconds 15 --connections 32"

It makes its own scratch database next to TEST_DATABASE_URL / DATABASE_URL and drops it afterwards.
The cluster must preload pg_stat_statements (scripts/services.sh does for the clusters it starts):

    env -u TEST_DATABASE_URL -u DATABASE_URL -u REDIS_URL \\
        scripts/with-services.sh .run/bench -- .venv/bin/python bench/holds.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    cpu_seconds,
    established_connections,
    free_port,
    machine_busy_seconds,
    peak_rss_mib,
    percentile,
    process_role,
    process_tree,
    rss_mib,
    scratch_database,
    wait_healthy,
    wait_listening,
)

from alojamientos.reservations.models import OCCUPYING

# Pairs of stays on one unit whose nights overlap while both occupy them (the statuses the
# reservations_no_overlap constraint covers).
_OCCUPYING = ", ".join(f"'{status}'" for status in OCCUPYING)
OVERLAPS_SQL = f"""
    SELECT count(*) FROM reservations a JOIN reservations b
      ON a.accommodation_id = b.accommodation_id AND a.id < b.id AND a.period && b.period
     WHERE a.status IN ({_OCCUPYING}) AND b.status IN ({_OCCUPYING})
"""
PASSWORD = "bench-password-123"
PROBE_HOLDS = 20  # sequential holds on a quiet unit, to count statements per hold exactly
PGBENCH_SCRIPT = """\
\\set unit random(1, {units})
\\set start random(0, {last_day})
\\set nights random(1, 6)
INSERT INTO pgbench_holds (code, accommodation_id, check_in, check_out, guests, guest_name, guest_phone,
                           status, source, total_amount, deposit_amount)
VALUES (substr(md5(random()::text), 1, 12), :unit, current_date + 3 + :start,
        current_date + 3 + :start + :nights, 2, 'Huésped pgbench', '+5491150000000',
        'pre_reserved', 'admin', 120000, 36000)
ON CONFLICT DO NOTHING;
"""


class Failure(SystemExit):
    """A clear one-line reason the benchmark cannot run (exit status 2)."""

    def __init__(self, message: str) -> None:
        print(f"holds: {message}", file=sys.stderr)
        super().__init__(2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=32, help="concurrent client connections")
    parser.add_argument("--seconds", type=float, default=15, help="duration of the HTTP load and of pgbench")
    parser.add_argument("--units", type=int, default=10)
    parser.add_argument("--days", type=int, default=365, help="spread of check-in dates")
    parser.add_argument("--workers", type=int, help="server processes (default: serve's, one per core)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--show-statements", action="store_true", help="list the statements of one hold")
    args = parser.parse_args()
    if shutil.which("pgbench") is None:
        raise Failure("pgbench is not installed (Debian: postgresql-client)")
    with scratch_database() as url:
        require_pg_stat_statements(url)
        return measure(url, args)


def require_pg_stat_statements(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        preloaded = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()
        if preloaded is None or "pg_stat_statements" not in preloaded[0]:
            raise Failure(
                "this PostgreSQL cluster does not preload pg_stat_statements, which counts the statements"
                " per hold: start it with shared_preload_libraries=pg_stat_statements (scripts/services.sh"
                " does for clusters it starts; restart an older one with `scripts/services.sh stop RUN_DIR`)"
            )
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        # Planning time too (an unprepared statement is planned on every execution), for the scratch
        # database's sessions only: they all start after this.
        name = conn.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
        conn.execute(f'ALTER DATABASE "{name}" SET pg_stat_statements.track_planning = on')


def measure(url: str, args: argparse.Namespace) -> int:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ALOJAMIENTOS_ENV": "testing",
        "ALOJAMIENTOS_ENV_FILE": "",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-signing-key-0123456789abcdef",
        "LOG_LEVEL": "WARNING",
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
    workers = ["--workers", str(args.workers)] if args.workers else []
    server = subprocess.Popen([*cli, "serve", "--port", str(port), *workers], env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, seconds=120)  # a busy 2-core machine imports the app slowly
        wait_listening(server.pid, port, args.workers or len(os.sched_getaffinity(0)))
        token = httpx.post(
            f"{base}/api/v1/auth/token", data={"username": "bench@example.com", "password": PASSWORD}
        ).json()["access_token"]
        load = asyncio.run(run_load(base, port, token, url, server.pid, args))
        processes = {pid: (process_role(pid), peak_rss_mib(pid)) for pid in process_tree(server.pid)}
    finally:
        server.terminate()
        server.wait(timeout=60)
    pgbench_tps = run_pgbench(url, args)
    with psycopg.connect(url) as conn:
        overlaps = conn.execute(OVERLAPS_SQL).fetchone()[0]  # type: ignore[index]
        stored = conn.execute("SELECT count(*) FROM reservations").fetchone()[0]  # type: ignore[index]
    report(args, load, processes, pgbench_tps, overlaps, stored)
    other = sum(n for status, n in load["outcomes"].items() if status not in (201, 409))
    return 0 if overlaps == 0 and other == 0 else 1


async def run_load(
    base: str, port: int, token: str, url: str, server_pid: int, args: argparse.Namespace
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=args.connections)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(base, headers=headers, connector=connector, timeout=timeout) as http:
        units = [await create_unit(http, f"Unidad {i}") for i in range(args.units)]
        quiet_unit = await create_unit(http, "Unidad sin carga")
        start_day = date.today() + timedelta(days=3)
        latencies: list[float] = []
        outcomes: Counter[int] = Counter()
        errors: dict[int, str] = {}  # the first body of each unexpected status
        deadline = time.perf_counter() + args.seconds

        async def connection(n: int) -> None:
            rnd = random.Random(args.seed * 1000 + n)
            while time.perf_counter() < deadline:
                check_in = start_day + timedelta(days=rnd.randrange(args.days))
                body = {
                    "accommodation_id": rnd.choice(units),
                    "check_in": check_in.isoformat(),
                    "check_out": (check_in + timedelta(days=rnd.randint(1, 6))).isoformat(),
                    "guests": rnd.randint(1, 6),
                    "guest_name": f"Huésped {n}",
                    "guest_phone": f"+54911{rnd.randrange(50_000_000, 59_999_999)}",
                }
                started = time.perf_counter()
                async with http.post("/api/v1/reservations", json=body) as response:
                    answer = await response.read()
                latencies.append(time.perf_counter() - started)
                outcomes[response.status] += 1
                if response.status not in (201, 409):
                    errors.setdefault(response.status, answer.decode(errors="replace")[:300])

        async def sample_processes() -> tuple[dict[int, int], dict[int, float]]:
            """Connections per process at half time; each process's largest RSS, every 0.2 s."""
            rss: dict[int, float] = {}
            split: dict[int, int] = {}
            while time.perf_counter() < deadline:
                for pid in process_tree(server_pid):
                    rss[pid] = max(rss.get(pid, 0.0), rss_mib(pid))
                if not split and time.perf_counter() > deadline - args.seconds / 2:
                    split = established_connections(process_tree(server_pid), port)
                await asyncio.sleep(0.2)
            return split, rss

        dbid = reset_statements(url)
        pids = process_tree(server_pid)
        database_before = {pid: cpu_seconds(pid) for pid in database_processes(url)}
        sessions_before = sessions_opened(url)
        cpu_before = {pid: cpu_seconds(pid) for pid in pids}
        client_before = resource.getrusage(resource.RUSAGE_SELF)
        machine_before = machine_busy_seconds()
        started = time.perf_counter()
        *_, (split, rss) = await asyncio.gather(
            *(connection(n) for n in range(args.connections)), sample_processes()
        )
        elapsed = time.perf_counter() - started
        machine_busy = machine_busy_seconds() - machine_before
        client_after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = {pid: cpu_seconds(pid) - cpu_before.get(pid, 0.0) for pid in process_tree(server_pid)}
        # Backends the pools opened during the load count whole; none end (the pools keep them).
        database_cpu = sum(
            cpu_seconds(pid) - database_before.get(pid, 0.0) for pid in database_processes(url)
        )
        sessions = sessions_opened(url) - sessions_before
        under_load = statement_calls(url, dbid)
        statement_times = statement_time(url, dbid)
        per_hold, per_conflict, statements = await probe_statements(http, url, dbid, quiet_unit, start_day)
    return {
        "latencies": latencies,
        "outcomes": outcomes,
        "errors": errors,
        "elapsed": elapsed,
        "cpu": cpu,
        "split": split,
        "rss": rss,
        "client_cpu": (client_after.ru_utime + client_after.ru_stime)
        - (client_before.ru_utime + client_before.ru_stime),
        "statements_under_load": under_load,
        "statement_times": statement_times,
        "database_cpu": database_cpu,
        "machine_busy": machine_busy,
        "sessions": sessions,
        "statements_per_hold": per_hold,
        "statements_per_conflict": per_conflict,
        "statements": statements,
    }


async def create_unit(http: aiohttp.ClientSession, name: str) -> int:
    body = {"name": name, "capacity": 6, "base_price": "60000"}
    async with http.post("/api/v1/accommodations", json=body) as response:
        response.raise_for_status()
        unit: int = (await response.json())["id"]
        return unit


def reset_statements(url: str) -> int:
    """Forgets the scratch database's statement counts; its oid (pg_stat_statements.dbid)."""
    with psycopg.connect(url, autocommit=True) as conn:
        dbid: int = conn.execute("SELECT oid FROM pg_database WHERE datname = current_database()").fetchone()[
            0
        ]  # type: ignore[index]
        conn.execute("SELECT pg_stat_statements_reset(0, %s, 0)", [dbid])
        return dbid


def database_processes(url: str) -> list[int]:
    """The cluster's postmaster and every backend and helper it runs now."""
    with psycopg.connect(url, autocommit=True) as conn:
        data_directory = conn.execute("SHOW data_directory").fetchone()[0]  # type: ignore[index]
    postmaster = int((Path(data_directory) / "postmaster.pid").read_text().split()[0])
    return process_tree(postmaster)


def sessions_opened(url: str) -> int:
    """Sessions ever established to the scratch database (pg_stat_database.sessions, PostgreSQL 14+)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        opened = conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return int(opened.fetchone()[0])  # type: ignore[index]


def statement_time(url: str, dbid: int) -> list[tuple[int, int, float, float, str]]:
    """(calls, plans, planning ms, execution ms, query) of the scratch database's statements since the
    last reset, the costliest first (execution time includes waiting for locks)."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT calls, plans, total_plan_time, total_exec_time, query FROM pg_stat_statements"
            " WHERE dbid = %s AND query NOT LIKE %s ORDER BY total_plan_time + total_exec_time DESC LIMIT 6",
            [dbid, "%pg_stat_statements%"],
        ).fetchall()
    return [(int(c), int(p), float(plan), float(run), str(q)) for c, p, plan, run, q in rows]


def statement_calls(url: str, dbid: int) -> list[tuple[int, str]]:
    """(calls, query) of every statement run in the scratch database since the last reset, most first."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT calls, query FROM pg_stat_statements WHERE dbid = %s AND query NOT LIKE %s"
            " ORDER BY calls DESC",
            [dbid, "%pg_stat_statements%"],
        ).fetchall()
    return [(int(calls), str(query)) for calls, query in rows]


async def probe_statements(
    http: aiohttp.ClientSession, url: str, dbid: int, unit: int, start_day: date
) -> tuple[float, float, list[tuple[int, str]]]:
    """Statements per created hold and per refused one, on a unit nobody else books."""

    async def hold(check_in: date, expected: int) -> None:
        body = {
            "accommodation_id": unit,
            "check_in": check_in.isoformat(),
            "check_out": (check_in + timedelta(days=2)).isoformat(),
            "guests": 2,
            "guest_name": "Huésped de control",
            "guest_phone": "+5491155550000",
        }
        async with http.post("/api/v1/reservations", json=body) as response:
            await response.read()
            if response.status != expected:
                raise Failure(f"a probe hold answered {response.status}, expected {expected}")

    days = [start_day + timedelta(days=7 * n) for n in range(PROBE_HOLDS)]
    reset_statements(url)
    for day in days:
        await hold(day, 201)
    created = statement_calls(url, dbid)
    reset_statements(url)
    for day in days:
        await hold(day, 409)
    refused = statement_calls(url, dbid)
    return (
        sum(c for c, _ in created) / PROBE_HOLDS,
        sum(c for c, _ in refused) / PROBE_HOLDS,
        created,
    )


def run_pgbench(url: str, args: argparse.Namespace) -> float:
    """PostgreSQL's own rate for the insert, transactions/s, on a fresh copy of the reservations table."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS pgbench_holds")
        # INCLUDING ALL copies the EXCLUDE constraint, the indexes, checks, identity and generated period.
        conn.execute("CREATE TABLE pgbench_holds (LIKE reservations INCLUDING ALL)")
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(PGBENCH_SCRIPT.format(units=args.units, last_day=args.days - 1))
    try:
        done = subprocess.run(
            [
                "pgbench",
                "--no-vacuum",
                f"--client={args.connections}",
                f"--jobs={min(args.connections, os.cpu_count() or 1)}",
                f"--time={max(1, round(args.seconds))}",
                f"--file={script.name}",
                url,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        os.unlink(script.name)
    found = re.search(r"^tps = ([\d.]+)", done.stdout, re.M)
    if done.returncode != 0 or found is None:
        raise Failure(f"pgbench failed: {(done.stderr or done.stdout).strip()[-500:]}")
    return float(found.group(1))


def report(
    args: argparse.Namespace,
    load: dict[str, Any],
    processes: dict[int, tuple[str, float]],
    pgbench_tps: float,
    overlaps: int,
    stored: int,
) -> None:
    ms = [x * 1000 for x in load["latencies"]]
    outcomes: Counter[int] = load["outcomes"]
    elapsed: float = load["elapsed"]
    attempts = len(ms)
    rate = attempts / elapsed
    other = {status: n for status, n in sorted(outcomes.items()) if status not in (201, 409)}
    server_cpu = sum(load["cpu"].values())
    under_load = sum(c for c, _ in load["statements_under_load"])
    workers = [pid for pid, (role, _) in processes.items() if role == "worker"] or list(processes)
    print(
        f"load               {args.connections} connections for {elapsed:.1f} s, {args.units} units,"
        f" check-ins over {args.days} days, {len(workers)} server process(es)"
    )
    print(f"attempts/s         {rate:.1f}  ({attempts} attempts)")
    print(f"holds created      {outcomes[201]}  ({outcomes[201] / elapsed:.1f}/s)")
    print(f"409s               {outcomes[409]}")
    print("other errors       " + (", ".join(f"{s}: {n}" for s, n in other.items()) if other else "0"))
    for status, body in load["errors"].items():
        print(f"  first {status}: {body}")
    print(
        f"latency ms         p50 {percentile(ms, 50):.1f}  p95 {percentile(ms, 95):.1f}"
        f"  p99 {percentile(ms, 99):.1f}"
    )
    print(
        f"statements/hold    {load['statements_per_hold']:.1f} per created hold,"
        f" {load['statements_per_conflict']:.1f} per 409 (pg_stat_statements, {PROBE_HOLDS} each, quiet unit);"
        f" {under_load / max(attempts, 1):.1f} per attempt under load"
    )
    print(
        f"server CPU         {server_cpu:.1f} s, {1000 * server_cpu / max(attempts, 1):.2f} ms per request"
        " (all server processes)"
    )
    for pid, (role, lifetime_peak) in sorted(processes.items()):
        split = load["split"].get(pid)
        connections = f", {split} connections mid-load" if split is not None else ""
        print(
            f"  process {pid:<7} {role:<10} RSS under load {load['rss'].get(pid, 0.0):4.0f} MiB"
            f" (lifetime peak {lifetime_peak:4.0f}), CPU {load['cpu'].get(pid, 0.0):5.1f} s{connections}"
        )
    print(
        f"peak RSS           {max(load['rss'].get(pid, 0.0) for pid in workers):.0f} MiB per server process"
        " under load (max over processes; the lifetime peak adds Argon2's 64 MiB in the one that"
        " answered the login)"
    )
    database_cpu: float = load["database_cpu"]
    print(
        f"PostgreSQL CPU     {database_cpu:.1f} s, {1000 * database_cpu / max(attempts, 1):.2f} ms per request"
        f" (postmaster, backends and helpers); {load['sessions']} sessions opened during the load"
        " (a pool that closes and reopens connections costs a backend each)"
    )
    for calls, plans, plan_ms, run_ms, query in load["statement_times"]:
        print(
            f"  {calls:6} calls  {plans:6} plans {plan_ms / max(plans, 1):6.3f} ms"
            f"  run {run_ms / max(calls, 1):6.3f} ms  {' '.join(query.split())[:70]}"
        )
    print(
        f"client CPU         {load['client_cpu']:.1f} s in {elapsed:.1f} s"
        f" ({100 * load['client_cpu'] / elapsed:.0f} % of one core)"
    )
    cores = os.cpu_count() or 1
    print(
        f"machine CPU        {load['machine_busy']:.1f} of {cores * elapsed:.1f} core-seconds busy"
        f" ({load['machine_busy'] - server_cpu - database_cpu - load['client_cpu']:.1f} s outside the"
        " server, PostgreSQL and this client: Redis, the kernel, other work)"
    )
    print(f"pgbench            {pgbench_tps:.0f} inserts/s (same insert shape, {args.connections} clients)")
    print(f"HTTP / PostgreSQL  {100 * rate / pgbench_tps:.1f} %")
    print(f"reservations       {stored} stored")
    print(f"overlaps           {overlaps}")
    if args.show_statements:
        print(f"statements of {PROBE_HOLDS} holds (calls, query):")
        for calls, query in load["statements"]:
            print(f"  {calls:5}  {' '.join(query.split())[:150]}")


if __name__ == "__main__":
    raise SystemExit(main())
