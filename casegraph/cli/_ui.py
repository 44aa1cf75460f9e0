"""Shared terminal output: one console, tables, --json/--csv output, progress bars, error exit."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from ..wording import plural as plural  # re-exported: the commands count with it

# Piped output follows COLUMNS like a terminal does (rich reads it; 80 when unset), never a forced width.
# emoji=False: ":Phone:" inside a node id must stay text, not become an emoji
console = Console(highlight=False, emoji=False)
notices = Console(highlight=False, emoji=False, stderr=True)  # side notes (the custody head): stdout stays data for --json

# columns whose values must never be cut or wrapped mid-value: times, ids and hashes stay whole
_WHOLE = ("time", "at", "when", "date", "seq", "id", "entity", "finding", "exhibit", "sha256", "md5", "hash", "severity")


def esc(value: Any) -> str:
    """A value to put inside console markup: `[mmddyy]` in a file name stays text, not a style."""
    return escape(str(value))


class When(click.ParamType):
    """A date or date-time option (--since, --until): ISO 8601, UTC unless a zone is given. A bad value
    is a usage error naming the option and the form it takes. `end_of_day`: a bare date means the
    end of that day (for --until), so the day itself is included."""

    name = "DATE"

    def __init__(self, end_of_day: bool = False) -> None:
        self.end_of_day = end_of_day

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        try:
            if len(text) == 10:  # a date alone
                d = date.fromisoformat(text)
                parsed = datetime.combine(d, time.max if self.end_of_day else time.min)
            else:
                parsed = datetime.fromisoformat(text)
        except ValueError:
            self.fail(
                f"{text!r} is not a date: expected an ISO date such as 2024-04-01 or a date-time such as "
                "2024-04-01T09:00 or 2024-04-01T09:00+05:30 (UTC unless a zone is given)",
                param,
                ctx,
            )
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Amount(click.ParamType):
    """An exact amount option (--min-amount, --threshold): a decimal number, never a float."""

    name = "AMOUNT"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Decimal:
        if isinstance(value, Decimal):
            return value
        try:
            d = Decimal(str(value).strip())
        except ArithmeticError:
            d = Decimal("NaN")
        if not d.is_finite():
            self.fail(f"{value!r} is not a number: expected digits such as 50000 or 0.10 (no thousands separators)", param, ctx)
        return d


def whole_short_help(group: click.Group) -> None:
    """Command listings show each command's first sentence whole (wrapped), never cut with '...'."""
    for command in group.commands.values():
        if not command.short_help:
            command.short_help = command.get_short_help_str(limit=10_000)
        if isinstance(command, click.Group):
            whole_short_help(command)


def table(title: str, columns: Iterable[str], rows: Iterable[Iterable]) -> Table:
    """A table whose cells are plain text (no markup), folded onto more lines rather than cut."""
    t = Table(title=title, title_justify="left", header_style="bold")
    for c in columns:
        words = c.lower().split(" (")[0].split() if c else []  # "time (UTC)" is a time; "path: amounts, when" is text
        whole = 0 < len(words) <= 2 and words[-1] in _WHOLE
        t.add_column(c, no_wrap=whole, overflow="fold")
    for r in rows:
        t.add_row(*(Text("" if v is None else str(v)) for v in r))
    return t


def output_options(*, csv_too: bool = True) -> Callable:
    """--json (and --csv) for a list or show command; the command receives `fmt` ('table', 'json', 'csv')."""

    def machine(ctx: click.Context, param: click.Parameter, value: str) -> str:
        # JSON and CSV own stdout: notes, progress and the custody head go to stderr (reset per command)
        if value in ("json", "csv"):
            console.stderr = True
        return value

    def wrap(f: Callable) -> Callable:
        f = click.option("--table", "fmt", flag_value="table", default=True, hidden=True, callback=machine)(f)
        if csv_too:
            f = click.option("--csv", "fmt", flag_value="csv", callback=machine, help="Comma-separated values, for a spreadsheet.")(f)
        return click.option("--json", "fmt", flag_value="json", callback=machine, help="JSON, for scripts.")(f)

    return wrap


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=lambda o: str(_plain(o)))


def _cell(value: Any) -> Any:
    """A CSV cell: scalars as they are, lists and objects as JSON (a spreadsheet keeps them whole)."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=lambda o: str(_plain(o)))
    return _plain(value)


def emit(fmt: str, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], records: list[dict[str, Any]] | None = None) -> None:
    """Print a list as a table (`rows` under `columns`, shortened for the terminal where the command
    chose to), as JSON or as CSV. JSON and CSV carry `records` whole when given, else `rows`."""
    if fmt == "json":
        click.echo(_json(records if records is not None else [dict(zip(columns, r, strict=True)) for r in rows]))
    elif fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        if records is None:
            w.writerow(columns)
            w.writerows([_plain(v) for v in r] for r in rows)
        else:
            header = list(dict.fromkeys(k for r in records for k in r)) or list(columns)
            w.writerow(header)
            w.writerows([_cell(r.get(k)) for k in header] for r in records)
    else:
        console.print(table(title, columns, rows))


def emit_one(fmt: str, record: dict[str, Any], show: Callable[[], None]) -> None:
    """A show command's output: `record` as one JSON object, or `show()` prints it for the terminal."""
    if fmt == "json":
        click.echo(_json(record))
    else:
        show()


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
