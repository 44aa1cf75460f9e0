from __future__ import annotations

import json
import os
from pathlib import Path

import click

from ._ui import console, emit, emit_one, esc, fail, open_case, output_options, plural, progress, table

CASE = click.argument("case", type=click.Path(exists=True, file_okay=False))


@click.command("resolve")
@CASE
@click.option("--auto", "auto", default=0.9, show_default=True, help="Name similarity at which records are joined automatically.")
@click.option("--review", default=0.6, show_default=True, help="Name similarity from which a pair is listed for review (finding).")
def resolve_cmd(case, auto, review) -> None:
    """Resolve entities (who is one person); rebuild the graph.

    Records join on strong identifiers (a contact card listing a phone, a goAML party with a NIC),
    on examiner decisions, and on Sri Lankan name rules at or above --auto. Every join keeps its
    evidence; pairs between --review and --auto become 'possible-same-person' findings."""
    from ..graph.steps import resolve_case

    with open_case(case) as c:
        counts, built = resolve_case(c, auto, review)
        rows = c.store.rows("""SELECT id, label, json_extract(attrs, '$.members') AS members,
                                      json_array_length(json_extract(attrs, '$.identifiers')) AS ids,
                                      json_array_length(json_extract(attrs, '$.exhibits')) AS exhibits,
                                      json_extract_string(attrs, '$.roles') AS roles
                               FROM entities WHERE kind = 'person' ORDER BY members DESC, label LIMIT 30""")
        console.print(
            table(
                "People",
                ["entity", "name", "records joined", "identifiers", "exhibits", "marked"],
                [(r["id"], r["label"], r["members"], r["ids"], r["exhibits"], r["roles"] if r["roles"] != "[]" else "") for r in rows],
            )
        )
        console.print(
            f"{counts['people']} people from {counts['links']} links; {counts['candidates']} pairs for review, "
            f"{counts['refused']} links refused (findings, detector entity-resolution). Graph: "
            + ", ".join(f"{v} {k}" for k, v in built.items())
        )


@click.group("entities")
def entities_group() -> None:
    """Review resolved people: list, show, merge, split, mark."""


@entities_group.command("list")
@CASE
@click.option("--role", default=None, help="Only people marked with this role (victim, witness, suspect ...).")
@output_options()
def entities_list(case, role, fmt) -> None:
    """List resolved people with the ids other commands take.

    'entities show', 'merge' and 'mark' take the id, a unique prefix of it, or a name."""
    with open_case(case) as c:
        rows = c.store.rows("SELECT id, label, attrs FROM entities WHERE kind = 'person' ORDER BY label, id")
        out, records = [], []
        for r in rows:
            a = json.loads(r["attrs"])
            if role and role not in a["roles"]:
                continue
            out.append(
                (
                    r["id"],
                    r["label"],
                    ", ".join(list(a["names"])[:4]),
                    ", ".join(i["value"] for i in a["identifiers"][:4]),
                    len(a["exhibits"]),
                    ", ".join(a["roles"]),
                )
            )
            records.append(
                {
                    "id": r["id"],
                    "label": r["label"],
                    "names": a["names"],
                    "identifiers": a["identifiers"],
                    "exhibits": a["exhibits"],
                    "roles": a["roles"],
                }
            )
        emit(fmt, "People", ["entity", "name", "names seen", "identifiers", "exhibits", "marked"], out, records)


@entities_group.command("show")
@CASE
@click.argument("entity")
@output_options(csv_too=False)
def entities_show(case, entity, fmt) -> None:
    """Show one person, the records joined and why.

    Names, identifiers, every member record and the evidence of each link. ENTITY is an entity id, a
    unique prefix of it, or a name that only one person's records give."""
    from ..graph.resolve import EntityLookupError, find_entity

    with open_case(case, read_only=True) as c:
        try:
            entity = find_entity(c.store, entity)["id"]
        except EntityLookupError as err:
            fail(str(err), 2)
        e = c.store.rows("SELECT * FROM entities WHERE id = ?", [entity])[0]
        a = json.loads(e["attrs"])
        members = [m["member"] for m in c.store.rows("SELECT member FROM entity_members WHERE entity_id = ? ORDER BY member", [entity])]
        links = [
            {**l, "evidence": json.loads(l["evidence"])}
            for l in c.store.rows(  # noqa: E741
                "SELECT a, b, method, score, evidence FROM entity_links WHERE entity_id = ? ORDER BY method, a, b", [entity]
            )
        ]
        ev = json.loads(e["evidence"])
        record = {"id": e["id"], "label": e["label"], **a, "members": members, "links": links, "records_cited": ev}

        def show() -> None:
            console.print(f"[bold]{esc(e['label'])}[/]  {e['id']}  marked: {esc(', '.join(a['roles']) or '-')}")
            console.print("names: " + esc("; ".join(f"{n} ×{k}" for n, k in a["names"].items())))
            console.print("identifiers: " + esc("; ".join(f"{i['kind']} {i['value']}" for i in a["identifiers"])))
            console.print(table("Records joined (members)", ["member"], [(m,) for m in members]))
            console.print(
                table(
                    "Why they were joined",
                    ["method", "score", "a", "b", "evidence"],
                    [
                        (l["method"], f"{l['score']:.2f}" if l["score"] is not None else "", l["a"], l["b"], _why(l["evidence"]))
                        for l in links  # noqa: E741
                    ],
                )
            )
            console.print(
                table(
                    f"Records ({a['records']})",
                    ["table", "locator", "exhibit"],
                    [(r["table"], r["locator"], r["exhibit_sha256"][:16]) for r in ev[:40]],
                )
            )

        emit_one(fmt, record, show)


