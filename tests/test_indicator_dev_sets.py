"""The independent development sets (tests/fixtures/indicators/independent_dev2.jsonl to
independent_dev6.jsonl, README): shape, size, hard-negative share, no message shared with the sets
before them, threads whole and ordered, and that the learned layer ships trained on them."""

import json
from collections import Counter
from pathlib import Path

import pytest

from casegraph.ai import learned, lexicon

FIXTURES = Path(__file__).parent / "fixtures" / "indicators"
LABELS = {ind.id for ind in lexicon.load().indicators}  # the indicator ids findings carry
BEFORE_DEV5 = (*(f"independent_{d}.jsonl" for d in ("dev", "dev2", "dev3", "dev4")), "labelled.jsonl")
# each set: at least this many messages, per language and per label; the sets written before it
SETS = {
    "independent_dev2.jsonl": (600, 100, 40, ("independent_dev.jsonl",)),
    "independent_dev3.jsonl": (350, 50, 20, ("independent_dev.jsonl", "independent_dev2.jsonl", "labelled.jsonl")),
    "independent_dev4.jsonl": (
        400,
        80,
        20,
        ("independent_dev.jsonl", "independent_dev2.jsonl", "independent_dev3.jsonl", "labelled.jsonl"),
    ),
    "independent_dev5.jsonl": (400, 80, 20, BEFORE_DEV5),
    # dev5 was written at the same time, unseen by dev6's writer: checked for shared texts all the same
    "independent_dev6.jsonl": (400, 80, 20, (*BEFORE_DEV5, "independent_dev5.jsonl")),
}


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("name", SETS)
def test_a_dev_set_is_big_enough_balanced_and_well_formed(name):
    least, per_lang, per_label, _ = SETS[name]
    rows = _rows(name)
    assert len(rows) >= least and len({r["id"] for r in rows}) == len(rows)
    langs = Counter(r["lang"] for r in rows)
    assert set(langs) == {"en", "si", "ta", "si-Latn", "ta-Latn"} and min(langs.values()) >= per_lang
    assert sum(r["hard_negative"] for r in rows) / len(rows) >= 0.40
    for r in rows:
        assert set(r["labels"]) <= LABELS and r["source"]
        # every negative is a look-alike, or (dev4) an `easy:` message that is only a thread's context
        context = "thread" in r and not r["labels"] and r.get("note", "").startswith("easy:")
        assert context or bool(r["labels"]) != r["hard_negative"], r["id"]
        assert not context or not r["hard_negative"], r["id"]
        assert not r["hard_negative"] or r["note"], r["id"]
    for label in LABELS:
        assert sum(label in r["labels"] for r in rows) >= per_label, label


@pytest.mark.parametrize("name", SETS)
def test_a_dev_set_shares_no_message_with_the_sets_before_it(name):
    before = {r["text"] for other in SETS[name][3] for r in _rows(other)}
    assert not before & {r["text"] for r in _rows(name)}


@pytest.mark.parametrize("name", SETS)
def test_a_dev_set_trains_the_learned_layer(name):
    assert name in learned.TRAINING_FILES


@pytest.mark.parametrize("name", ["independent_dev4.jsonl", "independent_dev5.jsonl", "independent_dev6.jsonl"])
def test_threaded_sets_have_whole_ordered_threads(name):
    threads: dict[str, list[int]] = {}
    for r in _rows(name):
        if "thread" in r:
            threads.setdefault(r["thread"], []).append(r["seq"])
    assert len(threads) == 15
    assert all(sorted(seqs) == list(range(1, len(seqs) + 1)) and 2 <= len(seqs) <= 4 for seqs in threads.values())
