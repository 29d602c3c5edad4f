"""`alojamientos nlu`: run the message parser from the shell, one message or a JSONL stream.

    alojamientos nlu parse --today 2026-05-13 --json "hola, tienen lugar el finde para 3?"
    alojamientos nlu parse --batch < messages.jsonl > parsed.jsonl

Batch input lines are `{"id", "today", "text"}`; each answer line is `{"id", "intents", "check_in",
"check_out", "guests"}`, or `{"id", "error"}` for a line that cannot be read (reported on stderr
with its line number; the run goes on and exits 1 at the end). Blank lines are skipped; a line
without "today" takes --today when it is given.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from alojamientos.conversation.nlu import Parsed

BUSINESS_TIMEZONE = "America/Argentina/Buenos_Aires"

nlu_app = typer.Typer(no_args_is_help=True, help="Understand guest messages (intents, dates, guests).")


class BatchLineError(ValueError):
    """A batch line that cannot be parsed; the message says why in one line."""

    def __init__(self, reason: str, line_id: Any = None) -> None:
        super().__init__(reason)
        self.line_id = line_id


@nlu_app.callback()
def _group() -> None:
    """Understand guest messages (intents, dates, guests)."""


def business_today() -> date:
    """Today in the complex's timezone (the reference date when --today is not given)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return datetime.now(ZoneInfo(BUSINESS_TIMEZONE)).date()
    except ZoneInfoNotFoundError:  # no tz database: Argentina has been UTC-3 all year since 2009
        from datetime import timedelta, timezone

        return datetime.now(timezone(timedelta(hours=-3))).date()


def _iso_date(value: str) -> date:
    """Parse YYYY-MM-DD strictly (no other ISO shapes)."""
    if len(value) != 10:
        raise ValueError(value)
    return date.fromisoformat(value)


def _human(parsed: Parsed) -> str:
    """One readable summary line."""
    line = (
        f"intents={','.join(parsed.intents)} check_in={parsed.check_in or '-'} "
        f"check_out={parsed.check_out or '-'} guests={parsed.guests or '-'} nights={parsed.nights or '-'}"
    )
    return f"{line} period={parsed.period.kind}:{parsed.period.name}" if parsed.period else line


def _read_lines() -> Iterator[bytes]:
    """Input lines as bytes, read lazily so answers stream out as lines come in."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is not None:
        yield from stream
    else:
        for line in sys.stdin:
            yield line.encode("utf-8", "surrogateescape")


def _answer(raw: bytes, fallback_today: date | None) -> dict[str, object]:
    """Parse one batch line into its answer, or raise BatchLineError with the reason."""
    try:
        record = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BatchLineError("line is not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise BatchLineError(f"invalid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(record, dict):
        raise BatchLineError("expected a JSON object")
    line_id = record.get("id")
    if "id" not in record:
        raise BatchLineError("missing field 'id'")
    text = record.get("text")
    if not isinstance(text, str):
        raise BatchLineError("missing or non-string field 'text'", line_id)
    raw_today = record.get("today")
    if raw_today is None and fallback_today is not None:
        today = fallback_today
    elif not isinstance(raw_today, str):
        raise BatchLineError("missing or non-string field 'today'", line_id)
    else:
        try:
            today = _iso_date(raw_today)
        except ValueError:
            raise BatchLineError(f"invalid 'today' {raw_today!r}: expected YYYY-MM-DD", line_id) from None
    from alojamientos.conversation.nlu import parse

    return {"id": line_id, **parse(text, today).as_json()}


def _run_batch(fallback_today: date | None) -> int:
    """Answer every JSONL line on stdin in order; return how many lines failed."""
    failures = 0
    line_number = 0
    for raw in _read_lines():
        line_number += 1
        if not raw.strip():
            continue
        try:
            answer = _answer(raw, fallback_today)
        except BatchLineError as exc:
            failures += 1
            typer.echo(f"line {line_number}: {exc}", err=True)
            answer = {"id": exc.line_id, "error": str(exc)}
        sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return failures


@nlu_app.command("parse")
def parse_command(
    text: Annotated[str | None, typer.Argument(help="the guest message (omit with --batch)")] = None,
    today: Annotated[
        str | None, typer.Option("--today", help="reference date YYYY-MM-DD (default: today in Argentina)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as one JSON object")] = False,
    batch: Annotated[
        bool, typer.Option("--batch", help='read JSONL {"id","today","text"} on stdin, write JSONL')
    ] = False,
) -> None:
    """Parse one message (or a JSONL stream) into intents, check-in, check-out and guests."""
    reference: date | None = None
    if today is not None:
        try:
            reference = _iso_date(today)
        except ValueError:
            typer.echo(f"error: invalid --today {today!r}: expected YYYY-MM-DD", err=True)
            raise typer.Exit(2) from None
    if batch:
        if text is not None:
            typer.echo("error: give either a TEXT or --batch, not both", err=True)
            raise typer.Exit(2)
        raise typer.Exit(1 if _run_batch(reference) else 0)
    if text is None:
        typer.echo("error: missing TEXT (or use --batch)", err=True)
        raise typer.Exit(2)
    from alojamientos.conversation.nlu import parse

    parsed = parse(text, reference or business_today())
    typer.echo(json.dumps(parsed.as_json(), ensure_ascii=False) if as_json else _human(parsed))
