"""The operator panel's pages with a few years of history: latency per page, as a browser asks.

Seeds U units and R reservations (back to back with random gaps, some holds, some cancelled, each
with its timeline event) straight into a scratch database, starts `alojamientos serve`, logs in
through the login form like a browser, and requests each page N times from C concurrent clients.
Prints p50/p95/max per page, overall pages/s, and the server's peak memory.

    make bench-panel BENCH_ARGS="--units 12 --reservations 20000 --rounds 40"
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import free_port, percentile, scratch_database, wait_healthy
from bench.holds import PASSWORD, peak_rss_mib

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
STATUSES = ["confirmed"] * 6 + ["completed"] * 6 + ["cancelled"] * 2 + ["expired"]
SOURCES = ["whatsapp", "whatsapp", "whatsapp", "admin", "airbnb", "booking"]


def seed(url: str, units: int, reservations: int, seed_value: int) -> tuple[str, str]:
    """Rows as years of use leave them; returns a reservation code and a phone to look up."""
    rnd = random.Random(seed_value)
    today = date.today()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        ids = [
            cur.execute(
                "INSERT INTO accommodations (name, capacity, base_occupancy, base_price)"
                " VALUES (%s, 6, 2, 60000) RETURNING id",
                (f"Cabaña {i + 1}",),
            ).fetchone()[0]  # type: ignore[index]
            for i in range(units)
        ]
        per_unit = reservations // units
        rows = []
        n = 0
        for unit in ids:
            day = today - timedelta(days=3 * per_unit)  # spread so the last ones reach next months
            for _ in range(per_unit):
                day += timedelta(days=rnd.randint(0, 3))
                nights = rnd.randint(1, 5)
                status = "pre_reserved" if day > today and rnd.random() < 0.1 else rnd.choice(STATUSES)
                if day > today and status in ("completed", "expired"):
                    status = "confirmed"
                n += 1
                rows.append(
                    (
                        f"B{n:05d}"[:6] if n < 100000 else f"{n}",
                        unit,
                        day,
                        day + timedelta(days=nights),
                        rnd.randint(1, 6),
                        f"Huésped {n} Pérez",
                        f"+54911{40000000 + n}",
                        status,
                        rnd.choice(SOURCES),
                        60000 * nights,
                        18000 * nights,
                    )
                )
                if status not in ("cancelled", "expired"):
                    day += timedelta(days=nights)  # the next stay starts at or after this check-out
        cur.executemany(
            "INSERT INTO reservations (code, accommodation_id, check_in, check_out, guests, guest_name,"
            " guest_phone, status, source, total_amount, deposit_amount,"
            " expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
            " CASE WHEN %s = 'pre_reserved' THEN now() + interval '20 hours' END)",
            [(*r[:8], *r[8:], r[7]) for r in rows],
        )
        cur.execute(
            "INSERT INTO reservation_events (reservation_id, from_status, to_status, actor)"
            " SELECT id, NULL, status, 'bench' FROM reservations"
        )
        conn.commit()
    middle = rows[len(rows) // 2]
    return str(middle[0]), str(middle[6])


async def log_in(client: httpx.AsyncClient, email: str) -> None:
    form = await client.get("/admin/login")
    token = CSRF.search(form.text)
    assert token, form.text
    response = await client.post(
        "/admin/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert response.status_code == 303, response.text


async def run(
    base: str, args: argparse.Namespace, code: str, phone: str
) -> tuple[dict[str, list[float]], float]:
    today = date.today()
    pages = {
        "inicio": "/admin/",
        "calendario (mes)": "/admin/calendario",
        "reservas (pág. 1)": "/admin/reservas",
        "reservas por teléfono": f"/admin/reservas?q={phone[-8:]}",
        "reservas por nombre": "/admin/reservas?q=Huésped 1234",
        "reservas filtradas": f"/admin/reservas?estado=confirmed&origen=whatsapp&desde={today}",
        "detalle": f"/admin/reservas/{code}",
        "cotización en vivo": (
            f"/admin/reservas/cotizacion?unidad=1&entrada={today + timedelta(days=200)}"
            f"&salida={today + timedelta(days=203)}&personas=2"
        ),
    }
    timings: dict[str, list[float]] = {name: [] for name in pages}
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await log_in(client, "bench@example.com")
        for path in pages.values():  # warm-up: connection pool, template compilation
            (await client.get(path)).raise_for_status()
        work = [name for _ in range(args.rounds) for name in pages]
        queue: asyncio.Queue[str] = asyncio.Queue()
        for name in work:
            queue.put_nowait(name)

        async def worker() -> None:
            while not queue.empty():
                name = queue.get_nowait()
                t0 = time.perf_counter()
                response = await client.get(pages[name])
                timings[name].append((time.perf_counter() - t0) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{pages[name]} answered {response.status_code}")

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(args.clients)))
        elapsed = time.perf_counter() - t0
    return timings, len(work) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=12)
    parser.add_argument("--reservations", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=30, help="requests per page")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with scratch_database() as url:
        t0 = time.perf_counter()
        code, phone = seed(url, args.units, args.reservations, args.seed)
        print(
            f"seeded            {args.reservations} reservations over {args.units} units in {time.perf_counter() - t0:.1f} s"
        )
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "ALOJAMIENTOS_ENV": "testing",
            "ALOJAMIENTOS_ENV_FILE": "",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-signing-key-0123456789abcdef",
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_LOGIN_PER_MINUTE": "0",
        }
        cli = [sys.executable, "-m", "alojamientos"]
        subprocess.run(
            [*cli, "users", "create", "bench@example.com", "--password-stdin"],
            input=PASSWORD, text=True, env=env, check=True, capture_output=True,
        )  # fmt: skip
        port = free_port()
        server = subprocess.Popen(
            [*cli, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_healthy(base)
            timings, rate = asyncio.run(run(base, args, code, phone))
            print(f"requests          {args.rounds} per page from {args.clients} clients, 1 server process")
            print(f"{'page':<24}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
            for name, values in timings.items():
                print(
                    f"{name:<24}{percentile(values, 50):>9.1f}{percentile(values, 95):>9.1f}{max(values):>9.1f}"
                )
            print(f"throughput        {rate:.1f} pages/s")
            print(f"server peak RSS   {peak_rss_mib(server.pid):.0f} MiB")
        finally:
            server.terminate()
            server.wait(timeout=15)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
