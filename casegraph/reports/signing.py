"""The examiner's signing key (Ed25519) and its self-signed X.509 certificate.

One key per case by default (`<case>/keys/signing-ed25519.pem`), made on first use and logged
in the custody chain with its fingerprint; an examiner's own key can be given instead. The
certificate only carries the public key and the examiner's name into the PDF signature and the
bundle; trust comes from comparing the fingerprint with the one the examiner states (the report
prints it, `verify --expect-key` checks it). Ed25519 signatures are deterministic, so the same
bytes signed twice give the same signature (reproducible bundles).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import NameOID

KEY_FILE = Path("keys") / "signing-ed25519.pem"


@dataclass(frozen=True)
class Signer:
    key: Ed25519PrivateKey
    cert: x509.Certificate

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key.public_key())

    def sign(self, data: bytes) -> bytes:
        return self.key.sign(data)

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def fingerprint(public: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, hex: what the examiner quotes to the court."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def load_or_create(path: Path) -> tuple[Ed25519PrivateKey, bool]:
    """The key in `path` (PEM, PKCS#8, unencrypted), made there (mode 0600) if absent."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path}: not an Ed25519 private key")
        return key, False
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return key, True


def certificate(key: Ed25519PrivateKey, examiner: str, agency: str, not_before: datetime) -> x509.Certificate:
    """A self-signed certificate for `key`, valid ten years from `not_before` (fixed by the case,
    so the certificate, like the signature, is the same every time)."""
    name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, examiner or "examiner")]
        + ([x509.NameAttribute(NameOID.ORGANIZATION_NAME, agency[:64])] if agency else [])
    )
    serial = int(fingerprint(key.public_key())[:30], 16)
    start = not_before.astimezone(UTC).replace(microsecond=0)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, None)
    )


def cert_public_key(pem: bytes) -> Ed25519PublicKey:
    key = x509.load_pem_x509_certificate(pem).public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the signer certificate does not hold an Ed25519 key")
    return key


def cert_subject(pem: bytes) -> str:
    """The name the certificate claims (CN, O): shown next to the fingerprint, never trusted for itself."""
    subject = x509.load_pem_x509_certificate(pem).subject
    parts = [a.value for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME) for a in subject.get_attributes_for_oid(oid)]
    return ", ".join(str(p) for p in parts) or "no name"


def case_fingerprints(root: Path, events) -> dict[str, str]:
    """The keys a case knows as its own: the key in CASE/keys/ and the keys its custody log records as
    made for it (fingerprint → where that is written). For `verify --case`. A key merely used once
    with --key is not among them: list an examiner's own key in a trusted-keys file."""
    out: dict[str, str] = {}
    for ev in events:
        fpr = (ev.get("details") or {}).get("fingerprint") if isinstance(ev, dict) else None
        if isinstance(fpr, str) and ev.get("action") == "signing-key-created":
            out.setdefault(fpr.lower(), f"the case's custody log (signing-key-created, seq {ev.get('seq')})")
    key_file = Path(root) / KEY_FILE
    if key_file.is_file():
        try:
            key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
            if isinstance(key, Ed25519PrivateKey):
                out[fingerprint(key.public_key())] = f"the case's own key ({KEY_FILE})"
        except (ValueError, TypeError):
            pass
    return out
