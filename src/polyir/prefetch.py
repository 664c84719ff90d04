"""Produce the items of an iterator a few steps ahead, in a background thread.

`encode` uses it to pad (and pin) the next batches while the model runs the current one:
on a GPU the forward pass is asynchronous, so the CPU work of the next batch overlaps it
instead of adding to it.  A thread rather than DataLoader worker processes: the work is
numpy padding and Rust tokenisation, which release the GIL or take microseconds, and a
thread needs no pickling of tokenizers or texts.

The producer stops as soon as the consumer does (an exception, ``KeyboardInterrupt``, an
early ``break``): ``with prefetched(items) as ready: for item in ready: ...``.  An exception
in the producer is raised in the consumer, at the item where it happened.
"""
from __future__ import annotations

import contextlib
import queue
import threading
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")
_POLL_SECONDS = 0.05  # how often a blocked producer checks whether the consumer stopped


class _End:
    """What the producer puts last: nothing more (``error is None``) or the exception it met."""

    def __init__(self, error: BaseException | None = None):
        self.error = error


@contextlib.contextmanager
def prefetched(items: Iterable[T], depth: int = 2) -> Iterator[Iterator[T]]:
    """An iterator over ``items`` whose next ``depth`` items are produced in a background thread."""
    if depth < 1:
        raise ValueError(f"prefetch depth must be >= 1, got {depth}")
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_End())
        except BaseException as err:  # noqa: BLE001 - handed to the consumer, which raises it
            put(_End(err))

    thread = threading.Thread(target=produce, name="polyir-prefetch", daemon=True)
    thread.start()

    def consume() -> Iterator[T]:
        while True:
            item = ready.get()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item

    try:
        yield consume()
    finally:
        stop.set()
        thread.join()
