"""`casegraph verify BUNDLE`: check an evidence bundle with nothing but casegraph and the bundle.

Checks, each naming the file concerned: every file against the payload and tag manifests (and
files present but not listed), the Ed25519 signature over the tag manifest with the public key
in the bundle (and, if given, that key's fingerprint), the PDF's own signature, the custody
chain in the bundle up to the head stated in bag-info, that every listed exhibit has its intake
event in that chain, and that the findings describe the same case state. BagIt's own validator
runs as a second opinion.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import bagit
from cryptography.exceptions import InvalidSignature

from ..ingest.custody import HEX64, CustodyLog, verify_chain
from ..ingest.hashing import sha256_file
from . import render, signing
from .bundle import CERT, SIGNATURE

HEX128 = re.compile(rb"[0-9a-f]{128}\n")


@dataclass
class BundleVerdict:
    bundle: Path
    fingerprint: str | None = None
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _manifest(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, _, name = line.partition(" ")
            out[name.strip().lstrip("*")] = digest.lower()
    return out


def _check_manifest(root: Path, name: str, v: BundleVerdict) -> dict[str, str]:
    path = root / name
    if not path.is_file():
        v.problems.append(f"{name} is missing")
        return {}
    try:
        listed = _manifest(path)
    except UnicodeDecodeError as e:
        v.problems.append(f"{name} is damaged: byte 0x{e.object[e.start]:02X} at offset {e.start} is not UTF-8")
        return {}
    for rel, digest in sorted(listed.items()):
        f = root / rel
        if ".." in Path(rel).parts or not f.resolve().is_relative_to(root.resolve()):
            v.problems.append(f"{name} lists a path outside the bundle: {rel}")
        elif not f.is_file():
            v.problems.append(f"{rel} is missing (listed in {name})")
        elif sha256_file(f) != digest:
            v.problems.append(f"{rel} was altered: its SHA-256 is not the one in {name}")
    return listed


def verify_bundle(bundle: Path, expect_key: str | None = None) -> BundleVerdict:
    root = Path(bundle)
    v = BundleVerdict(root)
    if not (root / "bagit.txt").is_file():
        v.problems.append(f"{root}: not a bundle (no bagit.txt)")
        return v
    # 1. every file against the manifests
    payload = _check_manifest(root, "manifest-sha256.txt", v)
    tags = _check_manifest(root, "tagmanifest-sha256.txt", v)
    for required in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt"):
        if (root / "tagmanifest-sha256.txt").is_file() and required not in tags:
            v.problems.append(f"tagmanifest-sha256.txt does not cover {required}")
    for f in sorted((root / "data").rglob("*")) if (root / "data").is_dir() else []:
        rel = f.relative_to(root).as_posix()
        if f.is_file() and rel not in payload:
            v.problems.append(f"{rel} is not listed in manifest-sha256.txt (file added)")
    v.checked.append(f"{len(payload)} payload files and {len(tags)} tag files against their SHA-256 manifests")
    # 2. the signature over the tag manifest
    cert_pem = (root / "data" / CERT).read_bytes() if (root / "data" / CERT).is_file() else None
    if cert_pem is None:
        v.problems.append(f"data/{CERT} (the signer's certificate) is missing")
    else:
        try:
            public = signing.cert_public_key(cert_pem)
            v.fingerprint = signing.fingerprint(public)
            text = (root / SIGNATURE).read_bytes()
            if not HEX128.fullmatch(text):  # exactly as written: the file is outside the signed manifests
                raise ValueError("the signature file is not 128 lowercase hex digits and a newline")
            sig = bytes.fromhex(text.decode())
            public.verify(sig, (root / "tagmanifest-sha256.txt").read_bytes())
            v.checked.append(f"Ed25519 signature over the tag manifest (key {v.fingerprint})")
        except FileNotFoundError as e:
            v.problems.append(f"{Path(e.filename).name} is missing: the bundle cannot be authenticated")
        except InvalidSignature:
            v.problems.append(f"{SIGNATURE}: the signature does not match tagmanifest-sha256.txt (manifests altered or re-made)")
        except ValueError as e:
            v.problems.append(f"{SIGNATURE} or data/{CERT} is damaged: {e}")
        if expect_key and v.fingerprint and v.fingerprint != expect_key.lower():
            v.problems.append(f"signed by key {v.fingerprint}, not the expected {expect_key}")
        # 3. the PDF's own signature
        pdf = root / "data" / "report.pdf"
        if pdf.is_file() and v.fingerprint is None:
            v.problems.append(f"data/report.pdf: its signature cannot be checked (the signer's certificate is unreadable)")
        elif pdf.is_file():
            ok, why = render.verify_pdf_signature(pdf.read_bytes(), cert_pem)
            (v.checked if ok else v.problems).append(f"data/report.pdf: {why}")
    # 4. the custody chain, the exhibits and the findings against the stated case state
    info = _bag_info(root, v)
    head = info.get("Casegraph-Custody-Head", "").split()
    redacted = info.get("Casegraph-Redacted") == "yes"
    custody = root / "data" / "custody.jsonl"
    if len(head) == 2 and not (head[0].isascii() and head[0].isdigit() and HEX64.fullmatch(head[1])):
        v.problems.append(f"bag-info.txt: Casegraph-Custody-Head {' '.join(head)!r} is not a custody head (SEQ SHA-256)")
    elif custody.is_file() and len(head) == 2:
        events, problems = verify_chain(CustodyLog(custody), (int(head[0]), head[1]), redacted_ok=redacted)
        v.problems += [f"data/custody.jsonl: {p}" for p in problems]
        if events and max(e["seq"] for e in events) != int(head[0]):
            v.problems.append(f"data/custody.jsonl ends at seq {max(int(e['seq']) for e in events)}, bag-info states {head[0]}")
        withheld = sum(1 for e in events if e.get("redacted") is True)
        if withheld and not redacted:
            v.problems.append(f"data/custody.jsonl: {withheld} event(s) flagged redacted in a bundle that is not a redacted copy")
        elif withheld:
            v.notes.append(f"{withheld} custody event(s) name a protected person and are pseudonymised in this copy; their links "
                           "were checked, their own hashes can only be recomputed against the case's unredacted log")
        v.checked.append(f"custody chain of {len(events)} events up to seq {head[0]}")
        intakes = {o.get("sha256") for e in events if e.get("action") == "intake" for o in e.get("outputs", [])}
        try:
            exhibits = json.loads((root / "data" / "exhibits.json").read_text(encoding="utf-8"))
            missing = [e["exhibit_id"] + " " + str(e["original_name"]) for e in exhibits if e["sha256"] not in intakes]
            if missing:
                v.problems.append(f"data/exhibits.json lists exhibit(s) with no intake event in the custody chain: {', '.join(missing)}")
            v.checked.append(f"{len(exhibits)} exhibits each have their intake event in the chain")
        except (OSError, ValueError, KeyError, TypeError) as e:
            v.problems.append(f"data/exhibits.json cannot be read: {e}")
        try:
            as_of = json.loads((root / "data" / "findings.json").read_text(encoding="utf-8"))["as_of"]
            if [str(as_of["seq"]), as_of["hash"]] != head:
                v.problems.append("data/findings.json describes a different case state than bag-info.txt")
        except (OSError, ValueError, KeyError, TypeError) as e:
            v.problems.append(f"data/findings.json cannot be read: {e}")
    elif not custody.is_file():
        v.problems.append("data/custody.jsonl is missing")
    else:
        v.problems.append("bag-info.txt does not state the custody head (Casegraph-Custody-Head)")
    # 5. BagIt's own validator, as a second opinion
    try:
        bagit.Bag(str(root)).validate(processes=1)
    except bagit.BagError as e:
        details = "; ".join(str(d) for d in getattr(e, "details", []) or []) or str(e)
        if not v.problems:
            v.problems.append(f"BagIt validation failed: {details}")
    except (ValueError, OSError) as e:  # the second opinion failing on damaged tag files: the checks above name them
        if not v.problems:
            v.problems.append(f"BagIt validation failed: {type(e).__name__}: {e}")
    return v


def _bag_info(root: Path, v: BundleVerdict) -> dict[str, str]:
    out = {}
    try:
        for line in (root / "bag-info.txt").read_text(encoding="utf-8").splitlines():
            k, _, val = line.partition(":")
            out[k.strip()] = val.strip()
    except OSError:
        v.problems.append("bag-info.txt is missing")
    except UnicodeDecodeError as e:
        v.problems.append(f"bag-info.txt is damaged: byte 0x{e.object[e.start]:02X} at offset {e.start} is not UTF-8")
    return out
