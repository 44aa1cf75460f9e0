"""The independent indicator set (issue #20): both splits parse, carry the schema, use only the eight
indicator ids, have unique ids and texts, keep threads whole, and hold at least 40% hard negatives;
the README's count table is the one scripts/indicator_set_counts.py prints. Only counts and schema
are read here: the held-out texts are for the final benchmark, not for tests to tune against."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("indicator_set_counts", ROOT / "scripts" / "indicator_set_counts.py")
assert _spec and _spec.loader
counts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(counts)


@pytest.fixture(scope="module")
def splits() -> dict[str, list[dict]]:
    return {name: counts.load(path) for name, path in counts.SPLITS.items()}


def test_both_splits_are_valid(splits):
    assert counts.problems(splits) == []


def test_size_languages_and_labels(splits):
    total = sum(len(rows) for rows in splits.values())
    assert total >= 600  # issue #20 asks for at least 600
    assert 0.35 <= len(splits["dev"]) / total <= 0.45  # about 40% dev, 60% held out
    for name, rows in splits.items():
        langs = {r["lang"] for r in rows}
        assert langs == set(counts.LANGS), name
        for lang in counts.LANGS:  # roughly balanced: no language under half its fair share
            assert sum(r["lang"] == lang for r in rows) >= len(rows) / len(counts.LANGS) / 2, (name, lang)
        for label in counts.LABELS:
            assert sum(label in r["labels"] for r in rows) >= 10, (name, label)
        assert any("thread" in r for r in rows), name


def test_checker_finds_each_defect(tmp_path):
    good = {"id": "a", "text": "x", "lang": "en", "labels": [], "hard_negative": True, "source": "s", "note": "n", "_line": 1}
    bad = [
        {**good, "_line": 2},  # same id and text
        {**good, "id": "b", "text": "y", "labels": ["passport-taken"], "hard_negative": False, "_line": 3},
        {**good, "id": "c", "text": "z", "lang": "sinhala", "_line": 4},
        {**good, "id": "d", "text": "w", "labels": [], "hard_negative": False, "note": "", "_line": 5},
        {**good, "id": "e", "text": "v", "thread": "t", "seq": 2, "_line": 6},
    ]
    found = "\n".join(
        counts.problems(
            {"dev": [good, *bad], "heldout": [{**good, "id": "f", "text": "u", "hard_negative": False, "labels": ["irregular-travel"]}]}
        )
    )
    for expected in (
        "id 'a' also",
        "same text",
        "unknown label",
        "language 'sinhala'",
        "without a note",
        "seq [2]",
        "heldout: hard negatives 0.0%",
    ):
        assert expected in found
    (tmp_path / "broken.jsonl").write_text('{"id": "a"}\nnot json\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.jsonl:2"):
        counts.load(tmp_path / "broken.jsonl")


def test_readme_counts_are_current(splits):
    readme = (counts.DIR / "README.md").read_text(encoding="utf-8")
    assert counts.tables(splits) in readme, "run scripts/indicator_set_counts.py and paste its output into the README"
