"""`alojamientos chat`: the same engine in a terminal, options as numbers."""

from __future__ import annotations

from typing import Any

from tests.cli.test_cli import cli


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


def test_chat_rejects_a_bad_phone(clean_db: str, units: Any) -> None:
    result = cli("chat", "--phone", "123")
    assert result.returncode == 1
    assert result.stderr.startswith("error: '123' is not a phone number")
