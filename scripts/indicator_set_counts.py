"""Count the independent indicator set (tests/fixtures/indicators/independent_{dev,heldout}.jsonl)
per split, language, label and negatives, and check its schema. The README's count table is this
script's output:
    .venv/bin/python scripts/indicator_set_counts.py          # print the Markdown tables
    .venv/bin/python scripts/indicator_set_counts.py --check  # exit 1 with the problems found
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

DIR = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "indicators"
SPLITS = {"dev": DIR / "independent_dev.jsonl", "heldout": DIR / "independent_heldout.jsonl"}
LABELS = (
    "deceptive-recruitment",
    "fees-debt-bondage",
    "document-confiscation",
    "movement-restriction",
    "threats-coercion",
    "sexual-exploitation",
    "forced-criminality",
    "irregular-travel",
)
LANGS = ("en", "si", "ta", "si-Latn", "ta-Latn")
REQUIRED = {"id": str, "text": str, "lang": str, "labels": list, "hard_negative": bool, "source": str}
MIN_NEGATIVE_SHARE = 0.40  # issue #20: at least 40% hard negatives


def load(path: Path) -> list[dict]:
    """The rows of one split; a line that is not a JSON object raises ValueError naming file and line."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path.name}:{n}: not JSON ({e.msg})") from None
        if not isinstance(row, dict):
            raise ValueError(f"{path.name}:{n}: not a JSON object")
        row["_line"] = n
        rows.append(row)
    return rows


def problems(splits: dict[str, list[dict]]) -> list[str]:
    """Everything wrong with the set: schema, labels, languages, ids unique across splits, threads
    kept in one split with consecutive seq, texts not repeated, and the share of hard negatives."""
    out: list[str] = []
    ids: dict[str, str] = {}
    texts: dict[str, str] = {}
    threads: dict[str, str] = {}
    for split, rows in splits.items():
        for r in rows:
            at = f"{split}:{r['_line']}"
            for field, kind in REQUIRED.items():
                if not isinstance(r.get(field), kind):
                    out.append(f"{at}: field {field!r} missing or not {kind.__name__}")
            if r.get("lang") not in LANGS:
                out.append(f"{at}: language {r.get('lang')!r} not one of {', '.join(LANGS)}")
            labels = r.get("labels") or []
            if unknown := [x for x in labels if x not in LABELS]:
                out.append(f"{at}: unknown label(s) {unknown}")
            if len(set(labels)) != len(labels):
                out.append(f"{at}: repeated label")
            if r.get("hard_negative") and labels:
                out.append(f"{at}: hard_negative with labels {labels}")
            if not labels and not r.get("note"):
                out.append(f"{at}: negative without a note saying which look-alike it is")
            if (rid := r.get("id")) in ids:
                out.append(f"{at}: id {rid!r} also at {ids[rid]}")
            ids[str(rid)] = at
            key = " ".join(str(r.get("text", "")).lower().split())
            if key in texts:
                out.append(f"{at}: same text as {texts[key]}")
            texts[key] = at
            if "thread" in r:
                if threads.setdefault(r["thread"], split) != split:
                    out.append(f"{at}: thread {r['thread']!r} is in both splits")
                if not isinstance(r.get("seq"), int):
                    out.append(f"{at}: thread message without an integer seq")
        share = sum(bool(r.get("hard_negative")) for r in rows) / max(len(rows), 1)
        if share < MIN_NEGATIVE_SHARE:
            out.append(f"{split}: hard negatives {share:.1%} < {MIN_NEGATIVE_SHARE:.0%}")
    for tid in threads:
        seqs = sorted(r["seq"] for rows in splits.values() for r in rows if r.get("thread") == tid and isinstance(r.get("seq"), int))
        if seqs != list(range(1, len(seqs) + 1)):
            out.append(f"thread {tid!r}: seq {seqs} is not 1..{len(seqs)}")
    return out


def tables(splits: dict[str, list[dict]]) -> str:
    """Two Markdown tables: messages, hard negatives and threads per split and language; then
    messages per label, per split, with the languages in the order of LANGS."""
    lines = ["| split | " + " | ".join(LANGS) + " | all |", "|---" * (len(LANGS) + 2) + "|"]
    for split, rows in splits.items():
        lang = Counter(r["lang"] for r in rows)
        hard = Counter(r["lang"] for r in rows if r["hard_negative"])
        other = Counter(r["lang"] for r in rows if not r["labels"] and not r["hard_negative"])
        thread = {x: len({r["thread"] for r in rows if "thread" in r and r["lang"] == x}) for x in LANGS}
        n_hard = sum(hard.values())
        lines += [
            f"| {split}: messages | " + " | ".join(str(lang[x]) for x in LANGS) + f" | {len(rows)} |",
            f"| {split}: hard negatives | " + " | ".join(str(hard[x]) for x in LANGS) + f" | {n_hard} ({n_hard / len(rows):.1%}) |",
            f"| {split}: other negatives (thread context) | " + " | ".join(str(other[x]) for x in LANGS) + f" | {sum(other.values())} |",
            f"| {split}: threads | " + " | ".join(str(thread[x]) for x in LANGS) + f" | {sum(thread.values())} |",
        ]
    head = " | ".join(f"{split} ({' / '.join(LANGS)})" for split in splits)
    lines += ["", f"| label | {head} |", "|---" * (len(splits) + 1) + "|"]
    for label in LABELS:
        cells = []
        for rows in splits.values():
            per = [sum(label in r["labels"] and r["lang"] == x for r in rows) for x in LANGS]
            cells.append(f"{sum(per)} ({' / '.join(map(str, per))})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    splits = {name: load(path) for name, path in SPLITS.items()}
    found = problems(splits)
    if "--check" in sys.argv:
        for p in found:
            print(p, file=sys.stderr)
        return 1 if found else 0
    print(tables(splits))
    return 0


if __name__ == "__main__":
    sys.exit(main())
