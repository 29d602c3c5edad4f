"""A guest who writes numeric dates (issue 11, point 2) is quoted for the days they wrote, in every form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from alojamientos.conversation.format import fecha
from tests.fixtures.api import today_ar
from tests.whatsapp.conftest import Guest

Form = Callable[[date, date], str]

FORMS: dict[str, Form] = {
    "yyyy-mm-dd al yyyy-mm-dd": lambda a, b: (
        f"Quiero reservar {a.isoformat()} al {b.isoformat()} para 3 personas"
    ),
    "yyyy/mm/dd al yyyy/mm/dd": lambda a, b: f"hola, tienen lugar {a:%Y/%m/%d} al {b:%Y/%m/%d}? somos 3",
    "d/m/yyyy-d/m/yyyy": lambda a, b: f"{a.day}/{a.month}/{a.year}-{b.day}/{b.month}/{b.year} para 3",
    "d/m al d/m/yy": lambda a, b: f"del {a.day}/{a.month} al {b.day}/{b.month}/{b.year % 100} somos 3",
    "d.m al d.m": lambda a, b: f"hay lugar del {a.day}.{a.month} al {b.day}.{b.month}? 3 personas",
    "d-m a d-m": lambda a, b: f"{a.day}-{a.month} a {b.day}-{b.month} para 3 personas",
}


@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
async def test_the_offer_names_the_dates_the_guest_wrote(guest: Guest, form: Form) -> None:
    check_in = today_ar() + timedelta(days=40)
    check_out = check_in + timedelta(days=4)
    [offer] = await guest.say(form(check_in, check_out))
    assert offer.startswith(f"Para 3 personas, del {fecha(check_in)} al {fecha(check_out)} (4 noches)"), offer


async def test_an_iso_check_in_alone_is_that_day(guest: Guest) -> None:
    check_in = today_ar() + timedelta(days=40)
    [ask] = await guest.say(f"llegamos el {check_in.isoformat()}, somos 2")
    assert ask.startswith(f"Llegan el {fecha(check_in)}. ¿Hasta qué día"), ask


async def test_an_impossible_date_is_not_taken_for_another(guest: Guest) -> None:
    year = today_ar().year + 1
    [answer] = await guest.say(f"quiero reservar {year}-13-01 al {year}-13-05 para 2")
    assert answer.startswith("¿Para qué fechas serían?"), answer
