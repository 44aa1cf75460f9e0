"""`custody verify`: re-hash every exhibit and the custody chain, and name exactly what changed."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..case import Case
from .custody import Problem, verify_chain
from .hashing import sha256_file


@dataclass
class Verdict:
    events: int = 0
    exhibits_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_case(case: Case) -> Verdict:
    v = Verdict()
    events, v.problems = verify_chain(case.custody, case.anchor())
    v.events = len(events)
    intakes = {ev["outputs"][0]["sha256"]: ev for ev in events if ev.get("action") == "intake" and ev.get("outputs")}
    exhibits = case.store.rows("SELECT sha256, exhibit_id, original_name, intake_event_hash FROM exhibits ORDER BY added_at")
    known = set()
    for ex in exhibits:
        sha, label = ex["sha256"], f"exhibit {ex['exhibit_id']} ({ex['original_name']})"
        known.add(sha)
        path = case.evidence_path(sha)
        if sha not in intakes:
            v.problems.append(Problem(label, f"no intake event for sha256 {sha[:16]}… in the custody log (event deleted?)"))
        elif intakes[sha]["hash"] != ex["intake_event_hash"]:
            v.problems.append(Problem(label, "intake event in the custody log differs from the one recorded at intake"))
        if not path.exists():
            v.problems.append(Problem(label, f"evidence file evidence/{sha} is missing"))
            continue
        now = sha256_file(path)
        v.exhibits_checked += 1
        if now != sha:
            v.problems.append(Problem(label, f"evidence/{sha[:16]}… was altered: it now hashes to {now[:16]}…"))
    for sha in intakes.keys() - known:
        v.problems.append(Problem(f"intake event seq {intakes[sha]['seq']}",
                                  f"exhibit sha256 {sha[:16]}… has no record in the case store"))
    for f in sorted(case.evidence_dir.iterdir()):
        if f.name not in known:
            kind = "interrupted intake (temporary file)" if f.name.startswith(".incoming-") else "unexpected file"
            v.warnings.append(Problem(f"evidence/{f.name}", f"{kind}: not a recorded exhibit"))
    return v
