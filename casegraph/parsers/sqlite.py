"""Reading SQLite exhibits: immutable, read-only, schema-aware, and tolerant of damage.

Queries adapt to the tables and columns a database really has (schemas drift between app
versions), and a damaged page ends the read of that table with an issue, not the exhibit.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..model import Record
from .base import ParseError, Parser, Source, closing_sqlite

APPLE_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)


class ReplacedText(str):
    """Text from a column that was not valid UTF-8: undecodable bytes replaced with U+FFFD."""


def _text(raw: bytes) -> str:
    # sqlite3's default decoding raises on the first bad byte, which ends the read of the whole table
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return ReplacedText(raw.decode("utf-8", errors="replace"))


class Db:
    def __init__(self, path: Path, con=None):
        """`con`: an already opened DB-API connection (e.g. SQLCipher) instead of opening `path`."""
        try:
            self.con = con if con is not None else closing_sqlite(path)
            self.con.text_factory = _text
            self.tables = {r[0].lower() for r in self.con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as e:
            raise ParseError(f"{Path(path).name}: not a readable SQLite database ({e})") from e
        self._cols: dict[str, set[str]] = {}

    def __enter__(self) -> Db:
        return self

    def __exit__(self, *exc) -> None:
        self.con.close()

    def cols(self, table: str) -> set[str]:
        if table not in self._cols:
            self._cols[table] = (
                {r[1].lower() for r in self.con.execute(f'PRAGMA table_info("{table}")')} if table.lower() in self.tables else set()
            )
        return self._cols[table]

    def has(self, table: str, *cols: str) -> bool:
        return table.lower() in self.tables and all(c.lower() in self.cols(table) for c in cols)

    def col(self, table: str, col: str, alias: str | None = None, prefix: str | None = None) -> str:
        """`prefix.col AS alias` when the column exists, else `NULL AS alias` (schemas drift)."""
        ref = f"{prefix or table}.{col}"
        return f"{ref if self.has(table, col) else 'NULL'} AS {alias or col}"

    def rows(self, sql: str, params: tuple = ()) -> Iterator[sqlite3.Row]:
        yield from self.con.execute(sql, params)


def ms(v) -> datetime | None:
    """Unix milliseconds (Android) to UTC."""
    return datetime.fromtimestamp(int(v) / 1000, UTC) if v not in (None, 0, "") else None


def seconds(v) -> datetime | None:
    return datetime.fromtimestamp(int(v), UTC) if v not in (None, 0, "") else None


def apple(v) -> datetime | None:
    """Apple epoch (2001-01-01 UTC): seconds, or nanoseconds in newer iOS databases (values over 1e15)."""
    if v in (None, 0, ""):
        return None
    v = float(v)
    if abs(v) > 1e15:
        v /= 1e9
    return APPLE_EPOCH + timedelta(seconds=v)


class Aligned:
    """Rows of a child table ordered by a key column `k`, handed out per key in ascending order, so a
    parent cursor can be joined to it while both stream (rows whose parent never comes are skipped)."""

    def __init__(self, rows: Iterator[sqlite3.Row]):
        self.rows, self.head = rows, next(rows, None)

    def take(self, key) -> list[sqlite3.Row]:
        while self.head is not None and self.head["k"] < key:
            self.head = next(self.rows, None)
        out = []
        while self.head is not None and self.head["k"] == key:
            out.append(self.head)
            self.head = next(self.rows, None)
        return out


class SqliteParser(Parser):
    """Base of the SQLite parsers: damage inside a table ends that table with an issue; the rows read
    before it and the other tables are kept."""

    def each(self, src, items, read, where):
        """Parser.each, and a warning for each row whose text was not valid UTF-8 (the row is kept)."""
        for item in items:
            if isinstance(item, sqlite3.Row):
                bad = [k for k in item.keys() if type(item[k]) is ReplacedText]  # noqa: SIM118
                if bad:
                    yield self.issue(
                        src,
                        where(item),
                        f"column {', '.join(bad)} is not valid UTF-8; undecodable bytes replaced with U+FFFD",
                        severity="warning",
                    )
            yield from super().each(src, (item,), read, where)

    def table(self, src: Source, table: str, rows: Iterator[Record]) -> Iterator[Record]:
        try:
            yield from rows
        except sqlite3.DatabaseError as e:
            yield self.issue(src, f"sqlite:{table}", f"{src.name}: reading table {table} stopped: {e}")
