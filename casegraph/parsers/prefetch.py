"""Run the first stage of a block pipeline ahead of the consumer, in threads.

Arrow kernels and file reads release the GIL, so preparing block k+1 (read, decode, scan) overlaps
with the Python work on block k. With `workers` > 1, several blocks are prepared at once (in order:
the consumer sees them as the items came). At most `depth` prepared blocks wait, so memory stays bounded.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
U = TypeVar("U")
_DONE = object()


def prefetch(items: Iterable[T], prepare: Callable[[T], U] = lambda x: x, depth: int = 1, workers: int = 1) -> Iterator[U]:
    """The items, each passed through prepare, produced in threads ahead of the consumer."""
    if workers > 1:
        yield from _parallel(items, prepare, depth, workers)
        return
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


def _parallel(items: Iterable[T], prepare: Callable[[T], U], depth: int, workers: int) -> Iterator[U]:
    """`workers` threads prepare items; the items themselves are drawn (in a thread of their own) in order."""
    pending: deque[Future] = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="casegraph-prepare") as pool:
        try:
            for item in prefetch(items, depth=depth):
                pending.append(pool.submit(prepare, item))
                if len(pending) > workers + depth - 1:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()
