"""The guest-message parser against nlu_conventions.md: labelled corpus, rule tables, fuzzing, CLI.

Pure tests: no database, no network. `parse_strict` is the parser without its safety net, so a bug
shows up here as an exception instead of a silent "other".
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from alojamientos.conversation.nlu import INTENTS, Parsed, parse, parse_strict
from alojamientos.conversation.nlu_cli import nlu_app

CORPUS = Path(__file__).with_name("corpus.jsonl")
SLOTS = ("check_in", "check_out", "guests")
MIN_ALL_SLOTS = 0.97
MIN_INTENT_F1 = 0.95


def load_corpus() -> list[dict[str, Any]]:
    with CORPUS.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def d(iso: str | None) -> date | None:
    return date.fromisoformat(iso) if iso else None


# --------------------------------------------------------------------------------------------------
# (a) the labelled corpus


def test_corpus_is_well_formed() -> None:
    rows = load_corpus()
    assert len(rows) >= 260
    assert len({row["id"] for row in rows}) == len(rows), "duplicate ids"
    splits = Counter(row["split"] for row in rows)
    assert splits["dev"] >= 180 and splits["holdout"] >= 80, splits
    for row in rows:
        expected = row["expected"]
        date.fromisoformat(row["today"])
        intents = expected["intents"]
        assert intents and len(set(intents)) == len(intents) and set(intents) <= set(INTENTS), row["id"]
        assert "other" not in intents or intents == ["other"], row["id"]
        check_in, check_out = d(expected["check_in"]), d(expected["check_out"])
        if check_in and check_out:
            assert check_out > check_in, row["id"]
        assert expected["guests"] is None or expected["guests"] >= 1, row["id"]


def test_corpus_accuracy() -> None:
    rows = load_corpus()
    all_slots = true_pos = false_pos = false_neg = 0
    wrong: list[str] = []
    for row in rows:
        parsed = parse_strict(row["text"], date.fromisoformat(row["today"]))
        got, expected = parsed.as_json(), row["expected"]
        slots_right = all(got[slot] == expected[slot] for slot in SLOTS)
        all_slots += slots_right
        want, have = set(expected["intents"]), set(parsed.intents)
        true_pos += len(want & have)
        false_pos += len(have - want)
        false_neg += len(want - have)
        if not slots_right or want != have:
            wrong.append(f"{row['id']}: expected {expected} got {got}")
    accuracy = all_slots / len(rows)
    micro_f1 = 2 * true_pos / (2 * true_pos + false_pos + false_neg)
    figures = f"all-slots exact {accuracy:.3f}, intent micro-F1 {micro_f1:.3f} over {len(rows)} messages"
    assert accuracy >= MIN_ALL_SLOTS and micro_f1 >= MIN_INTENT_F1, figures + "\n" + "\n".join(wrong)


def test_convention_examples_verbatim() -> None:
    """The ten examples of section 5 are in the corpus, unchanged, and parse exactly."""
    examples = [row for row in load_corpus() if row["id"].startswith("ex")]
    assert len(examples) == 10
    for row in examples:
        parsed = parse(row["text"], date.fromisoformat(row["today"]))
        got = {**parsed.as_json(), "intents": sorted(parsed.intents)}
        assert got == {**row["expected"], "intents": sorted(row["expected"]["intents"])}, row["id"]


# --------------------------------------------------------------------------------------------------
# (b) the rules of sections 3 (dates) and 4 (guests), one table row per rule

DATE_RULES: list[tuple[str, str, str, str | None, str | None]] = [
    # rule, today, text, check_in, check_out
    ("explicit year d/m/yy", "2026-03-15", "el 15/3/27", "2027-03-15", None),
    ("explicit year d-m-yyyy", "2026-03-15", "el 15-03-2027", "2027-03-15", None),
    ("explicit year in words", "2026-03-15", "el 15 de marzo de 2027", "2027-03-15", None),
    ("d/m on or after today (today itself)", "2026-03-15", "para el 15/3", "2026-03-15", None),
    ("d/m already past this year", "2026-03-16", "para el 15/3", "2027-03-15", None),
    ("d-m with a dash", "2026-05-13", "el 15-6", "2026-06-15", None),
    ("month abbreviation", "2026-05-13", "el 3 ago", "2026-08-03", None),
    ("sep", "2026-05-13", "el 9 sep", "2026-09-09", None),
    ("sept", "2026-05-13", "el 9 sept", "2026-09-09", None),
    ("set", "2026-05-13", "el 9 de set", "2026-09-09", None),
    ("day only, this month", "2026-05-13", "para el 20", "2026-05-20", None),
    ("day only, today", "2026-05-13", "para el 13", "2026-05-13", None),
    ("day only, next month", "2026-05-13", "para el 5", "2026-06-05", None),
    ("day only skips months without it", "2026-04-05", "el 31", "2026-05-31", None),
    ("hoy", "2026-05-13", "hoy tienen lugar?", "2026-05-13", None),
    ("mañana", "2026-05-13", "mañana tienen lugar?", "2026-05-14", None),
    ("manana without accent", "2026-05-13", "manana tienen lugar?", "2026-05-14", None),
    ("pasado mañana", "2026-05-13", "pasado mañana", "2026-05-15", None),
    ("a la mañana is a time of day", "2026-05-13", "llegamos a la mañana", None, None),
    ("de la mañana is a time of day", "2026-05-13", "tipo 10 de la mañana", None, None),
    ("weekday strictly after today", "2026-05-15", "el viernes", "2026-05-22", None),
    ("este + weekday", "2026-05-13", "este domingo", "2026-05-17", None),
    ("weekday abbreviation", "2026-05-13", "vie", "2026-05-15", None),
    ("sabado without accent", "2026-05-13", "el sabado", "2026-05-16", None),
    ("weekday with a day number", "2026-05-13", "el viernes 29", "2026-05-29", None),
    ("finde on a Monday", "2026-05-11", "el finde", "2026-05-15", "2026-05-17"),
    ("finde on a Tuesday", "2026-05-12", "este finde", "2026-05-15", "2026-05-17"),
    ("finde on a Wednesday", "2026-05-13", "el fin de semana", "2026-05-15", "2026-05-17"),
    ("finde on a Thursday", "2026-05-14", "este fin de semana", "2026-05-15", "2026-05-17"),
    ("finde on a Friday is today", "2026-05-15", "el finde", "2026-05-15", "2026-05-17"),
    ("finde on a Saturday is next week's", "2026-05-16", "el finde", "2026-05-22", "2026-05-24"),
    ("finde on a Sunday is next week's", "2026-05-17", "fds", "2026-05-22", "2026-05-24"),
    ("el finde que viene", "2026-05-13", "el finde que viene", "2026-05-22", "2026-05-24"),
    ("el próximo finde", "2026-05-16", "el próximo finde", "2026-05-29", "2026-05-31"),
    ("el fin de semana que viene", "2026-05-15", "el fin de semana que viene", "2026-05-22", "2026-05-24"),
    ("del X al Y", "2026-05-13", "del 15 al 18", "2026-05-15", "2026-05-18"),
    ("d/m al d/m", "2026-05-13", "15/6 al 18/6", "2026-06-15", "2026-06-18"),
    ("d/m - d/m", "2026-05-13", "15/6 - 18/6", "2026-06-15", "2026-06-18"),
    ("desde ... hasta", "2026-05-13", "desde el 15 hasta el 18", "2026-05-15", "2026-05-18"),
    ("llegamos ... nos vamos", "2026-05-13", "llegamos el 15 y nos vamos el 18", "2026-05-15", "2026-05-18"),
    ("entramos ... salimos", "2026-05-13", "entramos el 15 y salimos el 18", "2026-05-15", "2026-05-18"),
    ("la salida es", "2026-05-13", "llegamos el 15 y la salida es el 18", "2026-05-15", "2026-05-18"),
    ("para el X is a check-in", "2026-05-13", "para el 12", "2026-06-12", None),
    ("desde el d/m is a check-in", "2026-08-05", "desde el 3/9", "2026-09-03", None),
    ("llegamos el viernes", "2026-05-13", "llegamos el viernes", "2026-05-15", None),
    ("entrando el d/m", "2026-04-27", "entrando el 9/5", "2026-05-09", None),
    ("del X en adelante", "2026-05-13", "del 11 en adelante", "2026-06-11", None),
    (
        "check-out crosses the year",
        "2026-10-01",
        "del 29 de diciembre al 3 de enero",
        "2026-12-29",
        "2027-01-03",
    ),
    ("check-out crosses the month", "2026-04-20", "del 30 al 3", "2026-04-30", "2026-05-03"),
    ("weekday check-out from check-in", "2026-06-05", "del viernes al lunes", "2026-06-12", "2026-06-15"),
    ("month once, at the end", "2026-02-10", "del 15 al 18 de marzo", "2026-03-15", "2026-03-18"),
    ("month once, d/m at the end", "2026-02-10", "del 15 al 18/3", "2026-03-15", "2026-03-18"),
    ("month once, d/m at the start", "2026-02-10", "del 15/3 al 18", "2026-03-15", "2026-03-18"),
    ("first day larger: previous month", "2026-02-10", "del 28 al 3 de marzo", "2026-02-28", "2026-03-03"),
    ("N noches desde X", "2026-08-05", "4 noches desde el viernes", "2026-08-07", "2026-08-11"),
    ("N noches a partir de X", "2026-08-05", "3 noches a partir del 20", "2026-08-20", "2026-08-23"),
    ("X por N noches", "2026-03-10", "el 20 por 2 noches", "2026-03-20", "2026-03-22"),
    ("entrando X, N noches", "2026-04-27", "entrando el 9/5, 3 noches", "2026-05-09", "2026-05-12"),
    ("una semana", "2026-06-15", "una semana desde el 10 de julio", "2026-07-10", "2026-07-17"),
    ("dos semanas", "2026-06-15", "dos semanas desde el 10 de julio", "2026-07-10", "2026-07-24"),
    ("la noche del 7", "2026-05-13", "la noche del 7", "2026-06-07", "2026-06-08"),
    ("las noches del 7 y 8", "2026-05-13", "las noches del 7 y 8", "2026-06-07", "2026-06-09"),
    ("check-in alone", "2026-04-09", "llegamos el 28 de abril", "2026-04-28", None),
    ("length alone", "2026-05-13", "serian 3 noches", None, None),
    ("check-out alone, from today", "2026-05-13", "¿nos podemos quedar hasta el martes?", None, "2026-05-19"),
    ("vague: a month alone", "2026-02-10", "en marzo", None, None),
    ("vague: la semana que viene", "2026-02-10", "la semana que viene", None, None),
    ("vague: fin de mes", "2026-02-10", "a fin de mes", None, None),
    ("v2: Semana Santa is named, not vague", "2026-02-10", "para Semana Santa", "2026-04-01", "2026-04-05"),
    ("vague: vacaciones de invierno", "2026-02-10", "en las vacaciones de invierno", None, None),
    ("vague: las fiestas", "2026-11-10", "para las fiestas", None, None),
    ("a payment date is not a slot", "2026-05-13", "mañana te mando el comprobante", None, None),
    (
        "the replaced date is not a slot",
        "2026-04-01",
        "en vez del 10 al 12, del 17 al 19",
        "2026-04-17",
        "2026-04-19",
    ),
]


@pytest.mark.parametrize(
    ("rule", "today", "text", "check_in", "check_out"), DATE_RULES, ids=[r[0] for r in DATE_RULES]
)
def test_date_rule(rule: str, today: str, text: str, check_in: str | None, check_out: str | None) -> None:
    parsed = parse_strict(text, date.fromisoformat(today))
    assert (parsed.check_in, parsed.check_out) == (d(check_in), d(check_out)), rule


@pytest.mark.parametrize(
    ("text", "nights"),
    [("serian 3 noches", 3), ("una semana en enero", 7), ("dos semanas", 14), ("hola", None)],
)
def test_length_is_kept_when_dates_are_unknown(text: str, nights: int | None) -> None:
    parsed = parse_strict(text, date(2026, 5, 13))
    assert (parsed.check_in, parsed.check_out, parsed.nights) == (None, None, nights)


GUEST_RULES: list[tuple[str, str, int | None]] = [
    # rule, text, guests
    ("digits", "somos 6", 6),
    ("words", "somos seis", 6),
    ("personas", "para 6 personas", 6),
    ("pers", "6 pers", 6),
    ("pax", "6 pax", 6),
    ("adultos", "6 adultos", 6),
    ("children and babies count", "3 adultos y 2 nenes", 5),
    ("plus a baby", "somos 4 + un bebé", 5),
    ("couples are two", "2 parejas", 4),
    ("una pareja", "una pareja", 2),
    ("un matrimonio", "un matrimonio", 2),
    ("the speaker counts: con mi señora", "con mi señora", 2),
    ("con mi señora y las 2 nenas", "con mi señora y las 2 nenas", 4),
    ("mi señora y yo", "para mi señora y yo", 2),
    ("voy solo", "voy solo", 1),
    ("voy sola", "voy sola", 1),
    ("para 9", "para 9", 9),
    ("cabaña para 9", "cabaña para 9", 9),
    ("somos 9", "somos 9", 9),
    ("llegamos 9", "llegamos 9", 9),
    ("only a number", "3", 3),
    ("only a number word", "tres", 3),
    ("a total and its breakdown", "somos 4, 2 adultos y 2 chicos", 4),
    ("pets never count", "somos 3 y 2 perros", 3),
    ("not guests: nights", "4 noches", None),
    ("not guests: dates", "del 3 al 5", None),
    ("not guests: times", "llegamos a las 14", None),
    ("not guests: hs", "llegamos tipo 23hs", None),
    ("not guests: ages", "una nena de 6 años", None),
    ("not guests: ages within a count", "2 adultos y una nena de 6 años", 3),
    ("not guests: prices", "son $85000 la noche?", None),
    ("not guests: prices with mil", "pagué 50 mil", None),
    ("not guests: codes", "mi reserva es ABC234", None),
    ("not guests: cars", "tenemos 2 autos", None),
    ("not guests: pets", "tenemos 2 perros", None),
    ("relative change", "somos uno más", None),
    ("relative change with a noun", "se suma un amigo más", None),
    ("unsized group", "vamos con la familia", None),
    ("talking it over is not coming along", "lo charlo con mi marido y te aviso", None),
]


@pytest.mark.parametrize(("rule", "text", "guests"), GUEST_RULES, ids=[r[0] for r in GUEST_RULES])
def test_guest_rule(rule: str, text: str, guests: int | None) -> None:
    assert parse_strict(text, date(2026, 5, 13)).guests == guests, rule


INTENT_RULES: list[tuple[str, str, set[str]]] = [
    ("a bare slot is availability", "somos 3", {"availability"}),
    ("price with slots adds availability", "¿cuánto sale del 3 al 5?", {"price", "availability"}),
    ("reserve keeps slots from adding availability", "quiero reservar del 3 al 5", {"reserve"}),
    ("the deposit amount is payment, not price", "cuánto es la seña?", {"payment"}),
    ("whether children pay is price", "los chicos pagan?", {"price"}),
    ("a promise is not reserve", "lo charlo y te confirmo", {"other"}),
    ("sign-offs are not greetings", "saludos, chau", {"other"}),
    ("emoji only", "👍", {"other"}),
    ("several intents", "hola! tienen wifi? gracias", {"greeting", "services", "thanks"}),
    ("stretched greeting", "holaaa", {"greeting"}),
    ("cancel with a code", "cancelar la reserva ABC234", {"cancel"}),
    ("human and modify", "me pasás con alguien? quiero cambiar la reserva", {"human", "modify"}),
    ("check-in hours", "a qué hora es el check-in?", {"checkin_info"}),
    ("location", "dónde quedan?", {"location"}),
]


@pytest.mark.parametrize(("rule", "text", "intents"), INTENT_RULES, ids=[r[0] for r in INTENT_RULES])
def test_intent_rule(rule: str, text: str, intents: set[str]) -> None:
    assert set(parse_strict(text, date(2026, 5, 13)).intents) == intents, rule


def test_as_json_shape() -> None:
    parsed = parse("del 3 al 5 somos 2", date(2026, 5, 13))
    assert parsed == Parsed(("availability",), date(2026, 6, 3), date(2026, 6, 5), 2, None)
    assert parsed.as_json() == {
        "intents": ["availability"],
        "check_in": "2026-06-03",
        "check_out": "2026-06-05",
        "guests": 2,
    }


def test_parse_is_deterministic() -> None:
    text = "hola, del 28 al 3 de marzo somos 2 adultos y 3 nenes, aceptan perros?"
    assert len({parse(text, date(2026, 2, 10)) for _ in range(5)}) == 1


# --------------------------------------------------------------------------------------------------
# (c) no input makes it raise, and the output is always well formed

FRAGMENTS = (
    "hola|buenas|del|al|el|la noche del|las noches del|y|hasta|desde|para|somos|con mi señora|mis|2|3|15|28|"
    "31|0|99|15/3|3/1/27|29-2|de marzo|de enero|de 2027|viernes|sáb|finde|que viene|próximo|mañana|"
    "pasado mañana|a la mañana|hoy|noches|una semana|dos semanas|nos vamos|en vez del|adultos|nenes|bebé|+|"
    "parejas|uno más|$|mil|años|ABC234|perros|?|,|😊|cancelar|seña|wifi|cuánto sale|reservar|te mando|"
    "entre|-|2027-01-05|2027/1/9|2027-13-01|2027-02-30|5/1-9/1|2027-01-05/2027-01-09|a las 10.10|1/2 hora|$45.000|"
    "carnaval|semana santa|pascuas|navidad|año nuevo|fin de año|feriado del|finde largo|finde largo de abril|"
    "próximo finde largo|de la semana que viene|la próxima semana|la otra semana|esta semana|jueves|feliz|"
    "17 de junio|31 de febrero|dos familias de 5"
).split("|")
"""Pieces of guest messages, shuffled by hypothesis into sentences that reach every grammar rule."""
message_like = st.lists(st.sampled_from(FRAGMENTS), max_size=25).map(" ".join)
any_text = st.one_of(st.text(max_size=300), message_like, st.text(alphabet="0123456789/-. al", max_size=80))
any_day = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))
quick = settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def assert_well_formed(parsed: Parsed) -> None:
    assert parsed.intents, "intents must not be empty"
    assert len(set(parsed.intents)) == len(parsed.intents)
    assert set(parsed.intents) <= set(INTENTS)
    assert "other" not in parsed.intents or parsed.intents == ("other",)
    if parsed.check_in and parsed.check_out:
        assert parsed.check_out > parsed.check_in
    assert parsed.guests is None or parsed.guests >= 1
    assert parsed.nights is None or parsed.nights >= 1
    json.dumps(parsed.as_json())


@quick
@given(text=any_text, today=any_day)
def test_never_raises_and_output_is_well_formed(text: str, today: date) -> None:
    assert_well_formed(parse_strict(text, today))


@pytest.mark.parametrize(
    "text",
    ["", " ", "😊👍🙏", "\x00\x01\u200b\ufeff", "x" * 5000, "del 15 al 18 " * 400, "1/" * 2500, "𝓗𝓸𝓵𝓪 ¿?"],
)
@pytest.mark.parametrize("today", [date(1, 1, 1), date(2026, 5, 13), date(9999, 12, 31)])
def test_extreme_inputs(text: str, today: date) -> None:
    assert_well_formed(parse_strict(text, today))


# --------------------------------------------------------------------------------------------------
# (d) the command line

runner = CliRunner()


def test_cli_single_message_json() -> None:
    text = "Hola, ¿tienen disponibilidad el fin de semana que viene para tres personas?"
    result = runner.invoke(nlu_app, ["parse", "--today", "2026-05-13", "--json", text])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "intents": ["greeting", "availability"],
        "check_in": "2026-05-22",
        "check_out": "2026-05-24",
        "guests": 3,
    }


def test_cli_single_message_human_readable() -> None:
    result = runner.invoke(nlu_app, ["parse", "--today", "2026-05-13", "somos 3"])
    assert result.exit_code == 0
    assert result.stdout.strip() == "intents=availability check_in=- check_out=- guests=3 nights=-"


def test_cli_batch_keeps_going_past_a_bad_line() -> None:
    lines = [
        json.dumps({"id": "a", "today": "2026-05-13", "text": "del 15 al 18 somos 2"}),
        "{not json",
        json.dumps({"id": "c", "today": "2026-02-30", "text": "hola"}),
        json.dumps({"id": "d", "text": "hola"}),
        json.dumps({"id": 5, "today": "2026-07-03", "text": "ok 👌"}),
    ]
    result = runner.invoke(nlu_app, ["parse", "--batch"], input="\n".join(lines) + "\n")
    assert result.exit_code == 1
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [answer["id"] for answer in answers] == ["a", None, "c", "d", 5]
    assert answers[0] == {
        "id": "a",
        "intents": ["availability"],
        "check_in": "2026-05-15",
        "check_out": "2026-05-18",
        "guests": 2,
    }
    assert set(answers[1]) == {"id", "error"} and set(answers[2]) == {"id", "error"}
    assert "today" in answers[3]["error"]
    assert answers[4]["intents"] == ["other"]
    reported = result.stderr.splitlines()
    assert [line.split(":")[0] for line in reported] == ["line 2", "line 3", "line 4"]


def test_cli_batch_all_good_exits_zero() -> None:
    lines = [
        json.dumps({"id": i, "today": "2026-05-13", "text": text}) for i, text in enumerate(["hola", "3"])
    ]
    result = runner.invoke(nlu_app, ["parse", "--batch"], input="\n".join(lines))
    assert result.exit_code == 0 and result.stderr == ""
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [0, 1]


def test_cli_bad_today_is_one_line_without_traceback() -> None:
    result = runner.invoke(nlu_app, ["parse", "--today", "13/05/2026", "--json", "hola"])
    assert result.exit_code != 0
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_cli_without_text_fails_cleanly() -> None:
    result = runner.invoke(nlu_app, ["parse", "--today", "2026-05-13"])
    assert result.exit_code != 0 and result.stderr.startswith("error: ")
