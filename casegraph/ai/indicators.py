"""`casegraph indicators`: trafficking indicators over every message in a case, as findings.

Two layers, each writing its own findings (a court can weigh them separately):
- the lexicon (rules per language, `lexicon.toml`), always;
- a local transformers classifier (fine-tuned or zero-shot), when a model directory is given.
A named-entity model, if given, stores the persons, places, organisations and amounts it finds
in `annotations`, each pointing at its message.

Each finding is one (message, indicator): it quotes the message, names the rule or the model
(name and weights' SHA-256) and the score, and its evidence is the message's exhibit and locator.
The message itself stays the evidence; the finding is a flag for an examiner to read.
Then a summary per chat and per person: which indicators, how often, first and last time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

from ..findings import Finding, write_findings
from ..store import CaseStore
from . import lexicon as lx
from . import texts
from .models import Classifier, Tagger

KIND = "trafficking-indicator"
LEXICON_DETECTOR = "indicators-lexicon"
MODEL_DETECTOR = "indicators-model"
SUMMARY_DETECTOR = "indicators-summary"
QUOTE = 300


@dataclass
class Run:
    messages: int = 0
    findings: dict[str, int] = field(default_factory=dict)  # detector → count
    entities: int = 0
    summary: list[dict] = field(default_factory=list)


def _quote(text: str) -> str:
    return text if len(text) <= QUOTE else text[: QUOTE - 1] + "…"


def _who(row: dict) -> str:
    return (
        f"{row['sender'] or 'unknown sender'}" + (f" in '{row['chat']}'" if row["chat"] else "")
        if row["table"] == "messages"
        else "text read from an image"
    )


def _context(row: dict) -> dict:
    """What every indicator finding records about its message's place: chat, sender, person, time."""
    return {"chat": row["chat"], "sender": row["sender"], "person": row["person"], "ts_utc": row["ts_utc"]}


def run(
    store: CaseStore,
    lexicon: lx.Lexicon,
    classifier: Classifier | None = None,
    tagger: Tagger | None = None,
    threshold: float = 0.5,
    batch: int = 64,
    tick: Callable[[int], None] = lambda n: None,
) -> Run:
    result = Run()
    lex_findings: list[Finding] = []
    model_findings: list[Finding] = []
    entity_rows: list[dict] = []
    for rows in texts.batches(store, batch):
        result.messages += len(rows)
        for row in rows:
            for h in lx.scan(lexicon, row["text"]):
                ind = lexicon.by_id(h.indicator)
                words = ", ".join(f"\u201c{m}\u201d" for m in h.matched)
                lex_findings.append(
                    Finding(
                        KIND,
                        f"{row['id']}|{h.indicator}",
                        f"{ind.title}: {_who(row)}",
                        f"Rule {h.rule} ({h.lang}) matched {words} in: \u00ab{_quote(row['text'])}\u00bb",
                        LEXICON_DETECTOR,
                        lexicon.version,
                        [texts.evidence(row)],
                        h.score,
                        {
                            "indicator": h.indicator,
                            "rule": h.rule,
                            "rule_lang": h.lang,
                            "matched": list(h.matched),
                            "spans": [list(s) for s in h.spans],
                            "script": lx.language(row["text"]),
                            "lexicon_sha256": lexicon.sha256,
                            **_context(row),
                        },
                    )
                )
        if classifier is not None:
            for row, scores in zip(rows, classifier.scores([r["text"] for r in rows])):  # noqa: B905
                for ind_id, score in sorted(scores.items()):
                    if score >= threshold:
                        ind = lexicon.by_id(ind_id)
                        model_findings.append(
                            Finding(
                                KIND,
                                f"{row['id']}|{ind_id}|{classifier.info.label}",
                                f"{ind.title} (model): {_who(row)}",
                                f"Model {classifier.info.name} ({classifier.info.kind}, weights {classifier.info.version}) scored "
                                f"{score:.2f} for this indicator on: \u00ab{_quote(row['text'])}\u00bb",
                                MODEL_DETECTOR,
                                classifier.info.version,
                                [texts.evidence(row)],
                                round(score, 6),
                                {
                                    "indicator": ind_id,
                                    "model": classifier.info.name,
                                    "model_version": classifier.info.version,
                                    "model_kind": classifier.info.kind,
                                    "threshold": threshold,
                                    **_context(row),
                                },
                            )
                        )
        if tagger is not None:
            for row, ents in zip(rows, tagger.entities([r["text"] for r in rows])):  # noqa: B905
                entity_rows += [
                    {
                        "record_id": row["id"],
                        "model": tagger.info.name,
                        "model_version": tagger.info.version,
                        "label": label,
                        "text": text,
                        "start_char": s,
                        "end_char": e,
                        "score": score,
                        "exhibit_sha256": row["exhibit_sha256"],
                        "parser": row["parser"],
                        "parser_version": row["parser_version"],
                        "locator": row["locator"],
                    }
                    for label, text, s, e, score in ents
                ]
        tick(len(rows))
    write_findings(store, lex_findings, LEXICON_DETECTOR)
    result.findings[LEXICON_DETECTOR] = len(lex_findings)
    if classifier is not None:
        write_findings(store, model_findings, MODEL_DETECTOR)
        result.findings[MODEL_DETECTOR] = len(model_findings)
    if tagger is not None:
        with store.transaction() as con:
            con.execute("DELETE FROM annotations WHERE model = ?", [tagger.info.name])
        if entity_rows:
            store.insert("annotations", pa.Table.from_pylist(entity_rows))
        result.entities = len(entity_rows)
    result.summary, summary_findings = summarise(lex_findings + model_findings, lexicon)
    write_findings(store, summary_findings, SUMMARY_DETECTOR)
    result.findings[SUMMARY_DETECTOR] = len(summary_findings)
    return result


