"""Local workspace accounts: argon2-hashed passwords and a role (examiner may write, reviewer only reads).

They live in the case directory (`workspace-users.json`, readable by its owner only), because the
people allowed into a case belong to the case. Adding or removing an account is logged in custody;
the hash never is."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..errors import CaseGraphError

if TYPE_CHECKING:
    from ..case import Case

USERS_FILE = "workspace-users.json"
ROLES = ("examiner", "reviewer")
MIN_PASSWORD = 10
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._@'-]{0,63}")
_hasher = PasswordHasher()  # argon2id with the library's current defaults


class UserError(CaseGraphError):
    """An account that cannot be added, removed or used as asked."""


@dataclass(frozen=True)
class User:
    name: str
    role: str

    @property
    def may_write(self) -> bool:
        return self.role == "examiner"


def _path(root: Path) -> Path:
    return Path(root) / USERS_FILE


def _load(root: Path) -> dict[str, dict[str, str]]:
    p = _path(root)
    if not p.is_file():
        return {}
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise UserError(f"{p}: not valid JSON ({e}); restore it from your backup or remove it and add the accounts again") from e
    if not isinstance(data, dict) or not all(isinstance(v, dict) and {"role", "hash"} <= v.keys() for v in data.values()):
        raise UserError(f"{p}: not a workspace accounts file; restore it from your backup")
    return data


def _save(root: Path, data: dict[str, dict[str, str]]) -> None:
    p = _path(root)
    tmp = p.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.replace(tmp, p)


def users(root: Path) -> list[User]:
    return [User(n, v["role"]) for n, v in sorted(_load(root).items())]


def add_user(case: Case, name: str, role: str, password: str, actor: str | None = None) -> User:
    """Add (or re-set the password and role of) an account; logged in custody without the hash."""
    if not _NAME.fullmatch(name):
        raise UserError(f"account name {name!r}: letters, digits, space and . _ @ ' - only (at most 64)")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password must be at least {MIN_PASSWORD} characters")
    data = _load(case.root)
    existed = name in data
    data[name] = {"role": role, "hash": _hasher.hash(password)}
    _save(case.root, data)
    case.log("workspace-user-" + ("reset" if existed else "add"), actor=actor, details={"user": name, "role": role})
    return User(name, role)


def remove_user(case: Case, name: str, actor: str | None = None) -> None:
    data = _load(case.root)
    if name not in data:
        raise UserError(f"no workspace account {name!r} (see 'casegraph serve-users list')")
    role = data.pop(name)["role"]
    _save(case.root, data)
    case.log("workspace-user-remove", actor=actor, details={"user": name, "role": role})


def check(root: Path, name: str, password: str) -> User | None:
    """The account when the password is right, else None (an unknown name costs one hash too)."""
    entry = _load(root).get(name)
    try:
        _hasher.verify(entry["hash"] if entry else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    return User(name, entry["role"]) if entry else None


_DUMMY = _hasher.hash("not a password of anyone's")
