"""The third development set (tests/fixtures/indicators/independent_dev3.jsonl, README): shape,
size, hard-negative share, and that it is what the learned layer ships with."""

import json
from collections import Counter
from pathlib import Path

from casegraph.ai import learned

FIXTURES = Path(__file__).parent / "fixtures" / "indicators"
LABELS = {
    "deceptive-recruitment",
    "fees-debt-bondage",
    "document-confiscation",
    "movement-restriction",
    "threats-coercion",
    "sexual-exploitation",
    "forced-criminality",
    "irregular-travel",
}


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def test_dev3_is_big_enough_balanced_and_well_formed():
    rows = _rows("independent_dev3.jsonl")
    assert len(rows) >= 350 and len({r["id"] for r in rows}) == len(rows)
    assert set(Counter(r["lang"] for r in rows)) == {"en", "si", "ta", "si-Latn", "ta-Latn"}
    assert min(Counter(r["lang"] for r in rows).values()) >= 50
    assert sum(r["hard_negative"] for r in rows) / len(rows) >= 0.40
    for r in rows:
        assert set(r["labels"]) <= LABELS and r["source"]
        assert bool(r["labels"]) != r["hard_negative"], r["id"]  # every negative here is a look-alike
        assert not r["hard_negative"] or r["note"], r["id"]
    for label in LABELS:
        assert sum(label in r["labels"] for r in rows) >= 20, label


def test_dev3_shares_no_message_with_the_other_dev_sets_and_trains_the_learned_layer():
    dev = {r["text"] for name in ("independent_dev.jsonl", "independent_dev2.jsonl", "labelled.jsonl") for r in _rows(name)}
    assert not dev & {r["text"] for r in _rows("independent_dev3.jsonl")}
    assert "independent_dev3.jsonl" in learned.TRAINING_FILES
