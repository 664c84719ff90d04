"""`polyir.prefetch.prefetched`: order, errors and stopping early, with the producer thread gone after."""
from __future__ import annotations

import threading

import pytest

from polyir.prefetch import prefetched


def _producer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "polyir-prefetch"]


def test_items_arrive_in_order_and_ahead():
    produced = []

    def items():
        for i in range(50):
            produced.append(i)
            yield i

    with prefetched(items(), depth=3) as ready:
        assert next(ready) == 0
        for _ in range(200):  # let the producer run ahead until the queue is full
            if len(produced) == 5:
                break
            threading.Event().wait(0.01)
        assert len(produced) <= 5  # 1 taken + 3 queued + 1 waiting to be put: bounded by depth
        assert [0, *ready] == list(range(50))
    assert not _producer_threads()


def test_a_producer_error_is_raised_in_the_consumer_at_its_place():
    def items():
        yield 1
        yield 2
        raise ValueError("bad record 3")

    got = []
    with pytest.raises(ValueError, match="bad record 3"):
        with prefetched(items()) as ready:
            for item in ready:
                got.append(item)
    assert got == [1, 2] and not _producer_threads()


def test_a_consumer_that_stops_early_stops_the_producer():
    produced = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    with pytest.raises(KeyboardInterrupt):
        with prefetched(endless(), depth=2) as ready:
            for item in ready:
                if item == 10:
                    raise KeyboardInterrupt
    assert not _producer_threads() and len(produced) <= 10 + 2 + 2
    with prefetched(endless(), depth=2) as ready:
        assert next(ready) == 0  # break after one item
    assert not _producer_threads()
    with pytest.raises(ValueError):
        with prefetched([], depth=0):
            pass
