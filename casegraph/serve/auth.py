"""Who may see the workspace, and what every response carries.

- Token mode (the default, on 127.0.0.1): `casegraph serve` prints an address with a random token.
  Opening it sets a session cookie (HttpOnly, SameSite=Strict) and drops the token from the address;
  an HTTP client may send `Authorization: Bearer TOKEN` instead. The token admits the examiner who
  started the server.
- Accounts mode (required on any other address): users log in with a local account (see `users`).
- Without a session nothing is served, not even static files; only the login page in accounts mode.
- Every unsafe method (POST, PUT, PATCH, DELETE) from a browser session must carry the session's CSRF
  token in `X-CSRF-Token`, and an Origin, when sent, must be this server's own.
- Every response carries a Content-Security-Policy allowing nothing but this origin.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from html import escape
from urllib.parse import parse_qs, urlencode

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import users
from .users import User
from .workspace import Workspace

COOKIE = "casegraph_session"
IDLE = 12 * 3600  # seconds a session lives unused
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
MAX_LOGIN_BODY = 4096

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "cache-control": "no-store",  # case data is not to be kept in the browser's disk cache
}


@dataclass
class Session:
    user: User
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    id: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    seen: float = field(default_factory=time.monotonic)
    bearer: bool = False  # an API client with the token in a header: no cookie, so no CSRF to fear


class Sessions:
    def __init__(self) -> None:
        self._by_id: dict[str, Session] = {}
        self._lock = threading.Lock()

    def new(self, user: User) -> Session:
        s = Session(user)
        with self._lock:
            self._by_id[s.id] = s
        return s

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        with self._lock:
            s = self._by_id.get(sid)
            if s is None:
                return None
            if time.monotonic() - s.seen > IDLE:
                del self._by_id[sid]
                return None
            s.seen = time.monotonic()
            return s

    def drop(self, sid: str | None) -> None:
        with self._lock:
            self._by_id.pop(sid or "", None)


def token_user(ws: Workspace) -> User:
    # the examiner who started the server; --read-only takes away writes (Ctx.may_write), not the unredacted view
    return User(ws.examiner, "examiner")


def _same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.encode(), b.encode())


def _origin_ok(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:  # not every client sends it; the CSRF token is the guard then
        return True
    host = request.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


def _cookie(response: Response, sid: str) -> Response:
    response.set_cookie(COOKIE, sid, httponly=True, samesite="strict", path="/")
    return response


class Gate:
    """ASGI middleware: admits a request or answers it (401, 403, the login page), and adds HEADERS."""

    def __init__(self, app: ASGIApp, ws: Workspace, sessions: Sessions, allowed_hosts: tuple[str, ...] = ()):
        self.app, self.ws, self.sessions, self.allowed_hosts = app, ws, sessions, allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                for k, v in HEADERS.items():
                    h[k] = v
            await send(message)

        request = Request(scope, receive)
        answer = await self._check(request, scope)
        if answer is not None:
            await answer(scope, receive, send_with_headers)
        else:
            await self.app(scope, receive, send_with_headers)

    async def _check(self, request: Request, scope: Scope) -> Response | None:
        if self.allowed_hosts and request.headers.get("host", "").rsplit(":", 1)[0].strip("[]") not in self.allowed_hosts:
            return PlainTextResponse("unknown host", 400)  # a DNS-rebound name is not this server
        path = request.url.path
        if self.ws.accounts and path == "/login":
            return await self._login(request)
        session = self.sessions.get(request.cookies.get(COOKIE))
        if session is None and not self.ws.accounts:
            token = request.query_params.get("token")
            if token is not None:
                if not _same(token, self.ws.token):
                    return PlainTextResponse("wrong token", 401)
                session = self.sessions.new(token_user(self.ws))
                rest = {k: v for k, v in request.query_params.multi_items() if k != "token"}
                target = path + ("?" + urlencode(rest) if rest else "")
                return _cookie(RedirectResponse(target, 303), session.id)
            auth = request.headers.get("authorization", "")
            if auth.startswith("Bearer ") and _same(auth[7:].strip(), self.ws.token):
                session = Session(token_user(self.ws), bearer=True)
        if session is None:
            if self.ws.accounts and request.method == "GET" and "text/html" in request.headers.get("accept", ""):
                return RedirectResponse("/login", 303)
            return PlainTextResponse(
                "casegraph workspace: log in first" if self.ws.accounts else "casegraph workspace: open the address printed with its token",
                401,
            )
        if request.method in UNSAFE and not session.bearer:
            if not _origin_ok(request):
                return PlainTextResponse("refused: a write from another origin", 403)
            if not _same(request.headers.get("x-csrf-token"), session.csrf):
                return PlainTextResponse("refused: missing or wrong CSRF token (reload the page)", 403)
        if path == "/logout" and request.method == "POST":
            self.sessions.drop(session.id)
            response = RedirectResponse("/login" if self.ws.accounts else "/", 303)
            response.delete_cookie(COOKIE, path="/")
            return response
        scope.setdefault("state", {})["session"] = session
        return None

    async def _login(self, request: Request) -> Response:
        if request.method == "GET":
            return HTMLResponse(_login_page())
        if request.method != "POST":
            return PlainTextResponse("method not allowed", 405)
        if not _origin_ok(request):
            return PlainTextResponse("refused: a login from another origin", 403)
        body = await request.body()
        if len(body) > MAX_LOGIN_BODY:
            return PlainTextResponse("request too large", 413)
        form = parse_qs(body.decode("utf-8", "replace"))
        name, password = (form.get("user") or [""])[0], (form.get("password") or [""])[0]
        user = users.check(self.ws.root, name, password)
        if user is None:
            return HTMLResponse(_login_page("wrong account name or password"), 401)
        return _cookie(RedirectResponse("/", 303), self.sessions.new(user).id)


def _login_page(message: str = "") -> str:
    note = f"<p role='alert'>{escape(message)}</p>" if message else ""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>casegraph: log in</title></head><body>"
        f"<h1>casegraph workspace</h1>{note}<form method='post' action='/login'>"
        "<p><label>Account <input name='user' autocomplete='username' required></label></p>"
        "<p><label>Password <input name='password' type='password' autocomplete='current-password' required></label></p>"
        "<p><button>Log in</button></p></form></body></html>"
    )
