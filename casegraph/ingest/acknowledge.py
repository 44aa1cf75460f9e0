"""`custody acknowledge`: an examiner's explained, logged acceptance of the problems verify reports.

The only way to go on after a broken log: the event lists every problem seen and every anchor the
log no longer matches, and anchors the log again at itself. Verify keeps listing them, as
acknowledged, with the examiner's name and reason.
"""

from __future__ import annotations

from ..case import Case
from .integrity import ACKNOWLEDGE, Verdict, _acknowledgements, verify_case


def acknowledge(case: Case, reason: str, actor: str | None = None) -> tuple[dict, Verdict]:
    v = verify_case(case)
    anchors = case.anchors()
    done, _ = _acknowledgements(case.custody.events())
    # the anchors the log no longer holds as anchored: superseded from here on
    events = {(e["seq"], e["hash"]) for e in case.custody.events()}
    stale = sorted({a for a in anchors if a not in events and a not in done})
    ev = case.log(
        ACKNOWLEDGE,
        actor,
        unanchored=True,
        details={"reason": reason, "problems": [str(p) for p in v.problems], "anchors": [list(a) for a in stale]},
    )
    if not any(a == (ev["seq"], ev["hash"]) for a in case.anchors()):
        case.store.con.execute("INSERT INTO custody_anchor VALUES (?, ?)", [ev["seq"], ev["hash"]])
    return ev, v
