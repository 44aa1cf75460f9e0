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

from ..errors import CaseGraphError
from ..ingest.custody import HEX64, CustodyLog, verify_chain
from ..ingest.hashing import sha256_file
from ..wording import plural, verb
from . import render, signing
from .bundle import CERT, PAYLOAD, SIGNATURE, TAG_FILES

HEX128 = re.compile(rb"[0-9a-f]{128}\n")


@dataclass
class BundleVerdict:
    bundle: Path
    fingerprint: str | None = None
    signer: str | None = None  # the name in the signer's certificate (what the key claims, not proof)
    trusted_as: str | None = None  # the trust entry that names the key, when one does
    trust_given: bool = False  # a trust list or an expected key was given
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Complete and unaltered as signed (whoever signed it: see `verdict`)."""
        return not self.problems

    @property
    def verdict(self) -> str:
        """VERIFIED only for an intact bundle signed by a trusted key. Anyone can make an intact,
        signed bundle with a key of their own: without a trusted key that is UNTRUSTED SIGNER."""
        if self.problems:
            return "NOT VERIFIED"
        return "VERIFIED" if self.trusted_as else "UNTRUSTED SIGNER"


def load_trusted_keys(path: Path) -> dict[str, str]:
    """A trust file: one examiner key per line, `FINGERPRINT  who` (SHA-256 of the Ed25519 public key,
    64 hex digits, as the report and the bundle print it); blank lines and `#` comments ignored."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise CaseGraphError(f"{path}: the trusted-keys file cannot be read ({e})") from e
    keys = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fpr, _, who = line.partition(" ")
        if not _FINGERPRINT.fullmatch(fpr.lower()):
            raise CaseGraphError(
                f"{path} line {n}: not a key fingerprint ({fpr[:70]!r}); each line is 64 hex digits "
                "then the examiner's name, e.g. the fingerprint a report prints"
            )
        keys[fpr.lower()] = f"{who.strip() or 'unnamed'} ({path.name} line {n})"
    if not keys:
        raise CaseGraphError(f"{path}: the trusted-keys file lists no key")
    return keys


_FINGERPRINT = re.compile(r"[0-9a-f]{64}")


def _manifest(path: Path, v: BundleVerdict) -> dict[str, str]:
    out = {}
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        v.problems.append(f"{path.name} is not UTF-8 text (damaged)")
        return out
    for line in text.splitlines():
        if line.strip():
            digest, _, name = line.partition(" ")
            name = name.strip().lstrip("*")
            if name in out:  # which of two checksums would count? (RFC 8493: each file listed once)
                v.problems.append(f"{path.name} lists {name} twice")
            out[name] = digest.lower()
    return out


def _check_manifest(root: Path, name: str, v: BundleVerdict) -> dict[str, str]:
    path = root / name
    if not path.is_file():
        v.problems.append(f"{name} is missing")
        return {}
    listed = _manifest(path, v)
    for rel, digest in sorted(listed.items()):
        f = root / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute() or not f.resolve().is_relative_to(root.resolve()):
            v.problems.append(f"{name} lists a path outside the bundle: {rel}")
        elif f.is_symlink():
            v.problems.append(f"{rel} is a symbolic link: a bundle holds only files")
        elif not f.is_file():
            v.problems.append(f"{rel} is missing (listed in {name})")
        elif sha256_file(f) != digest:
            v.problems.append(f"{rel} was altered: its SHA-256 is not the one in {name}")
    return listed


def _check_contents(root: Path, payload: dict[str, str], tags: dict[str, str], v: BundleVerdict) -> None:
    """The bundle's own files are all there and sealed, and nothing else is in the bag."""
    for name in TAG_FILES:
        if not (root / name).is_file():
            if name not in ("manifest-sha256.txt", "tagmanifest-sha256.txt"):  # those two are named above
                v.problems.append(f"{name} is missing: every bundle has it")
        elif (
            name in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt")
            and (root / "tagmanifest-sha256.txt").is_file()
            and name not in tags
        ):
            v.problems.append(f"tagmanifest-sha256.txt does not cover {name}")
    for name in PAYLOAD:
        rel = f"data/{name}"
        if not (root / rel).is_file():
            if rel not in payload:  # else already named as missing from its manifest
                v.problems.append(
                    f"{rel} is missing: every bundle has it (manifest-sha256.txt does not list it either: "
                    "the manifests were re-made without it)"
                )
        elif rel not in payload:
            v.problems.append(f"{rel} is not listed in manifest-sha256.txt: it is not sealed by the signature")
    sealed = set(payload) | set(tags) | {"tagmanifest-sha256.txt", SIGNATURE}
    for f in sorted(root.rglob("*")):
        rel = f.relative_to(root).as_posix()
        if f.is_symlink():
            if rel not in sealed:
                v.problems.append(f"{rel} is a symbolic link, not part of the bundle (added)")
        elif f.is_dir():
            if rel != "data" and not any(k.startswith(rel + "/") for k in sealed):
                v.problems.append(f"{rel}/ is a folder that is not part of the bundle (added)")
        elif rel not in sealed:
            where = "manifest-sha256.txt" if rel.startswith("data/") else "any manifest"
            v.problems.append(f"{rel} is not listed in {where} (file added)")
    extra = sorted(set(tags) - set(TAG_FILES))
    if extra:
        v.notes.append(f"tag file(s) sealed by the signature but not written by casegraph: {', '.join(extra)}")


