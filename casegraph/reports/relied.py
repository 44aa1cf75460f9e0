"""Items relied upon: what the examiner's review adds to the report. Confirmed findings and tagged
records are relied upon; rejected findings are left out of the report altogether (their decision
stays in the custody log and in `findings decisions`)."""

from __future__ import annotations

from typing import Any

from ..review import finding_decisions, tags
from ..store import CaseStore


def without_rejected(store: CaseStore, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings whose latest verdict is not 'rejected'."""
    rejected = {d["finding_id"] for d in finding_decisions(store) if d["verdict"] == "rejected"}
    return [f for f in findings if f["id"] not in rejected]


def items(store: CaseStore) -> dict[str, list[dict[str, Any]]]:
    """{"findings": confirmed findings as they were when confirmed (title, evidence …, who, why),
    "records": tagged records with each note}: the report's items relied upon."""
    confirmed = [
        {"finding_id": d["finding_id"], "kind": d["kind"], "title": d["subject"].get("title"), "summary": d["subject"].get("summary"),
         "evidence": d["subject"].get("evidence", []), "reason": d["reason"], "actor": d["actor"], "decided_at": d["decided_at"]}
        for d in finding_decisions(store) if d["verdict"] == "confirmed"
    ]  # fmt: skip
    records = [
        {"record_id": t["record_id"], "table": t["record_table"], "note": t["note"], "actor": t["actor"], "tagged_at": t["tagged_at"]}
        for t in tags(store)
    ]
    return {"findings": confirmed, "records": records}
