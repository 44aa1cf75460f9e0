from __future__ import annotations

import click

from ._ui import console, fail, table


@click.command("demo")
@click.argument("directory", type=click.Path(file_okay=False), default="demo-case")
@click.option("--overwrite", is_flag=True, help="Delete and rebuild DIRECTORY if it is not empty.")
def demo(directory, overwrite) -> None:
    """Build a synthetic case in DIRECTORY and run every stage.

    The case is a recruitment-and-fees scheme. The seized files are written to DIRECTORY/seized and
    the case to DIRECTORY/case."""
    from ..case import Case
    from ..demo.run import run_demo
    from .case_cmds import print_summary

    try:
        r = run_demo(directory, overwrite=overwrite, say=lambda s: console.print(f"[cyan]{s}[/]"))
    except FileExistsError as e:
        fail(str(e), 2)
    none = {"error": 0, "warning": 0, "info": 0}
    console.print(
        table(
            "Parsing",
            ["exhibit", "file", "parser", "status", "records", "kept aside (errors)", "warnings", "notes"],
            [
                (
                    o.exhibit_id,
                    o.name,
                    o.parser or "-",
                    o.status,
                    ", ".join(f"{k} {v}" for k, v in sorted(o.records.items()) if k != "parse_issues") or o.message,
                    *r.issues.get((o.sha256, o.parser), none).values(),
                )
                for o in r.outcomes
            ],
        )
    )
    money = [f for f in r.findings if f.detector == "typologies"]
    console.print(
        table("Money findings (typologies)", ["kind", "title", "transfers"], [(f.kind, f.title, f.attrs["transfers"]) for f in money])
    )
    from ..finance.trace import table_rows

    traced = [f for f in r.findings if f.kind == "money-trace"]
    console.print(
        table(
            "Where the recruiter's money went (haircut taint)",
            ["reached", "transfers", "path: amounts, when", "received", "tainted"],
            table_rows(traced),
        )
    )
    links = [f for f in r.findings if f.detector == "link-analysis" and f.kind in ("broker", "multi-exhibit")]
    console.print(
        table("Who connects the network (link analysis)", ["kind", "title", "summary"], [(f.kind, f.title, f.summary) for f in links])
    )
    console.print(
        table(
            "Trafficking indicators per chat and person (lexicon)",
            ["scope", "who", "messages", "indicators"],
            [
                (s["scope"], s["who"], s["messages"], ", ".join(f"{k} {v}" for k, v in s["indicators"].items()))
                for s in r.indicators.summary
            ],
        )
    )
    with Case(r.case) as c:
        print_summary(c)
    v = r.verdict
    console.print(
        f"Custody: {v.events} events, {v.exhibits_checked} exhibits re-hashed, verdict "
        f"[bold {'green' if v.ok else 'red'}]{'INTACT' if v.ok else 'NOT INTACT'}[/]"
    )
    console.print("Evidence report, victim-protected copy (victims under pseudonyms): " + ", ".join(str(p) for p in r.reports))
    bv = r.bundle_verdict
    console.print(
        f"Signed evidence bundle, not redacted (full case data, for the court): {r.bundle} — verify: [bold {'green' if bv.verdict == 'VERIFIED' else 'red'}]"  # noqa: E501
        f"{bv.verdict}[/] (key {bv.fingerprint}: {bv.trusted_as or 'not trusted'})"
    )
    console.print(
        f"\nDemo case ready: [bold]{r.case}[/]  (try: casegraph case show {r.case}; "
        f"casegraph path {r.case} Kasun TET8J56maUaAbx2T6vBNtyhbu39QHukgQF; casegraph verify {r.bundle} --case {r.case})"
    )


COMMANDS = [demo]
