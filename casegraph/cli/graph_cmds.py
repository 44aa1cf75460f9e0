from __future__ import annotations

import json
import os
from pathlib import Path

import click

from ._ui import console, fail, open_case, progress, table

CASE = click.argument("case", type=click.Path(exists=True, file_okay=False))


def _resolve_and_build(c, auto: float, review: float) -> tuple[dict, dict]:
    from ..graph import build, resolve

    counts, built = build.rebuild(c.store, auto, review)
    from ..ingest.digest import GRAPH_TABLES

    c.log("resolve", state=GRAPH_TABLES, details={"auto_threshold": auto, "review_threshold": review, "version": resolve.VERSION},
          outputs=[{"entities": counts, "graph": built}])
    return counts, built


def _ensure(c) -> None:
    """Resolve and build (logged) when the case has no graph yet."""
    from ..graph import resolve

    if c.store.count("nodes") == 0:
        _resolve_and_build(c, resolve.AUTO, resolve.REVIEW)


@click.command("resolve")
@CASE
@click.option("--auto", "auto", default=0.9, show_default=True, help="Name similarity at which records are joined automatically.")
@click.option("--review", default=0.6, show_default=True, help="Name similarity from which a pair is listed for review (finding).")
def resolve_cmd(case, auto, review) -> None:
    """Resolve entities (who is one person) and rebuild the case graph.

    Records join on strong identifiers (a contact card listing a phone, a goAML party with a NIC),
    on examiner decisions, and on Sri Lankan name rules at or above --auto. Every join keeps its
    evidence; pairs between --review and --auto become 'possible-same-person' findings."""
    with open_case(case) as c:
        counts, built = _resolve_and_build(c, auto, review)
        rows = c.store.rows("""SELECT id, label, json_extract(attrs, '$.members') AS members,
                                      json_array_length(json_extract(attrs, '$.identifiers')) AS ids,
                                      json_array_length(json_extract(attrs, '$.exhibits')) AS exhibits,
                                      json_extract_string(attrs, '$.roles') AS roles
                               FROM entities WHERE kind = 'person' ORDER BY members DESC, label LIMIT 30""")
        console.print(table("People", ["entity", "name", "records joined", "identifiers", "exhibits", "marked"],
                            [(r["id"], r["label"], r["members"], r["ids"], r["exhibits"], r["roles"] if r["roles"] != "[]" else "")
                             for r in rows]))
        console.print(f"{counts['people']} people from {counts['links']} links; {counts['candidates']} pairs for review, "
                      f"{counts['refused']} links refused (findings, detector entity-resolution). Graph: "
                      + ", ".join(f"{v} {k}" for k, v in built.items()))


@click.group("entities")
def entities_group() -> None:
    """Review resolved people: list, show, merge, split, mark victims and witnesses."""


@entities_group.command("list")
@CASE
@click.option("--role", default=None, help="Only people marked with this role (victim, witness, suspect ...).")
def entities_list(case, role) -> None:
    """List resolved people."""
    with open_case(case) as c:
        rows = c.store.rows("SELECT id, label, attrs FROM entities WHERE kind = 'person' ORDER BY label, id")
        out = []
        for r in rows:
            a = json.loads(r["attrs"])
            if role and role not in a["roles"]:
                continue
            out.append((r["id"], r["label"], ", ".join(list(a["names"])[:4]),
                        ", ".join(i["value"] for i in a["identifiers"][:4]), len(a["exhibits"]), ", ".join(a["roles"])))
        console.print(table("People", ["entity", "name", "names seen", "identifiers", "exhibits", "marked"], out))


@entities_group.command("show")
@CASE
@click.argument("entity")
def entities_show(case, entity) -> None:
    """Show one person: names, identifiers, the records joined and why they were joined."""
    with open_case(case) as c:
        rows = c.store.rows("SELECT * FROM entities WHERE id = ?", [entity])
        if not rows:
            fail(f"no entity {entity!r} (see 'casegraph entities list')")
        e = rows[0]
        a = json.loads(e["attrs"])
        console.print(f"[bold]{e['label']}[/]  {e['id']}  marked: {', '.join(a['roles']) or '-'}")
        console.print("names: " + "; ".join(f"{n} ×{k}" for n, k in a["names"].items()))
        console.print("identifiers: " + "; ".join(f"{i['kind']} {i['value']}" for i in a["identifiers"]))
        members = c.store.rows("SELECT member FROM entity_members WHERE entity_id = ? ORDER BY member", [entity])
        console.print(table("Records joined (members)", ["member"], [(m["member"],) for m in members]))
        links = c.store.rows("SELECT a, b, method, score, evidence FROM entity_links WHERE entity_id = ? ORDER BY method, a, b", [entity])
        console.print(table("Why they were joined", ["method", "score", "a", "b", "evidence"],
                            [(l["method"], f"{l['score']:.2f}" if l["score"] is not None else "", l["a"], l["b"],
                              _why(json.loads(l["evidence"]))) for l in links]))
        ev = json.loads(e["evidence"])
        console.print(table(f"Records ({a['records']})", ["table", "locator", "exhibit"],
                            [(r["table"], r["locator"], r["exhibit_sha256"][:16]) for r in ev[:40]]))


