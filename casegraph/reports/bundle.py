"""`casegraph bundle`: the evidence bundle for the court and the defence, in BagIt layout
(RFC 8493, SHA-256 manifests):

    bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
    tagmanifest-sha256.txt.sig        Ed25519 signature of the tag manifest (hex)
    data/report.html  data/report.pdf (signed)  data/findings.json  data/custody.jsonl
    data/exhibits.json  data/case.jsonld (CASE/UCO)  data/signer-cert.pem  data/README.txt
    data/viewer/        with --viewer: the portable case viewer (reports/viewer.py), open index.html

The signature covers the tag manifest, which covers the payload manifest and bag-info, which
cover every file: one signature seals the bundle. Exhibit bytes are not copied in (they are
listed with their hashes; the case's evidence store holds them).

With victim protection on, custody events that name a protected person are pseudonymised and
flagged `"redacted": true`; their own hashes then cannot be recomputed from the bundle (their
links to the events around them still can), and `verify` says so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from pathlib import Path

import bagit

from ..case import Case
from . import caseuco
from .report import build

SIGNATURE = "tagmanifest-sha256.txt.sig"
CERT = "signer-cert.pem"
# what every bundle holds: verify requires each of them, whatever the manifests say
PAYLOAD = ("report.html", "report.pdf", "findings.json", "custody.jsonl", "exhibits.json", CERT, "README.txt", "case.jsonld")
TAG_FILES = ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt", SIGNATURE)
README = """Evidence bundle, case {case_no}, as of custody event {seq} ({hash}).

Check it with casegraph (nothing else is needed):

    casegraph verify THIS_DIRECTORY --expect-key {fingerprint}

(or --trusted-keys FILE, a list of examiners' key fingerprints you trust). Without one of them,
verify can only say the bundle is intact and who signed it: UNTRUSTED SIGNER, since anyone can
make and sign a bundle with a key of their own.

The examiner's signing key fingerprint (SHA-256 of the Ed25519 public key) is
{fingerprint}
Compare it with the fingerprint the examiner states in court or in writing.
"""


def _custody_lines(case: Case, seq: int, redactor) -> bytes:
    out = []
    for _, raw in case.custody.read():
        ev = json.loads(raw)
        if ev["seq"] > seq:
            break
        if redactor.active:
            red = redactor(ev)
            if red != ev:
                ev = {**red, "redacted": True, "hash": ev["hash"], "prev": ev["prev"]}
                raw = json.dumps(ev, ensure_ascii=False, sort_keys=True)
        out.append(raw)
    return ("\n".join(out) + "\n").encode()


def write_bundle(case: Case, out_dir: Path | None = None, viewer: bool = False, **kw) -> Path:
    rep = build(case, **kw)
    doc = rep.doc
    head = doc["as_of"]
    exhibits = [
        {
            k: e[k]
            for k in (
                "exhibit_id",
                "original_name",
                "format",
                "size",
                "sha256",
                "md5",
                "seized_from",
                "acquired_by",
                "warrant",
                "added",
                "seized_at",
                "seal",
                "device_make",
                "device_model",
                "device_imei",
                "device_serial",
                "notes",
            )
            if k in e
        }
        for e in doc["exhibits"]
    ]
    payload = {
        "report.html": rep.html,
        "report.pdf": rep.pdf,
        "findings.json": rep.findings,
        "custody.jsonl": _custody_lines(case, head["seq"], rep.redactor),
        "exhibits.json": (json.dumps(exhibits, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode(),
        CERT: rep.signer.cert_pem(),
        "README.txt": README.format(
            case_no=case.info.case_no, seq=head["seq"], hash=head["hash"], fingerprint=rep.signer.fingerprint
        ).encode(),
    }
    payload["case.jsonld"] = caseuco.describe(doc, [(n, hashlib.sha256(b).hexdigest(), len(b)) for n, b in sorted(payload.items())])
    assert set(payload) == set(PAYLOAD)
    if viewer:  # the portable case viewer, data/viewer/ (sealed by the same manifests and signature)
        from .viewer import files_for

        payload.update(files_for(case, doc, rep.redactor))
    root = Path(out_dir) if out_dir else case.root / "bundles"
    root.mkdir(parents=True, exist_ok=True)
    final = (
        root / f"bundle-{case.info.case_no.replace('/', '-')}-{head['seq']:05d}"
        if not doc["redacted"]
        else root / f"bundle-{case.info.case_no.replace('/', '-')}-{head['seq']:05d}-redacted"
    )
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        bag_dir = Path(tmp) / "bag"
        bag_dir.mkdir()
        for name, data in payload.items():
            (bag_dir / name).parent.mkdir(exist_ok=True)
            (bag_dir / name).write_bytes(data)
        info = {
            "Source-Organization": case.info.agency or "not recorded",
            "Contact-Name": case.info.examiner,
            "External-Identifier": case.info.case_no,
            "External-Description": f"Evidence bundle: {case.info.title}",
            "Bagging-Date": doc["generated"][:10],
            "Casegraph-Custody-Head": f"{head['seq']} {head['hash']}",
            "Casegraph-Redacted": "yes" if doc["redacted"] else "no",
            "Casegraph-Signer": rep.signer.fingerprint,
        }
        logging.getLogger("bagit").setLevel(logging.WARNING)
        bagit.make_bag(str(bag_dir), info, checksums=["sha256"])
        (bag_dir / SIGNATURE).write_text(rep.signer.sign((bag_dir / "tagmanifest-sha256.txt").read_bytes()).hex() + "\n")
        if final.exists():
            shutil.rmtree(final)
        bag_dir.rename(final)
    case.log(
        "bundle-written",
        outputs=[{"path": str(final), "sha256": hashlib.sha256((final / "tagmanifest-sha256.txt").read_bytes()).hexdigest()}],
        details={"as_of_seq": head["seq"], "redacted": doc["redacted"], "signer": rep.signer.fingerprint}
        | ({"viewer": True} if viewer else {}),
    )
    return final
