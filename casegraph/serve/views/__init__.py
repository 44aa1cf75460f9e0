"""The workspace's views, one module each. A module here that defines `view = View(...)` (see
`serve.web`) is picked up by `discover()`: nothing else needs editing to add a view."""

from __future__ import annotations

import importlib
import pkgutil

from ..web import View


def discover() -> list[View]:
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        view = getattr(module, "view", None)
        if isinstance(view, View):
            found.append(view)
    return sorted(found, key=lambda v: (v.order, v.name))
