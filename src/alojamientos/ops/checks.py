"""A checklist line: what was checked, whether it passed, and what was seen."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str = ""
    fix: str = ""  # what to do next when it failed

    def line(self) -> str:
        mark = "✓" if self.ok else "✗"
        text = f"{mark} {self.name}" + (f": {self.detail}" if self.detail else "")
        return text + (f"\n    → {self.fix}" if self.fix and not self.ok else "")


def render(checks: list[Check], *, as_json: bool) -> str:
    if as_json:
        return json.dumps(
            {"ok": all(c.ok for c in checks), "checks": [asdict(c) for c in checks]}, ensure_ascii=False
        )
    passed = sum(c.ok for c in checks)
    return "\n".join([*(c.line() for c in checks), f"{passed}/{len(checks)} checks passed"])
