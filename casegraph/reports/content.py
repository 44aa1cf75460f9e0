"""What a report says, gathered from the case as plain data (rendered to HTML/PDF elsewhere).

A report describes the case *as of* one custody event: the newest event that is not itself a
report, bundle or verification output. So writing a report does not change the next report of
the same case state, and the same case gives byte-identical output. The report's date is
SOURCE_DATE_EPOCH when set, else the time of that event.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from contextlib import suppress
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from typing import Any

from .. import TOOL
from ..case import Case
from ..ingest.integrity import verify_case
from ..ingest.seizure import device_text
from ..quotes import _records
from ..quotes import zone_basis as zone_basis  # moved down to findings level (review quotes too); here for the report's callers
from ..review import SEVERITIES, issue_counts
from ..wording import plural, verb
from . import relied
from .redact import Redactor

MONEY_KINDS = {
    "structuring",
    "fan-in",
    "fan-out",
    "cycle",
    "scatter-gather",
    "gather-scatter",
    "pass-through",
    "bipartite",
    "stack",
    "money-trace",
}
MONEY_NOTE = (
    "Amounts are shown in the currency or token each record states, with thousands separators. Totals are per "
    "currency and are never added across currencies; a figure in another currency appears only where the "
    "examiner supplied a rate table, which is an exhibit, and each converted figure cites its rate. Each amount a "
    "money finding states is the sum of transfers it cites, except the 'tainted' part of a trace under the "
    "haircut or fifo model, which that model computes from the cited transfers (see Limitations). Dates from "
    "statements that give no time are shown as dates."
)
OUTPUT_ACTIONS = {"report-written", "bundle-written", "signing-key-created"}
EVIDENCE_SHOWN = 12  # per finding in the report; findings.json holds them all
FINDING_ORDER = [
    "structuring",
    "fan-in",
    "fan-out",
    "cycle",
    "scatter-gather",
    "gather-scatter",
    "pass-through",
    "money-trace",
    "indicator-summary",
    "trafficking-indicator",
    "broker",
    "community",
    "connected-group",
    "multi-exhibit",
    "most-contacted",
    "contact-timeline",
]
# examiner to-dos, not findings: they stay in the review queue (`casegraph findings list`), out of the court report
REVIEW_KINDS = ("possible-same-person", "resolution-conflict")


def as_of(events: list[dict]) -> dict:
    """The custody event a report describes the case at."""
    state = [e for e in events if e.get("action") not in OUTPUT_ACTIONS]
    if not state:
        raise ValueError("the custody log has no events: nothing to report")
    return state[-1]


def report_time(event: dict) -> datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.fromisoformat(event["time"]).astimezone(UTC).replace(microsecond=0)


def tool_versions() -> dict[str, str]:
    """casegraph, Python, and the version of every installed distribution this process has imported
    (as pinned by requirements.lock), so the methods state the software that actually ran."""
    out = {"casegraph": TOOL.split()[-1], "python": platform.python_version()}
    owners = packages_distributions()
    for dist in sorted({d for m in list(sys.modules) for d in owners.get(m.partition(".")[0], ())}, key=str.lower):
        with suppress(PackageNotFoundError):
            out.setdefault(dist, version(dist))
    return out


def _summary(ev: dict) -> str:
    """One line for a custody event: what was done to what."""
    d = ev.get("details") or {}
    outs = ev.get("outputs") or []
    ins = ev.get("inputs") or []
    if ev["action"] == "intake" and ins:
        return f"exhibit {d.get('exhibit_id')}: {ins[0].get('name')} (SHA-256 {ins[0].get('sha256')})"
    keys = [
        k
        for k in (
            "exhibit_id",
            "parser",
            "parser_version",
            "status",
            "detector",
            "verdict",
            "action",
            "entity",
            "role",
            "reason",
            "origin",
            "model",
            "records",
            "findings",
            "counts",
            "fingerprint",
        )
        if k in d
    ]
    parts = [f"{k}={json.dumps(d[k], ensure_ascii=False, sort_keys=True) if not isinstance(d[k], str) else d[k]}" for k in keys]
    if outs:
        parts.append(
            "outputs: "
            + ", ".join(
                o.get("path")
                or json.dumps({k: v for k, v in o.items() if k not in ("sha256", "note")}, sort_keys=True, ensure_ascii=False, default=str)[
                    :120
                ]
                for o in outs[:3]
            )
        )
    return "; ".join(parts)[:300]


def issue_statements(counts: list[dict]) -> list[str]:
    """The Limitations sentences on parse issues, one per severity present, computed from the records:
    error = input kept aside, not used; warning = a decision the data did not fully support; info = a note."""

    def per_exhibit(sev: str) -> str:
        return ", ".join(f"{c['exhibit']} {c['file']} ({c['parser']}): {c[sev]}" for c in counts if c[sev])

    total = {s: sum(c[s] for c in counts) for s in SEVERITIES}
    out = []
    if total["error"]:
        n = total["error"]
        out.append(
            f"{plural(n, 'input item')} could not be parsed and {verb(n, 'was', 'were')} kept aside, not used: {per_exhibit('error')}."
        )
    else:
        out.append(
            "No input was kept aside: every parser read all of its input"
            + (" (the parse issues recorded are warnings or notes, below)." if total["warning"] or total["info"] else ".")
        )
    if total["warning"]:
        out.append(
            f"{plural(total['warning'], 'parse warning')}: records were used, but a decision the data did not fully support "
            f"was made (each is listed with its locator by 'casegraph parse-issues CASE --list'): {per_exhibit('warning')}."
        )
    if total["info"]:
        out.append(
            f"{plural(total['info'], 'note')} on how a file was read (for example the date order or profile used); "
            f"nothing was set aside: {per_exhibit('info')}."
        )
    return out


def _review_statement(rows: list[dict]) -> str | None:
    """One sentence for the examiner to-dos left out of the report (counted per person pair)."""
    pairs = {k: set() for k in REVIEW_KINDS}
    for r in rows:
        attrs = json.loads(r["attrs"] or "{}")
        pairs[r["kind"]].add(tuple(sorted(attrs.get("entities") or [r["id"]])))
    same, refused = len(pairs["possible-same-person"]), len(pairs["resolution-conflict"])
    if not same and not refused:
        return None
    parts = []
    if same:
        parts.append(
            f"{plural(same, 'pair')} of persons that may be the same person {verb(same, 'awaits', 'await')} the examiner's "
            f"review and {verb(same, 'was', 'were')} not joined"
        )
    if refused:
        parts.append(
            f"{plural(refused, 'link')} between records {verb(refused, 'was', 'were')} refused by entity resolution and "
            f"{verb(refused, 'awaits', 'await')} review"
        )
    return (
        "; ".join(parts)
        + ". They are not findings and are not listed here (see 'casegraph findings list CASE --kind "
        + ("possible-same-person" if same else "resolution-conflict")
        + "')."
    )


def evidence_appendix(findings: list[dict]) -> list[dict]:
    """Each cited record once, numbered E1, E2 … in order of first citation; each finding's `refs`
    names the numbers of the records it shows, so a record shared by several findings is printed once."""
    number: dict[tuple, str] = {}
    appendix = []
    for f in findings:
        f["refs"] = []
        for e in f["shown"]:
            key = (e.get("exhibit_sha256"), e.get("record") or e.get("locator"))
            if key not in number:
                number[key] = f"E{len(number) + 1}"
                appendix.append({**e, "ref": number[key], "cited_by": []})
            ref = number[key]
            f["refs"].append(ref)
            entry = appendix[int(ref[1:]) - 1]
            if f["id"] not in entry["cited_by"]:
                entry["cited_by"].append(f["id"])
    return appendix


def _reparse_statement(events: list[dict]) -> str:
    """Whether the records were re-derived from the evidence (custody verify --reparse), and with what result."""
    done = [e for e in events if e.get("action") == "custody-verify" and (e.get("details") or {}).get("reparse") is True]
    if not done:
        return (
            "The records were not re-derived from the evidence for this report (custody verify --reparse was not run); "
            "they were checked against the digests recorded when they were written."
        )
    e, d = done[-1], done[-1]["details"]
    result = (
        "every record was identical"
        if str(d.get("verdict", "")).startswith("INTACT")
        else "differences were found: " + "; ".join(str(p) for p in (d.get("problems") or [])[:5])
    )
    return (
        f"At custody event {e['seq']} ({e['time'][:19]}), every parse run ({d.get('reparsed_runs')}) was re-derived from the "
        f"evidence with its recorded parser version and options and compared with the stored records: {result}."
    )


def _decision_text(e: dict) -> str | None:
    """How a cited decision reads (an examiner's link, a resolution link or merge a trace crossed)."""
    if e.get("table") == "examiner-decision":
        return f"{e.get('record')}: {e.get('note', '')}, by {e.get('actor', '?')}"
    if e.get("table") == "entity_links":
        return f"entity resolution, {e.get('locator')}: {e.get('record')} ({plural(len(e.get('evidence') or []), 'record')})"
    if e.get("table") == "er_decisions":
        return f"examiner's {e.get('locator')}, by {e.get('actor', '?')}: {e.get('reason') or ''}"
    return None


def gather(
    case: Case, redactor: Redactor | None = None, interpretation: str | None = None, verdict=None, override: dict | None = None
) -> dict[str, Any]:
    redactor = redactor or Redactor.none()
    store = case.store
    events = case.custody.events()
    head = as_of(events)
    shown = [e for e in events if e["seq"] <= head["seq"]]
    verdict = verdict if verdict is not None else verify_case(case)
    exhibits = store.rows("""SELECT exhibit_id, original_name, format, size, sha256, md5, seized_from, acquired_by, warrant, notes,
                                    strftime(added_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S UTC') AS added,
                                    seized_at, seal, device_make, device_model, device_imei, device_serial
                             FROM exhibits ORDER BY exhibit_id, original_name, sha256""")
    for e in exhibits:
        e["device"] = device_text(e)
    label_of = {e["sha256"]: f"{e['exhibit_id']} {e['original_name'] or ''}".strip() for e in exhibits}
    runs = store.rows("""SELECT e.exhibit_id, e.original_name, r.parser, r.parser_version, r.status, r.records, r.issues
                         FROM parse_runs r JOIN exhibits e ON e.sha256 = r.exhibit_sha256 ORDER BY 1, 2, 3""")
    counts = issue_counts(store)
    by_run = {(c["exhibit"], c["file"], c["parser"]): c for c in counts}
    # ranked findings stored past the ones an analysis reports (attrs listed: false) stay out of the report
    reported = "coalesce(json_extract_string(attrs, '$.listed'), 'true') <> 'false'"
    detectors = store.rows(f"""SELECT detector, detector_version, count(*) AS n FROM findings
                               WHERE kind NOT IN ({", ".join(repr(k) for k in REVIEW_KINDS)}) AND {reported} GROUP BY ALL ORDER BY 1""")
    rows = store.rows(f"SELECT id, kind, title, summary, score, detector, detector_version, evidence, attrs FROM findings WHERE {reported}")
    review = _review_statement([r for r in rows if r["kind"] in REVIEW_KINDS])
    rows = [r for r in rows if r["kind"] not in REVIEW_KINDS]
    order = {k: i for i, k in enumerate(FINDING_ORDER)}
    rows.sort(key=lambda r: (order.get(r["kind"], len(order)), r["kind"], -(r["score"] or 0), r["title"], r["id"]))
    findings = []
    for r in rows:
        ev = json.loads(r["evidence"])
        findings.append(
            {
                "id": r["id"],
                "kind": r["kind"],
                "title": r["title"],
                "summary": r["summary"],
                "score": r["score"],
                "show_score": r["kind"] not in MONEY_KINDS,  # a money finding states its figures, not a raw score
                "detector": f"{r['detector']} {r['detector_version']}",
                "evidence": ev,
                "attrs": json.loads(r["attrs"] or "{}"),
            }
        )
    findings = relied.without_rejected(store, findings)  # the examiner rejected them: left out of the report
    records = _records(store, [e for f in findings for e in f["evidence"][:EVIDENCE_SHOWN]])
    for f in findings:
        f["evidence_total"] = len(f["evidence"])
        f["shown"] = [
            {
                "ts": None,
                "time": None,
                "zone": None,
                "text": _decision_text(e),
                "locator": "",
                **e,
                "exhibit": label_of.get(e.get("exhibit_sha256"), (e.get("exhibit_sha256") or "")[:16]),
                **records.get(e.get("record"), {}),
            }
            for e in f["evidence"][:EVIDENCE_SHOWN]
        ]
    appendix = evidence_appendix(findings)
    zones = store.one("""SELECT count(*) FILTER (WHERE tz_basis = 'unknown' AND p IS DISTINCT FROM 'day'),
                                count(*) FILTER (WHERE tz_basis LIKE 'case-timezone:%' AND p IS DISTINCT FROM 'day'),
                                count(*) FILTER (WHERE p = 'day')
                         FROM (SELECT tz_basis, ts_precision AS p FROM messages UNION ALL SELECT tz_basis, ts_precision FROM calls
                               UNION ALL SELECT tz_basis, ts_precision FROM transactions)""")
    limitations = [
        "Findings state what the records show; they are produced by the methods listed and do not, on their own, "
        "establish intent, identity or guilt. The interpretation section is the examiner's opinion.",
        "Persons are joined across devices by shared identifiers, a bank narration naming an account's holder, the examiner's "
        "decisions, and by names only where another field of the two records agrees too (a date of birth, an address, an "
        "account, one device's address book: entity resolution). A name alone joins no one: such pairs, and names below "
        "the automatic threshold, were not joined and await the examiner's review.",
        "Times are shown as the source recorded them (its local time and UTC offset), with UTC beside them and where "
        "the zone came from; a value the source gave as a date is shown as a date.",
    ]
    limitations += issue_statements(counts)
    if zones[1]:
        limitations.append(
            f"{plural(zones[1], 'record time')} (messages, calls, transactions) {verb(zones[1], 'carries', 'carry')} "
            "no time zone in the source; "
            f"the case time zone ({case.info.timezone}) was assumed for them, and each is marked so."
        )
    if zones[2]:
        limitations.append(
            f"{plural(zones[2], 'record')} {verb(zones[2], 'carries', 'carry')} a date and no time in the source; "
            f"{verb(zones[2], 'it is shown as a date, and its', 'they are shown as dates, and their')} "
            "order within a day is not known from the time."
        )
    if zones[0]:
        limitations.append(
            f"{plural(zones[0], 'record time')} {verb(zones[0], 'carries', 'carry')} no time zone in the source and "
            "no case time zone was set; "
            "they are shown as the source wrote them, marked 'zone unknown', with no UTC time."
        )
    dst = sum(store.count(t, "WHERE tz_basis LIKE '%;%'") for t in ("messages", "calls", "transactions"))
    if dst:
        limitations.append(
            f"{plural(dst, 'local time')} {verb(dst, 'occurs', 'occur')} twice or not at all in the case time zone "
            "(a daylight-saving change); "
            "each is shown with the offset used and the other possible one."
        )
    if store.count("ocr_text"):
        limitations.append("Text read from images (OCR, tesseract) may contain reading errors; the image itself is the evidence.")
    if any(f["attrs"].get("sampled") for f in findings):
        limitations.append("Broker scores on this graph were estimated from a sample of shortest paths.")
    if any(f["kind"] == "trafficking-indicator" for f in findings):
        limitations.append(
            "Trafficking indicators are flags for an examiner to read, from word lists and, where named, a "
            "language model; each cites the message, which is the evidence, and never replaces it."
        )
    if any(f["kind"] == "money-trace" for f in findings):
        limitations.append(
            "In money traces, 'tainted' figures are computed by the model each finding names (poison, haircut "
            "or fifo) from the transfers it cites; no record states them. Paths follow the order of transfers "
            "in time, and transfers the source records as failed are left out unless a finding says otherwise."
        )
    if redactor.active:
        limitations.append(
            "Persons marked as victims, witnesses or minors are shown under pseudonyms (Victim-1 ...) in this "
            "copy; the case holds the unredacted data."
        )
    doc = {
        "case": {k: getattr(case.info, k) for k in ("case_no", "title", "examiner", "agency", "timezone", "created")},
        "generated": report_time(head).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "as_of": {"seq": head["seq"], "hash": head["hash"], "time": head["time"], "action": head["action"]},
        "authority": sorted({e["warrant"] for e in exhibits if e["warrant"]}),
        "exhibits": exhibits,
        "custody": [
            {
                "seq": e["seq"],
                "time": e["time"],
                "when": e["time"][:19].replace("T", " ") + e["time"][26:],
                "actor": e["actor"],
                "action": e["action"],
                "host": e.get("host"),
                "tool": e.get("tool"),
                "summary": _summary(e),
                "hash": e["hash"],
            }
            for e in shown
        ],
        "custody_verdict": {
            "ok": verdict.ok,
            "events": len(shown),
            "exhibits_checked": verdict.exhibits_checked,
            "segments_checked": verdict.segments_checked,
            "runs_checked": verdict.runs_checked,
            "tables_checked": verdict.tables_checked,
            "problems": [str(p) for p in verdict.problems],
            "warnings": [str(p) for p in verdict.warnings],
            "acknowledged": [str(p) for p in verdict.acknowledged],
            "override": override,
            "reparse": _reparse_statement(shown),
        },
        "runs": [
            {
                **r,
                "records": {k: v for k, v in json.loads(r["records"] or "{}").items() if k != "parse_issues"},
                "issues": {s: by_run.get((r["exhibit_id"], r["original_name"] or "", r["parser"]), {}).get(s, 0) for s in SEVERITIES},
            }
            for r in runs
        ],
        "review": review,
        "appendix": appendix,
        "detectors": detectors,
        "tools": tool_versions(),
        "findings": findings,
        "relied_upon": relied.items(store),  # confirmed findings and tagged records (reports.relied)
        "counts": {t: store.count(t) for t in ("messages", "calls", "contacts", "transactions", "ocr_text", "entities", "findings")},
        "interpretation": interpretation,
        "limitations": limitations,
        "money_note": MONEY_NOTE if any(f["kind"] in MONEY_KINDS for f in findings) else None,
        "redacted": redactor.active,
    }
    return redactor(doc)
