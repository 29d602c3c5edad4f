"""`alojamientos chat`: the same engine in a terminal, options as numbers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from alojamientos.conversation.format import fecha, rango
from alojamientos.kit import calendar_ar
from tests.cli.test_cli import cli
from tests.fixtures.api import today_ar


def test_chat_books_a_stay_in_the_terminal(units: dict[str, int], clean_db: str) -> None:
    session = "hola, tienen lugar del 10 al 13 de marzo para 2?\n1\nLucía Gómez\n/salir\n"
    result = cli("chat", "--phone", "+5492944333333", stdin=session)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "bot> Para 2 personas, del " in out
    assert "  [1] Cabaña del Bosque — $ " in out
    assert "¿A nombre de quién hago la reserva?" in out
    assert "¡Listo, Lucía! Te reservé Cabaña del Bosque" in out
    assert "Código de reserva: *" in out


def test_a_nul_character_in_a_line_does_not_end_the_chat(units: dict[str, int], clean_db: str) -> None:
    session = "ho\x00la\nhola, tienen lugar del 10 al 13 de marzo para 2?\n/salir\n"
    result = cli("chat", "--phone", "+5492944333335", stdin=session)
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stderr
    assert "bot> Para 2 personas, del " in result.stdout


def test_chat_rejects_a_bad_phone(clean_db: str, units: Any) -> None:
    result = cli("chat", "--phone", "123")
    assert result.returncode == 1
    assert result.stderr.startswith("error: '123' is not a phone number")


def test_chat_names_the_long_weekend_and_follows_a_correction(units: dict[str, int], clean_db: str) -> None:
    carnaval = calendar_ar.named_period("carnaval", today_ar())
    assert carnaval is not None
    saturday = carnaval.check_in + timedelta(days=1)
    session = "Hola! tienen lugar para el finde largo de carnaval? somos 2\nllegamos el sábado\n1\nLucía Gómez\n/salir\n"
    result = cli("chat", "--phone", "+5492944333334", stdin=session)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert (
        f"bot> El finde largo de carnaval va del {rango(carnaval.check_in, carnaval.check_out)} (4 noches)."
        " Para 2 personas tenemos libre:" in out
    )
    assert f"bot> Para 2 personas, del {fecha(saturday)} al {fecha(carnaval.check_out)} (3 noches)" in out
    assert (
        f"¡Listo, Lucía! Te reservé Cabaña del Bosque del {fecha(saturday)} al {fecha(carnaval.check_out)}"
        in out
    )


def test_chat_answers_the_next_long_weekends(units: dict[str, int], clean_db: str) -> None:
    result = cli("chat", "--phone", "+5492944333335", stdin="¿Cuándo es el próximo finde largo?\n/salir\n")
    assert result.returncode == 0, result.stderr
    today = today_ar()
    first = calendar_ar.next_long_weekend(today)
    assert first is not None
    assert "bot> Estos son los próximos findes largos:\n" in result.stdout
    assert f"• Del {rango(first.check_in, first.check_out)} ({first.nights} noches): libre " in result.stdout


def test_chat_offers_a_person_instead_of_a_third_question(units: dict[str, int], clean_db: str) -> None:
    result = cli("chat", "--phone", "+5492944333336", stdin="vacaciones de invierno\n" * 3 + "1\n/salir\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count("bot> Las vacaciones de invierno cambian según la provincia") == 2
    assert "bot> Me parece que no me estoy explicando bien" in out
    assert "  [1] Sí, con una persona" in out
    assert "bot> Listo, ya le aviso a una persona del equipo" in out
