"""Shared terminal output: one console, tables, progress bars, error exit."""
from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

import sys

# Piped output (logs, CI, tests) gets a wide fixed width rather than rich's 80-column default.
# emoji=False: ":Phone:" inside a node id must stay text, not become an emoji
console = Console(highlight=False, emoji=False, width=None if sys.stdout.isatty() else 160)


def table(title: str, columns: Iterable[str], rows: Iterable[Iterable]) -> Table:
    t = Table(title=title, title_justify="left", header_style="bold")
    for c in columns:
        t.add_column(c)
    for r in rows:
        t.add_row(*("" if v is None else str(v) for v in r))
    return t


def progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=False)


def fail(message: str, code: int = 1) -> None:
    console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)  # a message's [case] is text, not markup
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
                console.print(f"[yellow]note:[/] {line}")
    except BaseException:
        c.close()
        raise
    return c
