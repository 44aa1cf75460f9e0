"""Render a gathered report to self-contained HTML (styles, script and the Sinhala/Tamil fonts
inlined; no network) and to PDF/A-3b with WeasyPrint, with findings.json attached, then sign the
PDF (pyHanko, the examiner's Ed25519 key) at a fixed signing time so the output is reproducible."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import logging
import os
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2

from ..errors import CaseGraphError
from ..store import to_json
from ..wording import plural
from . import pictures
from .certificate import certificate
from .signing import Signer

FONT_DIRS = [Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/opentype/noto")]
EMBEDDED_FONTS = {"Noto Sans Sinhala Embedded": "NotoSansSinhala-Regular.ttf", "Noto Sans Tamil Embedded": "NotoSansTamil-Regular.ttf"}


class RenderError(CaseGraphError):
    code = 1  # an operation or check that failed


@cache
def fonts_css() -> str:
    """@font-face rules with the Sinhala and Tamil fonts inlined, so the HTML renders on any machine."""
    rules = []
    for family, name in EMBEDDED_FONTS.items():
        path = next((d / name for d in FONT_DIRS if (d / name).exists()), None)
        if path is None:
            raise RenderError(
                f"font {name} not found in {', '.join(map(str, FONT_DIRS))}: install fonts-noto-core "
                "(scripts/bootstrap.sh does) so Sinhala and Tamil text renders"
            )
        data = base64.b64encode(path.read_bytes()).decode()
        rules.append(f'@font-face {{ font-family: "{family}"; src: url(data:font/ttf;base64,{data}) format("truetype"); }}')
    return "\n".join(rules)


ASSETS = Path(__file__).resolve().parents[2] / "tools" / "report-assets"
VENDOR = {"cytoscape": "cytoscape/dist/cytoscape.min.js", "d3": "d3/dist/d3.min.js"}


@cache
def vendor_js() -> str:
    """Cytoscape.js and d3, as installed from npm by scripts/bootstrap.sh (pinned by
    tools/report-assets/package-lock.json), inlined so the report opens offline."""
    root = Path(os.environ.get("CASEGRAPH_REPORT_ASSETS") or ASSETS) / "node_modules"
    parts = []
    for name, rel in VENDOR.items():
        path = root / rel
        if not path.exists():
            raise RenderError(
                f"the report's picture library {name} is not installed ({path} is missing): run scripts/bootstrap.sh "
                "(it runs npm ci in tools/report-assets), or set CASEGRAPH_REPORT_ASSETS to such a folder"
            )
        # a closing script tag inside the library would end the inline script early
        parts.append(f"/* {name}, {rel} */\n" + path.read_text(encoding="utf-8").replace("</script", "<\\/script"))
    return "\n;\n".join(parts)


def _template(name: str) -> str:
    return files(__package__).joinpath("templates", name).read_text(encoding="utf-8")


def findings_json(doc: dict[str, Any]) -> bytes:
    """The machine-readable findings: every finding with all its evidence, sorted, canonical."""
    out = {
        "case": doc["case"]["case_no"],
        "as_of": doc["as_of"],
        "redacted": doc["redacted"],
        "findings": [
            {k: f[k] for k in ("id", "kind", "title", "summary", "score", "detector", "evidence", "attrs")} for f in doc["findings"]
        ],
    }
    return (json.dumps(json.loads(to_json(out)), ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode()


def html(doc: dict[str, Any], store, redact, signer: Signer) -> str:
    focus = {m for f in doc["findings"] for m in f["attrs"].get("members", [])}
    net = pictures.network(store, focus, redact)
    seen, items, indicators = set(), [], {}
    for f in doc["findings"]:
        for e in f["shown"]:
            if f["kind"] == "trafficking-indicator" and f["attrs"].get("indicator"):
                indicators.setdefault(e["record"], []).append(f["attrs"]["indicator"])
            if e.get("ts") and e["record"] not in seen:
                seen.add(e["record"])
                items.append(
                    {
                        "record": e["record"],
                        "ts": datetime.fromisoformat(e["ts"]),
                        "table": e["table"],
                        "tip": f"{e['time']} · {e['exhibit']} {e['locator']} · {(e.get('text') or '')[:160]}",
                    }
                )
    indicators = {k: sorted(set(v)) for k, v in indicators.items()}
    tl = pictures.timeline(store, items, indicators, redact)
    groups: dict[str, list] = {}
    for f in doc["findings"]:
        groups.setdefault(f["kind"], []).append(f)
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=False)
    env.filters["plural"] = plural  # "1 exhibit file", "6 exhibit files": never "(s)"
    generated = datetime.strptime(doc["generated"], "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC)
    interp = doc["interpretation"]
    return env.from_string(_template("report.html.j2")).render(
        **doc,
        iso_generated=generated.isoformat(),
        fonts_css=fonts_css(),
        css=_template("report.css"),
        js=_template("report.js"),
        network_svg=pictures.network_svg(net),
        network_shown=net.shown,
        network_total=net.total,
        network_unplaced=net.unplaced,
        network_legend=pictures.network_legend(net),
        network_data=pictures.network_data(net),
        timeline_svg=pictures.timeline_svg(tl),
        timeline_data=pictures.timeline_data(tl),
        timeline=tl,
        vendor_js=vendor_js(),
        finding_groups=[{"kind": k.replace("-", " "), "list": v} for k, v in groups.items()],
        certificate=certificate(doc),
        signer_fingerprint=signer.fingerprint,
        interpretation_sha256=hashlib.sha256(interp.encode()).hexdigest() if interp else None,
    )


def pdf(html_text: str, attachments: dict[str, bytes], identifier: str, when: datetime) -> bytes:
    """PDF/A-3b from the HTML (print media: the pictures are static), files attached and dated `when`."""
    from weasyprint import HTML, Attachment

    atts = [
        Attachment(string=data, name=name, description=name, relationship="Data", created=when, modified=when)
        for name, data in sorted(attachments.items())
    ]
    # fontTools stamps each embedded font subset with "now" unless SOURCE_DATE_EPOCH says otherwise
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = before or str(int(when.timestamp()))
    try:
        return HTML(string=html_text, base_url=None).write_pdf(
            pdf_variant="pdf/a-3b", attachments=atts, pdf_identifier=identifier.encode(), uncompressed_pdf=False
        )
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]


def sign_pdf(data: bytes, signer: Signer, when: datetime, reason: str) -> bytes:
    """Add an incremental-update signature; `when` fixes the signing time (reproducible output)."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    key_der = signer.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    hanko = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(signer.cert.public_bytes(serialization.Encoding.DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=None,
    )

    class FixedTimeSigner(signers.PdfSigner):
        def init_signing_session(self, pdf_out, existing_fields_only=False):
            session = super().init_signing_session(pdf_out, existing_fields_only)
            session.system_time = when
            return session

    meta = signers.PdfSignatureMetadata(
        field_name="ExaminerSignature", reason=reason, name=signer.cert.subject.rfc4514_string(), md_algorithm="sha512"
    )

    class DeterministicIdWriter(IncrementalPdfFileWriter):  # the second /ID half is random by default
        @classmethod
        def _handle_id(cls, prev):
            id1 = super()._handle_id(prev)[0]
            return generic.ArrayObject([id1, generic.ByteStringObject(hashlib.sha256(b"signed:" + bytes(id1)).digest()[:16])])

    writer = DeterministicIdWriter(io.BytesIO(data))
    doc_meta = writer.document_meta

    class FixedTimeMeta(type(doc_meta)):  # the writer stamps its update "now"; make that `when`
        def __setattr__(self, name, value):
            super().__setattr__(name, when if (name == "last_modified" and value == "now") else value)

    doc_meta.__class__ = FixedTimeMeta
    out = io.BytesIO()
    asyncio.run(FixedTimeSigner(meta, signer=hanko).async_sign_pdf(writer, output=out))
    return out.getvalue()


