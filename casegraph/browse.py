"""What an examiner browses, as plain rows: exhibits with their parse status, the custody log, chats and
a chat's messages page by page. The workspace (`casegraph serve`) shows these; the CLI and notebooks can
call them too, so every surface gives the same answer. Read-only: nothing here writes."""

from __future__ import annotations

import json
from typing import Any

from .store import CaseStore


def exhibits(store: CaseStore) -> list[dict[str, Any]]:
    """Every exhibit with its hashes, seizure details and each parse run's status, records and issues."""
    rows = store.rows("SELECT * FROM exhibits ORDER BY exhibit_id, original_name, sha256")
    runs: dict[str, list[dict[str, Any]]] = {}
    for r in store.rows(
        """SELECT exhibit_sha256, parser, parser_version, status, records, issues, finished_at FROM parse_runs
           ORDER BY exhibit_sha256, parser"""
    ):
        r["records"] = json.loads(r["records"] or "{}")
        runs.setdefault(r["exhibit_sha256"], []).append(r)
    issues = {
        (r["exhibit_sha256"], r["severity"]): r["n"]
        for r in store.rows("SELECT exhibit_sha256, severity, count(*) AS n FROM parse_issues GROUP BY ALL")
    }
    for e in rows:
        e["runs"] = runs.get(e["sha256"], [])
        e["issues"] = {sev: n for (sha, sev), n in issues.items() if sha == e["sha256"]}
        e["parsed"] = "not parsed" if not e["runs"] else ", ".join(sorted({r["status"] for r in e["runs"]}))
    return rows


def latest_findings(store: CaseStore, limit: int = 10) -> list[dict[str, Any]]:
    """The newest findings (id, kind, title, detector, how many records they cite)."""
    return store.rows(
        """SELECT id, kind, title, detector, created_at, json_array_length(evidence) AS records FROM findings
           ORDER BY created_at DESC, kind, title LIMIT ?""",
        [limit],
    )


def custody_page(events: list[dict[str, Any]], offset: int = 0, limit: int = 50) -> tuple[list[dict[str, Any]], int]:
    """A page of custody events, newest first, and how many there are in all."""
    newest = sorted(events, key=lambda e: e.get("seq", 0), reverse=True)
    return newest[offset : offset + limit], len(newest)


# -- conversations --------------------------------------------------------------------------------
# A chat's order as the phone showed it: time, then the place in the source (the number ending the
# locator: line, JSON index, SQLite rowid), so messages of one minute keep the export's order.
ORDER = (
    "coalesce(ts_utc, 'infinity'::TIMESTAMPTZ), exhibit_sha256, "
    "coalesce(TRY_CAST(regexp_extract(locator, '(\\d+)(?:-\\d+)?$', 1) AS BIGINT), 0), locator, id"
)
MESSAGE_COLUMNS = (
    "id, chat_id, chat_name, platform, source_id, ts_local, ts_utc, utc_offset, tz_basis, ts_precision, sender_id, sender_name, "
    "recipient_id, direction, kind, text, media, media_sha256, edited, reply_to, CAST(extra AS VARCHAR) AS extra, "
    "exhibit_sha256, parser, parser_version, locator"
)


def chats(store: CaseStore, limit: int = 500) -> list[dict[str, Any]]:
    """Every chat: its name, platform, exhibits, how many messages and senders, first and last time (UTC)."""
    return store.rows(
        """SELECT m.chat_id, any_value(m.chat_name) AS chat_name, any_value(m.platform) AS platform, count(*) AS messages,
                  count(DISTINCT m.sender_id) AS senders, min(m.ts_utc) AS first_utc, max(m.ts_utc) AS last_utc,
                  string_agg(DISTINCT e.exhibit_id, ', ' ORDER BY e.exhibit_id) AS exhibits
           FROM messages m LEFT JOIN exhibits e ON e.sha256 = m.exhibit_sha256
           WHERE m.chat_id IS NOT NULL GROUP BY m.chat_id ORDER BY min(m.ts_utc) NULLS LAST, m.chat_id LIMIT ?""",
        [limit],
    )


def chat(store: CaseStore, chat_id: str) -> dict[str, Any]:
    row = store.rows(
        """SELECT chat_id, any_value(chat_name) AS chat_name, any_value(platform) AS platform, count(*) AS messages,
                  min(ts_utc) AS first_utc, max(ts_utc) AS last_utc FROM messages WHERE chat_id = ? GROUP BY chat_id""",
        [chat_id],
    )
    if not row:
        raise KeyError(f"no chat {chat_id!r} in this case")
    return row[0]


def participants(store: CaseStore, chat_id: str) -> list[dict[str, Any]]:
    """The chat's senders as the source names them (id and name), with how many messages each sent."""
    return store.rows(
        """SELECT sender_id, any_value(sender_name) AS sender_name, count(*) AS messages FROM messages
           WHERE chat_id = ? AND kind <> 'system' AND (sender_id IS NOT NULL OR sender_name IS NOT NULL)
           GROUP BY sender_id, sender_name ORDER BY count(*) DESC, sender_name, sender_id""",
        [chat_id],
    )


def _messages(store: CaseStore, where: str, params: list, order: str, limit: int) -> list[dict[str, Any]]:
    rows = store.rows(
        f"""SELECT {MESSAGE_COLUMNS}, (SELECT exhibit_id FROM exhibits WHERE sha256 = exhibit_sha256) AS exhibit
            FROM messages WHERE {where} ORDER BY {order} LIMIT ?""",
        [*params, limit],
    )
    for r in rows:
        r["extra"] = json.loads(r["extra"] or "{}")
        r["lang"] = script_lang(r["text"])
    return rows