def _why(ev: dict) -> str:
    if "identifier" in ev:
        return f"lists {ev['identifier']['kind']} {ev['identifier']['value']}"
    if "names" in ev:
        return f"{' / '.join(ev['names'])}: {'; '.join(ev['reasons'])}"
    return ev.get("reason", "")


def _decide(case, action: str, pairs: list[tuple[str, str | None]], reason: str, actor: str | None) -> None:
    from ..graph import resolve

    with open_case(case) as c:
        who = c.actor(actor)
        for a, b in pairs:
            resolve.decide(c.store, action, a, b, reason, who)
        c.log(f"entities-{action}", actor=actor, state=("er_decisions",), details={"pairs": pairs, "reason": reason})
        counts, _ = _resolve_and_build(c, resolve.AUTO, resolve.REVIEW)
        console.print(f"Recorded {len(pairs)} {action} decision(s) by {who}; resolved again: {counts['people']} people.")


@entities_group.command("merge")
@CASE
@click.argument("first")
@click.argument("second")
@click.option("--reason", required=True, help="Why they are one person (recorded in the custody log).")
@click.option("--actor", default=None, help="Who decides (default: the current user).")
def entities_merge(case, first, second, reason, actor) -> None:
    """Decide that two entities (or members) are one person. Kept across re-resolution; undo with split."""
    from ..graph.resolve import members_of

    with open_case(case) as c:
        a, b = members_of(c.store, first)[0], members_of(c.store, second)[0]
    _decide(case, "merge", [(a, b)], reason, actor)


@entities_group.command("split")
@CASE
@click.argument("entity")
@click.option("--member", "member_key", required=True, help="The member (see 'entities show') that is not this person.")
@click.option("--reason", required=True, help="Why (recorded in the custody log).")
@click.option("--actor", default=None)
def entities_split(case, entity, member_key, reason, actor) -> None:
    """Decide that a member is not the same person as the rest of ENTITY: no link may join them again."""
    from ..graph.resolve import members_of

    with open_case(case) as c:
        members = members_of(c.store, entity)
    if member_key not in members:
        fail(f"{member_key!r} is not a member of {entity} (see 'casegraph entities show')")
    _decide(case, "split", [(member_key, m) for m in members if m != member_key], reason, actor)


@entities_group.command("mark")
@CASE
@click.argument("entity")
@click.option("--role", required=True, type=click.Choice(["victim", "witness", "suspect", "minor"]),
              help="Victims, witnesses and minors are pseudonymised in reports with --redact victims.")
@click.option("--remove", is_flag=True, help="Take the mark off.")
@click.option("--reason", default="", help="Recorded in the custody log.")
@click.option("--actor", default=None)
def entities_mark(case, entity, role, remove, reason, actor) -> None:
    """Mark a person as victim, witness, suspect or minor (kept on every record joined to them)."""
    from ..graph.resolve import members_of

    with open_case(case) as c:
        members = members_of(c.store, entity)
    _decide(case, "unmark" if remove else "mark", [(m, role) for m in members], reason, actor)


@click.command("analyze")
@CASE
@click.option("--top", default=10, show_default=True, help="How many brokers, most-contacted parties and timelines.")
def analyze_cmd(case, top) -> None:
    """Link analysis: connected groups, communities, brokers, most contacted, parties on several
    exhibits, contact timelines. Each result is a finding (detector link-analysis) with its records."""
    from ..findings import write_findings
    from ..graph import analysis

    with open_case(case) as c:
        _ensure(c)
        g, findings = analysis.analyse(c.store, top=top)
        digest = write_findings(c.store, findings, analysis.DETECTOR)
        c.log("analyze", state=("findings",), details={"top": top, "version": analysis.VERSION},
              outputs=[{"findings": len(findings), "sha256": digest, "detector": analysis.DETECTOR}])
        console.print(table(f"Link analysis: {g.number_of_nodes()} parties, {g.number_of_edges()} ties",
                            ["kind", "finding", "summary"], [(f.kind, f.title, f.summary[:110]) for f in findings]))
        console.print(f"{len(findings)} findings written (detector {analysis.DETECTOR}).")


