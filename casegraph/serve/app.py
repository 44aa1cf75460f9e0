"""The Starlette application: the gate (auth, CSRF, headers), static files, the vendored libraries,
and every view's routes."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .auth import Gate, Sessions
from .views import discover
from .web import starlette_routes
from .workspace import Workspace

ASSETS = Path(__file__).resolve().parents[2] / "tools" / "report-assets"  # as reports.render finds them
# the front-end libraries, installed from npm by scripts/bootstrap.sh (pinned by tools/report-assets/package-lock.json)
VENDOR = {
    "cytoscape.min.js": "cytoscape/dist/cytoscape.min.js",
    "d3.min.js": "d3/dist/d3.min.js",
    "d3-sankey.min.js": "d3-sankey/dist/d3-sankey.min.js",
    "topojson-client.min.js": "topojson-client/dist/topojson-client.min.js",
    "countries-110m.json": "world-atlas/countries-110m.json",
    "land-110m.json": "world-atlas/land-110m.json",
    "countries-50m.json": "world-atlas/countries-50m.json",
}


def vendor_root() -> Path:
    return Path(os.environ.get("CASEGRAPH_REPORT_ASSETS") or ASSETS) / "node_modules"


async def vendor(request: Request) -> Response:
    rel = VENDOR.get(request.path_params["name"])
    if rel is None:
        return PlainTextResponse("not a vendored library", 404)
    path = vendor_root() / rel
    if not path.is_file():
        return PlainTextResponse(f"{rel} is not installed: run scripts/bootstrap.sh (npm ci in tools/report-assets)", 404)
    return FileResponse(path)


def create_app(ws: Workspace, allowed_hosts: tuple[str, ...] = ()) -> Starlette:
    views = discover()
    routes = [
        Mount("/static", StaticFiles(directory=str(files(__package__).joinpath("static"))), name="static"),
        Route("/vendor/{name}", vendor),
        *starlette_routes(ws, views),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(Gate, ws=ws, sessions=Sessions(), allowed_hosts=allowed_hosts)])
    app.state.ws = ws
    app.state.views = views
    return app
