"""The WhatsApp "Export chat" parser: Android .txt, iOS _chat.txt, and the .zip with media.

The file is read in blocks of a few MB and parsed column-wise with Arrow's RE2 kernels, so memory
stays flat and Python only touches the rare rows (media, system lines, problems, identifiers).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath

from ...archive import SafeArchive, is_archive_file
from ...model import Batch, Record
from .. import exif_gps, locations, register
from ..base import HEAD_BYTES, Parser, Probe, Source, TextEncoding, decide_encoding
from ..prefetch import prefetch
from .dates import ORDERS, DateOrder, OrderEvidence
from .grammar import is_header
from .records import Context, finish, prepare
from .runs import chars, units
from .text import blocks

LOOKAHEAD = 64 << 20  # bytes read ahead while the dates have not decided the field order
# Signal exports that share WhatsApp's "[date time] Name: text" shape (signal-export / sigexport's
# Markdown, chat-miner's Signal text): ISO dates, and Markdown links to the export's media folder or
# "(- Name: emoji -)" reaction lines, and none of WhatsApp's U+200E-marked lines.
_ISO_BRACKET = re.compile(r"^\[\d{4}-\d{2}-\d{2},? \d{2}:\d{2}(?::\d{2})?\] ")
_SIGNAL_TRACES = re.compile(r"\]\(\./?(?:media|attachments)/|^\(- .+: .+ -\)$|^> |\(This message was deleted\)$", re.M)
_SECONDS = re.compile(r"^\[[^\]]*\d[:.]\d{2}[:.]\d{2}")


@register
class WhatsAppExport(Parser):
    name = "whatsapp-export"
    version = "3.0"
    reads = 'WhatsApp "Export chat" `.txt` and `.zip` (Android and iOS; UTF-8/UTF-16, any line end; 12/24 h; day-, month- and year-first dates, two-digit years first or last, the year in the middle, with `/` `.` `-`; `[..]` iOS form; U+200E/U+202F/no-break-space marks; "a. m./p. m.", "à", "klo", Sinhala and Tamil day-half markers; multi-line, system, media, edited and deleted lines, their markers in the phone\'s language from `parsers/data/whatsapp_markers.toml`; media linked by SHA-256 inside the zip; shared locations (`location: https://maps.google.com/?q=…` in any language) and the GPS tags of the zip\'s photos become locations)'  # noqa: E501
    locators = "`line:12`, `line:12-14`, `zip:_chat.txt#line:3`, `line:4#chars:10-55`, `zip:IMG.jpg#exif:gps`"
    fixtures = ("whatsapp/android_dmy_24h.txt", "whatsapp/ios_chat.txt")
    description = 'WhatsApp "Export chat" .txt (Android, iOS) and .zip with media'

    def __init__(self, date_order: str | None = None):
        self.date_order = date_order.upper() if date_order else None
        if self.date_order not in (None, *ORDERS):
            raise ValueError(f"date_order must be one of {', '.join(ORDERS)}, not {date_order!r}")

    def sniff(self, probe: Probe) -> float:
        if probe.members:
            chats = [m for m in probe.members if _is_chat_member(m)]
            return 0.95 if chats and self._looks_like_chat(_member_head(probe, chats[0])) else 0.0
        if probe.suffix not in (".txt", ""):
            return 0.0
        return 0.9 if self._looks_like_chat(probe.text) else 0.0

    @staticmethod
    def _looks_like_chat(text: str) -> bool:
        lines = [ln for ln in text.lstrip("\ufeff").splitlines()[:20] if ln.strip()]
        heads = [ln for ln in lines if is_header(ln)]
        if len(heads) < max(1, len(lines) // 3):
            return False
        return not _looks_like_signal(text, heads)

    @exif_gps.in_archive_media  # GPS tags of the photos in an export zip become Location records
    @locations.in_text  # shared locations (map links) in the messages' text become Location records
    def parse(self, src: Source) -> Iterator[Record | Batch]:
        with open(src.path, "rb") as f:
            head = f.read(HEAD_BYTES)
        if not is_archive_file(src.path):  # by the real signature (tar's ustar at 257, not the first 8 bytes)
            encoding = decide_encoding(head, complete=len(head) < HEAD_BYTES)
            yield from self._parse_text(src, lambda: open(src.path, "rb"), "", _chat_name(src.name), {}, None, encoding)  # noqa: SIM115
            return
        with SafeArchive(src.path, src.name) as arc:
            chats, issues = self.read_members(
                src, arc, _is_chat_member, "no chat text file (_chat.txt or 'WhatsApp Chat*.txt') in the archive"
            )
            yield from issues
            media = {PurePosixPath(m).name: m for m in arc.names() if m not in chats}
            for member in chats:
                with arc.open(member) as f:
                    head = f.read(HEAD_BYTES)
                encoding = decide_encoding(head, complete=len(head) < HEAD_BYTES)
                name = _chat_name(src.name if PurePosixPath(member).name == "_chat.txt" else member)
                yield from self._parse_text(src, lambda m=member: arc.open(m), f"zip:{member}#", name, media, arc, encoding)

    # -- one chat text --------------------------------------------------------------------------
    def _parse_text(
        self,
        src: Source,
        open_stream: Callable,
        prefix: str,
        chat: str,
        media: dict[str, str],
        arc: SafeArchive | None,
        encoding: TextEncoding,
    ) -> Iterator[Record | Batch]:
        """One pass in the usual case: the order is decided as soon as the dates settle it, reading
        ahead (up to LOOKAHEAD bytes) while they do not; past that, the whole file is scanned first."""
        with open_stream() as f:
            stream = units(blocks(f, encoding))
            ahead: list = []
            rescan = False  # the dates did not settle the order early: read the file a second time
            if self.date_order:
                order = DateOrder(self.date_order, "given by the examiner (date_order option)")
            else:
                evidence, size = OrderEvidence(), 0
                for item in stream:
                    ahead.append(item)
                    first, run, _ = item
                    evidence.add(run.idx + first, run.h["date"])
                    size += chars(run.arr)
                    if evidence.decisive or size > LOOKAHEAD:
                        break
                if not evidence.decisive and size > LOOKAHEAD:  # scan the rest for evidence, then start again
                    for first, run, _ in stream:
                        evidence.add(run.idx + first, run.h["date"])
                    ahead, rescan = [], True
                order = evidence.decide()
            if order.order is None:
                what = "date field" if order.inconsistent else "day/month"
                yield self.issue(
                    src,
                    f"{prefix}file",
                    f"{what} order undecided: {order.reason}; dates that read "
                    "differently either way have no timestamp. Re-ingest with date_order=DMY or MDY "
                    "(or YMD, YDM, DYM, MYD).",
                    severity="error",
                )
            elif not order.inconsistent:
                yield self.issue(src, f"{prefix}file", f"dates read as {order.order}: {order.reason}", severity=order.severity)
            yield self.issue(
                src,
                f"{prefix}file",
                f"text decoded as {encoding.reason}",
                severity="warning" if encoding.lossy or (encoding.skip == 2 and encoding.codec == "utf-8") else "info",
            )
            ctx = Context(src, prefix, chat, media, arc, order.order)
            if not rescan:
                yield from self._messages(ctx, _chain(ahead, stream))
        if rescan:
            with open_stream() as f:
                yield from self._messages(ctx, units(blocks(f, encoding)))
        if order.inconsistent and order.order and ctx.swapped_at is None:
            yield self.issue(src, f"{prefix}file", f"the file mixes date orders ({order.reason}); read as {order.order}", severity="error")
        if ctx.moved_at is not None:
            yield self.issue(
                src,
                f"{prefix}file",
                f"the file mixes date layouts: it reads as {order.order}, but line "
                f"{ctx.moved_at[0]} has {ctx.moved_at[1]}, its four-digit year elsewhere; such dates were "
                "read by their own layout and flagged.",
            )
        if ctx.swapped_at is not None:
            yield self.issue(
                src,
                f"{prefix}file",
                f"the file mixes day/month orders: it reads as {order.order}, but line "
                f"{ctx.swapped_at[0]} has {ctx.swapped_at[1]}, valid only the other way round; such dates were "
                "read that way and flagged. Dates valid both ways follow the file's order: check them.",
            )

    def _messages(self, ctx: Context, stream) -> Iterator[Record | Batch]:
        for (_, _, notes), prepared in _ahead(stream, lambda item: (item, prepare(ctx, item[1]))):
            for n, note in notes:
                yield self.issue(ctx.src, f"{ctx.prefix}line:{n}", note, severity="warning")
            yield from finish(self, ctx, prepared)


def _ahead(runs: Iterator, prepare_run: Callable) -> Iterator:
    """The runs, each with its prepared columns (records.prepare). When the cores are free, runs
    are read and scanned in a thread and prepared two at a time in two more (Arrow's kernels
    release the GIL), while this thread finishes them in file order; same records either way.
    On a machine whose cores are all busy, threads only add GIL hand-offs (measured 35% more CPU
    and 30-45% more wall time at a load of 11 on 2 cores), so then runs are made in line."""
    cores = os.cpu_count() or 1
    if cores > 1 and os.getloadavg()[0] < cores - 0.5:
        return prefetch(runs, prepare_run, workers=2)
    return map(prepare_run, runs)


def _looks_like_signal(text: str, heads: list[str]) -> bool:
    """A Signal export in WhatsApp's clothes. WhatsApp iOS brackets always carry seconds and Android
    never brackets, so bracketed ISO dates without seconds are Signal (chat-miner's shape); with
    seconds (signal-export's Markdown) the Signal traces decide, unless WhatsApp's U+200E lines show."""
    iso = [h for h in heads if _ISO_BRACKET.match(h)]
    if not iso or len(iso) < len(heads) / 2:
        return False
    if not any(_SECONDS.match(h) for h in iso):
        return True
    return "\u200e" not in text and bool(_SIGNAL_TRACES.search(text))


def _chain(first: list, rest) -> Iterator:
    yield from first
    yield from rest


def _is_chat_member(name: str) -> bool:
    base = PurePosixPath(name).name
    return base == "_chat.txt" or (base.startswith("WhatsApp Chat") and base.endswith(".txt"))


def _chat_name(file_name: str) -> str:
    stem = PurePosixPath(file_name).stem
    for pre in ("WhatsApp Chat with ", "WhatsApp Chat - ", "WhatsApp Chat with", "WhatsApp Chat -"):
        if stem.startswith(pre):
            return stem[len(pre) :].strip()
    return stem


def _member_head(probe: Probe, member: str) -> str:
    with SafeArchive(probe.path, probe.name) as arc, arc.open(member) as f:
        head = f.read(8192)
    return decide_encoding(head).decode_head(head)
