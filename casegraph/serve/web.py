"""What a view module is made of: a `View` with its pages and API routes, and the `Ctx` each handler gets.

    view = View("people", "People", order=40)

    @view.page("/people/{entity}")
    def profile(ctx: Ctx):
        return ctx.render("people/profile.html", person=library_call(ctx.store, ctx.path("entity")))

    @view.api("/api/people/{entity}/mark", methods=("POST",))      # unsafe method: a write by default
    def mark(ctx: Ctx):
        body = ctx.body()
        return steps.mark(ctx.case, ctx.path("entity"), body["role"], body["reason"], actor=ctx.actor)

Handlers are plain functions: they run in a worker thread under the workspace lock, call library
functions only, and return `ctx.render(...)`, `ctx.json(...)`, a Response, or a dict / list (JSON).
Writes are refused for a read-only workspace and for reviewers before the handler runs; whatever a
reviewer is shown passes through the report's victim redaction.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from html import escape as html_escape
from importlib.resources import files
from typing import Any

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route as StarletteRoute

from ..browse import script_lang
from ..errors import CaseGraphError
from ..reports.redact import Redactor
from ..times import show_time
from ..wording import plural
from .auth import UNSAFE, Session
from .workspace import ReadOnlyWorkspace, Workspace

log = logging.getLogger("casegraph.serve")
MAX_BODY = 1 << 20  # a JSON request body larger than this is refused
# values under these keys are hashes, ids, locators and addresses: never rewritten by the redaction
# (a victim's phone digits can occur inside a SHA-256, and a changed hash would be a false statement)
# (exact names only: sender_id or chat_id may hold a victim's phone or name, and are redacted)
VERBATIM_KEYS = frozenset({"id", "record", "record_id", "locator", "href", "csrf", "sha256", "md5", "hash", "prev", "finding_id"})


class BadRequest(CaseGraphError):
    """A request the handler cannot answer as asked (a missing field, a page number that is not one)."""


class NotFound(CaseGraphError):
    pass


@dataclass
class RouteSpec:
    path: str
    methods: tuple[str, ...]
    handler: Callable[[Ctx], Any]
    page: bool  # an HTML page (errors as a page) or an API route (errors as JSON)
    writes: bool


@dataclass
class View:
    """One view of the workspace: a nav entry (when `nav`) and its routes."""

    name: str
    title: str
    order: int = 100
    nav: bool = True
    home: str = ""  # the nav link; "/<name>" when empty
    routes: list[RouteSpec] = field(default_factory=list)

    @property
    def href(self) -> str:
        return self.home or f"/{self.name}"

    def page(self, path: str) -> Callable:
        return self._add(path, ("GET",), page=True, writes=False)

    def api(self, path: str, methods: Iterable[str] = ("GET",), writes: bool | None = None) -> Callable:
        """A JSON route; `writes` defaults to True for an unsafe method (say writes=False for a POST
        that changes nothing, such as a verification)."""
        m = tuple(methods)
        return self._add(path, m, page=False, writes=any(x in UNSAFE for x in m) if writes is None else writes)

    def _add(self, path: str, methods: tuple[str, ...], page: bool, writes: bool) -> Callable:
        def deco(fn: Callable[[Ctx], Any]) -> Callable[[Ctx], Any]:
            self.routes.append(RouteSpec(path, methods, fn, page, writes))
            return fn

        return deco


class Ctx:
    """One request as a handler sees it."""

    def __init__(self, request: Request, ws: Workspace, view: View, spec: RouteSpec, views: list[View], body: bytes):
        self.request, self.ws, self.view, self.spec, self.views, self._body = request, ws, view, spec, views, body
        self.session: Session = request.scope["state"]["session"]

    # -- who and what ----------------------------------------------------------------------
    @property
    def case(self):
        return self.ws.case

    @property
    def store(self):
        return self.ws.store

    @property
    def user(self):
        return self.session.user

    @property
    def actor(self) -> str:
        """The logged-in user's name: pass it as `actor=` to every library write."""
        return self.session.user.name

    @property
    def may_write(self) -> bool:
        return not self.ws.read_only and self.session.user.may_write

    @property
    def redacting(self) -> bool:
        return not self.session.user.may_write  # reviewers see victims, witnesses and minors under pseudonyms

    def redactor(self) -> Redactor:
        return self.ws.redactor() if self.redacting else Redactor.none()

    # -- input -----------------------------------------------------------------------------
    def path(self, name: str) -> str:
        return str(self.request.path_params[name])

    def arg(self, name: str, default: str | None = None) -> str | None:
        v = self.request.query_params.get(name)
        return default if v is None or v == "" else v

    def int_arg(self, name: str, default: int, lo: int = 0, hi: int = 1 << 31) -> int:
        v = self.request.query_params.get(name)
        if v is None or v == "":
            return default
        try:
            n = int(v)
        except ValueError:
            raise BadRequest(f"{name}={v!r}: expected a whole number") from None
        if not lo <= n <= hi:
            raise BadRequest(f"{name}={n}: expected {lo} to {hi}")
        return n

    def body(self) -> dict[str, Any]:
        """The JSON object the request sent."""
        try:
            data = json.loads(self._body or b"{}")
        except ValueError as e:
            raise BadRequest(f"the request body is not JSON ({e})") from None
        if not isinstance(data, dict):
            raise BadRequest("the request body must be a JSON object")
        return data

    def field(self, name: str) -> str:
        """A required non-empty text field of the JSON body."""
        v = self.body().get(name)
        if not isinstance(v, str) or not v.strip():
            raise BadRequest(f"{name!r} is required")
        return v

    # -- output ----------------------------------------------------------------------------
    def redact(self, obj: Any) -> Any:
        r = self.redactor()
        return _redact(obj, r) if r.active else obj

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        nav = nav_entries(self.views, self.view.name)
        base = {
            "nav": nav,
            "view": self.view.name,
            "user": self.session.user,
            "csrf": self.session.csrf,
            "may_write": self.may_write,
            "read_only": self.ws.read_only,
            "redacting": self.redacting,
            "case": self.ws.case.info,
        }
        html = templates().get_template(template).render(**base, **self.redact(context))
        return HTMLResponse(html, status)

    def json(self, data: Any, status: int = 200) -> JSONResponse:
        return JSONResponse(json.loads(json.dumps(self.redact(data), default=_json_default, ensure_ascii=False)), status)


