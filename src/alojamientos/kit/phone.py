"""Phone numbers are stored in E.164; local Argentine forms are understood.

Argentine numbers are stored in the mobile form WhatsApp uses, `+54 9 <area> <number>`. The same
subscriber number is dialled without the 9 (or with a "15") depending on who calls from where, so a
guest who dictates "11 4444-5678" at the desk must end up with the phone their WhatsApp thread has:
`+5491144445678`. Landlines cannot be told apart from mobiles by their digits, and a landline in the
mobile form only matters for WhatsApp, which landlines do not use.
"""

from __future__ import annotations

import phonenumbers

ARGENTINA = 54


class InvalidPhone(ValueError):
    pass


def to_e164(raw: str, region: str = "AR") -> str:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("not a valid phone number")
    if number.country_code == ARGENTINA:
        number = _mobile_form(number)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _mobile_form(number: phonenumbers.PhoneNumber) -> phonenumbers.PhoneNumber:
    """`+54 11 4444-5678` → `+54 9 11 4444-5678`, when that is a valid Argentine mobile number."""
    national = str(number.national_number)
    if national.startswith("9"):
        return number
    mobile = phonenumbers.PhoneNumber(country_code=ARGENTINA, national_number=int("9" + national))
    if phonenumbers.number_type(mobile) == phonenumbers.PhoneNumberType.MOBILE:
        return mobile
    return number


def display(e164: str) -> str:
    """`+5491155551234` → `+54 9 11 5555-1234`, as people write it; anything unparseable as it is."""
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return e164
