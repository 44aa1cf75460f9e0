from __future__ import annotations

import json

import click

from ._ui import When, console, emit, emit_one, esc, fail, open_case, output_options, plural

CASE = click.argument("case", type=click.Path(exists=True, file_okay=False))


@click.group("findings")
def findings_group() -> None:
    """Review what the analyses concluded, and what they cite."""


@findings_group.command("list")
@CASE
@click.option("--kind", default=None, help="Only this kind (structuring, money-trace, broker, trafficking-indicator ...).")
@click.option("--detector", default=None, help="Only this detector (typologies, link-analysis, indicators-lexicon ...).")
@click.option("--person", default=None, help="Only findings about this person: entity id, a unique prefix of it, or a name.")
@click.option(
    "--since",
    type=When(),
    default=None,
    help="Only findings citing a record timed at or after DATE (ISO: 2024-04-01 or 2024-04-01T09:00+05:30).",
)
@click.option("--all", "everything", is_flag=True, help="Also the ranked findings stored past the reported ones (--kind lists them too).")
@output_options()
def findings_list(case, kind, detector, person, since, everything, fmt) -> None:
    """List findings, with how many records each cites."""
    from .. import review
    from ..graph.resolve import EntityLookupError, find_entity

    with open_case(case) as c:
        try:
            who = find_entity(c.store, person)["id"] if person else None
            rows = review.findings(c.store, kind, detector, who, since)
        except (review.ReviewError, EntityLookupError) as e:
            fail(str(e), 2)
        held = 0
        if not (everything or kind):
            held = sum(not review.reported(f.attrs) for f in rows)
            rows = [f for f in rows if review.reported(f.attrs)]
        emit(
            fmt,
            f"Findings ({len(rows)})",
            ["finding", "kind", "detector", "title", "records"],
            [(f.id, f.kind, f.detector, f.title, len(f.evidence)) for f in rows],
            [f.brief() for f in rows],
        )
        if fmt == "table":
            console.print(f"{plural(len(rows), 'finding')}. Show one with: casegraph findings show CASE ID (a unique prefix will do).")
            if held:
                console.print(f"{plural(held, 'more ranked finding')} stored past the reported ones: --all (or --kind KIND) lists them.")


@findings_group.command("show")
@CASE
@click.argument("finding")
@click.option("--limit", default=50, show_default=True, help="How many cited records to quote (JSON output has all).")
@output_options(csv_too=False)
def findings_show(case, finding, limit, fmt) -> None:
    """Show one finding with every record it cites quoted.

    FINDING is an id or a unique prefix; each record is quoted with its exhibit, locator, time and
    text."""
    from .. import review

    with open_case(case) as c:
        try:
            f = review.finding(c.store, finding)
        except review.ReviewError as e:
            fail(str(e), 2)
        quotes = review.quoted(c.store, f)
        record = {
            **f.brief(),
            "summary": f.summary,
            "score": f.score,
            "detector_version": f.detector_version,
            "attrs": f.attrs,
            "evidence": quotes,
        }

        def show() -> None:
            console.print(f"[bold]{esc(f.title)}[/]")
            console.print(f"finding {f.id} · {esc(f.kind)} · detector {esc(f.detector)} {esc(f.detector_version)}")
            console.print(esc(f.summary))
            if f.attrs:
                console.print("details: " + esc(json.dumps(f.attrs, ensure_ascii=False, sort_keys=True, default=str)[:2000]))
            emit(
                "table",
                f"Records cited ({len(quotes)}{', first ' + str(limit) if len(quotes) > limit else ''})",
                ["exhibit", "locator", "time", "record"],
                [(q["exhibit"], q.get("locator"), q.get("time") or "", q.get("text") or q.get("record") or "") for q in quotes[:limit]],
            )

        emit_one(fmt, record, show)


