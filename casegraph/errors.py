"""The one exception base for what the examiner can fix: a broken case folder, a busy case, an
exhibit that cannot be taken in. The CLI prints these as one line (no traceback) and exits with
`code`; everything that is a bug in casegraph stays a normal exception."""

from __future__ import annotations


class CaseGraphError(Exception):
    """An error the user can act on. The message names the file concerned and the fix."""

    code = 2  # exit status: 2 usage / case folder, 1 a check or operation that failed

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code
