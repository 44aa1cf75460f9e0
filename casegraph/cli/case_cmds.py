from __future__ import annotations

import click

from ._ui import console, emit_one, esc, fail, open_case, output_options, table


@click.group("case")
def case_group() -> None:
    """Create and inspect case directories."""


@case_group.command("init")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--case-no", required=True, help="Case or reference number, e.g. HTS/2026/041.")
@click.option("--examiner", required=True, help="Name and rank of the examiner responsible for the case.")
@click.option("--title", default="", help="Short case title.")
@click.option(
    "--agency",
    default="",
    help="Agency or unit, e.g. CID Human Trafficking, Smuggling Investigation and Maritime Crimes Investigation Division.",
)
@click.option(
    "--timezone",
    "tz",
    default="Asia/Colombo",
    show_default=True,
    help="Local zone of the seized devices; used for times that state no zone, and recorded as such.",
)
def case_init(directory: str, case_no: str, examiner: str, title: str, agency: str, tz: str) -> None:
    """Create a case DIRECTORY.

    It holds case.toml, evidence/, custody.jsonl and case.duckdb."""
    from ..case import Case, CaseError

    try:
        with Case.create(directory, case_no, examiner, title, agency, tz) as c:
            console.print(f"Created case [bold]{c.info.case_no}[/] in {c.root} (device time zone {c.info.timezone}).")
    except CaseError as e:
        fail(str(e), 2)


@case_group.command("show")
@click.argument("case", type=click.Path(exists=True, file_okay=False))
@output_options(csv_too=False)
def case_show(case: str, fmt: str) -> None:
    """Summarise a case: details, exhibits, records per table."""
    from dataclasses import asdict

    with open_case(case, read_only=True) as c:
        record = {
            "case": asdict(c.info),
            "exhibits": c.store.rows("SELECT * FROM exhibits ORDER BY added_at"),
            "records": c.store.counts(),
        }
        emit_one(fmt, record, lambda: print_summary(c))


def print_summary(c) -> None:
    i = c.info
    console.print(f"[bold]Case {esc(i.case_no)}[/] {esc(i.title)}  examiner: {esc(i.examiner)}  zone: {i.timezone}  created: {i.created}")
    ex = c.store.rows("SELECT exhibit_id, original_name, format, size, sha256 FROM exhibits ORDER BY added_at")
    console.print(
        table(
            "Exhibits",
            ["exhibit", "file", "format", "bytes", "sha256"],
            [(e["exhibit_id"], e["original_name"], e["format"] or "unrecognised", e["size"], e["sha256"][:16] + "…") for e in ex],
        )
    )
    counts = c.store.counts()
    console.print(table("Case store", ["table", "rows"], [(k, v) for k, v in counts.items()]))


COMMANDS = [case_group]
