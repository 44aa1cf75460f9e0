"""Facebook Messenger and Instagram "Download your information" JSON.

Which of the two an export is comes from names, paths and links (see `platform_of`), never from a
default; when nothing says, the platform is 'meta' with a warning, or the examiner's option.

`messages/inbox/<thread>/message_N.json` (alone, or inside the DYI zip): participants, title,
messages[{sender_name, timestamp_ms, content, photos, videos, audio_files, files, share,
reactions, call_duration, is_unsent}]. Meta writes UTF-8 bytes as if each were a latin-1 code
point; `repair` undoes that only where it applies, so correct text is never touched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO

from ..archive import SafeArchive, is_archive_file
from ..model import Call, Message, Record
from . import register
from .base import Parser, Probe, Source
from .jsonstream import PROBLEM, walk

_THREAD_FILE = re.compile(
    r"(?:^|/)messages/(?:inbox|archived_threads|filtered_threads|message_requests|e2ee_cutover)/"
    r"(?P<thread>[^/]+)/message_\d+\.json$"
)
_META = {"title": "title", "thread_path": "thread_path", "participants.item": "participant"}
_MESSAGES = {"messages.item": "message"}


def repair(s: Any) -> Any:
    """Undo Meta's latin-1 escaping of UTF-8 ('Ã\\xa0Â·' → 'à·'), only when the result is valid UTF-8."""
    if isinstance(s, str):
        try:
            return s.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return s
    if isinstance(s, list):
        return [repair(x) for x in s]
    if isinstance(s, dict):
        return {k: repair(v) for k, v in s.items()}
    return s


# What tells Instagram from Messenger: the two exports share one message shape (sender_name, timestamp_ms,
# content, is_geoblocked_for_viewer, ...), so only paths and links can. Instagram's DYI since 2023 puts DMs
# under your_instagram_activity/messages/inbox/ and media URIs under the same path; Facebook's under
# your_facebook_activity/ (2024) or your_activity_across_facebook/; the zips are named instagram-<user>-<date>
# and facebook-<user>-<date>. Older exports of both use messages/inbox/: nothing decides those.
_CLUES = {
    "instagram": re.compile(r"your_instagram_activity/|instagram\.com/|\"profile_share_username\"", re.I),
    "messenger": re.compile(
        r"your_facebook_activity/|your_activity_across_facebook/|(?:facebook|messenger)\.com/"
        r"|\"thread_type\"",
        re.I,
    ),
}
_NAMED = {"instagram": re.compile(r"instagram", re.I), "messenger": re.compile(r"facebook|messenger", re.I)}
UNDECIDED = "meta"  # Messenger or Instagram: the export does not say which


def platform_of(names: list[str], text: str) -> tuple[str, str]:
    """(platform, basis): from the exhibit's and member's names, else from the thread file's paths and links."""
    for where, found in (
        ("name", {p for p, rx in _NAMED.items() for n in names if rx.search(n)}),
        ("content", {p for p, rx in _CLUES.items() if rx.search(text)}),
    ):
        if len(found) == 1:
            platform = found.pop()
            return (
                platform,
                f"{platform} decided from the {'file and member names' if where == 'name' else 'paths and links in the thread file'}",
            )
        if found:
            return UNDECIDED, f"both Instagram and Messenger are named in the {where}"
    return UNDECIDED, "no name, path or link in the export says Instagram or Messenger"


