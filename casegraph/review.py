"""What an examiner reviews before a report: findings with the records they cite quoted, and the
parse issues of each exhibit by severity. The CLI (and later the workspace) only print these."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Protocol

from .errors import CaseGraphError
from .model import SEVERITIES as SEVERITIES  # declared with the records; here for review's callers
from .store import CaseStore

# the record tables whose rows a finding may cite, with the column that carries their time
_TIMED = ("messages", "calls", "transactions")


class ReviewError(CaseGraphError, LookupError):
    """A finding, person or option value the examiner named does not exist or is ambiguous."""


def parse_since(value: str | None) -> datetime | None:
    """An ISO date (`2024-04-01`, taken as 00:00 UTC) or date-time (`2024-04-01T09:00+05:30`) for --since."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value), time())
        except ValueError:
            raise ReviewError(
                f"--since {value!r}: expected an ISO date such as 2024-04-01 or a date-time such as 2024-04-01T09:00+05:30"
            ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class FindingRow:
    id: str
    kind: str
    title: str
    summary: str
    score: float | None
    detector: str
    detector_version: str
    created_at: datetime
    evidence: list[dict[str, Any]]
    attrs: dict[str, Any]

    def brief(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "detector": self.detector,
            "title": self.title,
            "records": len(self.evidence),
            "created_at": self.created_at.astimezone(UTC).isoformat(),
        }


def _finding(row: dict[str, Any]) -> FindingRow:
    return FindingRow(
        row["id"],
        row["kind"],
        row["title"],
        row["summary"] or "",
        row["score"],
        row["detector"],
        row["detector_version"],
        row["created_at"],
        json.loads(row["evidence"]),
        json.loads(row["attrs"] or "{}"),
    )


def finding_filter(kind: str | None, detector: str | None) -> tuple[list[str], list[str]]:
    """SQL conditions for findings of a kind and a detector (`trace` also names `trace:forward:…` runs)."""
    where, params = [], []
    if kind:
        where.append("kind = ?")
        params.append(kind)
    if detector:
        where.append("(detector = ? OR detector LIKE ? || ':%')")
        params += [detector, detector]
    return where, params


def reported(attrs: dict) -> bool:
    """False for a ranked finding stored past the ones an analysis reports (attrs listed: false, see
    graph.analysis): reports leave it out, `findings list` shows it with --all or --kind."""
    return attrs.get("listed", True) is not False


def findings(
    store: CaseStore, kind: str | None = None, detector: str | None = None, person: str | None = None, since: datetime | None = None
) -> list[FindingRow]:
    """Findings, filtered: `person` is an entity id (see graph.resolve.find_entity): findings about that
    person or citing a record joined to them; `since`: findings citing a record timed at or after it."""
    where, params = finding_filter(kind, detector)
    sql = "SELECT * FROM findings" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY kind, detector, title, id"
    rows = [_finding(r) for r in store.rows(sql, params)]
    if person:
        ev = store.one("SELECT evidence FROM entities WHERE id = ?", [person])
        theirs = {e.get("record") for e in json.loads(ev[0])} if ev else set()
        rows = [f for f in rows if person in json.dumps(f.attrs) or person in f.title or any(e.get("record") in theirs for e in f.evidence)]
    if since:
        cited = {e.get("record") for f in rows for e in f.evidence if e.get("table") in _TIMED}
        want = store.id_table("_since", (r for r in cited if r))
        late = {
            r[0]
            for t in _TIMED
            for r in store.con.execute(f"SELECT t.id FROM {t} t SEMI JOIN {want} w ON w.id = t.id WHERE t.ts_utc >= ?", [since]).fetchall()
        }
        rows = [f for f in rows if any(e.get("record") in late for e in f.evidence)]
    return rows


def finding(store: CaseStore, ref: str) -> FindingRow:
    """One finding by its id or a unique prefix of it."""
    rows = store.rows("SELECT * FROM findings WHERE starts_with(id, ?) ORDER BY id LIMIT 3", [ref.strip()])
    if not rows:
        raise ReviewError(f"no finding {ref!r} (see 'casegraph findings list')")
    if len(rows) > 1:
        raise ReviewError(f"{ref!r} matches several findings ({', '.join(r['id'] for r in rows[:2])} …); give more of the id")
    return _finding(rows[0])


def quoted(store: CaseStore, f: FindingRow) -> list[dict[str, Any]]:
    """The finding's evidence, each record with its exhibit label, time and text as the report shows them."""
    from .quotes import _records

    labels = {r["sha256"]: r["exhibit_id"] for r in store.rows("SELECT sha256, exhibit_id FROM exhibits")}
    quotes = _records(store, f.evidence)
    return [
        {**e, "exhibit": labels.get(e.get("exhibit_sha256"), (e.get("exhibit_sha256") or "")[:16]), **quotes.get(e.get("record"), {})}
        for e in f.evidence
    ]


def issue_counts(store: CaseStore) -> list[dict[str, Any]]:
    """Parse issues per exhibit and parser, by severity (every severity column present, 0 where none)."""
    rows = store.rows("""SELECT e.exhibit_id, coalesce(e.original_name, '') AS file, p.parser, p.severity, count(*) AS n
                         FROM parse_issues p LEFT JOIN exhibits e ON e.sha256 = p.exhibit_sha256
                         GROUP BY ALL ORDER BY 1, 2, 3""")
    out: dict[tuple, dict[str, Any]] = {}
    for r in rows:
        key = (r["exhibit_id"], r["file"], r["parser"])
        entry = out.setdefault(key, {"exhibit": r["exhibit_id"], "file": r["file"], "parser": r["parser"], **{s: 0 for s in SEVERITIES}})
        entry[r["severity"]] = entry.get(r["severity"], 0) + r["n"]
    return list(out.values())


def issues(store: CaseStore, exhibit: str | None = None, severity: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The parse issues themselves, most severe first, with their locators."""
    where, params = [], []
    if exhibit:
        where.append("e.exhibit_id = ?")
        params.append(exhibit)
    if severity:
        where.append("p.severity = ?")
        params.append(severity)
    sql = f"""SELECT e.exhibit_id AS exhibit, e.original_name AS file, p.parser, p.severity, p.locator, p.message, p.raw
              FROM parse_issues p LEFT JOIN exhibits e ON e.sha256 = p.exhibit_sha256
              {"WHERE " + " AND ".join(where) if where else ""}
              ORDER BY CASE p.severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, 1, 2, p.locator LIMIT ?"""
    return store.rows(sql, [*params, limit])


# --- the examiner's word: verdicts on findings and notes on records, each logged in custody ---

VERDICTS = ("confirmed", "rejected")


class Case(Protocol):
    """What a decision needs of a case (casegraph.case.Case, which sits above this layer): its store,
    who acts, and its custody log."""

    store: CaseStore

    def actor(self, actor: str | None = None) -> str: ...

    def log(self, action: str, actor: str | None = None, *, state: tuple[str, ...] = (), **kw: Any) -> dict[str, Any]: ...


def _next_seq(store: CaseStore, table: str) -> int:
    row = store.one(f"SELECT coalesce(max(seq), 0) + 1 FROM {table}")
    return int(row[0]) if row else 1


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def decide_finding(case: Case, ref: str, verdict: str, reason: str, actor: str | None = None) -> dict[str, Any]:
    """Confirm or reject a finding (id or unique prefix). The decision keeps what the finding said and
    cited, so it outlives a re-run of its detector: the report relies on confirmed findings, and the
    indicator model learns from both verdicts."""
    if verdict not in VERDICTS:
        raise ReviewError(f"unknown verdict {verdict!r} (one of {', '.join(VERDICTS)})")
    if not reason.strip():
        raise ReviewError(f"findings {verdict[:-2]}: a reason is required (it is recorded in the custody log)")
    f = finding(case.store, ref)
    who = case.actor(actor)
    subject = {"title": f.title, "summary": f.summary, "evidence": f.evidence, "attrs": f.attrs, "detector_version": f.detector_version}
    seq = _next_seq(case.store, "finding_decisions")
    decision = {"seq": seq, "finding_id": f.id, "kind": f.kind, "detector": f.detector, "verdict": verdict, "reason": reason, "actor": who}
    case.store.con.execute(
        "INSERT INTO finding_decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [seq, f.id, f.kind, f.detector, _json(subject), verdict, reason, who, datetime.now(UTC)],
    )
    case.log(f"finding-{verdict[:-2]}", actor=who, state=("finding_decisions",), details=decision)
    return decision


def finding_decisions(store: CaseStore, kind: str | None = None) -> list[dict[str, Any]]:
    """The examiner's latest verdict per finding, oldest first, with the subject it was given on."""
    rows = store.rows(
        """SELECT * FROM finding_decisions WHERE ? IS NULL OR kind = ?
           QUALIFY row_number() OVER (PARTITION BY finding_id ORDER BY seq DESC) = 1 ORDER BY seq""",
        [kind, kind],
    )
    return [{**r, "subject": json.loads(r["subject"])} for r in rows]


def _record_table(store: CaseStore, record_id: str) -> str:
    from .store import RECORD_TABLES

    table = record_id.split("/", 1)[0]
    if table in RECORD_TABLES or table == "findings":
        if store.one(f"SELECT 1 FROM {table} WHERE id = ?", [record_id]):
            return table
    elif store.one("SELECT 1 FROM findings WHERE id = ?", [record_id]):
        return "findings"
    raise ReviewError(f"no record {record_id!r} in this case (record ids are shown by 'findings show' and the JSON outputs)")


def tag_record(case: Case, record_id: str, note: str, actor: str | None = None) -> dict[str, Any]:
    """Tag a record (a message, transaction, call … or a finding) with the examiner's note; tagged records
    are items relied upon in the report."""
    if not note.strip():
        raise ReviewError("tag: a note is required (it is recorded in the custody log)")
    table = _record_table(case.store, record_id)
    who = case.actor(actor)
    seq = _next_seq(case.store, "record_tags")
    case.store.con.execute("INSERT INTO record_tags VALUES (?, ?, ?, ?, ?, ?)", [seq, record_id, table, note, who, datetime.now(UTC)])
    tag = {"seq": seq, "record_id": record_id, "record_table": table, "note": note, "actor": who}
    case.log("record-tag", actor=who, state=("record_tags",), details=tag)
    return tag


def tags(store: CaseStore, record_id: str | None = None) -> list[dict[str, Any]]:
    """Every tag, oldest first (a record may carry several notes)."""
    return store.rows("SELECT * FROM record_tags WHERE ? IS NULL OR record_id = ? ORDER BY seq", [record_id, record_id])


def tags_of(store: CaseStore, record_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The tags of several records at once (a page of a chat), oldest first per record."""
    if not record_ids:
        return {}
    out: dict[str, list[dict[str, Any]]] = {}
    for t in store.rows("SELECT * FROM record_tags WHERE list_contains(?, record_id) ORDER BY seq", [list(record_ids)]):
        out.setdefault(t["record_id"], []).append(t)
    return out


def same_person_pairs(store: CaseStore) -> list[dict[str, Any]]:
    """The resolver's possible-same-person findings, each with the examiner's last word on the pair
    (a split between their members: kept apart), so the queue shows what is still open."""
    apart = {
        frozenset((r["a"], r["b"])): r
        for r in store.rows("SELECT a, b, reason, actor, decided_at FROM er_decisions WHERE action = 'split' ORDER BY seq")
    }
    out = []
    for f in findings(store, kind="possible-same-person"):
        a, b = (f.attrs.get("entities") or [None, None])[:2]
        members = f.attrs.get("members") or []
        kept = next((apart[frozenset(pair)] for pair in [members[:2]] if len(pair) == 2 and frozenset(pair) in apart), None)
        out.append({"finding": f.brief(), "summary": f.summary, "a": a, "b": b, "members": members, "kept_apart": kept})
    return out
