"""Optional dependencies: large packages that one command each needs (see pyproject's extras).
`bash scripts/bootstrap.sh` installs them all; a plain `pip install casegraph` does not, and the
command that needs one then stops with one line naming the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import CaseGraphError


class MissingExtra(CaseGraphError, ImportError):
    """A command needs a package from one of casegraph's optional extras that is not installed. A
    CaseGraphError, so the CLI prints it as one line; still an ImportError for callers that fall back."""

    code = 1


def need(module: str, extra: str, what: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingExtra(
            f"{what} needs {module}, which is in casegraph's optional '{extra}' extra: "
            f"pip install 'casegraph[{extra}]' (bash scripts/bootstrap.sh installs every extra)"
        ) from e
