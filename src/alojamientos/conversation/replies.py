"""Renders the bot's messages from `replies.toml` (the one place their wording lives)."""

from __future__ import annotations

import tomllib
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined, Template

from alojamientos.conversation import format as fmt

_FILE = Path(__file__).with_name("replies.toml")


@lru_cache(maxsize=1)
def _catalogue() -> tuple[Environment, dict[str, dict[str, str]]]:
    env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)  # noqa: S701 - plain text
    env.filters.update(
        fecha=fmt.fecha,
        fecha_corta=fmt.fecha_corta,
        rango=fmt.rango,
        pesos=fmt.pesos,
        noches=fmt.noches,
        personas=fmt.personas,
        hora=fmt.hora,
    )
    with _FILE.open("rb") as f:
        return env, tomllib.load(f)


@cache  # bounded by the catalogue; compiling one costs more than rendering it
def _template(key: str, field: str) -> Template:
    env, catalogue = _catalogue()
    return env.from_string(catalogue[key][field])


def say(key: str, field: str = "text", **values: Any) -> str:
    return _template(key, field).render(**values).strip()


def button(name: str) -> str:
    return _catalogue()[1]["buttons"][name]
