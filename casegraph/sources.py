"""A record's source, shown: the exact bytes at its locator in the exhibit, in the form that suits them.

    text lines with a few lines of context   line:12-14, xml:line:40, zip:_chat.txt#line:3
    the JSON value pretty-printed            json:/chats/list/4/messages/17
    the SQLite row's columns                 sqlite:message/rowid=991 (also inside a zip)
    the statement row                        row:7
    the XML element                          xml:/report/transaction[3]
    the image with its OCR boxes             ocr:page1/block2
    the photo's GPS tags                     zip:IMG_1.jpg#exif:gps
    hex, for bytes that are not text, and for locator forms not cut out here (with a note)

The exact bytes come from `ingest.cut._cut` (the notebook API's `case.source`); this module adds the
context around them. Reads are bounded: a line cut streams the file, members come through SafeArchive."""

from __future__ import annotations

import io
import json
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CaseGraphError
from .ingest.cut import _cut

if TYPE_CHECKING:
    from .case import Case

CONTEXT = 3  # lines shown before and after a line cut
MAX_LINES = 400  # a cut longer than this is shown up to here, and says so
MAX_LINE_CHARS = 4000
HEX_BYTES = 1024
IMAGE_MAGIC = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF87a": "image/gif", b"GIF89a": "image/gif"}
MAX_IMAGE = 64 << 20


class SourceError(CaseGraphError, LookupError):
    """A record that is not in the case, or whose source cannot be shown."""


def origin(case: Case, record_id: str) -> dict[str, Any]:
    """Which exhibit, parser and locator a record was read from."""
    from .store import RECORD_TABLES

    table = record_id.split("/", 1)[0]
    if table not in RECORD_TABLES:
        raise SourceError(f"{record_id!r} is not a record read from evidence (findings and entities have no source bytes)")
    row = case.store.rows(
        f"""SELECT r.exhibit_sha256, r.locator, r.parser, r.parser_version, e.exhibit_id, e.original_name, e.format
            FROM {table} r LEFT JOIN exhibits e ON e.sha256 = r.exhibit_sha256 WHERE r.id = ?""",
        [record_id],
    )
    if not row:
        raise SourceError(f"no record {record_id!r} in this case")
    return {"record_id": record_id, "table": table, **row[0]}


def _member_bytes(path: Path, member: str) -> bytes | None:
    from .ingest.archive import SafeArchive

    with SafeArchive(path) as archive:  # the same bounds as parsing: no bomb, no traversal
        return archive.read(member) if member in archive.names() else None


def _lines(data_or_path: bytes | Path, first: int, last: int, context: int) -> list[dict[str, Any]]:
    """Lines first-context .. last+context (1-based), streamed from a file or cut from bytes."""
    lo, hi = max(1, first - context), min(last, first + MAX_LINES - 1) + context
    out = []
    with io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else open(data_or_path, "rb") as f:
        for n, raw in enumerate(f, 1):
            if n > hi:
                break
            if n >= lo:
                text = raw.rstrip(b"\r\n").decode("utf-8", "replace")
                out.append({"n": n, "text": text[:MAX_LINE_CHARS], "cut": len(text) > MAX_LINE_CHARS, "hit": first <= n <= last})
    return out


def hexdump(data: bytes, start: int = 0, limit: int = HEX_BYTES) -> list[dict[str, str]]:
    rows = []
    for off in range(0, min(len(data), limit), 16):
        chunk = data[off : off + 16]
        rows.append(
            {
                "offset": f"{start + off:08x}",
                "hex": " ".join(f"{b:02x}" for b in chunk),
                "ascii": "".join(chr(b) if 32 <= b < 127 else "." for b in chunk),
            }
        )
    return rows


def image_type(data: bytes) -> str | None:
    return next((mime for magic, mime in IMAGE_MAGIC.items() if data.startswith(magic)), None)


def show(case: Case, record_id: str, context: int = CONTEXT) -> dict[str, Any]:
    """What the Source view shows for a record (see the module docstring): origin + kind + content."""
    o = origin(case, record_id)
    path = case.evidence_path(o["exhibit_sha256"])
    locator = o["locator"]
    member, inner = None, locator
    if locator.startswith("zip:") and "#" in locator:
        member, inner = locator[4:].split("#", 1)
    out: dict[str, Any] = {**o, "member": member, "kind": "none", "note": ""}
    if not path.is_file():
        return {**out, "note": "the exhibit's bytes are not in this case's evidence store"}
    data: bytes | None = None
    if member is not None:
        data = _member_bytes(path, member)
        if data is None:
            return {**out, "note": f"member {member!r} not found in the archive"}
    kind, _, where = inner.partition(":")
    if kind == "xml" and where.startswith("line:"):
        kind, where = "line", where[5:]
    if kind == "line" and re.fullmatch(r"\d+(-\d+)?", where):
        first, _, last = where.partition("-")
        lines = _lines(data if data is not None else path, int(first), int(last or first), context)
        return {**out, "kind": "text", "lines": lines, "more": int(last or first) - int(first) + 1 > MAX_LINES}
    if kind == "ocr":
        return {**out, **_ocr(case, o, data if data is not None else path)}
    if kind == "exif":
        return {**out, **_exif(data if data is not None else path.read_bytes())}
    if kind == "xml" and where.startswith("/"):
        return {**out, **_xml(data if data is not None else path.read_bytes(), where)}
    if kind == "sqlite" and data is not None:
        with tempfile.TemporaryDirectory() as tmp:  # SQLite reads a file: the member, written out for the query
            db = Path(tmp) / "member.sqlite"
            db.write_bytes(data)
            cut = _cut(db, o["exhibit_sha256"], inner, o["parser"], member)
    else:
        cut = _cut(path, o["exhibit_sha256"], locator, o["parser"], o["original_name"])
    if cut.data is None:
        head = (data if data is not None else _head(path))[:HEX_BYTES]
        return {**out, "kind": "hex", "hex": hexdump(head), "note": cut.note + " (shown: the first bytes of the file, in hex)"}
    if kind == "sqlite":
        cols = json.loads(cut.data)
        return {**out, "kind": "columns", "columns": [{"name": k, "value": v} for k, v in cols.items()]}
    if kind == "json":
        return {**out, "kind": "json", "text": cut.data.decode("utf-8"), "note": cut.note}
    try:
        text = cut.data.decode("utf-8")
    except UnicodeDecodeError:
        return {**out, "kind": "hex", "hex": hexdump(cut.data), "note": "not UTF-8 text: shown in hex"}
    return {
        **out,
        "kind": "text",
        "lines": [{"n": None, "text": t, "hit": True, "cut": False} for t in text.splitlines()],
        "note": cut.note,
    }


