"""bench/holds.py runs end to end and prints every figure (no figure is asserted: benchmarks only report)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIGURES = [
    r"attempts/s +\d+\.\d",
    r"holds created +\d+",
    r"409s +\d+",
    r"other errors +0$",
    r"latency ms +p50 \d+\.\d +p95 \d+\.\d +p99 \d+\.\d",
    r"statements/hold +\d+\.\d per created hold, \d+\.\d per 409 .*; \d+\.\d per attempt under load",
    r"server CPU +\d+\.\d s, \d+\.\d+ ms per request",
    r"process \d+ +worker +RSS under load +\d+ MiB \(lifetime peak +\d+\), CPU +\d+\.\d s, \d+ connections",
    r"peak RSS +\d+ MiB per server process under load",
    r"PostgreSQL CPU +\d+\.\d s, \d+\.\d+ ms per request .*; \d+ sessions opened during the load",
    r"^ +\d+ calls +\d+ plans +\d+\.\d+ ms +run +\d+\.\d+ ms +WITH",
    r"client CPU +\d+\.\d s in \d+\.\d s \(\d+ % of one core\)",
    r"machine CPU +\d+\.\d of \d+\.\d core-seconds busy",
    r"pgbench +\d+ inserts/s",
    r"HTTP / PostgreSQL +\d+\.\d %",
    r"overlaps +0$",
]


@pytest.mark.slow
def test_a_short_holds_benchmark_prints_every_figure_and_exits_0() -> None:
    """On servers of its own (scripts/with-services.sh), whose PostgreSQL preloads pg_stat_statements."""
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "DATABASE_URL", "REDIS_URL")}
    done = subprocess.run(
        [
            "scripts/with-services.sh",
            ".run/bench-test",
            "--",
            sys.executable,
            "bench/holds.py",
            "--seconds",
            "2",
            "--workers",
            "1",
            "--connections",
            "8",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    missing = [figure for figure in FIGURES if not re.search(figure, done.stdout, re.M)]
    assert missing == [], done.stdout
