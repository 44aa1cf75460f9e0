"""`casegraph indicators`: trafficking indicators over every message in a case, as findings.

Layers, each writing its own findings (a court can weigh them separately):
- the rules (regexes per language, `lexicon.toml`, and concept rules, `concepts.toml`, over
  normalised text), always, with the learned layer's score beside them: `indicators-lexicon`;
- the learned layer (character n-grams, trained here on the packaged labelled sets and the case's
  examiner verdicts; see learned.py), where no rule fired: `indicators-learned`;
- a local transformers classifier (fine-tuned or zero-shot), when a model directory is given.
Legitimate contexts, negation and the thread around a message lower or raise scores (detect.py);
each finding says which layer fired, why (rule id and words; model version, score, top features),
and what context or thread changed its score.
A named-entity model, if given, stores the persons, places, organisations and amounts it finds
in `annotations`, each pointing at its message.

Each finding is one (message, indicator): it quotes the message, names the rule or the model
(name and weights' SHA-256) and the score, and its evidence is the message's exhibit and locator.
The message itself stays the evidence; the finding is a flag for an examiner to read.
Then a summary per chat and per person: which indicators, how often, first and last time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa

from ..findings import Finding, write_findings
from ..store import CaseStore
from ..wording import plural
from . import lexicon as lx
from . import texts
from .detect import Decision, Detector, Msg, detect_many
from .learned import Learned, for_case
from .local_model import Classifier, Tagger

if TYPE_CHECKING:
    from ..case import Case

KIND = "trafficking-indicator"
LEXICON_DETECTOR = "indicators-lexicon"  # a rule fired (the learned layer's score is recorded with it)
LEARNED_DETECTOR = "indicators-learned"  # the learned layer (or the thread) alone
MODEL_DETECTOR = "indicators-model"
SUMMARY_DETECTOR = "indicators-summary"
QUOTE = 300


@dataclass
class Run:
    messages: int = 0
    findings: dict[str, int] = field(default_factory=dict)  # detector → count
    entities: int = 0
    summary: list[dict] = field(default_factory=list)
    detector_version: str = ""


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


def learned_layer(store: CaseStore, lexicon: lx.Lexicon, events: Sequence[dict] = ()) -> Learned:
    """The learned layer for this case: the packaged labelled sets plus the examiner's verdicts on
    its indicator findings (review.finding_decisions), retrained from that data (deterministic).
    `events`: the case's custody events; a cached model is loaded only if one of them logged its weights."""
    from ..review import finding_decisions

    trusted = [
        (ev.get("details") or {}).get("learned", {}).get("weights_sha256")
        for ev in events
        if ev.get("action") == "indicators" and isinstance((ev.get("details") or {}).get("learned"), dict)
    ]

    decisions = finding_decisions(store, kind=KIND)
    records = [ev.get("record") for d in decisions for ev in (d["subject"].get("evidence") or [])[:1] if ev.get("record")]
    found: dict[str, str] = {}
    if records:
        want = store.id_table("_decided", records)
        found = {r["id"]: r["text"] for r in store.rows(f"SELECT t.id, t.text FROM ({texts.TEXTS}) t SEMI JOIN {want} w ON w.id = t.id")}
    # kept in the case directory by version (models/indicators-learned-<sha256>.npz): the next run on the same data loads it
    return for_case(
        [i.id for i in lexicon.indicators], decisions, found, cache=store.path.parent / "models", trusted=[t for t in trusted if t]
    )


def _summary(d: Decision, row: dict, model: Learned | None) -> str:
    """What fired and why, in words: the rule and its words, the model and its features, the context and the thread."""
    parts = []
    if d.rule and "rule" in d.fired:
        words = ", ".join(f"\u201c{m}\u201d" for m in d.rule["matched"])
        parts.append(f"Rule {d.rule['id']} ({d.rule['lang']}) matched {words}")
    if d.learned and ({"learned", "thread"} & set(d.fired) or d.learned["score"] >= 0.3):
        feats = ", ".join(f"\u201c{f.strip()}\u201d" for f, _ in d.learned["top_features"][:4])
        parts.append(
            f"model {d.learned['model']} (version {d.learned['version']}) scored {d.learned['score']:.2f}"
            + (f", most from {feats}" if feats else "")
        )
    if d.thread and d.thread["effect"] == "raised":
        parts.append(f"raised by {plural(len(d.thread['by']), 'nearby message')} of the same chat flagged for this indicator")
    lowered = [c for c in d.context if c["factor"] < 1]
    if lowered:
        said = ", ".join(f"{c['concept'].lower()} \u201c{c['matched']}\u201d ({c['where']})" for c in lowered)
        parts.append(f"score lowered by context: {said}")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + f" in: \u00ab{_quote(row['text'])}\u00bb"