def _why(ev: dict) -> str:
    from ..graph import corroborate

    if "narration" in ev:
        where = ", ".join(r["locator"] for r in ev["records"][:3]) + (" …" if ev["transactions"] > 3 else "")
        return f"narration {ev['narration']!r} ({where}) names {ev['named']}: {ev['names'][1]}: {'; '.join(ev['reasons'])}"
    if "identifier" in ev:
        return f"lists {ev['identifier']['kind']} {ev['identifier']['value']}"
    if "names" in ev:
        return f"{' / '.join(ev['names'])}: {'; '.join(ev['reasons'])}" + (f"; {corroborate.wording(ev)}" if "agreed" in ev else "")
    return ev.get("reason", "")


def _decide(case, step, *args, **kw) -> None:
    from ..graph.resolve import EntityLookupError

    with open_case(case) as c:
        try:
            counts = step(c, *args, **kw)
        except EntityLookupError as e:
            fail(str(e), 2)
        console.print(
            f"Recorded {step.__name__} decision by {esc(c.actor(kw.get('actor')))}; "
            f"resolved again: {plural(counts['people'], 'person', 'people')}."
        )


@entities_group.command("merge")
@CASE
@click.argument("first")
@click.argument("second")
@click.option("--reason", required=True, help="Why they are one person (recorded in the custody log).")
@click.option("--actor", default=None, help="Who decides (default: the current user).")
def entities_merge(case, first, second, reason, actor) -> None:
    """Decide that two people are one person.

    FIRST and SECOND are ids, unique prefixes, names or members. Kept across re-resolution; undo
    with split. Nothing is logged unless both are in the case."""
    from ..graph import steps

    _decide(case, steps.merge, first, second, reason, actor=actor)


@entities_group.command("split")
@CASE
@click.argument("entity")
@click.option("--member", "member_key", required=True, help="The member (see 'entities show') that is not this person.")
@click.option("--reason", required=True, help="Why (recorded in the custody log).")
@click.option("--actor", default=None)
def entities_split(case, entity, member_key, reason, actor) -> None:
    """Decide that a member is not the same person as ENTITY.

    No link may join the member to the rest of ENTITY again."""
    from ..graph import steps

    _decide(case, steps.split, entity, member_key, reason, actor=actor)


@entities_group.command("mark")
@CASE
@click.argument("entity")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["victim", "witness", "suspect", "minor"]),
    help="Victims, witnesses and minors are pseudonymised in reports with --redact victims.",
)
@click.option("--remove", is_flag=True, help="Take the mark off.")
@click.option("--reason", required=True, help="Why (recorded in the custody log), e.g. 'complainant, statement of 22 April 2024'.")
@click.option("--actor", default=None)
def entities_mark(case, entity, role, remove, reason, actor) -> None:
    """Mark a person as victim, witness, suspect or minor.

    The mark is kept on every record joined to them."""
    from ..graph import steps

    _decide(case, steps.mark, entity, role, reason, remove=remove, actor=actor)


@click.command("analyze")
@CASE
@click.option("--top", default=10, show_default=True, help="How many brokers, most-contacted parties and timelines.")
@click.option(
    "--engine",
    type=click.Choice(["igraph", "networkx", "neo4j"]),
    default="igraph",
    show_default=True,
    help="igraph (compiled, default); networkx (the older pure-Python code); neo4j (Graph Data Science on the pushed case).",
)
@click.option("--uri", default=lambda: os.environ.get("NEO4J_URI"), help="--engine neo4j: bolt:// or neo4j:// URI (env NEO4J_URI).")
@click.option("--user", default=lambda: os.environ.get("NEO4J_USER", "neo4j"), show_default="neo4j", help="(env NEO4J_USER)")
@click.option("--password", default=lambda: os.environ.get("NEO4J_PASSWORD"), help="(env NEO4J_PASSWORD)")
@click.option("--database", default=None, help="Database name (default: the server's default).")
def analyze_cmd(case, top, engine, uri, user, password, database) -> None:
    """Link analysis of the case graph, written as findings.

    Connected groups, communities, brokers, most contacted, parties on several exhibits, contact
    timelines. Each result is a finding (detector link-analysis) with its records."""
    from ..graph import gds
    from ..graph.steps import analyze_case

    connect = (lambda: gds.driver_runner(uri, user, password or "", database)) if uri else None
    with open_case(case) as c:
        try:
            g, findings = analyze_case(c, top, engine, connect)
        except gds.GdsUnavailable as e:
            fail(str(e))
        console.print(
            table(
                f"Link analysis: {plural(g.number_of_nodes(), 'party', 'parties')}, {plural(g.number_of_edges(), 'tie')}",
                ["kind", "title", "summary"],
                [(f.kind, f.title, f.summary) for f in findings if f.attrs.get("listed", True)],
            )
        )
        held = sum(f.attrs.get("listed", True) is False for f in findings)
        console.print(
            f"{plural(len(findings), 'finding')} written (detector link-analysis)"
            + (f", {held:,} of them ranked past the reported ones (listed with --all)" if held else "")
            + "; review them with: casegraph findings list CASE --detector link-analysis"
        )