def _head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(HEX_BYTES)


def _ocr(case: Case, o: dict[str, Any], src: bytes | Path) -> dict[str, Any]:
    """The image and every OCR block read from it, this record's block marked."""
    head = src[:16] if isinstance(src, bytes) else _head(src)[:16]
    if image_type(head) is None:
        return {"kind": "none", "note": "the OCR'd exhibit is not a PNG, JPEG or GIF image here"}
    from PIL import Image

    with Image.open(io.BytesIO(src) if isinstance(src, bytes) else src) as im:
        width, height = im.size
    blocks = case.store.rows(
        "SELECT id, text, CAST(bbox AS VARCHAR) AS bbox, confidence, locator FROM ocr_text WHERE exhibit_sha256 = ? ORDER BY locator",
        [o["exhibit_sha256"]],
    )
    boxes = []
    for b in blocks:
        box = json.loads(b["bbox"]) if b["bbox"] else None
        if box and len(box) == 4:
            boxes.append(
                {"record": b["id"], "text": b["text"], "box": box, "confidence": b["confidence"], "hit": b["id"] == o["record_id"]}
            )
    return {"kind": "image", "width": width, "height": height, "boxes": boxes}


def _exif(data: bytes) -> dict[str, Any]:
    from PIL import ExifTags, Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            gps = im.getexif().get_ifd(0x8825)
    except Exception as e:  # a damaged image: say so, show its bytes
        return {"kind": "hex", "hex": hexdump(data), "note": f"the image's EXIF could not be read ({type(e).__name__})"}
    cols = [{"name": ExifTags.GPSTAGS.get(k, str(k)), "value": str(v)} for k, v in sorted(gps.items())]
    return {"kind": "columns", "columns": cols, "note": "the image's EXIF GPS tags"}


def _xml(data: bytes, where: str) -> dict[str, Any]:
    """The element at a path such as /report/transaction[3] (1-based among same-named siblings)."""
    import defusedxml.ElementTree as ET

    root = ET.fromstring(data)
    steps = [s for s in where.split("/") if s]
    node = root
    if not steps or re.sub(r"\[\d+\]$", "", steps[0]) != root.tag:
        return {"kind": "none", "note": f"xml path {where!r} does not start at the root element <{root.tag}>"}
    for step in steps[1:]:
        m = re.fullmatch(r"([^\[\]]+)(?:\[(\d+)\])?", step)
        if not m:
            return {"kind": "none", "note": f"xml path step {step!r} is not understood here"}
        kids = [c for c in node if c.tag == m.group(1)]
        i = int(m.group(2) or 1) - 1
        if i >= len(kids):
            return {"kind": "none", "note": f"no element {step!r} under <{node.tag}>"}
        node = kids[i]
    import xml.etree.ElementTree as std

    std.indent(node)
    return {"kind": "json", "text": std.tostring(node, encoding="unicode"), "note": "the XML element at the path"}


def image(case: Case, record_id: str) -> tuple[bytes, str]:
    """An image to show for a record: the OCR'd exhibit, or a message's media file from its exhibit
    (served only when its bytes still hash to what the parser recorded)."""
    import hashlib

    o = origin(case, record_id)
    path = case.evidence_path(o["exhibit_sha256"])
    if o["table"] == "messages":
        from .browse import media_of

        m = media_of(case.store, record_id)
        loc = m["media_locator"] or ""
        if not loc.startswith("zip:") or not m["media_sha256"]:
            raise SourceError("this message's media file is not inside its exhibit")
        data = _member_bytes(path, loc[4:])
        if data is None or hashlib.sha256(data).hexdigest() != m["media_sha256"]:
            raise SourceError("the media file's bytes do not hash to the SHA-256 the parser recorded")
    else:
        locator = o["locator"]
        data = _member_bytes(path, locator[4:].split("#", 1)[0]) if locator.startswith("zip:") else None
        if data is None:
            if path.stat().st_size > MAX_IMAGE:
                raise SourceError("the image is too large to show here")
            data = path.read_bytes()
    mime = image_type(data[:16])
    if mime is None:
        raise SourceError("not a PNG, JPEG or GIF image")
    return data, mime
