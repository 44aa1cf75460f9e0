"""The investigator's workspace (`casegraph serve`): a local web layer over the same library calls as
the CLI. Routes live in one module per view under `views/`; this package holds only the plumbing
(auth, CSRF, headers, rendering, redaction for reviewers) and no analysis of its own."""

from .app import create_app
from .workspace import Workspace

__all__ = ["Workspace", "create_app"]
