"""Importing a large feed: a 2,000-event calendar parsed and applied (then applied again, replacing it).

    make bench-ical BENCH_ARGS="--events 2000"

Prints parse and apply times, events/s, peak memory, and checks by SQL that every event became a block.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
import tracemalloc
import uuid
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from alojamientos.calendar_sync.ical_import import parse_feed
from alojamientos.calendar_sync.service import import_bytes
from alojamientos.config import Settings
from alojamientos.db import Database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import scratch_database


def make_feed(events: int, units_start: date) -> bytes:
    """One-night-gap stays back to back, in Airbnb's shape (all-day, folded DESCRIPTION)."""
    lines = ["BEGIN:VCALENDAR", "PRODID:-//Airbnb Inc//Hosting Calendar 1.0//EN", "VERSION:2.0"]
    day = units_start
    for n in range(events):
        end = day + timedelta(days=2 + n % 3)
        lines += [
            "BEGIN:VEVENT",
            f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{end:%Y%m%d}",
            f"UID:{uuid.uuid5(uuid.NAMESPACE_URL, str(n)).hex}@airbnb.com",
            "DESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/reservations/de",
            f" tails/HM{n:08d}\\nPhone Number (Last 4 Digits): {n % 10000:04d}",
            "SUMMARY:Reserved" if n % 5 else "SUMMARY:Airbnb (Not available)",
            "END:VEVENT",
        ]
        day = end + timedelta(days=1)
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


async def run(url: str, events: int) -> None:
    settings = Settings(database_url=url, ical_horizon_days=events * 5 + 30)
    tz = ZoneInfo("America/Argentina/Buenos_Aires")
    data = make_feed(events, date.today() + timedelta(days=1))
    window = {"tz": tz, "start": date.today(), "end": date.today() + timedelta(days=events * 5 + 30)}
    t0 = time.perf_counter()
    parsed = parse_feed(data, **window)  # type: ignore[arg-type]
    parse_s = time.perf_counter() - t0
    tracemalloc.start()
    parse_feed(data, **window)  # type: ignore[arg-type]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    database = Database(settings)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO accommodations (name, capacity, base_occupancy, base_price, ical_token)"
            " VALUES ('Bench', 4, 2, 1000, 'bench-token')"
        )
    try:
        t1 = time.perf_counter()
        first = await import_bytes(database, settings, 1, "airbnb", data, None)
        apply_s = time.perf_counter() - t1
        t2 = time.perf_counter()
        await import_bytes(database, settings, 1, "airbnb", data, None)
        replace_s = time.perf_counter() - t2
    finally:
        await database.dispose()
    with psycopg.connect(url) as conn:
        stored = conn.execute("SELECT count(*) FROM reservations WHERE kind = 'block'").fetchone()[0]  # type: ignore[index]
    print(f"feed              {events} events, {len(data) / 1024:.0f} KiB")
    parse_rate, apply_rate = len(parsed.events) / parse_s, events / apply_s
    print(
        f"parse             {parse_s * 1000:.0f} ms ({parse_rate:,.0f} events/s), peak {peak / 2**20:.1f} MiB traced"
    )
    print(
        f"first import      {apply_s * 1000:.0f} ms including parse ({apply_rate:,.0f} events/s), {first.status}"
    )
    print(f"re-import         {replace_s * 1000:.0f} ms (replaces all {events} blocks atomically)")
    print(f"process peak RSS  {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"blocks stored     {stored} (expected {events})")
    if stored != events:
        raise SystemExit(1)


def main() -> None:
    os.environ.setdefault("ALOJAMIENTOS_ENV", "testing")
    os.environ.setdefault("SECRET_KEY", "bench-only-signing-key-0123456789abcdef")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    with scratch_database() as url:
        asyncio.run(run(url, args.events))


if __name__ == "__main__":
    main()
