"""The records a finding cites, quoted as the report shows them: time as recorded, its zone in words, and text.

Findings level, so review (the examiner's summaries) and reports (the PDF, the viewer) quote a record
the same way without review reaching up into reports."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC

from .amounts import format_amount
from .times import time_sql


def _records(store, evidence: list[dict]) -> dict[str, dict]:
    """Time and text of the records findings cite, for showing them beside the finding."""
    by_table: dict[str, set[str]] = defaultdict(set)
    for e in evidence:
        if e.get("table") in ("messages", "ocr_text", "transactions", "calls", "contacts") and e.get("record"):
            by_table[e["table"]].add(e["record"])
    # every time as the case store holds it (a date stays a date); a date-only record sits at noon UTC of its
    # own date on the (UTC) timeline, not at the start of its local day, which is the day before in UTC
    times = (
        f"CASE WHEN ts_precision = 'day' THEN CAST(CAST(ts_local AS DATE) AS TIMESTAMP) + INTERVAL 12 HOUR END AS day_at, "
        f"ts_utc, {time_sql()} AS shown, CASE WHEN ts_precision = 'day' THEN NULL ELSE tz_basis END AS tz_basis"
    )
    sql = {
        "messages": f"SELECT id, {times}, coalesce(coalesce(sender_name, sender_id) || ': ', '') || coalesce(text, '[' || kind || ']') AS text FROM messages",  # noqa: E501  (a system line has no sender)
        "ocr_text": "SELECT id, NULL AS day_at, NULL AS ts_utc, NULL AS shown, NULL AS tz_basis, text FROM ocr_text",
        "transactions": f"""SELECT id, {times}, coalesce(from_account || coalesce(' (' || from_name || ')', ''), from_name, '(not named)') || ' → '
                           || coalesce(to_account || coalesce(' (' || to_name || ')', ''), to_name, '(not named)') AS text,
                           amount, currency, description, status FROM transactions""",  # noqa: E501
        "calls": f"SELECT id, {times}, direction || ' call ' || coalesce(number, '') || ', ' || coalesce(CAST(duration_s AS VARCHAR), '?') || ' s' AS text FROM calls",  # noqa: E501
        "contacts": "SELECT id, NULL AS day_at, NULL AS ts_utc, NULL AS shown, NULL AS tz_basis, 'contact card: ' || coalesce(name, '') AS text FROM contacts",  # noqa: E501
    }
    out = {}
    for table, ids in by_table.items():
        want = store.id_table("_want", ids)
        for r in store.rows(f"SELECT r.* FROM ({sql[table]}) r SEMI JOIN {want} w ON w.id = r.id"):
            ts = r["day_at"].replace(tzinfo=UTC) if r["day_at"] else r["ts_utc"].astimezone(UTC) if r["ts_utc"] else None
            text = r["text"] or ""
            if table == "transactions":  # the amount with its currency, as every amount is shown
                text += (
                    f": {format_amount(r['amount'], r['currency'])}"
                    + (f" ({r['description']})" if r["description"] else "")
                    + (" [recorded as failed]" if r["status"] == "failed" else "")
                )
            out[r["id"]] = {
                "table": table,
                "ts": ts.isoformat() if ts else None,  # ts: the timeline's position only
                "time": r["shown"] if ts or r["shown"] != "no time" else None,
                "zone": zone_basis(r["tz_basis"]) if ts else None,
                "text": text[:400],
            }
    return out


def zone_basis(tz_basis: str | None) -> str | None:
    """Where a time's zone came from, in words (store.TimeNormaliser's tz_basis)."""
    if not tz_basis or tz_basis == "none":
        return None
    basis, _, dst = tz_basis.partition(";")
    if basis == "source":
        words = "zone as recorded by the source"
    elif basis.startswith("case-timezone:"):
        words = f"no zone in the source; case time zone {basis.split(':', 1)[1]} assumed"
    elif basis == "unknown":
        words = "zone unknown"
    else:
        words = basis
    if dst.startswith("ambiguous:"):
        words += "; the wall time occurs twice (DST fold)"
    elif dst.startswith("nonexistent:"):
        words += "; the wall time does not exist (DST gap)"
    return words
