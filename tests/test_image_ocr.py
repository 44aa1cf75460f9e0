"""OCR on images rendered here with the Noto Sinhala and Tamil fonts (fonts-noto-core)."""

from pathlib import Path

from parse_helpers import identifiers, issues, of, run_parser, sniff
from PIL import Image, ImageDraw, ImageFont

from casegraph.model import TextBlock
from casegraph.parsers.image_ocr import ImageOCR

NOTO = Path("/usr/share/fonts/truetype/noto")
P = ImageOCR()


def render(path: Path, lines: list[tuple[str, str]], size=(1400, 120)) -> Path:
    img = Image.new("RGB", (size[0], size[1] * len(lines)), "white")
    d = ImageDraw.Draw(img)
    for i, (font, text) in enumerate(lines):
        d.text((40, 25 + i * size[1]), text, fill="black", font=ImageFont.truetype(str(NOTO / font), 56))
    img.save(path)
    return path


def test_english_payment_slip_with_identifiers(tmp_path):
    p = render(
        tmp_path / "slip.png",
        [
            ("NotoSans-Regular.ttf", "BANK OF CEYLON"),
            ("NotoSans-Regular.ttf", "Account No: 0081234567"),
            ("NotoSans-Regular.ttf", "Amount: LKR 450,000.00"),
        ],
    )
    assert sniff(P, p) >= 0.9
    recs = run_parser(P, p)
    text = "\n".join(b.text for b in of(recs, TextBlock))
    assert "BANK OF CEYLON" in text and "0081234567" in text
    block = of(recs, TextBlock)[0]
    assert block.prov.locator.startswith("ocr:page1/block") and block.confidence > 50 and len(block.bbox) == 4
    assert ("bank-account", "0081234567") in {(i.kind, i.value) for i in identifiers(recs)}


def test_sinhala_and_tamil(tmp_path):
    p = render(tmp_path / "advert.png", [("NotoSansSinhala-Regular.ttf", "රැකියා අවස්ථා"), ("NotoSansTamil-Regular.ttf", "வேலை வாய்ப்பு")])
    text = " ".join(b.text for b in of(run_parser(P, p), TextBlock))
    assert "රැකියා" in text
    assert "வேலை" in text


def test_multipage_tiff_pages_are_located(tmp_path):
    a = render(tmp_path / "a.png", [("NotoSans-Regular.ttf", "PAGE ONE PASSPORT")])
    b = render(tmp_path / "b.png", [("NotoSans-Regular.ttf", "PAGE TWO VISA")])
    tif = tmp_path / "scan.tif"
    Image.open(a).save(tif, save_all=True, append_images=[Image.open(b)])
    blocks = of(run_parser(P, tif), TextBlock)
    pages = {b.prov.locator.split("/")[0]: b.text for b in blocks}
    assert "ONE" in pages["ocr:page1"] and "TWO" in pages["ocr:page2"]


def test_broken_image_is_an_issue(tmp_path):
    p = tmp_path / "broken.jpg"
    p.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 50)
    recs = run_parser(P, p)
    assert not of(recs, TextBlock)
    assert "broken.jpg: not a readable image at the start" in issues(recs, "error")[0].message


def test_missing_language_is_reported(tmp_path):
    p = render(tmp_path / "x.png", [("NotoSans-Regular.ttf", "HELLO")])
    recs = run_parser(ImageOCR("eng+xyz"), p)
    assert "not installed: xyz" in issues(recs, "warning")[0].message
    assert of(recs, TextBlock)
