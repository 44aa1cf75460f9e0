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
from collections import defaultdict
from contextlib import suppress
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from typing import Any

from .. import TOOL
from ..case import Case
from ..ingest.integrity import verify_case
from .redact import Redactor

OUTPUT_ACTIONS = {"report-written", "bundle-written", "signing-key-created"}
EVIDENCE_SHOWN = 12  # per finding in the report; findings.json holds them all
FINDING_ORDER = ["structuring", "fan-in", "fan-out", "cycle", "scatter-gather", "gather-scatter", "pass-through",
                 "money-trace", "indicator-summary", "trafficking-indicator", "broker", "community", "connected-group", "multi-exhibit",
                 "most-contacted", "contact-timeline", "possible-same-person", "resolution-conflict"]


def as_of(events: list[dict]) -> dict:
    """The custody event a report describes the case at."""
    state = [e for e in events if e.get("action") not in OUTPUT_ACTIONS]
    if not state:
        raise ValueError("the custody log has no events: nothing to report")
    return state[-1]


def report_time(event: dict) -> datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), timezone.utc)
    return datetime.fromisoformat(event["time"]).astimezone(timezone.utc).replace(microsecond=0)


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
    keys = [k for k in ("exhibit_id", "parser", "parser_version", "status", "detector", "verdict", "action", "entity", "role",
                        "reason", "origin", "model", "records", "findings", "counts", "fingerprint") if k in d]
    parts = [f"{k}={json.dumps(d[k], ensure_ascii=False, sort_keys=True) if not isinstance(d[k], str) else d[k]}" for k in keys]
    if outs:
        parts.append("outputs: " + ", ".join(o.get("path") or json.dumps({k: v for k, v in o.items() if k not in ("sha256", "note")}, sort_keys=True,
                                                                           ensure_ascii=False, default=str)[:120] for o in outs[:3]))
    return "; ".join(parts)[:300]


def _records(store, evidence: list[dict]) -> dict[str, dict]:
    """Time and text of the records findings cite, for showing them beside the finding."""
    by_table: dict[str, set[str]] = defaultdict(set)
    for e in evidence:
        if e.get("table") in ("messages", "ocr_text", "transactions", "calls", "contacts") and e.get("record"):
            by_table[e["table"]].add(e["record"])
    sql = {
        "messages": "SELECT id, ts_utc, coalesce(sender_name, sender_id) || ': ' || coalesce(text, '[' || kind || ']') AS text FROM messages",
        "ocr_text": "SELECT id, NULL AS ts_utc, text FROM ocr_text",
        "transactions": """SELECT id, ts_utc, coalesce(from_name, from_account, '?') || ' → ' || coalesce(to_name, to_account, '?') || ': '
                           || rtrim(rtrim(CAST(amount AS VARCHAR), '0'), '.') || ' ' || coalesce(currency, '') || coalesce(' (' || description || ')', '') AS text
                           FROM transactions""",
        "calls": "SELECT id, ts_utc, direction || ' call ' || coalesce(number, '') || ', ' || coalesce(CAST(duration_s AS VARCHAR), '?') || ' s' AS text FROM calls",
        "contacts": "SELECT id, NULL AS ts_utc, 'contact card: ' || coalesce(name, '') AS text FROM contacts",
    }
    out = {}
    for table, ids in by_table.items():
        want = store.id_table("_want", ids)
        for r in store.rows(f"SELECT r.* FROM ({sql[table]}) r SEMI JOIN {want} w ON w.id = r.id"):
            ts = r["ts_utc"].astimezone(timezone.utc) if r["ts_utc"] else None
            out[r["id"]] = {"table": table, "ts": ts.isoformat() if ts else None,
                            "ts_utc": ts.strftime("%Y-%m-%d %H:%M:%S UTC") if ts else None, "text": (r["text"] or "")[:400]}
    return out


def _reparse_statement(events: list[dict]) -> str:
    """Whether the records were re-derived from the evidence (custody verify --reparse), and with what result."""
    done = [e for e in events if e.get("action") == "custody-verify" and (e.get("details") or {}).get("reparse") is True]
    if not done:
        return ("The records were not re-derived from the evidence for this report (custody verify --reparse was not run); "
                "they were checked against the digests recorded when they were written.")
    e, d = done[-1], done[-1]["details"]
    result = "every record was identical" if str(d.get("verdict", "")).startswith("INTACT") else "differences were found: " + \
        "; ".join(str(p) for p in (d.get("problems") or [])[:5])
    return (f"At custody event {e['seq']} ({e['time'][:19]}), every parse run ({d.get('reparsed_runs')}) was re-derived from the "
            f"evidence with its recorded parser version and options and compared with the stored records: {result}.")


