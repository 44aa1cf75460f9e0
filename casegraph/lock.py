"""The case lock: one writer at a time, taken before anything else is read or copied.

A `.casegraph.lock` file in the case directory is locked with flock: exclusively by a command
that changes the case, shared by one that only looks. The kernel drops the lock when its process
ends, however it ends, so a killed command never leaves the case locked. The holder writes who it
is (command, pid, host, user, since when) into the file, so a second examiner is told exactly what
they are waiting for; with `wait` they queue behind it instead of failing.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import os
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from .errors import CaseGraphError

LOCK_FILE = ".casegraph.lock"
POLL = 0.2  # seconds between tries while waiting


class CaseBusy(CaseGraphError):
    code = 1


class CaseLock:
    def __init__(self, root: Path, command: str, shared: bool = False):
        self.path = Path(root) / LOCK_FILE
        self.command, self.shared = command, shared
        self._fd: int | None = None

    def acquire(self, wait: float = 0, on_wait: Callable[[str], None] | None = None) -> CaseLock:
        """Lock now, or within `wait` seconds (polling), else raise CaseBusy naming the holder."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        mode = (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB
        deadline, told = time.monotonic() + max(wait, 0), False
        while True:
            try:
                fcntl.flock(fd, mode)
                break
            except BlockingIOError:
                holder = self.holder()
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise CaseBusy(
                        f"{self.path.parent}: case in use by {holder}; "
                        + (
                            "still busy after waiting " + f"{wait:g} s"
                            if wait > 0
                            else "wait for it to finish, or queue behind it with 'casegraph --wait SECONDS ...'"
                        )
                    ) from None
                if on_wait and not told:
                    on_wait(f"waiting for {holder}")
                    told = True
                time.sleep(POLL)
        self._fd = fd
        if not self.shared:  # the exclusive holder says who it is (readers leave the writer's note alone)
            note = {
                "command": self.command,
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "user": _user(),
                "since": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(note) + "\n").encode(), 0)
        return self

    def holder(self) -> str:
        """Who holds the lock, as the holder wrote it ('another casegraph command' if it wrote nothing yet)."""
        try:
            note = json.loads(self.path.read_text(encoding="utf-8") or "null")
            if note["host"] == socket.gethostname() and not _alive(int(note["pid"])):
                raise ValueError("a note left by a process that has ended: the holders now are readers")
            return (
                f"'{note['command']}' (pid {note['pid']} on {note['host']}, user {note['user']}, "
                f"since {note['since'].replace('T', ' ').replace('+00:00', ' UTC')})"
            )
        except (OSError, ValueError, KeyError, TypeError):
            return "another casegraph command (shared readers, or a holder that has not written its name yet)"

    def release(self) -> None:
        if self._fd is not None:
            if not self.shared:
                os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
