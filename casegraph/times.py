"""How a stored time is shown: one place, so the CLI, reports, exports and findings say the same.

The store keeps every time as TIME_COLUMNS (see store.TimeNormaliser): ts_local (the wall clock or date
the source wrote), ts_utc, utc_offset, tz_basis (source | case-timezone:ZONE | unknown | none, with a
DST marker when the zone has that wall time twice or not at all) and ts_precision ('day': a date with
no time). A date is shown as a date, never as an invented midnight; a time is shown as the source's
local time with its offset, beside UTC:

    2024-03-03 (date only)
    2024-04-15 09:14 +05:30 (03:44 UTC)
    2024-04-15 23:30 +05:30 (2024-04-15 18:00 UTC)  -- the UTC date is written when it differs
    2024-04-15 03:44 UTC                             -- the source's own zone is UTC
    2024-04-15 09:14 (local; zone unknown)
    2024-10-27 01:30 +01:00 (00:30 UTC; or +00:00: DST fold)

`show_time` formats values in Python; `time_sql` is the same text as a DuckDB expression.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime

DAY = "day"  # ts_precision of a date without a time (the same value as store.DAY)
COLUMNS = ("ts_local", "ts_utc", "utc_offset", "tz_basis", "ts_precision")


def is_date_only(ts_precision: str | None) -> bool:
    return ts_precision == DAY


def show_time(
    ts_local: datetime | date | None,
    ts_utc: datetime | None = None,
    utc_offset: str | None = None,
    tz_basis: str | None = None,
    ts_precision: str | None = None,
) -> str:
    """One stored time as text (see the module docstring)."""
    if ts_local is None and ts_utc is None:
        return "no time"
    if ts_precision == DAY or (isinstance(ts_local, date) and not isinstance(ts_local, datetime)):
        return f"{(ts_local or ts_utc):%Y-%m-%d} (date only)"
    if ts_local is None:  # only UTC known (should not happen: the store keeps both)
        return f"{_utc(ts_utc):%Y-%m-%d %H:%M} UTC"
    local = f"{ts_local:%Y-%m-%d %H:%M}"
    if ts_utc is None or utc_offset is None:
        return f"{local} (local; zone unknown)"
    u = _utc(ts_utc)
    if utc_offset in ("+00:00", "-00:00") and not _dst(tz_basis):
        return f"{u:%Y-%m-%d %H:%M} UTC"
    beside = f"{u:%H:%M} UTC" if u.date() == ts_local.date() else f"{u:%Y-%m-%d %H:%M} UTC"
    return f"{local} {utc_offset} ({beside}{_dst_note(tz_basis)})"


def show_row(row: Mapping, prefix: str = "") -> str:
    """show_time on a row holding the time columns (named `prefix + column`)."""
    return show_time(*(row.get(prefix + c) for c in COLUMNS))


def show_date(ts_local: datetime | date | None, ts_utc: datetime | None = None, ts_precision: str | None = None) -> str | None:
    """The calendar date as the source wrote it (a date-only value's date; otherwise the local date), ISO."""
    if ts_local is not None:
        return f"{ts_local:%Y-%m-%d}"
    return f"{_utc(ts_utc):%Y-%m-%d}" if ts_utc is not None else None


def time_sql(alias: str = "") -> str:
    """A DuckDB expression giving show_time's text for the time columns of `alias` (a table alias or '')."""
    a = f"{alias}." if alias else ""
    utc = f"({a}ts_utc AT TIME ZONE 'UTC')"
    dst = (
        f"CASE WHEN {a}tz_basis LIKE '%;ambiguous:%' THEN '; or ' || split_part({a}tz_basis, '|', 2) || ': DST fold' "
        f"WHEN {a}tz_basis LIKE '%;nonexistent:%' THEN '; or ' || split_part({a}tz_basis, '|', 2) || ': DST gap' ELSE '' END"
    )
    return (
        f"CASE WHEN {a}ts_local IS NULL AND {a}ts_utc IS NULL THEN 'no time' "
        f"WHEN {a}ts_precision = '{DAY}' THEN strftime(coalesce({a}ts_local, {utc}), '%Y-%m-%d') || ' (date only)' "
        f"WHEN {a}ts_local IS NULL THEN strftime({utc}, '%Y-%m-%d %H:%M') || ' UTC' "
        f"WHEN {a}ts_utc IS NULL OR {a}utc_offset IS NULL THEN strftime({a}ts_local, '%Y-%m-%d %H:%M') || ' (local; zone unknown)' "
        f"WHEN {a}utc_offset IN ('+00:00', '-00:00') AND {a}tz_basis NOT LIKE '%;%' THEN strftime({utc}, '%Y-%m-%d %H:%M') || ' UTC' "
        f"ELSE strftime({a}ts_local, '%Y-%m-%d %H:%M') || ' ' || {a}utc_offset || ' (' "
        f"|| CASE WHEN CAST({utc} AS DATE) = CAST({a}ts_local AS DATE) THEN strftime({utc}, '%H:%M') "
        f"ELSE strftime({utc}, '%Y-%m-%d %H:%M') END || ' UTC' || {dst} || ')' END"
    )


def date_sql(alias: str = "") -> str:
    """A DuckDB expression for show_date: the source's calendar date as ISO text."""
    a = f"{alias}." if alias else ""
    return f"strftime(coalesce({a}ts_local, {a}ts_utc AT TIME ZONE 'UTC'), '%Y-%m-%d')"


def _utc(ts: datetime) -> datetime:
    return ts.astimezone(UTC) if ts.tzinfo else ts.replace(tzinfo=UTC)


def _dst(tz_basis: str | None) -> bool:
    return bool(tz_basis) and (";ambiguous:" in tz_basis or ";nonexistent:" in tz_basis)


def _dst_note(tz_basis: str | None) -> str:
    if not _dst(tz_basis):
        return ""
    kind = "DST fold" if ";ambiguous:" in tz_basis else "DST gap"
    return f"; or {tz_basis.rsplit('|', 1)[1]}: {kind}"
