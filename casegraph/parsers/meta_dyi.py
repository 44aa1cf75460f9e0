"""Facebook Messenger and Instagram "Download your information" JSON.

`messages/inbox/<thread>/message_N.json` (alone, or inside the DYI zip): participants, title,
messages[{sender_name, timestamp_ms, content, photos, videos, audio_files, files, share,
reactions, call_duration, is_unsent}]. Meta writes UTF-8 bytes as if each were a latin-1 code
point; `repair` undoes that only where it applies, so correct text is never touched.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any, BinaryIO

from ..ingest.archive import SafeArchive, is_archive
from ..model import Call, Message, Record
from . import register
from .base import Parser, Probe, Source
from .jsonstream import walk

_THREAD_FILE = re.compile(r"(?:^|/)messages/(?:inbox|archived_threads|filtered_threads|message_requests|e2ee_cutover)/"
                          r"(?P<thread>[^/]+)/message_\d+\.json$")
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


def _platform(path: str) -> str:
    return "instagram" if "instagram" in path.lower() else "messenger"


@register
class MetaDYI(Parser):
    name = "meta-dyi"
    version = "1.0"
    reads = ('Facebook Messenger and Instagram "Download your information" (JSON file or zip), mojibake '
             'repaired')
    locators = '`zip:…/message_1.json#json:/messages/3`'
    fixtures = ('meta/message_1.json', 'meta/instagram-priya_s-2024-05-01.zip')
    description = "Facebook Messenger / Instagram 'Download your information' JSON (file or zip)"

    def sniff(self, probe: Probe) -> float:
        if probe.members:
            return 0.9 if any(_THREAD_FILE.search(m) for m in probe.members) else 0.0
        t = probe.text
        if probe.suffix == ".json" and '"participants"' in t and ('"sender_name"' in t or '"thread_path"' in t):
            return 0.9
        return 0.0

    def parse(self, src: Source) -> Iterator[Record]:
        with open(src.path, "rb") as f:
            zipped = is_archive(f.read(8))
        if not zipped:
            thread = src.name
            yield from self._thread(src, lambda: open(src.path, "rb"), "", thread, _platform(src.name))
            return
        with SafeArchive(src.path, src.name) as arc:
            threads = sorted(m for m in arc.names() if _THREAD_FILE.search(m))
            if not threads:
                yield self.issue(src, "zip:", "no messages/inbox/<thread>/message_N.json in the archive")
            for member in threads:
                thread = _THREAD_FILE.search(member).group("thread")
                yield from self._thread(src, lambda m=member: arc.open(m), f"zip:{member}#", thread,
                                        _platform(src.name + "/" + member))

    def _thread(self, src: Source, open_stream: Callable[[], BinaryIO], prefix: str, thread: str,
                platform: str) -> Iterator[Record]:
        meta: dict[str, Any] = {"participants": []}
        try:  # pass 1: title and participants (they may come after the messages)
            with open_stream() as f:
                for kind, _, value in walk(f, _META):
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
                for _, pointer, m in walk(f, _MESSAGES):
                    loc = f"{prefix}json:{pointer}"
                    yield from self.each(src, [m], lambda m, loc=loc: self._message(src, loc, repair(m), platform, chat_id,
                                                                                   chat_name, meta), lambda _, loc=loc: loc)
        except Exception as e:
            yield self.issue(src, f"{prefix}json:", f"{src.name} {prefix}: messages unreadable after the records above: "
                                                    f"{type(e).__name__}: {e}")

    def _message(self, src, loc, m: dict, platform, chat_id, chat_name, meta) -> Iterator[Record]:
        prov = self.prov(src, loc)
        ts = datetime.fromtimestamp(int(m["timestamp_ms"]) / 1000, timezone.utc) if m.get("timestamp_ms") else None
        media = [x.get("uri") for key in ("photos", "videos", "audio_files", "files", "gifs") for x in m.get(key) or []]
        sticker = (m.get("sticker") or {}).get("uri")
        extra: dict[str, Any] = {"participants": meta["participants"]} if loc.endswith("/messages/0") else {}
        for key in ("reactions", "share", "call_duration", "type", "is_unsent", "missed", "ip"):
            if m.get(key) not in (None, [], {}, False):
                extra[key] = m[key]
        if len(media) > 1:
            extra["media_all"] = media
        if m.get("call_duration") is not None or m.get("type") == "Call":
            yield Call(prov=prov, platform=platform, ts=ts, name=m.get("sender_name"),
                       direction="missed" if m.get("missed") else "unknown",
                       duration_s=int(m.get("call_duration") or 0), extra={"chat": chat_name})
        kind = "deleted" if m.get("is_unsent") else "media" if media or sticker else "text"
        msg = Message(prov=prov, platform=platform, chat_id=chat_id, chat_name=chat_name, ts=ts,
                      sender_name=m.get("sender_name"), kind=kind, text=m.get("content"),
                      media=(media[0] if media else sticker), extra=extra)
        yield msg
        yield from self.mentioned(msg, m.get("content"), platform)
        link = (m.get("share") or {}).get("link")
        if link:
            yield from self.mentioned(msg, link, platform)
