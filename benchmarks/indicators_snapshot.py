"""Every output of the indicator detector on the shipped labelled sets, to show that a speed change changes none.

    .venv/bin/python benchmarks/indicators_snapshot.py write before.json   # on the code before the change
    .venv/bin/python benchmarks/indicators_snapshot.py write after.json    # on the code after it
    .venv/bin/python benchmarks/indicators_snapshot.py compare before.json after.json

Written: every Decision (indicator, score, fired, rule, learned part with its top features, context, thread,
speaker, language) and the learned probabilities, for own + dev + dev2 + dev3 (with their threads), each in
one batch and without explanations; a few edge texts; 6,000 copies made unique and threaded as the throughput
run of indicators_eval.py builds them (batches of 2,048); one text repeated in a batch. Three detectors: the
model trained on the four sets, one trained without dev, and the rules alone. Never reads the held-out split.
Training takes about a minute.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's casegraph
from casegraph.ai import detect, learned, lexicon

FIXTURES = Path(__file__).parent.parent / "tests" / "fixtures" / "indicators"
NAMES = ("labelled.jsonl", "independent_dev.jsonl", "independent_dev2.jsonl", "independent_dev3.jsonl")
EDGES = ["", " ", "😂😂", "pp pp pp", "aaaaaaa", "ok", "ජජජජ", "தமிழ்", "they did not take my passport, nobody took my pp"]


def _dump(ds: list[list[detect.Decision]]) -> list:
    return [[dataclasses.asdict(d) for d in row] for row in ds]


def write(path: str) -> None:
    lex = lexicon.load()
    ids = [i.id for i in lex.indicators]
    sets = {n: [json.loads(line) for line in (FIXTURES / n).read_text(encoding="utf-8").splitlines() if line.strip()] for n in NAMES}
    examples = [e for n in NAMES for e in learned.read_jsonl((FIXTURES / n).read_text(encoding="utf-8").splitlines(), n)]
    models = {
        "full": learned.train(examples, ids),
        "nodev": learned.train([e for e in examples if e.source != "independent_dev.jsonl"], ids),
        "rules": None,
    }
    texts = [r["text"] for n in NAMES for r in sets[n]]
    out: dict[str, list] = {}
    for name, model in models.items():
        det = detect.Detector(lex, model)
        for n in NAMES:
            msgs = [detect.Msg(r["text"], r.get("thread"), r.get("seq")) for r in sets[n]]
            out[f"{name}/{n}"] = _dump(det.detect(msgs))
            if model is not None:
                out[f"{name}/{n}/noexplain"] = _dump(det.detect(msgs, explain=False))
                out[f"{name}/{n}/prob"] = model.probabilities([m.text for m in msgs]).tolist()
        out[f"{name}/edges"] = _dump(det.detect([detect.Msg(t) for t in EDGES]))
        msgs = [detect.Msg(texts[i % len(texts)] + f" #{i}", f"chat {i % 300}", i) for i in range(6000)]
        out[f"{name}/threaded"] = [d for i in range(0, len(msgs), 2048) for d in _dump(det.detect(msgs[i : i + 2048]))]
        out[f"{name}/repeated"] = _dump(det.detect([detect.Msg(texts[i % 50], "t", i) for i in range(200)]))
    Path(path).write_text(json.dumps(out, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    print(f"{path}: {len(out)} parts")


def compare(a_path: str, b_path: str) -> int:
    a = json.loads(Path(a_path).read_text(encoding="utf-8"))
    b = json.loads(Path(b_path).read_text(encoding="utf-8"))
    differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    for k in differ[:5]:
        first = next((i for i, (x, y) in enumerate(zip(a.get(k, []), b.get(k, []), strict=False)) if x != y), None)
        print(f"{k}: first difference at message {first}")
    print("identical" if not differ else f"{len(differ)} of {len(a.keys() | b.keys())} parts differ")
    return 1 if differ else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        write(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        sys.exit(compare(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(__doc__)
