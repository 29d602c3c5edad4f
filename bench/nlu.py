"""Accuracy and speed of the guest-message parser over the labelled corpus.

Prints per-field accuracy (check_in, check_out, guests by exact match; intents as micro-F1 and as
exact sets), the all-slots exact rate (all three slots right), the same figures per split, messages
per second over repeated passes lasting at least --seconds, and peak memory.

Splits: `dev` (written first, the parser was developed on it), `holdout` (written before the parser
ever saw it, measured once, then used to fix generic bugs) and `holdout2` (a second blind set written
later, measured once the same way). `tests/nlu/holdout_numeric_dates.jsonl` (split `holdout_numeric`,
every numeric date form; 40/54 all-slots exact when first measured) and `tests/nlu/holdout_v2.jsonl`
(split `holdout_v2`, conventions section 6: named holidays, long weekends, next week; 20/71 all-slots
exact when first measured) are measured with `--corpus`.

    .venv/bin/python bench/nlu.py [--show-errors] [--corpus tests/nlu/corpus.jsonl] [--seconds 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from alojamientos.conversation.nlu import parse

SLOTS = ("check_in", "check_out", "guests")
DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "tests" / "nlu" / "corpus.jsonl"


@dataclass
class Score:
    """Running counts for one group of messages."""

    messages: int = 0
    slot_hits: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SLOTS, 0))
    all_slots: int = 0
    intent_sets: int = 0
    true_pos: int = 0
    false_pos: int = 0
    false_neg: int = 0

    def add(self, expected: dict[str, Any], got: dict[str, Any]) -> bool:
        """Count one message; return whether it is entirely right (slots and intents)."""
        self.messages += 1
        slots_right = True
        for slot in SLOTS:
            hit = expected[slot] == got[slot]
            self.slot_hits[slot] += hit
            slots_right &= hit
        self.all_slots += slots_right
        want, have = set(expected["intents"]), set(got["intents"])
        self.intent_sets += want == have
        self.true_pos += len(want & have)
        self.false_pos += len(have - want)
        self.false_neg += len(want - have)
        return slots_right and want == have

    @property
    def micro_f1(self) -> float:
        denominator = 2 * self.true_pos + self.false_pos + self.false_neg
        return 2 * self.true_pos / denominator if denominator else 1.0

    def rate(self, hits: int) -> float:
        return hits / self.messages if self.messages else 0.0

    def line(self, label: str) -> str:
        fields = "  ".join(f"{slot} {self.rate(self.slot_hits[slot]):.3f}" for slot in SLOTS)
        return (
            f"{label:<9} n={self.messages:<4} all-slots {self.rate(self.all_slots):.3f}  {fields}  "
            f"intents micro-F1 {self.micro_f1:.3f} exact-set {self.rate(self.intent_sets):.3f}"
        )


def load(path: Path) -> list[dict[str, Any]]:
    """The labelled corpus, one JSON object a line."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def run(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Parser output for every row, in the scored JSON shape."""
    return [parse(row["text"], date.fromisoformat(row["today"])).as_json() for row in rows]


def throughput(rows: list[dict[str, Any]], seconds: float) -> tuple[float, int]:
    """Messages per second over whole passes of the corpus lasting at least `seconds`."""
    inputs = [(row["text"], date.fromisoformat(row["today"])) for row in rows]
    done = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds or done == 0:
        for text, today in inputs:
            parse(text, today)
        done += len(inputs)
    return done / elapsed, done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--seconds", type=float, default=2.0, help="minimum duration of the speed test")
    parser.add_argument("--show-errors", action="store_true", help="list wrong messages, expected vs got")
    args = parser.parse_args(argv)

    rows = load(args.corpus)
    tracemalloc.start()
    outputs = run(rows)
    _, peak_traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    total = Score()
    by_split: dict[str, Score] = {}
    errors: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for row, got in zip(rows, outputs, strict=True):
        expected = row["expected"]
        right = total.add(expected, got)
        by_split.setdefault(row.get("split", "-"), Score()).add(expected, got)
        if not right:
            errors.append((row, got))

    print(f"corpus: {args.corpus} ({len(rows)} messages)")
    print(total.line("all"))
    for split in sorted(by_split):
        print(by_split[split].line(split))
    rate, done = throughput(rows, args.seconds)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"speed: {rate:,.0f} messages/s ({done} parsed)")
    print(f"memory: peak traced during one pass {peak_traced / 1024:.0f} KiB; peak RSS {peak_rss:.1f} MiB")

    if args.show_errors:
        print(f"\n{len(errors)} messages not entirely right:")
        for row, got in errors:
            print(f"- {row['id']} [{row.get('split', '-')}] today={row['today']} {row['text']!r}")
            for key in ("intents", *SLOTS):
                want, have = row["expected"][key], got[key]
                if key == "intents":
                    want, have = sorted(want), sorted(have)
                if want != have:
                    print(f"    {key}: expected {want} got {have}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
