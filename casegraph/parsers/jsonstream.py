"""Stream values out of a large JSON document with their JSON Pointer, in constant memory.

ijson reports prefixes without array indexes ("chats.list.item.messages.item"); this walker
tracks the indexes so every value comes with an exact locator ("/chats/list/4/messages/17").
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

import ijson
from ijson.common import ObjectBuilder

_OPEN = ("start_map", "start_array")
_CLOSE = ("end_map", "end_array")


def walk(f: BinaryIO, targets: dict[str, str]) -> Iterator[tuple[str, str, Any]]:
    """Yield (target name, JSON pointer, value) for every value whose ijson prefix is a key of
    `targets`; containers are built whole (one message at a time), everything else is skipped."""
    path: list[Any] = []
    builder: ObjectBuilder | None = None
    depth = 0
    name = pointer = ""
    for prefix, event, value in ijson.parse(f, use_float=False):
        if event == "map_key":
            path[-1] = value
        elif event in _CLOSE:
            path.pop()
        else:
            if path and type(path[-1]) is int:
                path[-1] += 1
            if builder is None and prefix in targets:
                name, pointer = targets[prefix], "/" + "/".join(_escape(p) for p in path)
                if event in _OPEN:
                    builder, depth = ObjectBuilder(), 0
                else:
                    yield name, pointer, value
            if event == "start_map":
                path.append(None)
            elif event == "start_array":
                path.append(-1)
        if builder is not None:
            builder.event(event, value)
            if event in _OPEN:
                depth += 1
            elif event in _CLOSE:
                depth -= 1
                if depth == 0:
                    yield name, pointer, builder.value
                    builder = None


def _escape(part: Any) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")
