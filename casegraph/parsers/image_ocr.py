"""Images (chat screenshots, payment slips, job adverts, ID documents): OCR with tesseract.

Text is kept per block with its page/block locator, bounding box and mean word confidence, in
English, Sinhala and Tamil at once (eng+sin+tam). Identifiers in the recovered text (account
numbers on a slip, a phone number on an advert) are extracted like those in messages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import ModuleType

from PIL import Image, ImageOps, ImageSequence

from ..model import Record, TextBlock
from . import exif_gps, register
from .base import ParseError, Parser, Probe, Source

LANGUAGES = os.environ.get("CASEGRAPH_OCR_LANGS", "eng+sin+tam")
MAX_PIXELS = 120_000_000  # larger images are refused as possible decompression bombs
_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*", b"BM")
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def _tesseract() -> ModuleType:
    """pytesseract, imported on first OCR: it imports pandas (about 1 s), which every other command would pay."""
    import pytesseract

    return pytesseract


def _available(wanted: str) -> tuple[str, list[str]]:
    pytesseract = _tesseract()
    try:
        have = set(pytesseract.get_languages())
    except (pytesseract.TesseractNotFoundError, OSError) as e:
        raise ParseError("tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-sin tesseract-ocr-tam)") from e
    langs = wanted.split("+")
    return "+".join(lang for lang in langs if lang in have), [lang for lang in langs if lang not in have]


@register
class ImageOCR(Parser):
    name = "image-ocr"
    version = "1.1"  # 1.1: EXIF GPS
    reads = "PNG, JPEG, TIFF (multi-page), GIF, BMP, WebP: tesseract OCR in English, Sinhala and Tamil; EXIF GPS as a location (device, UTC GPS time)"  # noqa: E501
    locators = "`ocr:page1/block5`, `exif:gps`"
    description = "Images (PNG, JPEG, TIFF, GIF, BMP, WebP): OCR text in English, Sinhala and Tamil"

    def __init__(self, languages: str = LANGUAGES):
        self.languages = languages

    def sniff(self, probe: Probe) -> float:
        h = probe.head
        if h.startswith(_MAGIC) or (h[:4] == b"RIFF" and h[8:12] == b"WEBP"):
            return 0.9
        return 0.0

    def parse(self, src: Source) -> Iterator[Record]:
        yield from self._gps(src)
        langs, missing = _available(self.languages)
        if missing:
            yield self.issue(
                src, "ocr:", f"OCR languages not installed: {', '.join(missing)}; read with {langs or 'none'}", severity="warning"
            )
        if not langs:
            return
        pytesseract = _tesseract()
        page = 0
        try:
            with Image.open(src.path) as img:
                for page, frame in enumerate(ImageSequence.Iterator(img), 1):  # one frame object, re-seeked: use it now
                    try:
                        blocks = list(self._page(src, page, frame, langs))
                    except pytesseract.TesseractError as e:
                        blocks = [self.issue(src, f"ocr:page{page}", f"{src.name}: OCR failed on page {page}: {e}")]
                    yield from blocks
        except Image.DecompressionBombError as e:
            yield self.issue(src, "ocr:", f"{src.name}: refused: {e}")
        except (OSError, SyntaxError, ValueError) as e:
            where = f"page {page + 1}" if page else "the start"
            yield self.issue(src, f"ocr:page{page + 1}", f"{src.name}: not a readable image at {where}: {e}")

    def _gps(self, src: Source) -> Iterator[Record]:
        """Where the camera says it was (EXIF GPS), read before OCR so that it is kept without tesseract."""
        try:
            with Image.open(src.path) as img:
                yield from exif_gps.locations(self.prov(src, "exif:gps"), img)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            return  # an unreadable image is reported by the OCR pass

    def _page(self, src: Source, page: int, frame: Image.Image, langs: str) -> Iterator[Record]:
        im = ImageOps.exif_transpose(frame.convert("RGB")).convert("L")
        if max(im.size) < 1000:  # small screenshots read better enlarged
            im = im.resize((im.width * 2, im.height * 2), Image.LANCZOS)
            scale = 2
        else:
            scale = 1
        pytesseract = _tesseract()
        data = pytesseract.image_to_data(im, lang=langs, output_type=pytesseract.Output.DICT, config="--psm 3")
        blocks: dict[int, dict] = {}
        for i, word in enumerate(data["text"]):
            if not word.strip():
                continue
            b = blocks.setdefault(data["block_num"][i], {"lines": {}, "conf": [], "box": []})
            key = (data["par_num"][i], data["line_num"][i])
            b["lines"].setdefault(key, []).append(word)
            if float(data["conf"][i]) >= 0:
                b["conf"].append(float(data["conf"][i]))
            b["box"].append((data["left"][i], data["top"][i], data["left"][i] + data["width"][i], data["top"][i] + data["height"][i]))
        for num, b in sorted(blocks.items()):
            text = "\n".join(" ".join(words) for _, words in sorted(b["lines"].items()))
            x0, y0 = min(x[0] for x in b["box"]) // scale, min(x[1] for x in b["box"]) // scale
            x1, y1 = max(x[2] for x in b["box"]) // scale, max(x[3] for x in b["box"]) // scale
            block = TextBlock(
                prov=self.prov(src, f"ocr:page{page}/block{num}"),
                text=text,
                confidence=round(sum(b["conf"]) / len(b["conf"]), 1) if b["conf"] else None,
                languages=langs,
                bbox=[x0, y0, x1 - x0, y1 - y0],
                extra={"engine": f"tesseract {pytesseract.get_tesseract_version()}"},
            )
            yield block
            yield from self.mentioned(block, text, None)
