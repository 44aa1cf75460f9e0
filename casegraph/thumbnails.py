"""Media thumbnails: a small picture of an image a message carried, made from the evidence store's bytes,
named by the SHA-256 of the original file (the hash the parser recorded), and a typed label for media that
is not a picture (audio, video, document, ...) so the thread shows what it is and its hash.

A thumbnail is derived for display only: it is never evidence and never written into the case. It is made
from the media file inside its exhibit (a chat export's zip member) only when those bytes still hash to the
recorded SHA-256, re-encoded as PNG (so no EXIF, GPS or other metadata of the original travels with it),
bounded in size, and kept in a small in-memory cache by hash. The workspace serves it by hash; the portable
viewer embeds the same bytes in its data file.
"""

from __future__ import annotations

import io
import mimetypes
import threading
from collections import OrderedDict
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from .errors import CaseGraphError

if TYPE_CHECKING:
    from .case import Case
    from .store import CaseStore

SIZE = 160  # the longest side of a thumbnail, in pixels
MAX_SOURCE = 32 << 20  # an image file larger than this is not decoded for a thumbnail
MAX_PIXELS = 40_000_000  # nor one that claims more pixels than this (a decompression bomb)
CACHE_BYTES = 16 << 20  # thumbnails kept in memory, by hash
# what a media file is, from its name (or MIME type): the thread shows this word and an icon for it
KINDS = ("image", "audio", "video", "document", "archive", "contact", "other")
_DOCUMENT = {".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".txt", ".odt", ".rtf", ".csv"}
_ARCHIVE = {".zip", ".rar", ".7z", ".gz", ".tar"}
_CONTACT = {".vcf"}
_EXTRA = {".opus": "audio", ".webp": "image", ".heic": "image", ".3gp": "video", ".m4a": "audio", ".aac": "audio"}


class ThumbnailError(CaseGraphError, LookupError):
    """No thumbnail can be made for this hash (not in the case, not a picture, altered, too large)."""

    code = 1


def kind_of(name: str | None, mime: str | None = None) -> str:
    """'image', 'audio', 'video', 'document', 'archive', 'contact' or 'other', from a MIME type or file name."""
    suffix = PurePosixPath(name or "").suffix.lower()
    if suffix in _EXTRA:
        return _EXTRA[suffix]
    if suffix in _DOCUMENT:
        return "document"
    if suffix in _ARCHIVE:
        return "archive"
    if suffix in _CONTACT:
        return "contact"
    guessed = mime or mimetypes.guess_type(name or "")[0] or ""
    top = guessed.split("/", 1)[0]
    if top in ("image", "audio", "video"):
        return top
    if guessed in ("application/pdf", "text/plain"):
        return "document"
    return "other"


def media_file(store: CaseStore, sha256: str) -> dict[str, Any] | None:
    """One message that carried the media file with this SHA-256 inside its exhibit (a zip member), or None."""
    rows = store.rows(
        """SELECT id, media, exhibit_sha256, json_extract_string(extra, '$.media_locator') AS media_locator FROM messages
           WHERE media_sha256 = ? AND starts_with(json_extract_string(extra, '$.media_locator'), 'zip:') ORDER BY id LIMIT 1""",
        [sha256.lower()],
    )
    return rows[0] if rows else None


def make(data: bytes, size: int = SIZE) -> bytes:
    """A PNG at most `size` pixels on its longest side, from image bytes (PNG, JPEG, GIF, WebP, BMP)."""
    from PIL import Image, ImageOps

    if len(data) > MAX_SOURCE:
        raise ThumbnailError(f"the image is larger than {MAX_SOURCE >> 20} MiB: no thumbnail is made")
    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
            if w * h > MAX_PIXELS:
                raise ThumbnailError(f"the image claims {w} × {h} pixels: no thumbnail is made")
            im.draft("RGB", (size, size))  # JPEG: decode at a reduced scale (fast, bounded memory)
            small = ImageOps.exif_transpose(im)  # shown the way up the phone showed it
            small.thumbnail((size, size))
            if small.mode not in ("RGB", "RGBA", "L", "LA"):
                small = small.convert("RGBA" if "transparency" in small.info or small.mode == "P" else "RGB")
            out = io.BytesIO()
            small.save(out, "PNG", optimize=True)  # a new file: no EXIF, no GPS, no comment of the original
            return out.getvalue()
    except ThumbnailError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise ThumbnailError(f"the file is not an image this build can read ({type(e).__name__})") from None


class Thumbnails:
    """Thumbnails by hash for one case, made on first request and kept (up to CACHE_BYTES) in memory."""

    def __init__(self, case: Case, size: int = SIZE, cache_bytes: int = CACHE_BYTES):
        self.case, self.size, self.cache_bytes = case, size, cache_bytes
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def get(self, sha256: str) -> bytes:
        """The thumbnail of the media file with this SHA-256 (ThumbnailError when there can be none)."""
        sha = sha256.lower()
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise ThumbnailError(f"{sha256!r} is not a SHA-256")
        with self._lock:
            if sha in self._cache:
                self._cache.move_to_end(sha)
                return self._cache[sha]
        png = thumbnail(self.case, sha, self.size)
        with self._lock:
            self._cache[sha] = png
            self._held += len(png)
            while self._held > self.cache_bytes and len(self._cache) > 1:
                self._held -= len(self._cache.popitem(last=False)[1])
        return png


def thumbnail(case: Case, sha256: str, size: int = SIZE) -> bytes:
    """Make the thumbnail of the media file with this SHA-256, from its exhibit (uncached)."""
    import hashlib

    from .archive import SafeArchive

    m = media_file(case.store, sha256)
    if m is None:
        raise ThumbnailError(f"no message in this case carries a media file with SHA-256 {sha256} inside its exhibit")
    if kind_of(m["media"]) != "image":
        raise ThumbnailError(f"{m['media']!r} is not a picture")
    path = case.evidence_path(m["exhibit_sha256"])
    data = None
    if path.is_file():
        with SafeArchive(path) as archive:  # the same bounds as parsing: no bomb, no traversal
            member = m["media_locator"][4:]
            data = archive.read(member) if member in archive.names() else None
    if data is None:
        raise ThumbnailError(f"the media file {m['media_locator']} is not in the exhibit's bytes in this case's evidence store")
    if hashlib.sha256(data).hexdigest() != sha256.lower():
        raise ThumbnailError("the media file's bytes do not hash to the SHA-256 the parser recorded: no thumbnail is shown")
    return make(data, size)
