"""The one check of an e-mail address typed by a person: something@domain.tld, no spaces, at most 254."""

from __future__ import annotations

import re

_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def is_email(value: str) -> bool:
    return len(value) <= 254 and _ADDRESS.fullmatch(value) is not None
