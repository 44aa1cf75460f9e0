"""Findings: what an analysis concluded, with the records it rests on (ids, locators, exhibits).

Each finding has a deterministic id (detector, subject), so running an analysis again replaces
its earlier findings instead of adding copies. The conclusion and its evidence are kept apart:
`summary` states what the data shows; interpretation belongs in the report.

Each finding also records the case state it was derived from (`derived_from`: a digest of the parse
runs and, for analyses that use who-is-who, of entity resolution), so that a report can tell a
finding made before an `entities merge` or a re-ingest from a current one (see `stale`).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from .store import CaseStore, to_json


@dataclass
class Finding:
    kind: str
    subject: str  # what the finding is about, unique within its detector (an account, a path ...)
    title: str
    summary: str
    detector: str
    detector_version: str
    evidence: list[dict[str, Any]]  # {"record": id, "table": ..., "locator": ..., "exhibit_sha256": ...}
    score: float | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return hashlib.sha256(f"{self.detector}\x1f{self.kind}\x1f{self.subject}".encode()).hexdigest()[:32]


STATE_PARTS = ("parse", "resolution")
# analyses that read records only, not who-is-who: entity resolution cannot make them stale
_RECORDS_ONLY = ("typologies", "indicators-lexicon", "indicators-model")


def depends_on(detector: str) -> tuple[str, ...]:
    return ("parse",) if detector in _RECORDS_ONLY else STATE_PARTS


def case_state(store: CaseStore) -> dict[str, str]:
    """Digests of what analyses derive from: the parse runs (every record table's content, through the
    runs' output digests) and entity resolution (who is joined to whom)."""
    parse = store.one("""SELECT count(*), coalesce(sum(hash(exhibit_sha256, parser, parser_version, output_sha256, status)), 0)
                         FROM parse_runs""")
    people = store.one("SELECT count(*), coalesce(sum(hash(entity_id, member)), 0) FROM entity_members")
    return {"parse": hashlib.sha256(repr(parse).encode()).hexdigest()[:16],
            "resolution": hashlib.sha256(repr(people).encode()).hexdigest()[:16]}


# the command that derives a detector's findings again
def rerun_command(detector: str) -> str:
    if detector.startswith("trace:"):
        _, direction, model, account = [*detector.split(":", 3), "", "", ""][:4]
        return f"casegraph trace CASE --from {account} --model {model}" + (" --backward" if direction == "backward" else "")
    return {"link-analysis": "casegraph analyze CASE", "typologies": "casegraph typologies CASE",
            "entity-resolution": "casegraph resolve CASE"}.get(
        detector, "casegraph indicators CASE" if detector.startswith("indicators") else f"the analysis that wrote {detector}")


def stale(store: CaseStore) -> list[dict[str, Any]]:
    """Detectors whose findings rest on a case state that has changed since (or was not recorded):
    [{detector, findings, changed: [parts], command}], sorted by detector."""
    now = case_state(store)
    out = []
    for detector, n, recorded in store.con.execute(
            "SELECT detector, count(*), any_value(CAST(derived_from AS VARCHAR)) FROM findings GROUP BY detector ORDER BY detector").fetchall():
        was = json.loads(recorded) if recorded else {}
        changed = [p for p in depends_on(detector) if was.get(p) != now[p]]
        if changed:
            out.append({"detector": detector, "findings": n, "changed": changed, "command": rerun_command(detector)})
    return out


def write_findings(store: CaseStore, findings: list[Finding], detector: str) -> str:
    """Replace `detector`'s earlier findings with these; returns the SHA-256 of what was written."""
    now = datetime.now(UTC)
    state = case_state(store)
    derived = to_json({p: state[p] for p in depends_on(detector)})
    digest = hashlib.sha256()
    cols: dict[str, list] = {c: [] for c in ("id", "kind", "title", "summary", "score", "detector", "detector_version",
                                             "evidence", "attrs")}
    for f in findings:
        row = [f.id, f.kind, f.title, f.summary, f.score, f.detector, f.detector_version, to_json(f.evidence), to_json(f.attrs)]
        digest.update(to_json(row).encode())
        for c, v in zip(cols, row, strict=True):
            cols[c].append(v)
    table = pa.table({**cols, "score": pa.array(cols["score"], pa.float64()),
                      "created_at": pa.array([now] * len(findings), pa.timestamp("us", tz="UTC")),
                      "derived_from": pa.array([derived] * len(findings), pa.string())})
    with store.transaction() as con:
        con.execute("DELETE FROM findings WHERE detector = ?", [detector])
        if findings:
            store.insert("findings", table)
    return digest.hexdigest()