@click.command("parse-issues")
@CASE
@click.option("--exhibit", default=None, help="Only this exhibit (e.g. P1); lists its issues.")
@click.option("--severity", type=click.Choice(["error", "warning", "info"]), default=None, help="Only this severity; lists the issues.")
@click.option("--list", "listing", is_flag=True, help="List the issues themselves, not only the counts.")
@click.option("--limit", default=200, show_default=True, help="How many issues to list.")
@output_options()
def parse_issues(case, exhibit, severity, listing, limit, fmt) -> None:
    """What parsing could not read or had to decide.

    Counts per exhibit by severity, or the issues themselves with their locators. Errors are input
    kept aside, not used; warnings are decisions the data did not fully support; info notes say how
    a file was read."""
    from .. import review

    with open_case(case) as c:
        if listing or exhibit or severity:
            rows = review.issues(c.store, exhibit, severity, limit)
            emit(
                fmt,
                f"Parse issues ({len(rows)})",
                ["exhibit", "file", "parser", "severity", "locator", "message"],
                [(r["exhibit"], r["file"], r["parser"], r["severity"], r["locator"], r["message"]) for r in rows],
                rows,
            )
            return
        counts = review.issue_counts(c.store)
        emit(
            fmt,
            "Parse issues by exhibit and severity",
            ["exhibit", "file", "parser", *review.SEVERITIES],
            [(r["exhibit"], r["file"], r["parser"], *(r[s] for s in review.SEVERITIES)) for r in counts],
            counts,
        )
        if fmt == "table":
            totals = {s: sum(r[s] for r in counts) for s in review.SEVERITIES}
            console.print(
                f"{plural(totals['error'], 'error')} (input kept aside, not used), "
                f"{plural(totals['warning'], 'warning')}, {plural(totals['info'], 'info note')}."
            )


def _verdict_command(verdict: str) -> click.Command:
    verb = verdict[:-2]

    @findings_group.command(verb)
    @CASE
    @click.argument("finding")
    @click.option("--reason", required=True, help="Why (recorded in the custody log with the examiner's name).")
    @click.option("--examiner", default=None, help="Who decides (default: CASEGRAPH_EXAMINER, then the case's examiner).")
    @output_options(csv_too=False)
    def decide(case, finding, reason, examiner, fmt) -> None:
        from .. import review

        with open_case(case) as c:
            try:
                d = review.decide_finding(c, finding, verdict, reason, examiner)
            except review.ReviewError as e:
                fail(str(e), 2)
        if fmt == "json":
            emit(fmt, "", [], [], [d])
        else:
            console.print(f"finding {d['finding_id']} {verdict} by {esc(d['actor'])}: {esc(reason)}")

    decide.__doc__ = f"Record that you {verb} a finding (id or unique prefix), with a reason: logged in custody; " + (
        "the report relies on confirmed findings." if verdict == "confirmed" else "the report leaves rejected findings out."
    )
    decide.help = decide.__doc__
    decide.short_help = f"{verb.capitalize()} a finding, with a reason (logged in custody)."
    return decide


confirm_cmd, reject_cmd = (_verdict_command(v) for v in ("confirmed", "rejected"))


@findings_group.command("decisions", short_help="The latest verdict on each finding decided.")
@CASE
@click.option("--kind", default=None, help="Only findings of this kind.")
@output_options()
def findings_decisions(case, kind, fmt) -> None:
    """The examiner's latest verdict on each finding decided, with who decided, when and why."""
    from .. import review

    with open_case(case, read_only=True) as c:
        rows = review.finding_decisions(c.store, kind)
    emit(
        fmt,
        f"Decisions ({len(rows)})",
        ["finding", "kind", "verdict", "title", "examiner", "decided", "reason"],
        [(r["finding_id"], r["kind"], r["verdict"], r["subject"]["title"], r["actor"], r["decided_at"], r["reason"]) for r in rows],
        rows,
    )


@click.group("tag", short_help="Tag records with a note; tagged records are relied upon.")
def tag_group() -> None:
    """Tag records (messages, transactions, calls, findings …) with a note; tagged records are items relied upon."""


@tag_group.command("add")
@CASE
@click.argument("record")
@click.option("--note", required=True, help="The note (recorded in the custody log with the examiner's name).")
@click.option("--examiner", default=None, help="Who tags (default: CASEGRAPH_EXAMINER, then the case's examiner).")
@output_options(csv_too=False)
def tag_add(case, record, note, examiner, fmt) -> None:
    """Tag one record by its id (as 'findings show --json' gives it)."""
    from .. import review

    with open_case(case) as c:
        try:
            t = review.tag_record(c, record, note, examiner)
        except review.ReviewError as e:
            fail(str(e), 2)
    if fmt == "json":
        emit(fmt, "", [], [], [t])
    else:
        console.print(f"tagged {esc(record)} ({t['record_table']}) by {esc(t['actor'])}: {esc(note)}")


@tag_group.command("list")
@CASE
@output_options()
def tag_list(case, fmt) -> None:
    """Every tag: record, note, examiner and time, oldest first."""
    from .. import review

    with open_case(case, read_only=True) as c:
        rows = review.tags(c.store)
    emit(
        fmt,
        f"Tags ({len(rows)})",
        ["record", "table", "note", "examiner", "tagged"],
        [(r["record_id"], r["record_table"], r["note"], r["actor"], r["tagged_at"]) for r in rows],
        rows,
    )


COMMANDS = [findings_group, parse_issues, tag_group]
