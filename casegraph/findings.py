"""Findings: what an analysis concluded, with the records it rests on (ids, locators, exhibits).

Each finding has a deterministic id (detector, subject), so running an analysis again replaces
its earlier findings instead of adding copies. The conclusion and its evidence are kept apart:
`summary` states what the data shows; interpretation belongs in the report.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
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


def write_findings(store: CaseStore, findings: list[Finding], detector: str) -> str:
    """Replace `detector`'s earlier findings with these; returns the SHA-256 of what was written."""
    now = datetime.now(timezone.utc)
    digest = hashlib.sha256()
    cols: dict[str, list] = {c: [] for c in ("id", "kind", "title", "summary", "score", "detector", "detector_version",
                                             "evidence", "attrs")}
    for f in findings:
        row = [f.id, f.kind, f.title, f.summary, f.score, f.detector, f.detector_version, to_json(f.evidence), to_json(f.attrs)]
        digest.update(to_json(row).encode())
        for c, v in zip(cols, row):
            cols[c].append(v)
    table = pa.table({**cols, "score": pa.array(cols["score"], pa.float64()),
                      "created_at": pa.array([now] * len(findings), pa.timestamp("us", tz="UTC"))})
    with store.transaction() as con:
        con.execute("DELETE FROM findings WHERE detector = ?", [detector])
        if findings:
            store.insert("findings", table)
    return digest.hexdigest()