@contextmanager
def _quiet(*names: str):
    """Silence libraries' log output (not their results) for the duration."""
    loggers = [logging.getLogger(n) for n in names]
    saved = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for lg, level in zip(loggers, saved):  # noqa: B905
            lg.setLevel(level)


def verify_pdf_signature(data: bytes, cert_pem: bytes) -> tuple[bool, str]:
    """Is the PDF's signature intact and made by the key in `cert_pem`, covering the whole file?"""
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        _, _, der = pem.unarmor(cert_pem)
        cert = asn1_x509.Certificate.load(der)
        cert.dump()
    except Exception as e:  # a damaged certificate: named, not a crash
        return False, f"the signer certificate cannot be read to check the PDF ({type(e).__name__}: {e})"
    try:
        reader = PdfFileReader(io.BytesIO(data))
        sigs = reader.embedded_signatures
        if not sigs:
            return False, "the PDF carries no signature"
        with _quiet("pyhanko", "pyhanko_certvalidator"):  # they log a traceback for an untrusted signer; the verdict says it in one line
            status = asyncio.run(async_validate_pdf_signature(sigs[0], ValidationContext(trust_roots=[cert])))
    except Exception as e:  # a damaged file cannot be read at all: that is the answer
        return False, f"the PDF cannot be read or its signature checked ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})"
    if not status.intact:
        return False, "the PDF signature does not match the file's bytes (altered after signing)"
    if status.signing_cert.dump() != cert.dump():
        return False, "the PDF was signed by a different key than the bundle's signer"
    if not status.valid:
        return False, "the PDF signature is not a valid signature of the bundle's signer"
    if status.coverage.name != "ENTIRE_FILE":
        return False, f"the PDF signature does not cover the whole file ({status.coverage.name}): content was added after signing"
    return True, "signature intact, covers the whole file"