def verify_bundle(bundle: Path, expect_key: str | None = None, trusted: dict[str, str] | None = None) -> BundleVerdict:
    """Check a bundle. `trusted` (fingerprint → who, see `load_trusted_keys`) and `expect_key` say which
    signers are trusted; with neither, an intact bundle's verdict is UNTRUSTED SIGNER."""
    root = Path(bundle)
    trust = dict(trusted or {})
    if expect_key:
        trust[expect_key.strip().lower()] = "the expected key (--expect-key)"
    v = BundleVerdict(root, trust_given=bool(trust))
    if not (root / "bagit.txt").is_file():
        v.problems.append(f"{root}: not a bundle (no bagit.txt)")
        return v
    # 1. every file against the manifests, the bundle's own files present, nothing else in the bag
    payload = _check_manifest(root, "manifest-sha256.txt", v)
    tags = _check_manifest(root, "tagmanifest-sha256.txt", v)
    _check_contents(root, payload, tags, v)
    v.checked.append(
        f"{len(payload)} payload files and {len(tags)} tag files against their SHA-256 manifests; "
        f"the {len(PAYLOAD)} files every bundle holds, and that nothing else is in the bag"
    )
    # 2. the signature over the tag manifest, and who made it
    cert_pem = (root / "data" / CERT).read_bytes() if (root / "data" / CERT).is_file() else None
    if cert_pem is None:
        v.problems.append(f"data/{CERT} (the signer's certificate) is missing")
    else:
        try:
            public = signing.cert_public_key(cert_pem)
            v.fingerprint = signing.fingerprint(public)
            v.signer = signing.cert_subject(cert_pem)
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
        except (ValueError, UnicodeDecodeError) as e:
            v.problems.append(f"{SIGNATURE} or data/{CERT} is damaged: {e}")
        _check_signer(root, v, trust, expect_key)
        # 3. the PDF's own signature
        pdf = root / "data" / "report.pdf"
        if pdf.is_file() and v.fingerprint is None:
            v.problems.append("data/report.pdf: its signature cannot be checked (the signer's certificate is unreadable)")
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
            v.problems.append(f"data/custody.jsonl: {plural(withheld, 'event')} flagged redacted in a bundle that is not a redacted copy")
        elif withheld:
            v.notes.append(
                f"{plural(withheld, 'custody event')} {verb(withheld, 'names', 'name')} a protected person and "
                f"{verb(withheld, 'is', 'are')} pseudonymised in this copy; their links "
                "were checked, their own hashes can only be recomputed against the case's unredacted log"
            )
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
    if (root / "data" / "viewer").is_dir():  # the portable case viewer, when the bundle has one
        from .viewer import check as check_viewer

        found = check_viewer(root / "data", head)
        v.problems += found
        if not found:
            v.checked.append(f"the case viewer (data/viewer/) shows the case state of custody event {head[0]}, its files as listed")
    # 5. BagIt's own validator, as a second opinion
    try:
        bagit.Bag(str(root)).validate(processes=1)
    except bagit.BagError as e:
        details = "; ".join(str(d) for d in getattr(e, "details", []) or []) or str(e)
        if not v.problems:
            v.problems.append(f"BagIt validation failed: {details}")
    except Exception as e:  # the second opinion chokes on a damaged tag file (bytes not UTF-8): a finding, not a crash
        if not v.problems:
            v.problems.append(f"BagIt validation could not read the bag: {type(e).__name__}: {e}")
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


def _check_signer(root: Path, v: BundleVerdict, trust: dict[str, str], expect_key: str | None) -> None:
    """The key the bundle states is the one that signed it, and whether it is a trusted examiner's."""
    if v.fingerprint is None:
        return
    try:
        info = _bag_info(root, BundleVerdict(root))
    except ValueError:  # not UTF-8: the tag manifest check names bag-info.txt as altered
        info = {}
    stated = info.get("Casegraph-Signer", "").lower()
    if stated and stated != v.fingerprint:
        v.problems.append(f"bag-info.txt names signer key {stated}, but the bundle is signed by key {v.fingerprint}")
    readme = root / "data" / "README.txt"
    if readme.is_file() and v.fingerprint not in readme.read_text(encoding="utf-8", errors="replace"):
        v.problems.append(f"data/README.txt does not state the signing key {v.fingerprint}")
    if v.fingerprint in trust:
        v.trusted_as = trust[v.fingerprint]
        v.checked.append(f"signer key {v.fingerprint} is trusted: {v.trusted_as}")
    elif expect_key and len(trust) == 1:
        v.problems.append(f"signed by key {v.fingerprint}, not the expected {expect_key}")
    elif trust:
        v.problems.append(
            f"UNTRUSTED SIGNER: signed by key {v.fingerprint} ({v.signer or 'no name'}), which is not "
            f"one of the {plural(len(trust), 'trusted examiner key')} given"
        )
