"""Moved to `casegraph/archive.py`: parsers and ingest both read archives, so it lives below both.
These names stay importable from here for existing callers."""

from ..archive import DEFAULT_LIMITS as DEFAULT_LIMITS
from ..archive import ArchiveError as ArchiveError
from ..archive import Limits as Limits
from ..archive import Member as Member
from ..archive import SafeArchive as SafeArchive
from ..archive import archive_kind as archive_kind
from ..archive import is_archive as is_archive
from ..archive import is_archive_file as is_archive_file
from ..archive import safe_name as safe_name
