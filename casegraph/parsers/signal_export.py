"""What the common Signal export tools write: signal-export (sigexport) folders and sigtop text.

- signal-export (carderne/signal-export): one folder per conversation, named after it, holding
  `chat.md` (`[YYYY-MM-DD HH:MM:SS] Sender: body  `, a blank line after each message; "Me" for the
  owner, "No-Sender" when unknown; `> quote`, `(- Name: emoji -)` reactions, `[name](./media/…)`
  attachments, "(This message was deleted)"), and `data.json` (one JSON object a line: date, sender,
  body, quote, sticker, reactions, attachments, deleted, call, missed). Older versions wrote
  `index.md` and `[YYYY-MM-DD, HH:MM]` (sigexport/merge.py still reads both). Times are the exporting
  computer's wall clock, without a zone. When a folder has both, `data.json` is read.
- signalbackup-tools (bepaald/signalbackup-tools) `--exporttxt`: `[May 02, 2024 21:10:03] <Name> body`, `*** <Name>
  sent file "x.jpg"`, `*** status`; the owner is named like anyone else, so direction is not stated.
- sigtop (tbvdm/sigtop) `export-messages -f text`: a `Conversation:` line, then per message `From:`,
  `Type:`, `Sent:`/`Received:` (RFC 1123 with offset), `Attachment:`, `Reaction:` fields, a blank line
  and the body; `-f text-short`: `YYYY-MM-DD HH:MM Name: body` a line; `-f json`: an array of Signal
  Desktop message objects (no names: senders are numbers or service ids).

Detection: these look like WhatsApp iOS lines (`[date time] Name: text`), so the sniff looks for what
only these tools write (ISO dates in brackets with the two trailing spaces and blank separators of
chat.md, sigtop's field names) and scores above the WhatsApp parser.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import PurePosixPath

from ..archive import ArchiveError, SafeArchive, is_archive
from ..model import Message, ParseIssue, Record
from . import exif_gps, register
from .base import Parser, Probe, Source, text_lines
from .jsonstream import loads_bounded, walk
from .locations import in_text
from .sqlite import ms

MD_HEADER = re.compile(r"^\[(?P<date>\d{4}-\d{2}-\d{2},? \d{2}:\d{2}(?::\d{2})?)\] (?P<sender>[^:\n]*?): ?(?P<body>.*)$")
SHORT_HEADER = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2} \d{2}:\d{2}|unknown) (?![-–] )(?P<sender>[^:\n]+?):(?: \[(?P<note>[^\]]*)\])?(?: (?P<body>.*))?$"
)
ATTACHMENT = re.compile(r"!?\[(?P<name>[^\]]*)\]\((?P<path>\./media/[^)]*|\.\./exported_stickers/[^)]*)\)\s*")
REACTIONS = re.compile(r"\n?\(- (?P<list>.*) -\)\s*$")
STICKER = re.compile(r"\n\(\( (?P<emoji>.*) \)\)\s*$")
DELETED = "(This message was deleted)"
CALL = re.compile(r"^(?:Incoming|Outgoing|Missed) (?:voice |video )?call\b")
OWNER, NOBODY = "Me", "No-Sender"
# signalbackup-tools --exporttxt: IRC-like lines, "%b %d, %Y %H:%M:%S" (C locale), "***" for files and app events
IRC_HEADER = re.compile(
    r"^\[(?P<date>[A-Z][a-z]{2} \d{2}, \d{4} \d{2}:\d{2}:\d{2})\] (?:\*\*\* (?:<(?P<fuser>[^>\n]*)> sent file"
    r"(?: (?P<file>.*))?|(?P<status>.*))|<(?P<user>[^>\n]*)> (?P<body>.*))$"
)


def _md_like(text: str) -> bool:
    """chat.md: bracketed ISO headers whose messages end in two spaces or are followed by a blank line."""
    lines = text.splitlines()[:60]
    heads = [i for i, ln in enumerate(lines) if MD_HEADER.match(ln)]
    if len(heads) < 1:
        return False
    marked = sum(1 for i in heads if lines[i].endswith("  ") or (i + 1 < len(lines) and lines[i + 1] == ""))
    return marked * 2 >= len(heads) and len(heads) * 3 >= len([ln for ln in lines if ln.strip()])


def _sigtop_like(text: str) -> bool:
    return text.lstrip("\ufeff").startswith("Conversation: ") and "\nType: " in text and ("\nFrom: " in text or "\nSent: " in text)


def _irc_like(text: str) -> bool:
    lines = [ln for ln in text.splitlines()[:40] if ln.strip()]
    return bool(lines) and sum(1 for ln in lines if IRC_HEADER.match(ln)) * 2 >= len(lines)


def _short_like(text: str) -> bool:
    lines = [ln for ln in text.splitlines()[:40] if ln.strip()]
    return bool(lines) and sum(1 for ln in lines if SHORT_HEADER.match(ln)) * 2 >= len(lines)


@register
class SignalExport(Parser):
    name = "signal-export"
    version = "1.0"
    reads = "Signal export tools: signal-export (sigexport) folders (`chat.md`, `data.json`; a zip of them), sigtop `text`, `text-short` and `json`, signalbackup-tools `--exporttxt`; never taken for WhatsApp"  # noqa: E501
    locators = "`line:5-9`, `zip:export/Name/data.json#line:3`"
    description = "Signal export tools: signal-export (sigexport) chat.md / data.json folders, sigtop text / text-short / json, signalbackup-tools text"  # noqa: E501

    def sniff(self, probe: Probe) -> float:
        if probe.members:
            return 0.96 if _chats(probe.members) else 0.0
        t = probe.text
        if probe.name.lower() == "data.json" and t.lstrip().startswith('{"date"'):
            return 0.96
        if probe.suffix == ".json" and t.lstrip().startswith("[") and '"conversationId"' in t and '"sent_at"' in t:
            return 0.93  # sigtop -f json: Signal Desktop's own message objects
        if probe.suffix in (".md", ".txt", "") and (_md_like(t) or _sigtop_like(t)):
            return 0.98  # above the WhatsApp parser, whose iOS header these lines also match
        if probe.suffix in (".txt", "") and _irc_like(t):
            return 0.95
        if probe.suffix in (".txt", "") and _short_like(t):
            return 0.92
        return 0.0

    @exif_gps.in_archive_media  # photos in an export's media/ folders keep their GPS tags
    @in_text  # Signal shares a location as a maps link
    def parse(self, src: Source) -> Iterator[Record]:
        with open(src.path, "rb") as f:
            head = f.read(262)
        if not is_archive(head):
            chat = PurePosixPath(src.name).stem if src.name.lower() not in ("chat.md", "index.md", "data.json") else None
            with open(src.path, "rb") as f:
                if re.match(rb"\s*\[\s*[{\]]", head):  # a JSON array (sigtop -f json), not a "[date]" line
                    yield from self._sigtop_json(src, f, chat)
                else:
                    yield from self._one(src, f, src.name, "", chat)
            return
        try:
            with SafeArchive(src.path, src.name) as arc:
                chats = _chats(arc.names())
                if not chats:
                    yield self.issue(src, "zip:", f"{src.name}: no signal-export chat.md or data.json in the archive")
                for member in chats:
                    folder = PurePosixPath(member).parent.name or None
                    with arc.open(member) as f:
                        yield from self._one(src, io.BufferedReader(f) if not hasattr(f, "peek") else f, member, f"zip:{member}#", folder)
        except ArchiveError as e:
            yield self.issue(src, "zip:", str(e))

    def _one(self, src: Source, f, name: str, prefix: str, chat: str | None) -> Iterator[Record]:
        notes: list[Record] = []  # decoding problems, reported after the file's messages

        def lines():
            for n, text, note in text_lines(f):
                if note:
                    notes.append(self.issue(src, f"{prefix}line:{n}", note, severity="warning"))
                yield n, text.lstrip("\ufeff") if n == 1 else text

        it = lines()
        first = next(it, None)
        if first is not None:
            rest = _prepend(first, it)
            if name.lower().endswith(".json"):
                yield from self._json(src, rest, prefix, chat)
            elif first[1].startswith("Conversation: "):
                yield from self._sigtop(src, rest, prefix)
            elif MD_HEADER.match(first[1]):
                yield from self._md(src, rest, prefix, chat)
            elif IRC_HEADER.match(first[1]):
                yield from self._irc(src, rest, prefix, re.sub(r" \(_id\d+\)$", "", chat) if chat else None)
            else:
                yield from self._short(src, rest, prefix, chat)
        yield from notes

    def _messages(
        self, src: Source, lines: Iterable[tuple[int, str]], header, prefix: str
    ) -> Iterator[ParseIssue | tuple[int, int, re.Match, list[str]]]:
        """The text readers' common start: (first line, last line, header, continuation lines) per
        message, with a message cut at MAX_BODY and text before the first header as issues."""
        for start, end, head, body, cut in _runs(lines, header):
            if cut:
                yield self.issue(
                    src,
                    f"{prefix}line:{start}",
                    f"message longer than {MAX_BODY} characters; kept the first {MAX_BODY}",
                    severity="warning",
                )
            if head is None:
                where = f"{prefix}line:{start}" + (f"-{end}" if end > start else "")
                yield self.issue(src, where, "text before the first message header", "\n".join(body)[:500])
                continue
            yield start, end, head, body

    # -- signal-export ---------------------------------------------------------------------------
    def _md(self, src: Source, lines: Iterable[tuple[int, str]], prefix: str, chat: str | None) -> Iterator[Record]:
        for item in self._messages(src, lines, lambda t: MD_HEADER.match(t.lstrip("\ufeff")), prefix):
            if isinstance(item, ParseIssue):
                yield item
                continue
            start, end, head, body = item
            text = "\n".join([head["body"], *body]).rstrip()
            quote = None
            m = re.match(r"^\s*\n> (?P<q>.*?)\n\n", "\n" + text + "\n", re.S) if text.startswith("\n") or not head["body"] else None
            if m:
                quote = m["q"].replace("\n> ", "\n")
                text = text[m.end() - 1 :].strip("\n")
            media = [a["path"] for a in ATTACHMENT.finditer(text)]  # written after the body, reactions and sticker
            text = ATTACHMENT.sub("", text).rstrip()
            sticker = STICKER.search(text)
            if sticker:
                text = text[: sticker.start()].rstrip()
            reactions = None
            r = REACTIONS.search(text)
            if r:
                reactions = r["list"]
                text = text[: r.start()].rstrip()
            text = text.strip()
            yield from self._message(
                src,
                f"{prefix}line:{start}" + (f"-{end}" if end > start else ""),
                chat,
                _naive(head["date"]),
                head["sender"],
                text,
                media,
                quote,
                reactions,
                deleted=text == DELETED,
                call=bool(CALL.match(text)),
            )

    def _json(self, src: Source, lines: Iterable[tuple[int, str]], prefix: str, chat: str | None) -> Iterator[Record]:
        for n, line in lines:
            if not line.strip():
                continue
            loc = f"{prefix}line:{n}"
            try:
                d = loads_bounded(line)
                if not isinstance(d, dict):
                    raise ValueError("not a JSON object")
                ts = datetime.fromisoformat(d["date"]) if d.get("date") else None
            except (ValueError, TypeError, KeyError, RecursionError) as e:
                yield self.issue(src, loc, f"line unreadable: {type(e).__name__}: {e}", line[:500])
                continue
            media = [a.get("path") or a.get("name") for a in d.get("attachments") or [] if isinstance(a, dict)]
            reactions = ", ".join(f"{r[0]}: {r[1]}" for r in d.get("reactions") or [] if isinstance(r, (list, tuple)) and len(r) == 2)
            body = str(d.get("body") or "").rstrip()
            yield from self._message(
                src,
                loc,
                chat,
                ts,
                str(d.get("sender") or NOBODY),
                body,
                [m for m in media if m],
                (str(d["quote"]).strip().removeprefix("> ") or None) if d.get("quote") else None,
                reactions or None,
                deleted=bool(d.get("deleted")) or body == DELETED,
                call=bool(d.get("call")) or bool(CALL.match(body)),
                missed=bool(d.get("missed")),
            )

    def _message(
        self,
        src: Source,
        loc: str,
        chat: str | None,
        ts,
        sender: str,
        text: str,
        media: list[str],
        quote: str | None,
        reactions: str | None,
        *,
        deleted: bool,
        call: bool,
        missed: bool = False,
    ) -> Iterator[Record]:
        outgoing = sender == OWNER
        who = None if outgoing or sender == NOBODY else sender
        kind = "deleted" if deleted else "call" if call else "media" if media else "text"
        extra = {
            k: v
            for k, v in (
                ("quote", quote),
                ("reactions", reactions),
                ("attachments", media if len(media) > 1 else None),
                ("missed", missed or None),
                ("sender_unknown", sender == NOBODY or None),
            )
            if v
        }
        msg = Message(
            prov=self.prov(src, loc),
            platform="signal",
            chat_id=f"signal:{chat}" if chat else None,
            chat_name=chat,
            ts=ts,
            sender_name=who,
            direction="outgoing" if outgoing else "incoming" if who else "unknown",
            kind=kind,
            text=None if deleted or not text else text,
            media=media[0] if media else None,
            extra=extra,
        )
        yield msg
        yield from self.mentioned(msg, msg.text, "signal")

    # -- sigtop ----------------------------------------------------------------------------------
    def _sigtop_json(self, src: Source, f, chat: str | None) -> Iterator[Record]:
        """sigtop -f json: an array of Signal Desktop message objects (the database's json column). The
        file holds no names, so senders are their number or service id."""
        try:
            for _, pointer, m in walk(f, {"item": "message"}):
                yield from self.each(
                    src, [m], lambda m, p=pointer: self._desktop_json(src, f"json:{p}", m, chat), lambda _, p=pointer: f"json:{p}"
                )
        except Exception as e:  # ijson errors, truncation: keep what was read
            yield self.issue(src, "json:", f"{src.name}: JSON unreadable after the records above: {type(e).__name__}: {e}")

    def _desktop_json(self, src: Source, loc: str, m, chat: str | None) -> Iterator[Record]:
        if not isinstance(m, dict):
            raise ValueError("not a message object")
        mtype = m.get("type")
        outgoing, incoming = mtype == "outgoing", mtype == "incoming"
        attachments = [a for a in m.get("attachments") or [] if isinstance(a, dict)]
        media = next((a.get("fileName") or a.get("path") for a in attachments if a.get("fileName") or a.get("path")), None)
        kind = (
            "deleted"
            if m.get("deletedForEveryone")
            else ("media" if media or attachments else "text")
            if outgoing or incoming
            else "call"
            if mtype == "call-history"
            else "system"
        )
        sender = (m.get("source") or m.get("sourceServiceId") or m.get("sourceUuid")) if incoming else None
        quote = m.get("quote") if isinstance(m.get("quote"), dict) else None
        msg = Message(
            prov=self.prov(src, loc),
            platform="signal",
            chat_id=f"signal:{m.get('conversationId') or chat}",
            chat_name=chat,
            source_id=str(m["id"]) if m.get("id") else None,
            ts=ms(m.get("sent_at") or m.get("timestamp")),
            sender_id=str(sender) if sender else None,
            direction="outgoing" if outgoing else "incoming" if incoming else "unknown",
            kind=kind,
            text=str(m.get("body")) if m.get("body") else None,
            media=media,
            reply_to=str(quote["id"]) if quote and quote.get("id") else None,
            extra={
                k: v
                for k, v in (
                    ("type", mtype if kind == "system" else None),
                    ("attachments", len(attachments) if len(attachments) > 1 else None),
                )
                if v
            },
        )
        yield msg
        if msg.sender_id:
            yield from self.party(msg, msg.sender_id, "sender", "signal", kind="phone" if msg.sender_id.startswith("+") else "signal-id")
        yield from self.mentioned(msg, msg.text, "signal")

    def _sigtop(self, src: Source, lines: Iterable[tuple[int, str]], prefix: str) -> Iterator[Record]:
        """Blocks start after a blank line with `From: …` followed by `Type: …`, or with `Type: …` alone
        (a message without a known source). A body line of that shape after a blank line would split a
        message: sigtop writes bodies unescaped."""
        chat = None
        block: list[tuple[int, str]] = []
        it = iter(lines)
        cur = next(it, None)
        while cur is not None:
            nxt = next(it, None)
            n, line = cur  # noqa: RUF059
            after_blank = not block or block[-1][1] == ""
            starts = after_blank and (
                (line.startswith("From: ") and nxt is not None and nxt[1].startswith("Type: "))
                or (line.startswith("Type: ") and not (block and block[-1][1].startswith("From: ")))
            )
            if starts and block:
                rec = self._sigtop_message(src, prefix, chat, block)
                chat, block = (rec, []) if isinstance(rec, str) else (chat, [])
                if not isinstance(rec, str):
                    yield from rec
            block.append(cur)
            cur = nxt
        if block:
            rec = self._sigtop_message(src, prefix, chat, block)
            if not isinstance(rec, str):
                yield from rec

    def _sigtop_message(self, src: Source, prefix: str, chat: str | None, block: list[tuple[int, str]]):
        if block[0][1].startswith("Conversation: "):
            return block[0][1][len("Conversation: ") :].strip()
        while block and not block[-1][1]:
            block = block[:-1]
        fields: dict[str, list[str]] = {}
        i = 0
        while i < len(block) and block[i][1] and ": " in block[i][1]:
            k, _, v = block[i][1].partition(": ")
            fields.setdefault(k, []).append(v)
            i += 1
        body = "\n".join(t for _, t in block[i + 1 :]).rstrip("\n")
        start, end = block[0][0], block[-1][0]
        sender = (fields.get("From") or [None])[0]
        mtype = (fields.get("Type") or ["unknown"])[0]
        ts = _rfc(fields.get("Sent", [None])[0])
        media = [a.rsplit(" (", 1)[0] for a in fields.get("Attachment", [])]
        outgoing = sender == "You" or mtype == "outgoing"
        name, number = _person(sender) if sender and not outgoing else (None, None)
        chat_name, chat_number = _person(chat) if chat else (None, None)
        kind = "text" if mtype in ("incoming", "outgoing") else "system"
        if kind == "text" and media:
            kind = "media"
        msg = Message(
            prov=self.prov(src, f"{prefix}line:{start}" + (f"-{end}" if end > start else "")),
            platform="signal",
            chat_id=f"signal:{chat_number or chat_name}" if chat else None,
            chat_name=chat_name,
            ts=ts,
            sender_id=number if kind != "system" else None,
            sender_name=name if kind != "system" else None,
            recipient_id=chat_number if outgoing else None,
            direction="outgoing" if outgoing else "incoming" if mtype == "incoming" else "unknown",
            kind=kind,
            text=body or None,
            media=media[0] if media else None,
            extra={
                k: v
                for k, v in (
                    ("type", mtype if kind == "system" else None),
                    ("received", fields.get("Received", [None])[0]),
                    ("reactions", "; ".join(fields["Reaction"]) if fields.get("Reaction") else None),
                    ("attachments", fields["Attachment"] if len(media) > 1 else None),
                    ("edited_versions", fields.get("Edited", [None])[0]),
                )
                if v
            },
        )
        out = [msg]
        if number and kind != "system":
            out += list(self.party(msg, number, "sender", "signal"))
        out += list(self.mentioned(msg, msg.text, "signal"))
        return out

    def _irc(self, src: Source, lines: Iterable[tuple[int, str]], prefix: str, chat: str | None) -> Iterator[Record]:
        """signalbackup-tools text: the owner's messages carry the owner's name like anyone else's, so the
        direction is not stated; deleted and view-once messages are left out by the tool itself."""
        for item in self._messages(src, lines, IRC_HEADER.match, prefix):
            if isinstance(item, ParseIssue):
                yield item
                continue
            start, end, head, body = item
            loc = f"{prefix}line:{start}" + (f"-{end}" if end > start else "")
            try:
                ts = datetime.strptime(head["date"], "%b %d, %Y %H:%M:%S")
            except ValueError:
                ts = None
                yield self.issue(src, loc, f"date {head['date']!r} unreadable", severity="warning")
            status = head["status"] is not None
            user = head["user"] if head["user"] is not None else head["fuser"]
            text = "\n".join([head["body"] or head["status"] or "", *body]).strip() or None
            media = head["file"].strip('"') if head["file"] and head["file"].startswith('"') else None
            msg = Message(
                prov=self.prov(src, loc),
                platform="signal",
                chat_id=f"signal:{chat}" if chat else None,
                chat_name=chat,
                ts=ts,
                sender_name=None if status else user,
                kind="system" if status else "media" if head["fuser"] is not None else "text",
                text=text,
                media=media,
                extra={"file": head["file"]} if head["fuser"] is not None and head["file"] and not media else {},
            )
            yield msg
            yield from self.mentioned(msg, msg.text, "signal")

    def _short(self, src: Source, lines: Iterable[tuple[int, str]], prefix: str, chat: str | None) -> Iterator[Record]:
        for item in self._messages(src, lines, SHORT_HEADER.match, prefix):
            if isinstance(item, ParseIssue):
                yield item
                continue
            start, end, head, body = item
            note = head["note"] or ""
            text = "\n".join([head["body"] or "", *body]).strip() or None
            special = note.endswith(" message") and " " not in note[:-8]  # "[keychange message]": an app event
            outgoing = head["sender"] == "You"
            msg = Message(
                prov=self.prov(src, f"{prefix}line:{start}" + (f"-{end}" if end > start else "")),
                platform="signal",
                chat_id=f"signal:{chat}" if chat else None,
                chat_name=chat,
                ts=None if head["date"] == "unknown" else _naive(head["date"]),
                sender_name=None if outgoing or special else head["sender"],
                direction="outgoing" if outgoing else "incoming" if not special else "unknown",
                kind="system" if special else "media" if "attachment" in note else "text",
                text=text,
                extra={"note": note} if note else {},
            )
            yield msg
            yield from self.mentioned(msg, msg.text, "signal")


def _chats(names: list[str]) -> list[str]:
    """The conversations of a signal-export folder tree: data.json where present, else chat.md."""
    by_folder: dict[str, dict[str, str]] = {}
    for n in names:
        p = PurePosixPath(n)
        if p.name in ("chat.md", "index.md", "data.json"):  # index.md: the Markdown's name in older versions
            by_folder.setdefault(str(p.parent), {})[p.name] = n
    return sorted(f.get("data.json") or f.get("chat.md") or f["index.md"] for f in by_folder.values())


MAX_BODY = 1 << 20  # characters kept of one message; the rest is reported, not stored


def _runs(lines: Iterable[tuple[int, str]], header) -> Iterator[tuple[int, int, re.Match | None, list[str], bool]]:
    """(first line, last line, header match, continuation lines, cut) per message; trailing blank lines
    dropped; a message longer than MAX_BODY keeps its first MAX_BODY characters (cut=True)."""
    start = end = size = 0
    head = None
    body: list[str] = []
    cut = False
    for n, line in lines:
        m = header(line)
        if m:
            if head is not None or body:
                yield start, end, head, _trim(body), cut
            start = end = n
            head, body, size, cut = m, [], 0, False
        else:
            if not start:
                start = n
            size += len(line) + 1
            if size <= MAX_BODY:
                body.append(line)
            else:
                cut = True
            if line.strip():
                end = n
    if head is not None or any(b.strip() for b in body):
        yield start, end, head, _trim(body), cut


def _trim(body: list[str]) -> list[str]:
    while body and not body[-1].strip():
        body.pop()
    return body


def _prepend(first, rest):
    yield first
    yield from rest


def _naive(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace(", ", " "))
    except ValueError:
        return None


def _rfc(text: str | None) -> datetime | None:
    if not text or text == "unknown":
        return None
    try:
        return datetime.strptime(text, "%a, %d %b %Y %H:%M:%S %z")
    except ValueError:
        return None


def _person(text: str | None) -> tuple[str | None, str | None]:
    """sigtop's "Name (+94771234567)" → (name, number); a bare number or name stays as it is."""
    if not text:
        return None, None
    m = re.match(r"^(?P<name>.*?) \((?P<num>\+?\d[\d ]{5,})\)$", text)
    if m:
        return m["name"] or None, m["num"]
    return (None, text) if re.fullmatch(r"\+?\d{6,}", text) else (text, None)
