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
@output_options()
def findings_list(case, kind, detector, person, since, fmt) -> None:
    """List findings, with how many records each cites."""
    from .. import review
    from ..graph.resolve import EntityLookupError, find_entity

    with open_case(case) as c:
        try:
            who = find_entity(c.store, person)["id"] if person else None
            rows = review.findings(c.store, kind, detector, who, since)
        except (review.ReviewError, EntityLookupError) as e:
            fail(str(e), 2)
        emit(
            fmt,
            f"Findings ({len(rows)})",
            ["finding", "kind", "detector", "title", "records"],
            [(f.id, f.kind, f.detector, f.title, len(f.evidence)) for f in rows],
            [f.brief() for f in rows],
        )
        if fmt == "table":
            console.print(f"{plural(len(rows), 'finding')}. Show one with: casegraph findings show CASE ID (a unique prefix will do).")


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


COMMANDS = [findings_group, parse_issues]
