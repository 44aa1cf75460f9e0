"""Victim protection for reports: the Redactor lives in casegraph.redact (findings level, shared with
the graph exports); re-exported here under its old name."""

from ..redact import PROTECTED as PROTECTED
from ..redact import Redactor as Redactor
from ..redact import _walk as _walk
