"""Graph steps on a case, each doing its work and writing its custody event, so that every caller
(CLI, demo, workspace, notebook API) leaves the same record of the same step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..case import Case
from ..findings import write_findings
from ..ingest.digest import GRAPH_TABLES
from ..model import PERSON_ROLES as ROLES
from . import analysis, build, gds, resolve


def resolve_case(case: Case, auto: float = resolve.AUTO, review: float = resolve.REVIEW, actor: str | None = None) -> tuple[dict, dict]:
    """Resolve entities and rebuild the graph; logs the thresholds and the resolver's version."""
    counts, built = build.rebuild(case.store, auto, review)
    case.log(
        "resolve",
        actor=actor,
        state=GRAPH_TABLES,
        details={"auto_threshold": auto, "review_threshold": review, "version": resolve.VERSION},
        outputs=[{"entities": counts, "graph": built}],
    )
    return counts, built


def ensure(case: Case) -> None:
    """Resolve and build, logged, when the case has no graph yet (push, export, path, analyze need one)."""
    if case.store.count("nodes") == 0:
        resolve_case(case)


def decide(
    case: Case, action: str, pairs: list[tuple[str, str | None]], reason: str, actor: str | None = None, subject: str | None = None
) -> dict:
    """Record examiner decisions (merge, split, mark, unmark), log them, and resolve again. Every member
    must already be in the case (see resolve.find_member) before anything is written."""
    if not reason.strip():
        raise resolve.EntityLookupError(f"entities {action}: a reason is required (it is recorded in the custody log)")
    who = case.actor(actor)
    for a, b in pairs:
        resolve.decide(case.store, action, a, b, reason, who)
    details = {"pairs": pairs, "reason": reason, **({"entity": subject} if subject else {})}
    if action in ("mark", "unmark") and pairs:
        details["role"] = pairs[0][1]
    case.log(f"entities-{action}", actor=actor, state=("er_decisions",), details=details)
    counts, _ = resolve_case(case, actor=actor)  # the resolution a decision causes is logged as the same examiner's
    return counts


def merge(case: Case, first: str, second: str, reason: str, actor: str | None = None) -> dict:
    a, b = resolve.find_member(case.store, first)[0], resolve.find_member(case.store, second)[0]
    if a == b or set(resolve.members_of(case.store, first)) & set(resolve.members_of(case.store, second)):
        raise resolve.EntityLookupError(f"{first!r} and {second!r} are already one person")
    return decide(case, "merge", [(a, b)], reason, actor)


def split(case: Case, entity: str, member: str, reason: str, actor: str | None = None) -> dict:
    person = resolve.find_entity(case.store, entity)
    members = resolve.members_of(case.store, person["id"])
    if member not in members:
        raise resolve.EntityLookupError(f"{member!r} is not a member of {person['id']} (see 'casegraph entities show')")
    return decide(case, "split", [(member, m) for m in members if m != member], reason, actor, subject=person["id"])


def mark(case: Case, entity: str, role: str, reason: str, remove: bool = False, actor: str | None = None) -> dict:
    if role not in ROLES:
        raise resolve.EntityLookupError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    person = resolve.find_entity(case.store, entity)
    members = resolve.members_of(case.store, person["id"])
    return decide(case, "unmark" if remove else "mark", [(m, role) for m in members], reason, actor, subject=person["id"])


def analyze_case(case: Case, top: int = 10, engine: str = "igraph", neo4j: Callable[[], tuple] | None = None):
    """Link analysis, its findings written and logged: (party graph, findings). engine "neo4j" runs the
    analyses in Neo4j GDS on the pushed case; `neo4j` opens the connection: () -> (run, close)."""
    ensure(case)
    if engine == "neo4j":
        if neo4j is None:
            raise gds.GdsUnavailable("--engine neo4j needs a Neo4j server (--uri, or NEO4J_URI)")
        run, close = neo4j()
        try:
            g, found = gds.analyse(case.store, run, top=top)
        finally:
            close()
    else:
        g, found = analysis.analyse(case.store, top=top, engine=engine)
    digest = write_findings(case.store, found, analysis.DETECTOR)
    case.log(
        "analyze",
        state=("findings",),
        details={"top": top, "version": analysis.VERSION, "engine": engine},
        outputs=[{"findings": len(found), "sha256": digest, "detector": analysis.DETECTOR}],
    )
    return g, found


def keep_apart(case: Case, first: str, second: str, reason: str, actor: str | None = None) -> dict:
    """An examiner's word that two people the resolver found alike are not one: every member pair is
    recorded as a split, so no later resolution joins them."""
    a, b = resolve.find_member(case.store, first), resolve.find_member(case.store, second)
    if set(a) & set(b):
        raise resolve.EntityLookupError(f"{first!r} and {second!r} are one person now; split a member out instead")
    return decide(case, "split", [(x, y) for x in a for y in b], reason, actor)


def push(case: Case, target: str, run, batch: int, progress=None, actor: str | None = None) -> dict[str, int]:
    """`graph push`: the graph sent to Neo4j through `run` (neo4j_push.driver_runner), logged with the target
    and the digest of the graph it sent."""
    from . import neo4j_push

    counts = neo4j_push.push(case.store, target, run, batch=batch, progress=progress)
    case.log("graph-push", actor, details={"target": target, "digest": neo4j_push.graph_digest(case.store)}, outputs=[counts])
    return counts


def export(case: Case, fmt: str, target: Path, redact, redact_name: str, actor: str | None = None) -> tuple[Path, list[Path]]:
    """`graph export`: the graph written in `fmt` to `target` (names passed through `redact`, or None), logged
    with the SHA-256 of every file written. Returns the path and the files."""
    from ..ingest.hashing import sha256_file
    from . import export as exporter

    path = exporter.export(case.store, fmt, target, redact)
    files = sorted(p for p in (path.parent.iterdir() if fmt in ("neo4j-admin", "i2") else [path]) if p.is_file())
    case.log(
        "graph-export",
        actor,
        details={"format": fmt, "redact": redact_name},
        outputs=[{"file": str(p), "sha256": sha256_file(p)} for p in files],
    )
    return path, files