def _person_name(who: str) -> str:
    """'Nuwan Agent (person:0826…)' (texts.TEXTS' person: label and id, unique per person) → 'Nuwan Agent'."""
    name, sep, rest = who.rpartition(" (person:")
    return name if sep and rest.endswith(")") else who


def summarise(findings: list[Finding], lexicon: lx.Lexicon) -> tuple[list[dict], list[Finding]]:
    """Per chat and per person (the resolved sender; the sender as written when unresolved):
    messages flagged, by indicator, first and last time."""
    groups: dict[tuple[str, str], dict] = defaultdict(lambda: {"indicators": defaultdict(set), "records": {}, "times": []})
    for f in findings:
        for scope, who in (
            ("chat", f.attrs.get("chat")),
            ("person", f.attrs.get("person")),
            ("sender", None if f.attrs.get("person") else f.attrs.get("sender")),
        ):
            if not who:
                continue
            g = groups[(scope, who)]
            rec = f.evidence[0]
            g["indicators"][f.attrs["indicator"]].add(rec["record"])
            g["records"][rec["record"]] = rec
            if f.attrs.get("ts_utc"):
                g["times"].append(f.attrs["ts_utc"])
    rows, out = [], []
    for (scope, who), g in sorted(groups.items()):
        counts = {i: len(r) for i, r in sorted(g["indicators"].items())}
        first, last = (min(g["times"]), max(g["times"])) if g["times"] else (None, None)
        rows.append({"scope": scope, "who": who, "messages": len(g["records"]), "indicators": counts, "first": first, "last": last})
        text = ", ".join(f"{lexicon.by_id(i).title.lower()} ({n})" for i, n in counts.items())
        name = _person_name(who) if scope == "person" else who  # a court heading names the person, not the store's id
        out.append(
            Finding(
                "indicator-summary",
                f"{scope}|{who}",
                f"Indicators in {scope} {name}: {len(counts)} kind(s)",
                f"{len(g['records'])} message(s) flagged: {text}" + (f"; from {first:%Y-%m-%d} to {last:%Y-%m-%d} UTC" if first else ""),
                SUMMARY_DETECTOR,
                lx.VERSION,
                list(g["records"].values())[:50],
                float(len(counts)),
                {"scope": scope, "who": who, "indicators": counts},
            )
        )
    return rows, out
