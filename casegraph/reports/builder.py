"""The workspace's report builder: the items an examiner may rely upon (tagged records, confirmed
findings), then the report and the bundle through the same calls as `casegraph report` / `casegraph
bundle`, and the bundle checked as `casegraph verify BUNDLE --case CASE` checks it.

Every custody event the report and bundle write carries the workspace user: the case is handed to
them wrapped so that its `log` names that user (the report modules log without an actor, which means
the case's examiner; in the workspace the person logged in did it).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from .. import review
from ..case import Case
from .bundle import write_bundle
from .report import write_report
from .signing import case_fingerprints
from .verify import verify_bundle


class _AsUser:
    """The case, with every custody event it logs made by `actor` (everything else passes through)."""

    def __init__(self, case: Case, actor: str):
        self._case, self._actor = case, actor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._case, name)

    def log(self, action: str, actor: str | None = None, **kw: Any) -> dict[str, Any]:
        return self._case.log(action, actor or self._actor, **kw)


def candidates(store) -> list[dict[str, Any]]:
    """What an examiner may rely upon: every tag (record, note, who) and every finding whose latest
    verdict is confirmed (rejected ones are left out), oldest first."""
    items: list[dict[str, Any]] = [
        {
            "item": f"tag:{t['seq']}",
            "kind": "tag",
            "record": t["record_id"],
            "table": t["record_table"],
            "note": t["note"],
            "actor": t["actor"],
        }
        for t in review.tags(store)
    ]
    items += [
        {
            "item": f"finding:{d['finding_id']}",
            "kind": "finding",
            "record": d["finding_id"],
            "table": "findings",
            "note": f"{d['subject'].get('title', '')} (confirmed: {d['reason']})",
            "actor": d["actor"],
        }
        for d in review.finding_decisions(store)
        if d["verdict"] == "confirmed"
    ]
    return items


def relied_text(items: list[dict[str, Any]]) -> str:
    """The chosen items as the examiner's statement, for the report's interpretation section."""
    lines = ["Items relied upon (chosen by the examiner):"]
    lines += [f"- {i['record']} ({i['table']}): {i['note']} [{i['actor']}]" for i in items]
    return "\n".join(lines)


def build(
    case: Case,
    actor: str,
    *,
    redact: bool,
    interpretation: str | None,
    chosen: list[str] | None = None,
    bundle: bool = True,
    override_verify: str | None = None,
) -> dict[str, Any]:
    """Write the report (HTML, signed PDF, findings.json) and, with `bundle`, the signed bundle; then
    verify the bundle against the case's own keys. `chosen`: item keys from `candidates` to state in
    the interpretation section (an unknown key is refused)."""
    by_key = {i["item"]: i for i in candidates(case.store)}
    unknown = [k for k in chosen or [] if k not in by_key]
    if unknown:
        raise review.ReviewError(f"not an item that can be relied upon: {', '.join(unknown[:3])}")
    picked = [by_key[k] for k in chosen or []]
    text = "\n\n".join(x for x in ((interpretation or "").strip(), relied_text(picked) if picked else "") if x) or None
    who = _AsUser(case, actor)
    opts = {"redact": redact, "interpretation": text, "override_verify": override_verify}
    rep, paths = write_report(who, **opts)  # type: ignore[arg-type]
    out: dict[str, Any] = {
        "report": [{"path": str(p), "name": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()} for p in paths],
        "as_of_seq": rep.doc["as_of"]["seq"],
        "redacted": rep.doc["redacted"],
        "signer": rep.signer.fingerprint,
        "items": len(picked),
    }
    if bundle:
        path = write_bundle(who, **opts)  # type: ignore[arg-type]
        v = verify_bundle(path, None, case_fingerprints(case.root, case.custody.events()))
        out["bundle"] = {"path": str(path), "name": path.name}
        out["verify"] = {
            "verdict": v.verdict,
            "ok": v.ok,
            "signer_fingerprint": v.fingerprint,
            "trusted_as": v.trusted_as,
            "checked": v.checked,
            "problems": v.problems,
            "notes": v.notes,
        }
    return out


def outputs(case: Case, limit: int = 20) -> list[dict[str, Any]]:
    """The reports and bundles the custody log records as written, newest first."""
    evs = [e for e in case.custody.events() if e.get("action") in ("report-written", "bundle-written")]
    return [
        {
            "seq": e["seq"],
            "action": e["action"],
            "actor": e["actor"],
            "time": e["time"][:19].replace("T", " ") + " UTC",
            "files": [Path(o["path"]).name for o in e.get("outputs") or []],
            "redacted": (e.get("details") or {}).get("redacted"),
        }
        for e in reversed(evs[-limit:])
    ]
