"""Reading a chat text as blocks of whole lines, in the encoding decide_encoding chose, with every
line-end convention (LF, CRLF, CR, NEL U+0085, LINE/PARAGRAPH SEPARATOR U+2028/U+2029).

Lines come as an Arrow string array, without their line-end characters: the usual UTF-8 block is
validated and split by Arrow, so no Python string is made per line. Memory stays bounded: blocks of about BLOCK bytes are
cut after their last line end; a line longer than MAX_LINE is cut there and the cut noted; bytes that
are not valid UTF-8 are replaced (U+FFFD) and noted with the line they are on.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from ..base import MAX_LINE, TextEncoding

BLOCK = 4 << 20  # bytes read at a time
_ENDS_STR = ("\n", "\r", "\x85", "\u2028", "\u2029")
_ENDS_UTF8 = (b"\n", b"\r", b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xa9")
_OTHER_ENDS = re.compile("[\x85\u2028\u2029]")
_BYTE_LINES = re.compile(rb"\r\n|[\r\n]|\xc2\x85|\xe2\x80[\xa8\xa9]")

Notes = list[tuple[int, str]]


def split_lines(text: str) -> list[str]:
    """The lines of a text that ends at a line end (or at the end of the file), without line ends."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x85" in text or "\u2028" in text or "\u2029" in text:
        text = _OTHER_ENDS.sub("\n", text)
    lines = text.split("\n")
    if lines and lines[-1] == "":  # the text ended with a line end
        lines.pop()
    return lines


def _last_end(buf, ends) -> int:
    """Index just after the last line end that is not the final character (a final CR may be the first
    half of a CRLF that the next read completes); -1 when there is none."""
    limit = len(buf) - 1
    best = -1
    for e in ends:  # LF first: the rarer ends are then looked for only after the last LF, not in the whole block
        i = buf.rfind(e, max(0, best - len(e) + 1), limit)
        if i >= 0 and i + len(e) > best:
            best = i + len(e)
    if best > 0 and buf[best - 1 : best] in ("\r", b"\r") and buf[best : best + 1] in ("\n", b"\n"):
        best += 1
    return best


def _first_end(buf, ends) -> tuple[int, int]:
    """(start, end) of the first line end in buf, or (-1, -1)."""
    found = [(i, i + len(e)) for e in ends if (i := buf.find(e)) >= 0]
    if not found:
        return -1, -1
    start, end = min(found)
    if buf[start:end] in ("\r", b"\r") and buf[end : end + 1] in ("\n", b"\n"):
        end += 1
    return start, end


def _arrow_lines(data: bytes) -> pa.Array | None:
    """The lines of a UTF-8 block, split by Arrow: the same as split_lines(data.decode()) for valid
    UTF-8 whose line ends are LF, CRLF or CR (checked with a byte search: NEL and U+2028/9 hold one
    of the bytes 85, A8, A9, rare outside them). None when the block needs the Python path."""
    if (b"\x85" in data and b"\xc2\x85" in data) or (
        (b"\xa8" in data or b"\xa9" in data) and (b"\xe2\x80\xa8" in data or b"\xe2\x80\xa9" in data)
    ):
        return None
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    try:
        text = pa.array([data], pa.binary()).cast(pa.string())  # the cast validates the UTF-8
    except pa.ArrowInvalid:
        return None
    lines = pc.split_pattern(text, "\n").flatten()
    if len(lines) and lines[len(lines) - 1].as_py() == "":  # the text ended with a line end
        lines = lines.slice(0, len(lines) - 1)
    return lines


def _decode(data: bytes, first: int, notes: Notes) -> list[str]:
    try:
        return split_lines(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    lines = []  # decode line by line to say which lines were damaged
    pieces = _BYTE_LINES.split(data)
    if pieces and pieces[-1] == b"":
        pieces.pop()
    for i, raw in enumerate(pieces):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            lines.append(raw.decode("utf-8", errors="replace"))
            notes.append((first + i, f"not valid UTF-8 at byte {e.start} of the line; undecodable bytes replaced with U+FFFD"))
    return lines


def blocks(f, encoding: TextEncoding, block: int = BLOCK) -> Iterator[tuple[int, pa.Array, Notes]]:
    """(number of the block's first line, its lines, notes as (line number, text))."""
    f.read(encoding.skip)
    if encoding.codec == "utf-8":
        read, ends, empty = (lambda: f.read(block)), _ENDS_UTF8, b""
    else:  # UTF-16: decoded as a text stream, cut the same way
        reader = io.TextIOWrapper(f, encoding=encoding.codec, errors="replace", newline="")
        read, ends, empty = (lambda: reader.read(block // 2)), _ENDS_STR, ""
    first, carry, head = 1, empty, None  # head: the kept start of a line longer than MAX_LINE
    skipped = 0
    while True:
        data = read()
        if head is not None:  # inside an over-long line: skip to its end
            start, end = _first_end(data, ends) if data else (len(data), len(data))
            if start < 0:
                skipped += len(data)
                continue
            skipped += start
            text = head if isinstance(head, str) else head.decode("utf-8", errors="replace")
            yield (
                first,
                pa.array([text], pa.string()),
                [(first, f"line is {MAX_LINE + skipped}+ {'bytes' if empty == b'' else 'characters'} long; kept the first {MAX_LINE}")],
            )
            first += 1
            head, skipped, data = None, 0, data[end:]
            if not data:
                data = read()
        buf = carry + data
        if not buf:
            return
        cut = len(buf) if not data else _last_end(buf, ends)
        if cut <= 0:
            if len(buf) > max(block, MAX_LINE):  # no line end in sight
                head, skipped, carry = buf[:MAX_LINE], len(buf) - MAX_LINE, empty
            else:
                carry = buf
            continue
        chunk, carry = buf[:cut], buf[cut:]
        notes: Notes = []
        if empty == b"":
            arr = _arrow_lines(chunk[3:] if first == 1 and chunk.startswith(b"\xef\xbb\xbf") else chunk)  # a second BOM goes
            if arr is not None:
                if len(arr) and pc.max(pc.binary_length(arr)).as_py() > MAX_LINE:  # bytes: at least the characters
                    arr = _cut_long(arr.to_pylist(), first, notes)
                if len(arr):
                    yield first, arr, sorted(notes)
                    first += len(arr)
                if not data:
                    return
                continue
            lines = _decode(chunk, first, notes)
        else:
            lines = split_lines(chunk)
            if "\ufffd" in chunk:  # the decoder replaced bytes that are not valid in the encoding
                notes += [
                    (first + i, f"not valid {encoding.codec.upper()}; undecodable bytes replaced with U+FFFD")
                    for i, line in enumerate(lines)
                    if "\ufffd" in line
                ]
        if first == 1 and lines and lines[0].startswith("\ufeff"):
            lines[0] = lines[0][1:]
        if lines:
            arr = _cut_long(lines, first, notes)
            yield first, arr, sorted(notes)
            first += len(arr)
        if not data:
            return


def _cut_long(lines: list[str], first: int, notes: Notes) -> pa.Array:
    """The lines as an Arrow array, each line longer than MAX_LINE characters cut there and noted."""
    if lines and max(map(len, lines)) > MAX_LINE:
        for i, line in enumerate(lines):
            if len(line) > MAX_LINE:
                lines[i] = line[:MAX_LINE]
                notes.append((first + i, f"line is {len(line)} characters long; kept the first {MAX_LINE}"))
    return pa.array(lines, pa.string())
