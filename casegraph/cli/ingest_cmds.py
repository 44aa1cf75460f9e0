from __future__ import annotations

import click

from ._ui import console, emit, esc, fail, open_case, output_options, plural, progress, table


@click.command("ingest")
@click.argument("case", type=click.Path(exists=True, file_okay=False))
@click.option("--exhibit", "select", default=None, help="Only this exhibit (label or SHA-256 prefix).")
@click.option("--parser", "parser_name", default=None, help="Force a parser instead of detecting the format (see 'casegraph parsers').")
@click.option("--force", is_flag=True, help="Parse again, replacing this parser's earlier records for the exhibit.")
@click.option(
    "--option",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Parser option, recorded in the custody log; e.g. date_order=DMY for a WhatsApp export whose "
    "day/month order cannot be decided, languages=eng+sin for OCR. Repeatable.",
)
def ingest(case, select, parser_name, force, options) -> None:
    """Parse every exhibit (or one) into the case store.

    Every record carries its provenance: exhibit SHA-256, parser and version, locator."""
    from ..ingest.pipeline import parse_exhibit

    with open_case(case) as c:
        c.require_unbroken()
        exhibits = c.store.rows("SELECT sha256, exhibit_id, original_name FROM exhibits ORDER BY added_at")
        if select:
            exhibits = [e for e in exhibits if e["exhibit_id"] == select or e["sha256"].startswith(select.lower())]
            if not exhibits:
                fail(f"no exhibit matches {select!r}")
        opts = {}
        for o in options:
            key, eq, value = o.partition("=")
            if not eq:
                fail(f"--option takes KEY=VALUE, got {o!r}")
            opts[key.strip()] = value.strip()
        per_file: dict[str, dict[str, str]] = {}
        if opts:
            from ..ingest.pipeline import options_per_file

            try:
                per_file, lines = options_per_file(c, [e["sha256"] for e in exhibits], parser_name, opts)
            except ValueError as err:
                fail(str(err), 2)
            for line in lines:
                console.print(f"[yellow]note:[/] {esc(line)}", soft_wrap=True)
        outcomes, error = [], None
        with progress() as bar:
            for e in exhibits:
                task = bar.add_task(f"{e['exhibit_id']} {e['original_name']}", total=None)
                try:
                    o = parse_exhibit(
                        c,
                        e["sha256"],
                        parser_name,
                        force=force,
                        options=per_file.get(e["sha256"], opts),
                        on_batch=lambda n, t=task: bar.advance(t, n),
                    )
                except (KeyError, ValueError) as err:
                    bar.remove_task(task)
                    error = str(err).strip("'\"")
                    break
                bar.update(task, total=sum(o.records.values()) or 1, completed=sum(o.records.values()) or 1)
                outcomes.append(o)
        if error:
            fail(error)
        console.print(
            table(
                "Ingest",
                ["exhibit", "file", "parser", "status", "records", "errors+warnings"],
                [
                    (
                        o.exhibit_id,
                        o.name,
                        o.parser or "-",
                        o.status,
                        ", ".join(f"{k} {v}" for k, v in sorted(o.records.items()) if k != "parse_issues") or o.message,
                        o.issues,
                    )
                    for o in outcomes
                ],
            )
        )
        unrec = [o for o in outcomes if o.status == "unrecognised"]
        for o in unrec:
            console.print(f"[yellow]warning:[/] {o.message}")
        console.print(
            f"{plural(len(outcomes), 'exhibit file')}: {sum(o.status in ('complete', 'partial') for o in outcomes)} parsed, "
            f"{sum(o.status == 'skipped' for o in outcomes)} already parsed, {len(unrec)} unrecognised; "
            f"{sum(o.issues for o in outcomes)} parse errors/warnings kept in table parse_issues (with their locators)."
        )


@click.command("parsers")
@output_options()
def parsers(fmt) -> None:
    """List the parsers casegraph has, with versions."""
    from ..ingest.pipeline import known_parsers

    emit(
        fmt,
        "Parsers",
        ["name", "version", "reads"],
        [(p.name, p.version, p.description) for p in known_parsers()],
        [{"name": p.name, "version": p.version, "reads": p.description} for p in known_parsers()],
    )


COMMANDS = [ingest, parsers]
