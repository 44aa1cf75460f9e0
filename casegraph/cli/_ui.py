"""Shared terminal output: one console, tables, --json/--csv output, progress bars, error exit."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

# Piped output follows COLUMNS like a terminal does (rich reads it; 80 when unset), never a forced width.
# emoji=False: ":Phone:" inside a node id must stay text, not become an emoji
console = Console(highlight=False, emoji=False)
notices = Console(highlight=False, emoji=False, stderr=True)  # side notes (the custody head): stdout stays data for --json

# columns whose values must never be cut or wrapped mid-value: times, ids and hashes stay whole
_WHOLE = ("time", "at", "when", "date", "seq", "id", "entity", "finding", "exhibit", "sha256", "md5", "hash", "severity")


def esc(value: Any) -> str:
    """A value to put inside console markup: `[mmddyy]` in a file name stays text, not a style."""
    return escape(str(value))


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 finding`, `2 findings`, `1 account`, `3 accounts`, with an irregular plural when given."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def table(title: str, columns: Iterable[str], rows: Iterable[Iterable]) -> Table:
    """A table whose cells are plain text (no markup), folded onto more lines rather than cut."""
    t = Table(title=title, title_justify="left", header_style="bold")
    for c in columns:
        whole = c.lower().split()[-1] in _WHOLE if c else False
        t.add_column(c, no_wrap=whole, overflow="fold")
    for r in rows:
        t.add_row(*(Text("" if v is None else str(v)) for v in r))
    return t


def output_options(*, csv_too: bool = True) -> Callable:
    """--json (and --csv) for a list or show command; the command receives `fmt` ('table', 'json', 'csv')."""

    def wrap(f: Callable) -> Callable:
        f = click.option("--table", "fmt", flag_value="table", default=True, hidden=True)(f)
        if csv_too:
            f = click.option("--csv", "fmt", flag_value="csv", help="Comma-separated values, for a spreadsheet.")(f)
        return click.option("--json", "fmt", flag_value="json", help="JSON, for scripts.")(f)

    return wrap


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def emit(fmt: str, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], records: list[dict[str, Any]] | None = None) -> None:
    """Print rows as a table, JSON (`records` when given, else rows keyed by column) or CSV."""
    if fmt == "json":
        data = records if records is not None else [dict(zip(columns, r, strict=True)) for r in rows]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=lambda o: str(_plain(o))))
    elif fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(columns)
        w.writerows([_plain(v) for v in r] for r in rows)
    else:
        console.print(table(title, columns, rows))


def progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def fail(message: str, code: int = 1) -> None:
    console.print(f"[bold red]error:[/] {esc(message)}", soft_wrap=True)
    raise SystemExit(code)


def open_case(path: str, read_only: bool = False):
    """The case at `path`, locked for this command (exclusive; shared when it only reads), after
    finishing or removing any intake an earlier command left half done."""
    import click

    from ..case import Case
    from ..ingest.evidence import recover_intakes

    ctx = click.get_current_context(silent=True)
    wait = ctx.find_root().params.get("wait") or 0 if ctx else 0
    command = "casegraph " + " ".join(ctx.command_path.split()[1:]) if ctx else "casegraph"
    c = Case(path, read_only=read_only)
    c.acquire(command, wait, on_wait=lambda s: console.print(f"[yellow]{s}[/]"))
    try:
        if not read_only:
            for line in recover_intakes(c):
                console.print(f"[yellow]note:[/] {esc(line)}", soft_wrap=True)
    except BaseException:
        c.close()
        raise
    return c
