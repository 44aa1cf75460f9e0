"""Moved to `casegraph/hashing.py`: parsers and ingest both hash streams, so it lives below both.
These names stay importable from here for existing callers."""

from ..hashing import CHUNK as CHUNK
from ..hashing import Digest as Digest
from ..hashing import digest_stream as digest_stream
from ..hashing import sha256_file as sha256_file