def _finding(d: Decision, row: dict, lexicon: lx.Lexicon, detector: Detector, ids: list[str]) -> Finding:
    ind = lexicon.by_id(d.indicator)
    rule_fired = "rule" in d.fired
    name = LEXICON_DETECTOR if rule_fired else LEARNED_DETECTOR
    model = detector.learned
    thread = None
    if d.thread:
        thread = {**d.thread, "by": [ids[n] for n in d.thread["by"]]}
    attrs = {
        "indicator": d.indicator,
        "fired": d.fired,
        "rule": d.rule["id"] if rule_fired and d.rule else None,
        "rule_lang": d.rule["lang"] if rule_fired and d.rule else None,
        "matched": d.rule["matched"] if rule_fired and d.rule else [],
        "spans": d.rule.get("spans", []) if rule_fired and d.rule else [],
        "rule_concepts": d.rule.get("concepts", []) if rule_fired and d.rule else [],
        "learned": d.learned,
        "context": d.context,
        "thread": thread,
        "speaker": d.speaker,
        "lang": d.lang,
        "script": lx.language(row["text"]),
        "lexicon_sha256": lexicon.sha256,
        "concepts_sha256": detector.concepts.sha256,
        **_context(row),
    }
    return Finding(
        KIND,
        f"{row['id']}|{d.indicator}",
        f"{ind.title}{'' if rule_fired else ' (model)'}: {_who(row)}",
        _summary(d, row, model),
        name,
        lexicon.version if rule_fired or model is None else model.version[:16],
        [texts.evidence(row)],
        d.score,
        attrs,
    )


def run(
    store: CaseStore,
    lexicon: lx.Lexicon,
    classifier: Classifier | None = None,
    tagger: Tagger | None = None,
    threshold: float = 0.5,
    batch: int = 64,
    tick: Callable[[int], None] = lambda n: None,
    learned: Learned | None = None,
    workers: int = 1,
) -> Run:
    """Every message read in conversation order (a chat's messages together, by time), so a
    message's thread is read with it (within a batch of at least 512 messages); `workers` processes
    share the detection."""
    result = Run()
    detector = Detector(lexicon, learned)
    result.detector_version = detector.version
    lex_findings: list[Finding] = []
    learned_findings: list[Finding] = []
    model_findings: list[Finding] = []
    entity_rows: list[dict] = []

    def as_msgs(rows: list[dict]) -> list[Msg]:  # rows come in conversation order
        return [Msg(r["text"], (r["exhibit_sha256"], r["chat"]) if r["chat"] else None, n) for n, r in enumerate(rows)]

    for rows, decided in detect_many(detector, texts.batches(store, max(batch, 512), order=texts.BY_CONVERSATION), as_msgs, workers):
        result.messages += len(rows)
        ids = [r["id"] for r in rows]
        for row, decisions in zip(rows, decided, strict=True):
            for d in decisions:
                f = _finding(d, row, lexicon, detector, ids)
                (lex_findings if f.detector == LEXICON_DETECTOR else learned_findings).append(f)
        if classifier is not None:
            scored = [s for i in range(0, len(rows), batch) for s in classifier.scores([r["text"] for r in rows[i : i + batch]])]
            for row, scores in zip(rows, scored, strict=True):
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
            tagged = [e for i in range(0, len(rows), batch) for e in tagger.entities([r["text"] for r in rows[i : i + batch]])]
            for row, ents in zip(rows, tagged, strict=True):
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
    write_findings(store, learned_findings, LEARNED_DETECTOR)  # also clears a learned run's findings when the layer is off
    if learned is not None:
        result.findings[LEARNED_DETECTOR] = len(learned_findings)
    if classifier is not None:
        write_findings(store, model_findings, MODEL_DETECTOR)
        result.findings[MODEL_DETECTOR] = len(model_findings)
    if tagger is not None:
        with store.transaction() as con:
            con.execute("DELETE FROM annotations WHERE model = ?", [tagger.info.name])
        if entity_rows:
            store.insert("annotations", pa.Table.from_pylist(entity_rows))
        result.entities = len(entity_rows)
    result.summary, summary_findings = summarise(lex_findings + learned_findings + model_findings, lexicon)
    write_findings(store, summary_findings, SUMMARY_DETECTOR)
    result.findings[SUMMARY_DETECTOR] = len(summary_findings)
    return result


def run_logged(
    case: Case,
    lexicon: lx.Lexicon,
    classifier: Classifier | None = None,
    tagger: Tagger | None = None,
    threshold: float = 0.5,
    *,
    tick: Callable[[int], None] = lambda n: None,
    learned: Learned | None = None,
    workers: int = 1,
    actor: str | None = None,
) -> Run:
    """`casegraph analyze` as one call (the CLI's and the demo's): `run`, then its `indicators` custody event,
    stating the lexicon, the threshold, the models and the learned layer it ran with."""
    r = run(case.store, lexicon, classifier, tagger, threshold, tick=tick, learned=learned, workers=workers)
    case.log(
        "indicators",
        actor,
        state=("findings", "annotations"),
        details={
            "lexicon": lexicon.source,
            "lexicon_sha256": lexicon.sha256,
            "threshold": threshold,
            "models": [m.info.label for m in (classifier, tagger) if m is not None],
            "detector": r.detector_version,
            "learned": None
            if learned is None
            else {
                "model": learned.label,
                "version_sha256": learned.version,
                "weights_sha256": learned.weights_sha256,
                "examples": learned.examples,
                "sources": learned.sources,
            },
        },
        outputs=[{"findings": r.findings, "entities": r.entities, "messages": r.messages}],
    )
    return r


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
                f"Indicators in {scope} {name}: {plural(len(counts), 'kind')}",
                f"{plural(len(g['records']), 'message')} flagged: {text}"
                + (f"; from {first:%Y-%m-%d} to {last:%Y-%m-%d} UTC" if first else ""),
                SUMMARY_DETECTOR,
                lx.VERSION,
                list(g["records"].values())[:50],
                float(len(counts)),
                {"scope": scope, "who": who, "indicators": counts},
            )
        )
    return rows, out
