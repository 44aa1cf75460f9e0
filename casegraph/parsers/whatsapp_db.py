"""What the WhatsApp databases of both platforms share: the kind of identifier a JID is, the
identifiers a record ties to, and the call record (Android's call_log and iOS's CallHistory
describe one call with the same facts)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from ..model import Call, Record
from .base import Source
from .sqlite import SqliteParser


def jid_kind(jid: str | None) -> str | None:
    """Identifier kind for a JID: phone accounts, LIDs (hidden numbers) and groups differ."""
    if not jid:
        return None
    server = jid.rpartition("@")[2]
    return {"s.whatsapp.net": "phone", "c.us": "phone", "lid": "whatsapp-lid", "g.us": "whatsapp-group"}.get(server)


class WhatsAppDb(SqliteParser):
    """Base of the WhatsApp database parsers (msgstore.db, wa.db, CallHistory, ContactsV2)."""

    def _ids(self, rec: Record, jid: str | None, role: str) -> Iterator[Record]:
        kind = jid_kind(jid)
        if kind:
            yield from self.party(rec, jid, role, "whatsapp", kind=kind)

    def _call(
        self,
        src: Source,
        locator: str,
        *,
        ts: datetime | None,
        number: str | None,
        direction: str,
        duration_s: int | None,
        extra: dict[str, Any],
        counterparts: Iterable[str | None],
    ) -> Iterator[Record]:
        """A call and the identifiers of the other side (each JID that is one)."""
        call = Call(
            prov=self.prov(src, locator),
            platform="whatsapp",
            ts=ts,
            number=number,
            direction=direction,
            duration_s=duration_s,
            extra=extra,
        )
        yield call
        for jid in counterparts:
            yield from self._ids(call, jid, "counterpart")
