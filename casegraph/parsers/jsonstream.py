"""Stream values out of a large JSON document with their JSON Pointer, in bounded time and memory.

ijson reports prefixes without array indexes ("chats.list.item.messages.item"); this walker
tracks the indexes so every value comes with an exact locator ("/chats/list/4/messages/17").

Hostile documents are bounded here, not trusted to the C parser:
- Nesting: ijson's `parse` rebuilds the whole prefix string at every event, so time and memory
  grow with the square of the depth. The walker reads ijson's `basic_parse` events and keeps its
  own path, and skips whatever nests deeper than MAX_DEPTH (a value that contains such nesting is
  not built), reporting where.
- Numbers: ijson's C backend crashes the interpreter (segfault) on an integer of more than 4,300
  digits (CPython's int-from-text limit). `NumberGuard` sits between the file and ijson and
  replaces any number token longer than MAX_DIGITS digits, or with an exponent of more than
  MAX_EXPONENT_DIGITS digits, by a marker string; the walker turns the marker into None and
  reports the pointer. Digits inside JSON strings are left alone.
Each problem comes out of `walk` as (PROBLEM, pointer, message); the rest of the file is read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import ijson
import numpy as np

MAX_DEPTH = 100  # the formats read here nest under ten levels
MAX_DIGITS = 256  # longer than any id, amount or timestamp (a uint256 has 78 digits)
MAX_EXPONENT_DIGITS = 4  # 1e9999 at most: int() of a larger exponent would take unbounded time
PROBLEM = "!problem"

_OPEN = ("start_map", "start_array")
_CLOSE = ("end_map", "end_array")
_NUMBER_CHARS = b"0123456789+-.eE"
_TAIL_CHARS = _NUMBER_CHARS + b"\\"
_LONG = re.compile(rb"[0-9]{%d,}|[eE][-+]?[0-9]{%d,}" % (MAX_DIGITS + 1, MAX_EXPONENT_DIGITS + 1))
_ESCAPE = re.compile(rb"\\.", re.S)
_NUMBER_RUN = re.compile(rb"[0-9+\-.eE]*")
_MARK = "\ue000casegraph:number-refused:"


_FOLD = bytes.maketrans(b"123456789E", b"000000000e")
_RUN, _EXPONENTS = b"0" * (MAX_DIGITS + 1), tuple(b"e" + s + b"0" * (MAX_EXPONENT_DIGITS + 1) for s in (b"", b"+", b"-"))


def _quotes(data: bytes) -> int:
    """Unescaped double quotes in a piece of JSON (escapes only occur inside strings)."""
    if b"\\" not in data:
        return data.count(b'"')
    if b"\\\\" not in data:  # no escaped backslash: every \" is an escaped quote
        return data.count(b'"') - data.count(b'\\"')
    return _ESCAPE.sub(b"", data).count(b'"')


def _may_hold_long_number(data: bytes) -> bool:
    """A fast (C-speed) test that rules out most chunks before the regex looks."""
    folded = data.translate(_FOLD)
    return _RUN in folded or any(e in folded for e in _EXPONENTS)


class NumberGuard:
    """A read-only byte stream over JSON that replaces over-long number tokens by a marker string.

    Tracks whether each byte is inside a string (quote parity after removing escapes), holding
    back a chunk's unfinished tail (digits, exponent, backslashes) until the next read. The common
    case, a chunk without a long digit run, costs a regex scan and a quote count."""

    def __init__(self, raw: BinaryIO):
        self.raw, self.carry, self.in_string, self.dropping = raw, b"", False, False
        self.offset = 0  # bytes of the original stream handed on so far
        self.refused: dict[str, str] = {}  # marker → what was refused

    def read(self, n: int = -1) -> bytes:
        """The next filtered bytes; b"" only at the real end of the stream (ijson takes b"" as EOF)."""
        if n == 0:  # ijson probes the stream's type with read(0)
            return b""
        while True:
            chunk = self.raw.read(n if n and n > 0 else 1 << 16)
            data, self.carry = self.carry + chunk, b""
            if chunk:
                keep = len(data.rstrip(_TAIL_CHARS))
                if len(data) - keep <= 2 * MAX_DIGITS:  # an unfinished tail waits for the next chunk
                    data, self.carry = data[:keep], data[keep:]
            out = self._filter(data) if data else b""
            if out or not chunk:
                return out

    def _filter(self, data: bytes) -> bytes:
        start = self.offset
        self.offset += len(data)
        if self.dropping:  # the rest of a refused number that ran past the last chunk
            rest = data.lstrip(_NUMBER_CHARS)
            self.dropping = not rest
            data = rest
        if not _may_hold_long_number(data) or not _LONG.search(data):
            self.in_string ^= _quotes(data) & 1
            return data
        out, pos = [], 0  # data[:pos] is handed on (as `out`)
        at, inside = 0, self.in_string  # whether data[at] is inside a string
        for m in _LONG.finditer(data):
            if m.start() < pos:
                continue
            inside ^= _quotes(data[at : m.start()]) & 1
            at = m.start()
            if inside:  # digits in a string are text: left alone
                continue
            window = max(pos, m.start() - 4096)  # the token's start: a sign, digits and a point before the run
            a = window + len(data[window : m.start()].rstrip(_NUMBER_CHARS))
            b = _NUMBER_RUN.match(data, m.end()).end()
            out.append(data[pos:a])
            token = data[a : min(b, a + 64)]
            marker = f"{_MARK}{len(self.refused)}"
            digits = len(data[a:b].translate(None, b"+-.eE"))
            self.refused[marker] = (
                f"number {token[:16].decode('ascii', 'replace')}… ({digits}{' or more' if b == len(data) else ''} "
                f"digits, at byte {start + a}) exceeds the bounds of {MAX_DIGITS} digits and a "
                f"{MAX_EXPONENT_DIGITS}-digit exponent; not read (kept as null)"
            )
            out.append(f'"{marker}"'.encode())
            pos = at = b
            if b == len(data):
                self.dropping = True
        self.in_string = inside ^ (_quotes(data[at:]) & 1)
        out.append(data[pos:])
        return b"".join(out)


def walk(f: BinaryIO, targets: dict[str, str]) -> Iterator[tuple[str, str, Any]]:
    """Yield (target name, JSON pointer, value) for every value whose ijson prefix is a key of
    `targets`; containers are built whole (one message at a time), everything else is skipped.
    (PROBLEM, pointer, message) reports a refused number or nesting past MAX_DEPTH."""
    guard = NumberGuard(f)
    wanted = {tuple(t.split(".")) if t else (): name for t, name in targets.items()}
    reach = max(map(len, wanted), default=0)
    path: list[Any] = []  # keys and array indexes, for the pointer
    shape: list[str] = []  # keys and "item", for matching ijson-style prefixes
    events = ijson.basic_parse(guard, use_float=False)
    for event, value in events:
        if event == "map_key":
            path[-1] = shape[-1] = value
            continue
        if event == "end_map" or event == "end_array":
            path.pop()
            shape.pop()
            continue
        if path and type(path[-1]) is int:
            path[-1] += 1
        if event == "string" and guard.refused and value.startswith(_MARK):
            yield PROBLEM, _pointer(path), guard.refused.pop(value, "number refused")
            event, value = "null", None
        target = wanted.get(tuple(shape)) if len(shape) <= reach else None
        if event != "start_map" and event != "start_array":
            if target is not None:
                yield target, _pointer(path), value
            continue
        if len(path) >= MAX_DEPTH:
            yield PROBLEM, _pointer(path), f"nesting deeper than {MAX_DEPTH} levels; what lies below was not read"
            _skip(events)
            continue
        if target is None:
            path.append(None if event == "start_map" else -1)
            shape.append("" if event == "start_map" else "item")
            continue
        built, problems = _build(events, event, path, guard)
        yield from problems
        if built is not _DROPPED:
            yield target, _pointer(path), built


_DROPPED = object()


def _build(events, first: str, path: list[Any], guard: NumberGuard) -> tuple[Any, list]:
    """The container that starts with event `first`, built from `events` (the events up to its end
    are consumed). Pointers of problems inside it extend `path`; nesting past MAX_DEPTH drops it."""
    root: Any = {} if first == "start_map" else []
    stack, where = [root], []  # open containers; the key or index each one sits at in its parent
    top, key, problems, dropped = root, None, [], False
    refused = guard.refused
    for event, value in events:
        if event == "map_key":
            key = value
            continue
        if event == "end_map" or event == "end_array":
            stack.pop()
            if not stack:
                return (_DROPPED if dropped else root), problems
            top = stack[-1]
            where.pop()
            continue
        if event == "string" and refused and value.startswith(_MARK):
            at = len(top) if type(top) is list else key
            problems.append((PROBLEM, _pointer(path + where + [at]), refused.pop(value, "number refused")))
            value = None
        elif event == "start_map" or event == "start_array":
            at = len(top) if type(top) is list else key
            if len(path) + len(stack) >= MAX_DEPTH:
                problems.append(
                    (
                        PROBLEM,
                        _pointer(path + where + [at]),
                        f"nesting deeper than {MAX_DEPTH} levels; what lies below was not read, nor the value at {_pointer(path)}",
                    )
                )
                _skip(events)
                dropped = True
                continue
            value = {} if event == "start_map" else []
            if type(top) is list:
                top.append(value)
            else:
                top[key] = value
            stack.append(value)
            where.append(at)
            top = value
            continue
        if type(top) is list:
            top.append(value)
        else:
            top[key] = value
    raise ValueError("JSON ended inside a value")  # basic_parse raises first on a truncated file


def _skip(events) -> None:
    """Consume the events of a container whose start was just read."""
    depth = 1
    for event, _ in events:
        if event == "start_map" or event == "start_array":
            depth += 1
        elif event == "end_map" or event == "end_array":
            depth -= 1
            if depth == 0:
                return


def _pointer(path: list[Any]) -> str:
    return "/" + "/".join(_escape(p) for p in path)


def _escape(part: Any) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)


def loads_bounded(text: str | bytes, max_depth: int = MAX_DEPTH):
    """json.loads for one hostile value (a JSON column, a JSON line): nesting deeper than `max_depth` is
    refused (ValueError) before the stdlib decoder recurses into it. Its C scanner recurses once per
    level and, where another library raised the recursion limit, overflows the C stack (a segfault
    that would take every later exhibit with it). The depth is counted outside strings, column-wise."""
    s = text.decode("utf-8", errors="replace") if isinstance(text, bytes) else text
    if s.count("[") + s.count("{") > max_depth:  # only then is the exact depth worth computing
        bare = np.frombuffer(_STRING.sub('""', s).encode("utf-8", errors="replace"), np.uint8)
        step = (bare == ord("[")).astype(np.int32) + (bare == ord("{")) - (bare == ord("]")) - (bare == ord("}"))
        if step.size and int(np.cumsum(step).max()) > max_depth:
            raise ValueError(f"JSON nested deeper than {max_depth} levels")
    return json.loads(s)
