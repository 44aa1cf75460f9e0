"""Streaming hashes: evidence is read once, in chunks, whatever its size."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20


@dataclass(frozen=True)
class Digest:
    sha256: str
    md5: str
    size: int


def digest_stream(src: BinaryIO, sink: BinaryIO | None = None) -> Digest:
    """SHA-256 and MD5 of a stream in one pass, optionally copying the bytes to `sink`."""
    sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    while chunk := src.read(CHUNK):
        sha.update(chunk)
        md5.update(chunk)
        size += len(chunk)
        if sink is not None:
            sink.write(chunk)
    return Digest(sha.hexdigest(), md5.hexdigest(), size)


def sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