@click.command("path")
@CASE
@click.argument("a")
@click.argument("b")
def path_cmd(case, a, b) -> None:
    """Show how A is connected to B, hop by hop.

    A and B may be names, phones, accounts, wallets or entity ids. Each hop shows the records it
    rests on."""
    from ..graph import analysis, steps

    with open_case(case) as c:
        steps.ensure(c)
        try:
            g, hops = analysis.shortest_path(c.store, a, b)
        except KeyError as e:
            fail(e.args[0] if e.args else str(e))
        if not hops:
            console.print(f"No connection between {a} and {b} in this case.")
            return
        console.print(
            table(
                f"{a} → {b}: {len(hops)} hops",
                ["from", "to", "how", "records", "first record (exhibit, locator)"],
                [
                    (
                        analysis.display(g, h.a),
                        analysis.display(g, h.b),
                        ", ".join(h.kinds),
                        h.count,
                        f"{h.evidence[0]['exhibit_sha256'][:12]} {h.evidence[0]['locator']}",
                    )
                    for h in hops
                ],
            )
        )


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
    """Write the graph to Neo4j (batched MERGE, resumable).

    Constraints first, then batched UNWIND … MERGE. Pushing again changes nothing; an interrupted
    push resumes at the first batch not written."""
    from ..graph import neo4j_push, steps

    with open_case(case) as c:
        steps.ensure(c)
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

                counts = steps.push(c, target, run, batch=batch, progress=step)
        finally:
            close()
        console.print(f"Pushed to {target}: {counts['sent']} rows written, {counts['skipped']} already there.")


_EXPORT_NAMES = {"neo4j-admin": "neo4j-import", "graphml": "graph.graphml", "ftm": "entities.ftm.json", "i2": "i2"}


@graph_group.command("export")
@CASE
@click.option("--format", "fmt", type=click.Choice(["neo4j-admin", "graphml", "ftm", "i2"]), required=True)
@click.option("--out", type=click.Path(), default=None, help="Directory (neo4j-admin, i2) or file; default under CASE/reports/.")
@click.option(
    "--redact",
    type=click.Choice(["none", "victims"]),
    default="none",
    show_default=True,
    help="victims: pseudonymise persons marked victim, witness or minor, as reports do.",
)
def graph_export(case, fmt, out, redact) -> None:
    """Export the graph for Neo4j, Gephi, Aleph or i2.

    neo4j-admin: typed CSVs plus the exact 'neo4j-admin database import full' command (import.sh).
    graphml: for Gephi and yEd (label = the display name, type = the kind). ftm: FollowTheMoney JSON
    lines for OCCRP Aleph. i2: CSV for i2 Analyst's Notebook with its import specification."""
    from ..graph import steps
    from ..reports.redact import Redactor

    with open_case(case) as c:
        steps.ensure(c)
        redactor = Redactor.victims(c.store) if redact == "victims" else None
        if redactor is not None and not redactor.active:
            console.print("[yellow]warning:[/] --redact victims: nobody is marked victim, witness or minor; nothing is pseudonymised")
        target = Path(out) if out else c.root / "reports" / _EXPORT_NAMES[fmt]
        path, files = steps.export(c, fmt, target, redactor.text if redactor is not None and redactor.active else None, redact)
        console.print(
            f"Wrote {plural(len(files), 'file')}" + (" (victims pseudonymised)" if redact == "victims" else "") + f": {esc(path)}"
        )


@graph_group.command("cypher")
@CASE
def graph_cypher(case) -> None:
    """Print the Cypher statements a push runs, to review them."""
    from ..graph import neo4j_push, steps

    with open_case(case) as c:
        steps.ensure(c)
        for s in neo4j_push.statements(c.store):
            click.echo(s + ";")


COMMANDS = [resolve_cmd, entities_group, analyze_cmd, path_cmd, graph_group]