def gather(case: Case, redactor: Redactor | None = None, interpretation: str | None = None, verdict=None,
           override: dict | None = None) -> dict[str, Any]:
    redactor = redactor or Redactor.none()
    store = case.store
    events = case.custody.events()
    head = as_of(events)
    shown = [e for e in events if e["seq"] <= head["seq"]]
    verdict = verdict if verdict is not None else verify_case(case)
    exhibits = store.rows("""SELECT exhibit_id, original_name, format, size, sha256, md5, seized_from, acquired_by, warrant, notes,
                                    strftime(added_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S UTC') AS added
                             FROM exhibits ORDER BY exhibit_id, original_name, sha256""")
    label_of = {e["sha256"]: f"{e['exhibit_id']} {e['original_name'] or ''}".strip() for e in exhibits}
    runs = store.rows("""SELECT e.exhibit_id, e.original_name, r.parser, r.parser_version, r.status, r.records, r.issues
                         FROM parse_runs r JOIN exhibits e ON e.sha256 = r.exhibit_sha256 ORDER BY 1, 2, 3""")
    issues = store.rows("""SELECT e.exhibit_id, e.original_name, count(*) AS n FROM parse_issues p JOIN exhibits e ON e.sha256 = p.exhibit_sha256
                           GROUP BY ALL ORDER BY 1, 2""")
    detectors = store.rows("SELECT detector, detector_version, count(*) AS n FROM findings GROUP BY ALL ORDER BY 1")
    rows = store.rows("SELECT id, kind, title, summary, score, detector, detector_version, evidence, attrs FROM findings")
    order = {k: i for i, k in enumerate(FINDING_ORDER)}
    rows.sort(key=lambda r: (order.get(r["kind"], len(order)), r["kind"], -(r["score"] or 0), r["title"], r["id"]))
    findings = []
    for r in rows:
        ev = json.loads(r["evidence"])
        findings.append({"id": r["id"], "kind": r["kind"], "title": r["title"], "summary": r["summary"], "score": r["score"],
                         "detector": f"{r['detector']} {r['detector_version']}", "evidence": ev,
                         "attrs": json.loads(r["attrs"] or "{}")})
    records = _records(store, [e for f in findings for e in f["evidence"][:EVIDENCE_SHOWN]])
    for f in findings:
        f["evidence_total"] = len(f["evidence"])
        f["shown"] = [{**e, "exhibit": label_of.get(e.get("exhibit_sha256"), (e.get("exhibit_sha256") or "")[:16]),
                       **records.get(e.get("record"), {})} for e in f["evidence"][:EVIDENCE_SHOWN]]
    unknown_tz = store.one("SELECT count(*) FROM messages WHERE tz_basis = 'unknown'")[0]
    limitations = [
        "Findings state what the records show; they are produced by the methods listed and do not, on their own, "
        "establish intent, identity or guilt. The interpretation section is the examiner's opinion.",
        "Persons are joined across devices by identifiers and by name rules (entity resolution); joins below the automatic "
        "threshold are listed as possible matches for review and were not made.",
    ]
    if issues:
        limitations.append("Some input could not be parsed and was kept aside, not used: "
                           + ", ".join(f"{i['exhibit_id']} {i['original_name']}: {i['n']}" for i in issues) + " item(s).")
    if unknown_tz:
        limitations.append(f"{unknown_tz} message time(s) carry no time zone in the source; they are shown as recorded, "
                           "interpreted in the case time zone.")
    if store.count("ocr_text"):
        limitations.append("Text read from images (OCR, tesseract) may contain reading errors; the image itself is the evidence.")
    if any(f["attrs"].get("sampled") for f in findings):
        limitations.append("Broker scores on this graph were estimated from a sample of shortest paths.")
    if any(f["kind"] == "trafficking-indicator" for f in findings):
        limitations.append("Trafficking indicators are flags for an examiner to read, from word lists and, where named, a "
                           "language model; each cites the message, which is the evidence, and never replaces it.")
    if redactor.active:
        limitations.append("Persons marked as victims, witnesses or minors are shown under pseudonyms (Victim-1 ...) in this "
                           "copy; the case holds the unredacted data.")
    doc = {
        "case": {k: getattr(case.info, k) for k in ("case_no", "title", "examiner", "agency", "timezone", "created")},
        "generated": report_time(head).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "as_of": {"seq": head["seq"], "hash": head["hash"], "time": head["time"], "action": head["action"]},
        "authority": sorted({e["warrant"] for e in exhibits if e["warrant"]}),
        "exhibits": exhibits,
        "custody": [{"seq": e["seq"], "time": e["time"], "when": e["time"][:19].replace("T", " ") + e["time"][26:], "actor": e["actor"], "action": e["action"], "host": e.get("host"),
                     "tool": e.get("tool"), "summary": _summary(e), "hash": e["hash"]} for e in shown],
        "custody_verdict": {"ok": verdict.ok, "events": len(shown), "exhibits_checked": verdict.exhibits_checked,
                            "segments_checked": verdict.segments_checked, "runs_checked": verdict.runs_checked,
                            "tables_checked": verdict.tables_checked,
                            "problems": [str(p) for p in verdict.problems], "warnings": [str(p) for p in verdict.warnings],
                            "acknowledged": [str(p) for p in verdict.acknowledged], "override": override,
                            "reparse": _reparse_statement(shown)},
        "runs": [{**r, "records": json.loads(r["records"] or "{}")} for r in runs],
        "detectors": detectors,
        "tools": tool_versions(),
        "findings": findings,
        "counts": {t: store.count(t) for t in ("messages", "calls", "contacts", "transactions", "ocr_text", "entities", "findings")},
        "interpretation": interpretation,
        "limitations": limitations,
        "redacted": redactor.active,
    }
    return redactor(doc)
