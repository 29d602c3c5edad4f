"""Numeric dates as guests write them (issue 11, point 2): every form, in ranges, and numbers that are not dates.

`holdout_numeric_dates.jsonl` was written and labelled by nlu_conventions.md before the parser was
changed (it scored 40/54 all-slots exact then); each of its messages is a test here, once through the
parser and once through `alojamientos nlu parse --json`. The tables below add the siblings found while
fixing it.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from alojamientos.conversation.nlu import parse_strict
from alojamientos.conversation.nlu_cli import nlu_app
from tests.cli.test_cli import cli

HOLDOUT = Path(__file__).with_name("holdout_numeric_dates.jsonl")
SLOTS = ("check_in", "check_out", "guests")
runner = CliRunner()


def load_holdout() -> list[dict[str, Any]]:
    with HOLDOUT.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


ROWS = load_holdout()


def slots(answer: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(answer[slot] for slot in SLOTS)


def test_holdout_is_well_formed() -> None:
    assert len(ROWS) >= 40
    assert len({row["id"] for row in ROWS}) == len(ROWS)
    for row in ROWS:
        date.fromisoformat(row["today"])
        check_in, check_out = row["expected"]["check_in"], row["expected"]["check_out"]
        if check_in and check_out:
            assert date.fromisoformat(check_out) > date.fromisoformat(check_in), row["id"]


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_holdout_message_parses_to_its_stay(row: dict[str, Any]) -> None:
    parsed = parse_strict(row["text"], date.fromisoformat(row["today"]))
    assert slots(parsed.as_json()) == slots(row["expected"]), row["text"]


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_holdout_message_through_the_cli(row: dict[str, Any]) -> None:
    result = runner.invoke(nlu_app, ["parse", "--today", row["today"], "--json", row["text"]])
    assert result.exit_code == 0, result.output
    assert slots(json.loads(result.stdout)) == slots(row["expected"]), row["text"]


def test_holdout_through_the_cli_batch() -> None:
    lines = [json.dumps({"id": row["id"], "today": row["today"], "text": row["text"]}) for row in ROWS]
    result = runner.invoke(nlu_app, ["parse", "--batch"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.stderr
    answers = {answer["id"]: answer for answer in map(json.loads, result.stdout.splitlines())}
    assert {row["id"]: slots(answers[row["id"]]) for row in ROWS} == {
        row["id"]: slots(row["expected"]) for row in ROWS
    }


def test_the_issue_command_in_a_real_process() -> None:
    """The exact command of the issue, run as an operator runs it."""
    text = "Quiero reservar 2027-01-05 al 2027-01-09 para 3 personas"
    result = cli("nlu", "parse", "--today", "2026-11-30", "--json", text)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "intents": ["reserve"],
        "check_in": "2027-01-05",
        "check_out": "2027-01-09",
        "guests": 3,
    }


SIBLINGS: list[tuple[str, str, str, str | None, str | None, int | None]] = [
    # kind, today, text, check_in, check_out, guests
    # year first: ISO 8601 and its neighbours
    ("ISO interval", "2026-11-30", "2027-01-05/2027-01-09", "2027-01-05", "2027-01-09", None),
    ("yyyy.mm.dd", "2026-11-30", "2027.01.05 al 2027.01.09", "2027-01-05", "2027-01-09", None),
    ("explicit past year as written", "2026-11-30", "el 2026-01-05", "2026-01-05", None, None),
    (
        "d/m check-in, ISO check-out",
        "2026-11-30",
        "del 28/12 al 2027-01-02",
        "2026-12-28",
        "2027-01-02",
        None,
    ),
    ("ISO check-out alone", "2026-11-30", "hasta el 2027-01-09", None, "2027-01-09", None),
    ("ISO check-in, day-only check-out", "2026-11-30", "2027-01-05 al 09", "2027-01-05", "2027-01-09", None),
    ("ISO + nights", "2026-11-30", "del 2027-01-05 por 3 noches", "2027-01-05", "2027-01-08", None),
    ("ISO day past month end", "2026-11-30", "2027-04-31 al 2027-05-02", None, "2027-05-02", None),
    ("ISO month 00", "2026-11-30", "el 2027-00-10", None, None, None),
    # two dates joined by a dash with no spaces
    ("d/m-d/m", "2026-11-30", "5/1-9/1", "2027-01-05", "2027-01-09", None),
    ("del d/m-d/m", "2026-11-30", "del 15/3-18/3 somos 2", "2027-03-15", "2027-03-18", 2),
    ("d/m/yy-d/m/yy", "2026-11-30", "5/1/27-9/1/27", "2027-01-05", "2027-01-09", None),
    ("dd.mm-dd.mm", "2026-11-30", "05.01-09.01", "2027-01-05", "2027-01-09", None),
    ("joined range crossing the year", "2026-11-30", "del 28/12-2/1", "2026-12-28", "2027-01-02", None),
    # numbers that are not dates
    ("a time after 'las'", "2026-11-30", "llegamos a las 10.10", None, None, None),
    ("a time that is no date", "2026-11-30", "llegamos 23.30", None, None, None),
    ("half an hour", "2026-11-30", "llegamos en 1/2 hora", None, None, None),
    ("half a block", "2026-11-30", "queda a 1/2 cuadra del lago?", None, None, None),
    (
        "a distance with a decimal",
        "2026-11-30",
        "del 5/1 al 9/1, son 3.5 km?",
        "2027-01-05",
        "2027-01-09",
        None,
    ),
    ("a landline", "2026-11-30", "tel 4412-1010, del 5/1 al 9/1", "2027-01-05", "2027-01-09", None),
    (
        "a mobile with area code",
        "2026-11-30",
        "(0294) 15-412-3456 del 5/1 al 9/1",
        "2027-01-05",
        "2027-01-09",
        None,
    ),
    (
        "d/m/yyyy check-in, d/m check-out",
        "2026-11-30",
        "del 5/1/2027 al 9/1",
        "2027-01-05",
        "2027-01-09",
        None,
    ),
    ("zero-padded d-m", "2026-11-30", "del 05-01 al 09-01", "2027-01-05", "2027-01-09", None),
]


@pytest.mark.parametrize(
    ("kind", "today", "text", "check_in", "check_out", "guests"), SIBLINGS, ids=[s[0] for s in SIBLINGS]
)
def test_numeric_date_sibling(
    kind: str, today: str, text: str, check_in: str | None, check_out: str | None, guests: int | None
) -> None:
    parsed = parse_strict(text, date.fromisoformat(today)).as_json()
    assert slots(parsed) == (check_in, check_out, guests), kind
    result = runner.invoke(nlu_app, ["parse", "--today", today, "--json", text])
    assert result.exit_code == 0, result.output
    assert slots(json.loads(result.stdout)) == (check_in, check_out, guests), kind


def test_deposit_amount_is_payment_not_price() -> None:
    parsed = parse_strict(
        "la seña de $45.000 la pago el 20/5, la reserva es del 1/6 al 4/6", date(2026, 5, 13)
    )
    assert set(parsed.intents) == {"payment"}
    assert (parsed.check_in, parsed.check_out) == (date(2026, 6, 1), date(2026, 6, 4))
