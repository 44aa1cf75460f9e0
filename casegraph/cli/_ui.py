"""Shared terminal output: one console, tables, progress bars, error exit."""
from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

import sys

# Piped output (logs, CI, tests) gets a wide fixed width rather than rich's 80-column default.
# emoji=False: ":Phone:" inside a node id must stay text, not become an emoji
console = Console(highlight=False, emoji=False, width=None if sys.stdout.isatty() else 160)


def table(title: str, columns: Iterable[str], rows: Iterable[Iterable]) -> Table:
    t = Table(title=title, title_justify="left", header_style="bold")
    for c in columns:
        t.add_column(c, overflow="fold")  # an account or wallet is wrapped, never cut short with an ellipsis
    for r in rows:
        t.add_row(*("" if v is None else str(v) for v in r))
    return t


def progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=False)


def fail(message: str, code: int = 1) -> None:
    console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    raise SystemExit(code)


def open_case(path: str):
    from ..case import Case, CaseError

    try:
        return Case(path)
    except CaseError as e:
        fail(str(e), 2)