def script_lang(text: str | None) -> str | None:
    """'si' or 'ta' when the text is written in Sinhala or Tamil script (for the browser's fonts and
    line breaking); None for Latin script, which may be English or romanised Sinhala / Tamil alike."""
    for ch in text or "":
        if "\u0d80" <= ch <= "\u0dff":
            return "si"
        if "\u0b80" <= ch <= "\u0bff":
            return "ta"
    return None


def thread(
    store: CaseStore,
    chat_id: str,
    *,
    after: str | None = None,
    before: str | None = None,
    at: str | None = None,
    day: str | None = None,
    sender: str | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """One page of a chat in the phone's order: the first page, the page `after` or `before` a message
    (keyset paging: a page costs the same wherever it is), the page around message `at` (a few before
    it), or from the first message on a local `day` (YYYY-MM-DD as the phone showed it). `sender`:
    only that sender's messages (their id, or their name when the source gave no id)."""
    where, params = ["chat_id = ?"], [chat_id]
    if sender:
        where.append("(sender_id = ? OR (sender_id IS NULL AND sender_name = ?))")
        params += [sender, sender]
    base = " AND ".join(where)
    if not (at or after or before or day):
        rows = _messages(store, base, params, ORDER, limit + 1)
        return {"messages": rows[:limit], "more_before": False, "more_after": len(rows) > limit, "at": at, "day": day}  # the first page
    # the page's pivot (the message jumped to or paged from, or the day's first) is looked up once, in the chat; the
    # pages are then read against its key as constants, with its time as a plain bound on ts_utc besides (implied by the
    # key; DuckDB skips the row groups outside it by their min/max), and one row more than shown says whether there is more
    if day:
        pivot = _pivot(store, f"{base} AND ts_local >= CAST(? AS DATE)", [*params, day])
        if pivot is None:
            return {"messages": [], "more_before": _exists(store, base, params), "more_after": False, "at": None, "day": day}
        at = pivot[-1]
    else:
        ref = at or after or before
        pivot = _pivot(store, f"{base} AND id = ?", [*params, ref])
        if pivot is None and at:
            raise KeyError(f"message {at!r} is not in this chat (or not from this sender)")
        if pivot is None:  # paging from a message not in this chat (or not from this sender): nothing around it
            return {"messages": [], "more_before": False, "more_after": False, "at": at, "day": day}
    ts, key = pivot[0], pivot[1:]
    cmp = "row(coalesce(?::TIMESTAMPTZ, 'infinity'::TIMESTAMPTZ), ?, ?, ?, ?)"
    # every message before the pivot is no later than it; every one after is no earlier, or undated
    early = ("ts_utc <= ?", [ts]) if ts is not None else ("TRUE", [])
    late = ("(ts_utc >= ? OR ts_utc IS NULL)", [ts]) if ts is not None else ("ts_utc IS NULL", [])
    kp = [ts, *key]

    def older(n: int) -> list[dict[str, Any]]:
        rows = _messages(store, f"{base} AND {early[0]} AND row({ORDER}) < {cmp}", [*params, *early[1], *kp], _desc(), n)
        return list(reversed(rows))

    def newer(n: int, incl: bool) -> list[dict[str, Any]]:
        op = ">=" if incl else ">"
        return _messages(store, f"{base} AND {late[0]} AND row({ORDER}) {op} {cmp}", [*params, *late[1], *kp], ORDER, n)

    if before and not (at or after):
        rows = older(limit + 1)
        page = rows[-limit:] if len(rows) > limit else rows
        return {"messages": page, "more_before": len(rows) > limit, "more_after": bool(page), "at": at, "day": day}
    lead = 0 if (day or not at) else min(5, limit // 4)  # a message jumped to is shown with a few before it
    before_rows = older(lead + 1) if at else []  # paging on (`after`): the pivot itself is before the page
    first = before_rows[-lead:] if lead else []
    after_rows = newer(limit - len(first) + 1, incl=bool(at))
    page = first + after_rows[: limit - len(first)]
    more_before = len(before_rows) > lead if at else True
    return {
        "messages": page,
        "more_before": bool(page) and more_before,
        "more_after": len(after_rows) > limit - len(first),
        "at": at,
        "day": day,
    }


def _pivot(store: CaseStore, where: str, params: list) -> tuple | None:
    """The first message matching `where` in the chat's order: (ts_utc, the rest of its ORDER key...), its id last."""
    return store.one(f"SELECT ts_utc, {', '.join(_split_order()[1:])} FROM messages WHERE {where} ORDER BY {ORDER} LIMIT 1", params)


def _desc() -> str:
    return ", ".join(f"{part.strip()} DESC" for part in _split_order())


def _split_order() -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in ORDER:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return [*parts, cur]


def _exists(store: CaseStore, where: str, params: list) -> bool:
    return store.one(f"SELECT 1 FROM messages WHERE {where} LIMIT 1", params) is not None


def search_chat(store: CaseStore, chat_id: str, text: str, limit: int = 100) -> list[dict[str, Any]]:
    """Messages of one chat whose text holds `text` (any case; Sinhala and Tamil as written), in order."""
    needle = text.strip()
    if not needle:
        return []
    return _messages(store, "chat_id = ? AND strpos(lower(text), lower(?)) > 0", [chat_id, needle], ORDER, limit)


def media_of(store: CaseStore, record_id: str) -> dict[str, Any]:
    """Where a message's media file sits inside its exhibit (a zip member), with the hash the parser recorded."""
    row = store.rows("SELECT exhibit_sha256, media, media_sha256, CAST(extra AS VARCHAR) AS extra FROM messages WHERE id = ?", [record_id])
    if not row:
        raise KeyError(f"no message {record_id!r}")
    r = row[0]
    r["media_locator"] = json.loads(r.pop("extra") or "{}").get("media_locator")
    return r
