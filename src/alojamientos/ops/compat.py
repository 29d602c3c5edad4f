"""Migration compatibility check (stub until h5's module lands on main; at rebase, keep theirs).

`unsafe_migrations(repo, from_revision, to_tag)` lists the migrations between the running database
revision and `to_tag`'s head that the previous release cannot live with. This stub finds none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Unsafe:
    revision: str
    reason: str

    def __str__(self) -> str:
        return f"{self.revision}: {self.reason}"


def unsafe_migrations(repo: Path, from_revision: str | None, to_tag: str) -> list[Unsafe]:
    return []
