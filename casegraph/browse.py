"""What an examiner browses, as plain rows: exhibits with their parse status, the custody log, chats and
a chat's messages page by page. The workspace (`casegraph serve`) shows these; the CLI and notebooks can
call them too, so every surface gives the same answer. Read-only: nothing here writes."""

from __future__ import annotations

import json
from typing import Any

from .store import CaseStore


def exhibits(store: CaseStore) -> list[dict[str, Any]]:
    """Every exhibit with its hashes, seizure details and each parse run's status, records and issues."""
    rows = store.rows("SELECT * FROM exhibits ORDER BY exhibit_id, original_name, sha256")
    runs: dict[str, list[dict[str, Any]]] = {}
    for r in store.rows(
        """SELECT exhibit_sha256, parser, parser_version, status, records, issues, finished_at FROM parse_runs
           ORDER BY exhibit_sha256, parser"""
    ):
        r["records"] = json.loads(r["records"] or "{}")
        runs.setdefault(r["exhibit_sha256"], []).append(r)
    issues = {
        (r["exhibit_sha256"], r["severity"]): r["n"]
        for r in store.rows("SELECT exhibit_sha256, severity, count(*) AS n FROM parse_issues GROUP BY ALL")
    }
    for e in rows:
        e["runs"] = runs.get(e["sha256"], [])
        e["issues"] = {sev: n for (sha, sev), n in issues.items() if sha == e["sha256"]}
        e["parsed"] = "not parsed" if not e["runs"] else ", ".join(sorted({r["status"] for r in e["runs"]}))
    return rows


def latest_findings(store: CaseStore, limit: int = 10) -> list[dict[str, Any]]:
    """The newest findings (id, kind, title, detector, how many records they cite)."""
    return store.rows(
        """SELECT id, kind, title, detector, created_at, json_array_length(evidence) AS records FROM findings
           ORDER BY created_at DESC, kind, title LIMIT ?""",
        [limit],
    )


def custody_page(events: list[dict[str, Any]], offset: int = 0, limit: int = 50) -> tuple[list[dict[str, Any]], int]:
    """A page of custody events, newest first, and how many there are in all."""
    newest = sorted(events, key=lambda e: e.get("seq", 0), reverse=True)
    return newest[offset : offset + limit], len(newest)
