"""The rollback drill's accounting: what counts as a failed request, and which phases the last line sums.

`make rollback-drill` itself is the end-to-end test (CI runs it); this checks its arithmetic on
recorded answers, so a wrong classification cannot hide behind a long run.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from drill_load import Load, Result, Target
from rollback_drill import Drill, report


def load_with(results: list[Result]) -> Load:
    target = Target("https://127.0.0.1:1", "secret", "1", "op@example.com", "pw", [1], date(2027, 1, 1))
    load = Load(target, rate=20)
    load.results.extend(results)
    return load


@pytest.mark.parametrize(
    ("status", "error", "failed"),
    [
        (200, None, False),
        (201, None, False),
        (303, None, False),  # the panel's redirect after login
        (409, None, False),  # a real conflict: the service answered
        (429, None, False),  # a refusal, answered
        (500, None, True),
        (502, None, True),
        (503, None, True),  # nginx's own "restarting" page
        (504, None, True),
        (None, "ConnectError", True),
        (None, "ReadTimeout", True),
        (None, "RemoteProtocolError", True),
    ],
)
def test_a_request_failed_on_a_5xx_or_no_answer(status: int | None, error: str | None, failed: bool) -> None:
    assert Result("p", "webhook", status, error, 0.01).failed is failed


def test_counts_per_phase_and_kind_of_failure() -> None:
    load = load_with([
        Result("canary", "webhook", 200, None, 0.01),
        Result("canary", "availability", 500, None, 0.01),
        Result("canary", "hold", 409, None, 0.01),
        Result("switch", "panel", None, "ReadTimeout", 10.0),
        Result("switch", "panel", 200, None, 0.01),
    ])  # fmt: skip
    counts = load.counts()
    assert (counts["canary"].sent, counts["canary"].failed, counts["canary"].client_errors) == (3, 1, 1)
    assert counts["canary"].failures == {"availability: 500": 1}
    assert (counts["switch"].sent, counts["switch"].failed) == (2, 1)
    assert counts["switch"].failures == {"panel: ReadTimeout": 1}


def test_the_last_line_sums_only_the_zero_downtime_phases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drill = Drill(tmp_path)
    drill.phases = [
        ("setup", 5.0, False),
        ("canary", 10.0, True),
        ("blue-green", 8.0, True),
        ("full rollback", 12.0, False),
    ]
    drill.load = load_with(
        [Result("canary", "webhook", 200, None, 0.01)] * 600
        + [Result("blue-green", "availability", 200, None, 0.01)] * 399
        + [Result("blue-green", "panel", 502, None, 0.01)]
        + [Result("full rollback", "webhook", 503, None, 0.01)] * 40
        + [Result("full rollback", "webhook", 200, None, 0.01)] * 200
    )
    assert report(drill, 35.0) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "failed requests during zero-downtime phases: 1 of 1000"
    full = next(line for line in lines if line.lstrip().startswith("full rollback"))
    assert "240 sent" in full and "40 failed" in full and "downtime allowed" in full
    setup = next(line for line in lines if line.lstrip().startswith("setup"))
    assert "not under load" in setup