@click.command("path")
@CASE
@click.argument("a")
@click.argument("b")
def path_cmd(case, a, b) -> None:
    """How is A connected to B? A and B may be names, phones, accounts, wallets or entity ids.
    Each hop shows the records it rests on."""
    from ..graph import analysis

    with open_case(case) as c:
        _ensure(c)
        try:
            g, hops = analysis.shortest_path(c.store, a, b)
        except KeyError as e:
            fail(str(e).strip("'\""))
        if not hops:
            console.print(f"No connection between {a} and {b} in this case.")
            return
        console.print(table(f"{a} → {b}: {len(hops)} hops", ["from", "to", "how", "records", "first record (exhibit, locator)"],
                            [(analysis.display(g, h.a), analysis.display(g, h.b), ", ".join(h.kinds), h.count,
                              f"{h.evidence[0]['exhibit_sha256'][:12]} {h.evidence[0]['locator']}") for h in hops]))


@click.group("graph")
def graph_group() -> None:
    """The case graph: Neo4j push, exports, the Cypher it runs."""


@graph_group.command("push")
@CASE
@click.option("--uri", default=lambda: os.environ.get("NEO4J_URI"), required=True, help="bolt:// or neo4j:// URI (env NEO4J_URI).")
@click.option("--user", default=lambda: os.environ.get("NEO4J_USER", "neo4j"), show_default="neo4j", help="(env NEO4J_USER)")
@click.option("--password", default=lambda: os.environ.get("NEO4J_PASSWORD"), required=True, help="(env NEO4J_PASSWORD)")
@click.option("--database", default=None, help="Database name (default: the server's default).")
@click.option("--batch", default=5000, show_default=True, help="Rows per transaction.")
def graph_push(case, uri, user, password, database, batch) -> None:
    """Write the graph to Neo4j: constraints, then batched UNWIND … MERGE. Pushing again changes
    nothing; an interrupted push resumes at the first batch not written."""
    from ..graph import neo4j_push

    with open_case(case) as c:
        _ensure(c)
        try:
            run, close = neo4j_push.driver_runner(uri, user, password, database)
        except Exception as e:  # the driver's errors: unreachable server, bad credentials
            fail(f"cannot connect to {uri}: {e}")
        target = f"{uri}/{database or ''}"
        try:
            with progress() as bar:
                tasks = {}

                def step(name, done, total):
                    if name not in tasks:
                        tasks[name] = bar.add_task(name, total=total)
                    bar.update(tasks[name], completed=done)

                counts = neo4j_push.push(c.store, target, run, batch=batch, progress=step)
        finally:
            close()
        c.log("graph-push", details={"target": target, "digest": neo4j_push.graph_digest(c.store)}, outputs=[counts])
        console.print(f"Pushed to {target}: {counts['sent']} rows written, {counts['skipped']} already there.")


@graph_group.command("export")
@CASE
@click.option("--format", "fmt", type=click.Choice(["neo4j-admin", "graphml", "ftm"]), required=True)
@click.option("--out", type=click.Path(), default=None, help="Directory (neo4j-admin) or file; default under CASE/reports/.")
def graph_export(case, fmt, out) -> None:
    """neo4j-admin: CSVs plus the exact 'neo4j-admin database import full' command (import.sh).
    graphml: for Gephi / yEd / i2. ftm: FollowTheMoney JSON lines for OCCRP Aleph."""
    from ..graph import export
    from ..ingest.hashing import sha256_file

    with open_case(case) as c:
        _ensure(c)
        target = Path(out) if out else c.root / "reports" / {"neo4j-admin": "neo4j-import", "graphml": "graph.graphml",
                                                             "ftm": "entities.ftm.json"}[fmt]
        path = export.export(c.store, fmt, target)
        files = sorted(p for p in (path.parent.iterdir() if fmt == "neo4j-admin" else [path]) if p.is_file())
        c.log("graph-export", details={"format": fmt}, outputs=[{"file": str(p), "sha256": sha256_file(p)} for p in files])
        console.print(f"Wrote {len(files)} file(s): {path}")


@graph_group.command("cypher")
@CASE
def graph_cypher(case) -> None:
    """Print every Cypher statement a push of this case runs (to review them)."""
    from ..graph import neo4j_push

    with open_case(case) as c:
        _ensure(c)
        for s in neo4j_push.statements(c.store):
            click.echo(s + ";")


COMMANDS = [resolve_cmd, entities_group, analyze_cmd, path_cmd, graph_group]
