"""Run the first stage of a block pipeline one step ahead in a thread.

Arrow kernels and file reads release the GIL, so preparing block k+1 (read, decode, scan) overlaps
with the Python work on block k. At most `depth` prepared blocks wait, so memory stays bounded.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
U = TypeVar("U")
_DONE = object()


def prefetch(items: Iterable[T], prepare: Callable[[T], U] = lambda x: x, depth: int = 1) -> Iterator[U]:
    """The items, each passed through prepare, produced in a thread one step ahead of the consumer."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                q.put(("ok", prepare(item)))
            q.put(("ok", _DONE))
        except BaseException as e:  # handed to the consumer, raised there
            q.put(("error", e))

    t = threading.Thread(target=work, name="casegraph-prefetch", daemon=True)
    t.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "error":
                raise value
            if value is _DONE:
                return
            yield value
    finally:
        stop.set()
        while t.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                t.join(0.01)
