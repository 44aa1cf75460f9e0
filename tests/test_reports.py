"""Evidence reports and bundles: reproducible signed PDF/A-3b and HTML, Sinhala/Tamil shaping,
victim pseudonyms, CASE/UCO validity, and a verifier that names every kind of tampering."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pypdfium2
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from casegraph.case import Case
from casegraph.cli import main
from casegraph.reports import render, report, signing
from casegraph.reports.bundle import SIGNATURE, write_bundle
from casegraph.reports.verify import verify_bundle


@pytest.fixture(scope="module")
def rep(demo) -> report.Report:
    with Case(demo) as c:
        return report.build(c)


@pytest.fixture(scope="module")
def bundle(demo, tmp_path_factory) -> Path:
    with Case(demo) as c:
        return write_bundle(c, tmp_path_factory.mktemp("bundles"))


def test_report_is_reproducible_and_unchanged_by_writing_it(demo, tmp_path):
    with Case(demo) as c:
        a, _ = report.write_report(c, tmp_path / "a")
        b, _ = report.write_report(c, tmp_path / "b")  # the first report's own custody event does not move the case state
    assert a.html == b.html and a.pdf == b.pdf and a.findings == b.findings
    assert a.doc["as_of"] == b.doc["as_of"]


def test_source_date_epoch_sets_the_report_date(demo, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    with Case(demo) as c:
        rep = report.build(c)
    assert rep.doc["generated"] == "2023-11-14 22:13:20 UTC"
    assert b"2023-11-14T22:13:20" in rep.html


def test_pdf_is_pdfa3b_signed_with_findings_attached(rep):
    pdf = pypdfium2.PdfDocument(rep.pdf)
    assert pdf.count_attachments() == 1
    att = pdf.get_attachment(0)
    assert att.get_name() == "findings.json" and bytes(att.get_data()) == rep.findings
    from pyhanko.pdf_utils.reader import PdfFileReader

    xmp = PdfFileReader(io.BytesIO(rep.pdf)).root["/Metadata"].data
    assert re.search(rb"pdfaid:part[>=\"']+3", xmp) and re.search(rb"pdfaid:conformance[>=\"']+B", xmp), xmp[:2000]
    n = len(pdf)
    first = pdf[0].get_textpage().get_text_range()
    assert f"Page 1 of {n}" in first
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(n))
    for section in (
        "Authority",
        "Exhibits",
        "Chain of custody",
        "Methods and tools",
        "Findings",
        "Interpretation",
        "Limitations",
        "Evidence (Special Provisions) Act, No. 14 of 1995",
    ):
        assert section in text
    assert "B/2291/2024" in text  # the warrant, from the exhibits
    assert render.verify_pdf_signature(rep.pdf, rep.signer.cert_pem()) == (True, "signature intact, covers the whole file")
    other = signing.certificate(Ed25519PrivateKey.generate(), "someone else", "", signing.datetime(2024, 1, 1).astimezone())
    assert render.verify_pdf_signature(rep.pdf, other.public_bytes(signing.serialization.Encoding.PEM))[0] is False


def test_html_is_self_contained_and_interactive(rep):
    html = rep.html.decode()
    assert "<script>" in html and 'class="network"' in html and 'class="timeline"' in html
    # the inlined picture libraries (Cytoscape.js, d3) name URLs only in licence banners and XML namespaces
    assert render.vendor_js() in html
    html = html.replace(render.vendor_js(), "")
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html
    assert "src=" not in html.replace("src: url(data:", "")  # fonts inline, nothing fetched
    # each finding refers to its records by number; the numbered record gives exhibit, locator and text (once)
    structuring = html[html.index("Possible structuring") :]
    structuring = structuring[: structuring.index("</article>")]
    refs = re.findall(r'href="#(E\d+)"', structuring)
    assert len(refs) == 6
    rows = {m[0]: m[1] for m in re.findall(r'<tr id="(E\d+)">(.*?)</tr>', html, re.S)}
    cited = "".join(rows[r] for r in refs)
    assert "B1 BOC_0081234567_statement_2024-03_2024-04.csv" in cited and "<code>row:17</code>" in cited
    assert "LKR 972,000.00 (CASH DEPOSIT KOLLUPITIYA BR)" in cited and "2024-04-08 (date only)" in cited
    assert (
        re.sub(r"<svg.*?</svg>|<script.*?</script>", "", html, flags=re.S).count("LKR 972,000.00 (CASH DEPOSIT KOLLUPITIYA BR)") == 1
    )  # the pictures' tips aside


def _ink_width(png) -> int:
    """Width of the non-white pixels of an image (one rendered line)."""
    gray = png.convert("L").point(lambda v: 255 if v < 128 else 0)
    box = gray.getbbox()
    return box[2] - box[0] if box else 0


@pytest.mark.parametrize(
    "text, broken",
    [
        ("ශ්‍රී", "ශ්\u200cරී"),  # sha + rakaransaya + ii: one conjunct; ZWNJ forces the explicit virama
        ("ප්‍රජාතන්ත්‍රික", "ප්\u200cරජාතන්ත්\u200cරික"),
        ("ஸ்ரீ", "ஸ்\u200cரீ"),  # Tamil shri ligature
        ("க்ஷ", "க்\u200cஷ"),  # Tamil ksha ligature
    ],
)
def test_sinhala_and_tamil_conjuncts_render(text, broken, tmp_path):
    """Render through the report's fonts and WeasyPrint to PDF, rasterise to PNG, and compare with the
    same letters kept apart by a zero-width non-joiner: shaped conjuncts are narrower."""
    html = (
        f"<html><head><style>{render.fonts_css()} body {{ font-family: 'Noto Sans Sinhala Embedded', "
        f"'Noto Sans Tamil Embedded'; font-size: 48pt; }}</style></head><body>"
        f"<p id=a>{text}</p><p id=b>{broken}</p></body></html>"
    )
    pdf = pypdfium2.PdfDocument(render.pdf(html, {}, "conjunct-test", signing.datetime(2024, 1, 1).astimezone()))
    page = pdf[0].render(scale=2).to_pil()
    page.save(tmp_path / "conjuncts.png")
    lines = [page.crop((0, y0, page.width, y0 + 160)) for y0 in _line_tops(page)]
    assert len(lines) == 2, f"expected two rendered lines, see {tmp_path / 'conjuncts.png'}"
    shaped, apart = (_ink_width(l) for l in lines)  # noqa: E741
    assert 0 < shaped < apart * 0.9, f"conjunct not formed ({shaped} vs {apart} px), see {tmp_path / 'conjuncts.png'}"
    extracted = pdf[0].get_textpage().get_text_range()
    assert text.replace("\u200d", "")[:2] in extracted.replace("\u200d", "")  # real text, not outlines or tofu


def _line_tops(img) -> list[int]:
    gray = img.convert("L")
    rows = [any(gray.getpixel((x, y)) < 128 for x in range(0, img.width, 2)) for y in range(img.height)]
    tops, inside = [], False
    for y, ink in enumerate(rows):
        if ink and not inside:
            tops.append(max(0, y - 40))
            inside = True
        elif not ink and inside and not any(rows[y : y + 30]):
            inside = False
    return tops


def test_redacted_report_and_bundle_pseudonymise_the_victim(demo, tmp_path):
    with Case(demo) as c:
        path = write_bundle(c, tmp_path, redact=True)
    texts = {p.name: p.read_bytes() for p in (path / "data").iterdir()}
    for name, data in texts.items():
        if name == "report.pdf":
            pdf = pypdfium2.PdfDocument(data)
            data = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf))).encode()
        assert b"Kasun" not in data, name
        assert b"76 222 3344" not in data and b"762223344" not in data, name
    assert b"Victim-1" in texts["report.html"] and b"Victim-1" in texts["findings.json"]
    v = verify_bundle(path)
    assert v.ok, v.problems
    assert any("pseudonymised" in n for n in v.notes)  # custody events naming the victim are flagged, links still checked


def test_bundle_verifies_and_its_case_uco_validates(bundle):
    v = verify_bundle(bundle)
    assert v.ok, v.problems
    assert len(v.checked) >= 5
    case_validate = Path(sys.executable).with_name("case_validate")
    out = subprocess.run([str(case_validate), str(bundle / "data" / "case.jsonld")], capture_output=True, text=True)
    assert "Conforms: True" in out.stdout, out.stdout[-3000:]
    graph = json.loads((bundle / "data" / "case.jsonld").read_text())["@graph"]
    types = {n["@type"] for n in graph}
    assert {
        "case-investigation:Investigation",
        "case-investigation:InvestigativeAction",
        "case-investigation:ProvenanceRecord",
        "uco-observable:File",
    } <= types


def test_bundle_is_reproducible(demo, bundle, tmp_path):
    with Case(demo) as c:
        again = write_bundle(c, tmp_path)
    files = sorted(p.relative_to(bundle) for p in bundle.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for f in files:
        assert (bundle / f).read_bytes() == (again / f).read_bytes(), f


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _remake_manifests(root: Path) -> None:
    """What a forger without the key would do: recompute both manifests after editing."""
    lines = [
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(root).as_posix()}"
        for p in sorted((root / "data").rglob("*"))
        if p.is_file()
    ]
    (root / "manifest-sha256.txt").write_text("\n".join(lines) + "\n")
    tags = [f"{hashlib.sha256((root / n).read_bytes()).hexdigest()} {n}" for n in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt")]
    (root / "tagmanifest-sha256.txt").write_text("\n".join(tags) + "\n")


@pytest.mark.parametrize(
    "target",
    [
        "data/report.html",
        "data/report.pdf",
        "data/findings.json",
        "data/custody.jsonl",
        "data/exhibits.json",
        "data/case.jsonld",
        "data/signer-cert.pem",
        "data/README.txt",
        "bag-info.txt",
        "manifest-sha256.txt",
        "tagmanifest-sha256.txt",
        SIGNATURE,
    ],
)
def test_verify_names_each_altered_file(bundle, tmp_path, target):
    copy = tmp_path / "b"
    shutil.copytree(bundle, copy)
    if target == SIGNATURE:
        sig = bytearray.fromhex((copy / SIGNATURE).read_text().strip())
        sig[0] ^= 1
        (copy / SIGNATURE).write_text(sig.hex() + "\n")
    else:
        _flip(copy / target)
    v = verify_bundle(copy)
    assert not v.ok
    name = Path(target).name
    assert any(name in p for p in v.problems), v.problems


@pytest.mark.parametrize("attack", ["edit-and-remake-manifests", "add-file", "delete-file", "custody-event-edited"])
def test_verify_detects_forgeries(bundle, tmp_path, attack):
    copy = tmp_path / "b"
    shutil.copytree(bundle, copy)
    if attack == "edit-and-remake-manifests":
        f = copy / "data" / "findings.json"
        f.write_text(f.read_text().replace("structuring", "nothing to see"))
        _remake_manifests(copy)
        expect = SIGNATURE
    elif attack == "add-file":
        (copy / "data" / "extra.txt").write_text("planted")
        expect = "extra.txt"
    elif attack == "delete-file":
        (copy / "data" / "exhibits.json").unlink()
        expect = "exhibits.json"
    else:
        f = copy / "data" / "custody.jsonl"
        lines = f.read_text().splitlines()
        ev = json.loads(lines[1])
        ev["actor"] = "someone else"
        lines[1] = json.dumps(ev, sort_keys=True)
        f.write_text("\n".join(lines) + "\n")
        _remake_manifests(copy)
        expect = "custody.jsonl"
    v = verify_bundle(copy)
    assert not v.ok and any(expect in p for p in v.problems), v.problems


def test_cli_report_bundle_verify(demo, tmp_path):
    run = CliRunner().invoke
    r = run(main, ["report", str(demo), "--out", str(tmp_path / "r"), "--redact", "victims"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "r").glob("report-*-redacted.pdf")
    r = run(main, ["bundle", str(demo), "--out", str(tmp_path / "b")])
    assert r.exit_code == 0, r.output
    path = next((tmp_path / "b").iterdir())
    with Case(demo) as c:
        fpr = report.case_signer(c).fingerprint
    r = run(main, ["verify", str(path), "--expect-key", fpr])
    assert r.exit_code == 0 and "VERIFIED" in r.output, r.output
    r = run(main, ["verify", str(path), "--expect-key", "0" * 64])
    assert r.exit_code == 1 and "not the expected" in r.output
    _flip(path / "data" / "report.html")
    r = run(main, ["verify", str(path)])
    assert r.exit_code == 1 and "NOT VERIFIED" in r.output and "data/report.html was altered" in r.output


def test_redaction_patterns():
    from casegraph.reports.redact import Redactor

    r = Redactor({"person:x": ("Victim-1", ["Kasun"], ["+94762223344"])})
    assert (
        r.text("Kasun in 'Nuwan Agent'; Kasun Perera called 076 222 3344 and +94-76-222-3344; KASUN said")
        == "Victim-1 in 'Nuwan Agent'; Victim-1 called [Victim-1 identifier] and [Victim-1 identifier]; Victim-1 said"
    )
    assert r.text("Kasuni and 0762223344999") == "Kasuni and 0762223344999"  # other names and longer numbers stay
    assert r({"k": ["Kasun"], "n": 3}) == {"k": ["Victim-1"], "n": 3}
