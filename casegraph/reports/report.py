"""`casegraph report`: the evidence report of a case as HTML and signed PDF/A-3b, plus findings.json."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..case import Case
from ..errors import CaseGraphError
from ..wording import plural
from . import content, render, signing
from .redact import Redactor


@dataclass
class Report:
    doc: dict
    html: bytes
    pdf: bytes
    findings: bytes
    signer: signing.Signer
    redactor: Redactor

    @property
    def stem(self) -> str:
        return f"report-{self.doc['as_of']['seq']:05d}" + ("-redacted" if self.doc["redacted"] else "")


def case_signer(case: Case, key: Path | None = None) -> signing.Signer:
    """The examiner's key (`key`, else the case's own, made on first use and logged)."""
    path = Path(key) if key else case.root / signing.KEY_FILE
    private, made = signing.load_or_create(path)
    created = datetime.fromisoformat(case.info.created) if case.info.created else datetime(2000, 1, 1).astimezone()
    signer = signing.Signer(private, signing.certificate(private, case.info.examiner, case.info.agency, created))
    if made:
        case.log("signing-key-created", details={"fingerprint": signer.fingerprint, "path": str(path), "algorithm": "Ed25519"})
    return signer


class StaleFindings(CaseGraphError, ValueError):
    """Some findings rest on a case state that has changed: a report would mix states."""

    code = 1  # an operation or check that failed


def check_current(case: Case) -> None:
    """Refuse to report findings derived from an earlier case state (before a merge, a re-ingest ...),
    naming the command that derives each again."""
    from ..findings import stale

    old = stale(case.store)
    if old:
        what = {"parse": "the parsed records", "resolution": "entity resolution"}
        raise StaleFindings(
            "the case changed after some findings were made, and a report must not mix states: "
            + "; ".join(
                f"{s['detector']} ({s['findings']} finding{'s' if s['findings'] != 1 else ''}, before the "
                f"last change to {' and '.join(what[p] for p in s['changed'])}): run "
                f"{s['command'].replace('CASE', str(case.root))}"
                for s in old
            )
        )


class NotVerified(CaseGraphError, ValueError):
    """The case does not verify and the examiner did not override."""

    code = 1  # an operation or check that failed


def check_verified(case: Case, override_verify: str | None):
    """custody verify before any report or bundle: refuse a case that does not verify, unless the
    examiner overrides with a reason (logged, and printed on the report). Returns (verdict, override)."""
    from ..ingest.integrity import verify_case

    verdict = verify_case(case)
    if verdict.ok:
        return verdict, None
    if not (override_verify or "").strip():
        raise NotVerified(
            f"the case does not verify ({plural(len(verdict.problems), 'problem')}, first: {verdict.problems[0]}); "
            "see 'casegraph custody verify', or give --override-verify \"REASON\" to report it anyway "
            "(logged, and printed on the report)"
        )
    ev = case.log("verify-override", details={"reason": override_verify, "problems": [str(p) for p in verdict.problems]})
    return verdict, {"reason": override_verify, "actor": ev["actor"], "seq": ev["seq"], "time": ev["time"][:19]}


def build(
    case: Case, *, redact: bool = False, interpretation: str | None = None, key: Path | None = None, override_verify: str | None = None
) -> Report:
    check_current(case)
    verdict, override = check_verified(case, override_verify)
    signer = case_signer(case, key)
    redactor = Redactor.victims(case.store) if redact else Redactor.none()
    doc = content.gather(case, redactor, redactor.text(interpretation) if interpretation else None, verdict, override)
    findings = render.findings_json(doc)
    html = render.html(doc, case.store, redactor, signer).encode("utf-8")
    head = doc["as_of"]
    when = content.report_time({"time": head["time"]})
    identifier = hashlib.sha256(f"{case.info.case_no}|{head['hash']}|{redact}".encode()).hexdigest()[:32]
    unsigned = render.pdf(html.decode(), {"findings.json": findings}, identifier, when)
    pdf = render.sign_pdf(unsigned, signer, when, f"Evidence report, case {case.info.case_no}, custody event {head['seq']}")
    return Report(doc, html, pdf, findings, signer, redactor)


def write_report(case: Case, out_dir: Path | None = None, **kw) -> tuple[Report, list[Path]]:
    rep = build(case, **kw)
    out = Path(out_dir) if out_dir else case.root / "reports"
    out.mkdir(parents=True, exist_ok=True)
    paths, outputs = [], []
    for suffix, data in ((".html", rep.html), (".pdf", rep.pdf), (".findings.json", rep.findings)):
        p = out / f"{rep.stem}{suffix}"
        p.write_bytes(data)
        paths.append(p)
        outputs.append({"path": str(p), "sha256": hashlib.sha256(data).hexdigest()})
    case.log(
        "report-written",
        outputs=outputs,
        details={"as_of_seq": rep.doc["as_of"]["seq"], "redacted": rep.doc["redacted"], "signer": rep.signer.fingerprint},
    )
    return rep, paths