@register
class MetaDYI(Parser):
    name = "meta-dyi"
    version = "1.0"
    reads = 'Facebook Messenger and Instagram "Download your information" (JSON file or zip), mojibake repaired; Instagram or Messenger decided from paths and links (`your_instagram_activity/`, `instagram.com`, ...), else `meta` with a warning or `--option platform=instagram`'  # noqa: E501
    locators = "`zip:…/message_1.json#json:/messages/3`"
    fixtures = ("meta/message_1.json", "meta/instagram-priya_s-2024-05-01.zip")
    description = "Facebook Messenger / Instagram 'Download your information' JSON (file or zip)"

    def __init__(self, platform: str | None = None):
        self.platform = platform.lower() if platform else None
        if self.platform not in (None, "instagram", "messenger"):
            raise ValueError(f"platform must be instagram or messenger, not {platform!r}")

    def sniff(self, probe: Probe) -> float:
        if probe.members:
            return 0.9 if any(_THREAD_FILE.search(m) for m in probe.members) else 0.0
        t = probe.text
        if probe.suffix != ".json" or not t.lstrip().startswith("{"):
            return 0.0
        if '"participants"' in t and ('"sender_name"' in t or '"thread_path"' in t):
            return 0.9
        # a thread file without participants (they are optional): its messages still have Meta's shape
        if '"messages"' in t and '"sender_name"' in t and '"timestamp_ms"' in t:
            return 0.85
        return 0.0

    def parse(self, src: Source) -> Iterator[Record]:
        if not is_archive_file(src.path):
            thread = src.name
            yield from self._thread(src, lambda: open(src.path, "rb"), "", thread, [src.name])  # noqa: SIM115
            return
        with SafeArchive(src.path, src.name) as arc:
            threads, issues = self.read_members(
                src, arc, lambda m: bool(_THREAD_FILE.search(m)), "no messages/inbox/<thread>/message_N.json in the archive"
            )
            yield from issues
            for member in sorted(threads):
                thread = _THREAD_FILE.search(member).group("thread")
                yield from self._thread(src, lambda m=member: arc.open(m), f"zip:{member}#", thread, [src.name, member])

    def _thread(self, src: Source, open_stream: Callable[[], BinaryIO], prefix: str, thread: str, names: list[str]) -> Iterator[Record]:
        meta: dict[str, Any] = {"participants": []}
        if self.platform:
            platform, basis = self.platform, f"{self.platform} given by the examiner (platform option)"
        else:
            with open_stream() as f:
                head = f.read(64 * 1024).decode("utf-8", errors="replace")
            platform, basis = platform_of(names, head)
        if platform == UNDECIDED:
            yield self.issue(
                src,
                f"{prefix}json:",
                f"{src.name} {prefix}: Messenger or Instagram not decided: {basis}; "
                f"recorded as platform '{UNDECIDED}'. Re-ingest with platform=instagram or platform=messenger.",
                severity="warning",
            )
        else:
            yield self.issue(src, f"{prefix}json:", f"platform {basis}", severity="info")
        try:  # pass 1: title and participants (they may come after the messages)
            with open_stream() as f:
                for kind, _, value in walk(f, _META):  # problems are reported by pass 2, which sees the whole file too
                    if kind == PROBLEM:
                        continue
                    if kind == "participant":
                        meta["participants"].append(repair(value.get("name")))
                    else:
                        meta[kind] = repair(value)
        except Exception as e:
            yield self.issue(src, f"{prefix}json:", f"{src.name} {prefix}: JSON unreadable: {type(e).__name__}: {e}")
        chat_id = f"{platform}:{meta.get('thread_path') or thread}"
        chat_name = meta.get("title") or thread
        try:
            with open_stream() as f:
                for kind, pointer, m in walk(f, _MESSAGES):
                    loc = f"{prefix}json:{pointer}"
                    if kind == PROBLEM:
                        yield self.issue(src, loc, f"{src.name} {prefix}: {m}")
                        continue
                    yield from self.each(
                        src,
                        [m],
                        lambda m, loc=loc: self._message(src, loc, repair(m), platform, chat_id, chat_name, meta),
                        lambda _, loc=loc: loc,
                    )
        except Exception as e:
            yield self.issue(
                src, f"{prefix}json:", f"{src.name} {prefix}: messages unreadable after the records above: {type(e).__name__}: {e}"
            )

    def _message(self, src, loc, m: dict, platform, chat_id, chat_name, meta) -> Iterator[Record]:
        prov = self.prov(src, loc)
        ts = datetime.fromtimestamp(int(m["timestamp_ms"]) / 1000, UTC) if m.get("timestamp_ms") else None
        media = [x.get("uri") for key in ("photos", "videos", "audio_files", "files", "gifs") for x in m.get(key) or []]
        sticker = (m.get("sticker") or {}).get("uri")
        extra: dict[str, Any] = {"participants": meta["participants"]} if loc.endswith("/messages/0") else {}
        for key in ("reactions", "share", "call_duration", "type", "is_unsent", "missed", "ip"):
            if m.get(key) not in (None, [], {}, False):
                extra[key] = m[key]
        if len(media) > 1:
            extra["media_all"] = media
        if m.get("call_duration") is not None or m.get("type") == "Call":
            yield Call(
                prov=prov,
                platform=platform,
                ts=ts,
                name=m.get("sender_name"),
                direction="missed" if m.get("missed") else "unknown",
                duration_s=int(m.get("call_duration") or 0),
                extra={"chat": chat_name},
            )
        kind = "deleted" if m.get("is_unsent") else "media" if media or sticker else "text"
        msg = Message(
            prov=prov,
            platform=platform,
            chat_id=chat_id,
            chat_name=chat_name,
            ts=ts,
            sender_name=m.get("sender_name"),
            kind=kind,
            text=m.get("content"),
            media=(media[0] if media else sticker),
            extra=extra,
        )
        yield msg
        yield from self.mentioned(msg, m.get("content"), platform)
        link = (m.get("share") or {}).get("link")
        if link:
            yield from self.mentioned(msg, link, platform)
