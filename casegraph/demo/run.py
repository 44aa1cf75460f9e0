"""Build the demo case and run each stage on it, in order."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..case import Case
from ..ingest.evidence import add_evidence, expand
from ..ingest.integrity import Verdict, verify_logged
from ..ingest.pipeline import ParseOutcome, parse_exhibit
from ..ingest.seizure import details
from .scenario import write_exhibits


@dataclass
class DemoResult:
    case: Path
    intakes: int = 0
    outcomes: list[ParseOutcome] = field(default_factory=list)
    verdict: Verdict | None = None
    findings: list = field(default_factory=list)
    reports: list[Path] = field(default_factory=list)
    bundle: Path | None = None
    bundle_verdict: object = None
    indicators: object = None
    issues: dict = field(default_factory=dict)  # (exhibit sha256, parser) → parse issues by severity


def run_demo(directory: Path, *, overwrite: bool = False, say: Callable[[str], None] = print) -> DemoResult:
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{directory} is not empty; pass --overwrite to rebuild the demo there")
        _make_writable(directory)
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)  # an empty directory is fine
    say("1/8 writing the synthetic seized files")
    exhibits = write_exhibits(directory)
    say("2/8 opening the case and taking the exhibits into evidence")
    result = DemoResult(directory / "case")
    with Case.create(
        result.case,
        "HTS/2026/DEMO-01",
        "IP R. Bandara",
        "Operation Bangkok Mirage (synthetic demo)",
        "CID Human Trafficking, Smuggling Investigation and Maritime Crimes Investigation Division",
    ) as case:
        shas = []
        for ex in exhibits:
            for f in expand([directory / ex.relpath]):
                r = add_evidence(
                    case,
                    f,
                    ex.exhibit_id,
                    seized_from=ex.seized_from,
                    acquired_by=ex.acquired_by,
                    warrant=ex.warrant,
                    seizure=details(**dict(ex.seizure)),
                )
                result.intakes += 1
                shas.append(r.sha256)
        say("3/8 parsing every exhibit into the case store")
        result.outcomes = [parse_exhibit(case, sha) for sha in shas]
        result.issues = issues_by_run(case)
        say("4/8 who is who: entity resolution, the case graph, link analysis")
        result.findings = _graph(case)
        say("5/8 following the money: typologies, and a trace from the recruiter's account")
        result.findings += _finance(case)
        say("6/8 reading every message for trafficking indicators (English, Sinhala, Tamil, Singlish)")
        result.indicators = _indicators(case)
        say("7/8 verifying the chain of custody")
        result.verdict = verify_logged(case)
        say(
            "8/8 the evidence report, victim-protected copy (victims under pseudonyms), and a signed evidence bundle "
            "for the court, not redacted (it holds the full case data), verified"
        )
        result.reports, result.bundle, result.bundle_verdict = _report(case)
    return result


def issues_by_run(case: Case) -> dict[tuple[str, str], dict[str, int]]:
    """Parse issues by severity for each exhibit file and parser, from the records (review.issue_counts)."""
    from ..review import issue_counts

    sha = {
        (r["exhibit_id"], r["original_name"] or ""): r["sha256"]
        for r in case.store.rows("SELECT sha256, exhibit_id, original_name FROM exhibits")
    }
    return {
        (sha.get((c["exhibit"], c["file"])), c["parser"]): {k: c[k] for k in ("error", "warning", "info")} for c in issue_counts(case.store)
    }


def _indicators(case: Case):
    """The rule layer: it needs no model, so the demo runs anywhere."""
    from ..ai import indicators, lexicon

    lex = lexicon.load()
    r = indicators.run_logged(case, lex)
    return r


def _report(case: Case) -> tuple[list[Path], Path, object]:
    from ..reports.bundle import write_bundle
    from ..reports.report import write_report
    from ..reports.signing import case_fingerprints
    from ..reports.verify import verify_bundle

    _, paths = write_report(case, redact=True)
    bundle = write_bundle(case)
    return paths, bundle, verify_bundle(bundle, trusted=case_fingerprints(case.root, case.custody.events()))


def _finance(case: Case) -> list:
    """Typologies over all transactions, and a haircut trace from the recruiter's bank account, linked to
    his TRON wallet (in a real case that link comes from the investigation: here, from the scenario)."""
    from ..finance.typologies import Settings
    from ..finance.workflow import run_trace, run_typologies
    from .scenario import RECRUITER_ACCOUNT, RECRUITER_WALLET

    found, _, _ = run_typologies(case, Settings(fan_count=4))
    traced = run_trace(
        case,
        RECRUITER_ACCOUNT,
        resolved=None,
        links={RECRUITER_WALLET: RECRUITER_ACCOUNT},
        link_source="demo scenario: the recruiter's wallet, stated by the examiner",
    ).findings
    return found + traced


def _graph(case: Case) -> list:
    """Resolve, mark the victim whose phone was seized (an examiner's decision, logged), analyse:
    the same library steps, and so the same custody events, as the CLI's."""
    from ..graph import steps

    steps.resolve_case(case)
    steps.mark(case, "Kasun", "victim", "owner of exhibit P1, complainant")
    _, found = steps.analyze_case(case)
    return found


def _make_writable(root: Path) -> None:
    for p in root.rglob("*"):
        if p.is_file():
            p.chmod(0o644)
