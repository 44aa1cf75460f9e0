"""GPS tags in image EXIF (Pillow's GPS IFD) as Location records: where the camera says it was.

Degrees come as three rationals (degrees, minutes, seconds) with an N/S or E/W reference; they are
summed exactly as fractions and rounded once to 10 decimal places (about 0.01 mm); the rationals as
written are kept in `extra.dms`. Time: GPSDateStamp + GPSTimeStamp are UTC; without them,
DateTimeOriginal with OffsetTimeOriginal, or DateTimeOriginal as a wall clock with no zone. The
device is Make + Model. Images in chat archives (photos sent as documents keep their EXIF) are read
by `in_archive_media`, which decorates an archive parser's `parse`; only each image's first
HEAD_BYTES are read, since EXIF sits at the start of the file.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import PurePosixPath
from typing import Any

import pyarrow.compute as pc
from PIL import ExifTags, Image, UnidentifiedImageError

from ..archive import ArchiveError, SafeArchive, is_archive
from ..model import Batch, Location, Message, ParseIssue, Provenance, Record
from .locations import degrees

GPS_IFD = ExifTags.IFD.GPSInfo
EXIF_IFD = ExifTags.IFD.Exif
HEAD_BYTES = 256 * 1024  # EXIF (APP1, at most 64 KiB) sits near the start of a JPEG
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".tif", ".tiff", ".heic", ".png", ".webp")
_PLACES = Decimal("1e-10")


def _fraction(v: Any) -> Fraction | None:
    try:
        num, den = (v.numerator, v.denominator) if hasattr(v, "denominator") else (v, 1)
        return Fraction(int(num), int(den)) if int(den) else None
    except (TypeError, ValueError, OverflowError):
        return None


def _dms(value: Any, ref: Any, negative: str) -> Decimal | None:
    parts = list(value) if isinstance(value, (tuple, list)) else [value]
    fr = [_fraction(p) for p in parts[:3]]
    if not fr or any(f is None for f in fr):
        return None
    total = sum(f / 60**i for i, f in enumerate(fr))
    d = (Decimal(total.numerator) / Decimal(total.denominator)).quantize(_PLACES).normalize()
    return -d if str(ref or "").strip().upper().startswith(negative) else d


def _rationals(v: Any) -> list[str]:
    """The rationals as written ("3744/100" kept as the fraction it is)."""
    return [str(f) if (f := _fraction(x)) is not None else repr(x) for x in (v if isinstance(v, (tuple, list)) else [v])]


def _text(v: Any) -> str | None:
    if isinstance(v, bytes):
        v = v.decode("ascii", "replace")
    return v.strip("\x00 ").strip() or None if isinstance(v, str) else None


def _when(gps: dict, exif: dict) -> datetime | None:
    date, hms = _text(gps.get(29)), gps.get(7)
    try:
        if date and isinstance(hms, (tuple, list)) and len(hms) == 3:
            h, m, s = (_fraction(x) for x in hms)
            day = datetime.strptime(date, "%Y:%m:%d").replace(tzinfo=UTC)
            return day + timedelta(seconds=float(h * 3600 + m * 60 + s))
        original = _text(exif.get(0x9003))  # DateTimeOriginal, local wall clock
        if original:
            offset = _text(exif.get(0x9011))  # OffsetTimeOriginal, "+05:30"
            return datetime.strptime(original + (offset or ""), "%Y:%m:%d %H:%M:%S" + ("%z" if offset else ""))
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        return None
    return None


def gps_of(img: Image.Image) -> dict[str, Any] | None:
    """The GPS facts of an opened image, or None when it has no GPS position."""
    exif = img.getexif()
    gps = exif.get_ifd(GPS_IFD)
    if not gps or 2 not in gps or 4 not in gps:
        return None
    lat, lon = _dms(gps.get(2), gps.get(1), "S"), _dms(gps.get(4), gps.get(3), "W")
    device = " ".join(x for x in (_text(exif.get(0x010F)), _text(exif.get(0x0110))) if x) or None
    alt = _fraction(gps.get(6))
    accuracy = _fraction(gps.get(31))
    return {
        "lat": lat,
        "lon": lon,
        "ts": _when(gps, exif.get_ifd(EXIF_IFD)),
        "device": device,
        "altitude_m": str(Decimal(alt.numerator) / Decimal(alt.denominator) * (-1 if gps.get(5) in (1, b"\x01") else 1))
        if alt is not None
        else None,
        "accuracy_m": float(accuracy) if accuracy is not None else None,
        "dms": {"lat": _rationals(gps.get(2)), "lat_ref": _text(gps.get(1)), "lon": _rationals(gps.get(4)), "lon_ref": _text(gps.get(3))},
        "datum": _text(gps.get(18)),
    }


def locations(
    prov: Provenance, img: Image.Image, *, record_id: str | None = None, extra: dict | None = None
) -> Iterator[Location | ParseIssue]:
    """The image's GPS position as a Location (or a warning when the tags are there but unreadable)."""
    try:
        g = gps_of(img)
    except (OSError, ValueError, TypeError, KeyError, SyntaxError) as e:
        yield ParseIssue(prov=prov, severity="warning", message=f"EXIF unreadable: {type(e).__name__}: {e}")
        return
    if g is None:
        return
    d = degrees(g["lat"], g["lon"])
    if d is None:
        yield ParseIssue(prov=prov, severity="warning", message="EXIF GPS position unreadable or out of range", raw=repr(g["dms"])[:500])
        return
    facts = {k: g[k] for k in ("dms", "altitude_m", "datum") if g[k]}
    yield Location(
        prov=prov,
        platform="exif",
        source_kind="exif",
        latitude=d[0],
        longitude=d[1],
        ts=g["ts"],
        who=g["device"],
        accuracy_m=g["accuracy_m"],
        record_id=record_id,
        extra={**facts, **(extra or {})},
    )