def _json_default(o: Any) -> Any:
    if isinstance(o, datetime | date):
        return o.isoformat()
    if isinstance(o, Decimal):
        return str(o)  # exact: an amount is never a float
    if isinstance(o, bytes):
        return o.decode("utf-8", "replace")
    if hasattr(o, "__dict__"):
        return vars(o)
    return str(o)


def _redact(obj: Any, r: Redactor) -> Any:
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if isinstance(k, str) and (k in VERBATIM_KEYS or k.endswith("_sha256")):
                out[k] = v
            else:  # keys are data too ({"Kasun": 8}: names seen, with counts)
                out[r.text(k) if isinstance(k, str) else k] = _redact(v, r)
        return out
    if isinstance(obj, list | tuple):
        return type(obj)(_redact(v, r) for v in obj)
    if isinstance(obj, str):
        return r.text(obj)
    return obj


# -- the planned views: nav entries another module will fill (a module with the same name replaces one) --
PLANNED = (("money", "Money", 60), ("timeline", "Timeline", 70), ("map", "Map", 80), ("report", "Report", 90))


def nav_entries(views: list[View], current: str) -> list[dict[str, Any]]:
    have = {v.name for v in views}
    entries = [{"name": v.name, "title": v.title, "href": v.href, "order": v.order, "ready": True} for v in views if v.nav]
    entries += [{"name": n, "title": t, "href": "", "order": o, "ready": False} for n, t, o in PLANNED if n not in have]
    for e in entries:
        e["current"] = e["name"] == current
    return sorted(entries, key=lambda e: (e["order"], e["title"]))


# -- templates ------------------------------------------------------------------------------
_env: jinja2.Environment | None = None


def templates() -> jinja2.Environment:
    global _env
    if _env is None:
        _env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(files(__package__).joinpath("templates"))),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        _env.filters["plural"] = plural
        _env.filters["when"] = _when
        _env.filters["utc"] = _utc
        _env.filters["short"] = lambda s, n=12: (s or "")[:n]
        _env.filters["lang"] = script_lang
    return _env


def _when(row: dict[str, Any], prefix: str = "") -> str:
    """A record's time as recorded (the source's wall clock and offset, beside UTC): times.show_time."""
    return show_time(*(row.get(prefix + c) for c in ("ts_local", "ts_utc", "utc_offset", "tz_basis", "ts_precision")))


def _utc(ts: datetime | None) -> str:
    return "" if ts is None else f"{ts.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


# -- turning specs into Starlette routes -------------------------------------------------------
def starlette_routes(ws: Workspace, views: list[View]) -> list[StarletteRoute]:
    out = []
    for view in views:
        for spec in view.routes:
            out.append(StarletteRoute(spec.path, _endpoint(ws, view, spec, views), methods=list(spec.methods)))
    return out


def _endpoint(ws: Workspace, view: View, spec: RouteSpec, views: list[View]) -> Callable:
    async def endpoint(request: Request) -> Response:
        body = b""
        if request.method in UNSAFE:
            body = await request.body()
            if len(body) > MAX_BODY:
                return JSONResponse({"error": "request too large"}, 413)
        ctx = Ctx(request, ws, view, spec, views, body)
        if spec.writes and not ctx.may_write:
            why = "this workspace was started --read-only" if ws.read_only else f"{ctx.actor} is a reviewer (read-only)"
            return _error(ctx, 403, f"refused: {why}; nothing was changed")
        try:
            return await run_in_threadpool(_run, ctx)
        except ReadOnlyWorkspace as e:
            return _error(ctx, 403, str(e))
        except NotFound as e:
            return _error(ctx, 404, str(e))
        except (CaseGraphError, LookupError) as e:  # the library's "no such person / finding / record", bad input
            if isinstance(e, KeyError):  # str() of a KeyError quotes its message
                return _error(ctx, 404, str(e.args[0]) if e.args else "not found")
            return _error(ctx, 400, str(e))
        except Exception as e:  # a defect: logged with its traceback, one line to the page
            log.exception("workspace request %s %s", request.method, request.url.path)
            return _error(ctx, 500, f"unexpected {type(e).__name__} in casegraph (a defect; the server's log has the traceback)")

    return endpoint


def _run(ctx: Ctx) -> Response:
    with ctx.ws.lock:
        try:
            out = ctx.spec.handler(ctx)
        finally:
            if ctx.spec.writes:
                ctx.ws.changed()
    if isinstance(out, Response):
        return out
    return ctx.json(out)


def _error(ctx: Ctx, status: int, message: str) -> Response:
    if ctx.spec.page:
        try:
            return ctx.render("error.html", status=status, message=message, status_code=status)
        except Exception:  # the page itself could not be drawn
            return HTMLResponse(f"<p>{html_escape(message)}</p>", status)
    return JSONResponse({"error": message}, status)
