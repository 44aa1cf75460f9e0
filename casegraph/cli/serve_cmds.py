"""casegraph serve (the investigator's workspace) and serve-users (its local accounts)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import click

from ._ui import console, emit, esc, fail, open_case, output_options

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("serve")
@click.argument("case", type=click.Path(exists=True, file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; any but loopback requires accounts.")
@click.option("--port", default=8750, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free one).")
@click.option("--read-only", is_flag=True, help="Refuse every write (tags, verdicts, merges, marks) at the API.")
@click.option("--accounts", is_flag=True, help="Log in with workspace accounts (serve-users) even on 127.0.0.1.")
@click.option("--examiner", default=None, help="Who the token admits (default: $CASEGRAPH_EXAMINER or the case examiner).")
@click.option(
    "--model",
    "model",
    default=None,
    type=click.Path(exists=True, file_okay=False),
    help="A local sentence-embedding model folder (transformers), for Search's embeddings as 'casegraph search --model'.",
)
def serve(case, host, port, read_only, accounts, examiner, model) -> None:
    """Open the case in a local, offline web workspace.

    Conversations, search, people, graph, money, timeline, map, review, source and report.

    On 127.0.0.1 it prints an address with a random token; without it nothing is served. Any other
    address requires local accounts (add them with 'casegraph serve-users add'). Every action goes
    through the same library call as the CLI and into the custody log with the user's name. The case
    stays locked for the server's life (shared with --read-only, so other read-only commands still run)."""
    import uvicorn

    from ..serve import Workspace, create_app
    from ..serve.users import users

    accounts = accounts or not _loopback(host)
    if accounts and not users(Path(case)):
        fail(
            f"serving on {host} needs workspace accounts and {case} has none: add one with "
            f"'casegraph serve-users add {case} NAME --role examiner' (or serve on 127.0.0.1 with the token)"
        )
    from ..ai.models import ModelError

    try:
        ws = Workspace(case, read_only=read_only, accounts=accounts, examiner=examiner, model=model)
    except ModelError as e:
        fail(str(e))
    allowed = () if host in ("0.0.0.0", "::") else tuple({host, *LOOPBACK})
    app = create_app(ws, allowed_hosts=allowed)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off")
    shown = f"[{host}]" if ":" in host else host
    mode = "read-only" if read_only else "writable"

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            if self.should_exit:
                return
            bound = self.servers[0].sockets[0].getsockname()[1] if self.servers else port
            if accounts:
                console.print(f"casegraph workspace ({mode}) on http://{shown}:{bound}/ : log in with a workspace account")
            else:
                console.print(
                    f"casegraph workspace ({mode}, as {esc(ws.examiner)}): http://{shown}:{bound}/?token={ws.token}", soft_wrap=True
                )
            console.print("Press Ctrl+C to stop.")

    try:
        Server(config).run()
    finally:
        ws.close()


@click.group("serve-users")
def serve_users() -> None:
    """Workspace accounts of a case: examiners and reviewers.

    Examiners may write; reviewers only read, with victims redacted."""


@serve_users.command("add")
@click.argument("case", type=click.Path(exists=True, file_okay=False))
@click.argument("name")
@click.option("--role", type=click.Choice(["examiner", "reviewer"]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (one line) instead of asking.")
def users_add(case, name, role, password_stdin) -> None:
    """Add an account, or set its password and role anew.

    Logged in custody (never the password's hash)."""
    import sys

    from ..serve.users import add_user

    password = (
        sys.stdin.readline().rstrip("\r\n") if password_stdin else click.prompt("Password", hide_input=True, confirmation_prompt=True)
    )
    with open_case(case) as c:
        u = add_user(c, name, role, password)
    console.print(f"workspace account {esc(u.name)}: {u.role}")


@serve_users.command("list")
@click.argument("case", type=click.Path(exists=True, file_okay=False))
@output_options()
def users_list(case, fmt) -> None:
    """The workspace accounts and their roles."""
    from ..serve.users import users

    rows = users(case)
    emit(fmt, "Workspace accounts", ["account", "role"], [(u.name, u.role) for u in rows])


@serve_users.command("remove")
@click.argument("case", type=click.Path(exists=True, file_okay=False))
@click.argument("name")
def users_remove(case, name) -> None:
    """Remove an account (logged in custody)."""
    from ..serve.users import remove_user

    with open_case(case) as c:
        remove_user(c, name)
    console.print(f"workspace account {esc(name)} removed")


@click.command("search-index")
@click.argument("case", type=click.Path(exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="Build it again even when it matches the case store.")
def search_index(case, force) -> None:
    """Build the workspace's full-text index (logged in custody).

    search-index.sqlite in the case: messages, OCR text, contacts and transaction narrations, as
    written and by sound."""
    from ..textsearch import build, status

    with open_case(case) as c:
        st = status(c)
        if st["fresh"] and not force:
            console.print(f"the full-text index is up to date ({st['docs']:,} records)")
            return
        out = build(c)
    by = ", ".join(f"{n:,} {t.replace('_', ' ')}" for t, n in out["by_table"].items())
    console.print(f"full-text index built: {out['docs']:,} records ({by}); SHA-256 {out['sha256']}")


COMMANDS = [serve, serve_users, search_index]
