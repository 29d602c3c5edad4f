"""Reservation codes: drawn at random, typed back by guests."""

from __future__ import annotations

import re
import secrets

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I/1, O/0: read aloud over the phone
CODE_LENGTH = 6

_CODE_DIGITS = frozenset("23456789")


def new_code() -> str:
    """Six characters with at least one digit and one letter, so no Spanish word is ever a code."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if _CODE_DIGITS & set(code) and set(code) - _CODE_DIGITS:
            return code


# A code as a guest types it: six characters from the alphabet, at least one of them a digit.
CODE_PATTERN = re.compile(r"\b(?=[A-Z2-9]*[2-9])(?=[2-9]*[A-Z])[A-HJ-NP-Z2-9]{6}\b")


def find_code(text: str) -> str | None:
    match = CODE_PATTERN.search(text.upper())
    return match.group(0) if match else None