def from_head(prov: Provenance, head: bytes, **kw) -> Iterator[Location | ParseIssue]:
    """EXIF GPS from an image's first bytes (enough for the EXIF block; pixels are never decoded)."""
    try:
        with Image.open(io.BytesIO(head)) as img:
            yield from locations(prov, img, **kw)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return  # not an image Pillow knows: nothing to say about GPS


def in_archive_media(parse: Callable[..., Iterator[Record | Batch]]) -> Callable[..., Iterator[Record | Batch]]:
    """Decorator for an archive parser's `parse`: after its records, the GPS positions in the archive's
    images, each tied to the message that attached the file when one did (matched by file name)."""

    @functools.wraps(parse)
    def wrapper(self, src, *args, **kwargs):
        with open(src.path, "rb") as f:
            if not is_archive(f.read(262)):  # a plain text export has no photos: nothing to add
                yield from parse(self, src, *args, **kwargs)
                return
        attached: dict[str, str] = {}
        for rec in parse(self, src, *args, **kwargs):
            yield rec
            if isinstance(rec, Batch) and rec.table == "messages" and "media" in rec.data.column_names:
                with_media = rec.data.filter(pc.is_valid(rec.data.column("media")))  # only the rare rows with a file
                for media, rid in zip(with_media.column("media").to_pylist(), with_media.column("id").to_pylist(), strict=True):
                    attached.setdefault(PurePosixPath(media).name, rid)
            elif isinstance(rec, Message) and rec.media:
                attached.setdefault(PurePosixPath(rec.media).name, rec.id)
        try:
            with SafeArchive(src.path, src.name) as arc:
                for name in arc.names():
                    if not name.lower().endswith(IMAGE_SUFFIXES):
                        continue
                    with arc.open(name) as member:
                        head = member.read(HEAD_BYTES)
                    prov = Provenance(src.sha256, self.name, self.version, f"zip:{name}#exif:gps")
                    yield from from_head(prov, head, record_id=attached.get(PurePosixPath(name).name), extra={"member": name})
        except ArchiveError as e:
            yield ParseIssue(
                prov=Provenance(src.sha256, self.name, self.version, "zip:"), message=f"EXIF scan of the archive's images stopped: {e}"
            )

    return wrapper
