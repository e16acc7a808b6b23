"""LruCache: bounded in entries and bytes, least recently used out first, one computation per key."""

from __future__ import annotations

import threading
import time

import pytest

from explorer.cache import LruCache
from explorer.errors import InputError


def test_the_cache_keeps_the_most_recent_results_up_to_its_bound():
    cache: LruCache[int] = LruCache(max_size=2)
    assert cache.get("a", lambda: 1) == 1
    assert cache.get("b", lambda: 2) == 2
    assert cache.get("a", lambda: 99) == 1  # a hit, and now the most recent
    assert cache.get("c", lambda: 3) == 3  # evicts b
    assert len(cache) == 2
    assert cache.peek("b") is None and cache.peek("a") == 1
    assert (cache.hits, cache.misses) == (1, 3)


def test_the_cache_can_be_bounded_in_bytes():
    cache: LruCache[bytes] = LruCache(max_size=10, max_bytes=100, size_of=len)
    cache.get("a", lambda: b"x" * 60)
    cache.get("b", lambda: b"x" * 30)
    assert cache.bytes == 90 and len(cache) == 2
    cache.get("c", lambda: b"x" * 20)  # 110 bytes: the oldest goes
    assert cache.peek("a") is None and cache.bytes == 50
    cache.get("huge", lambda: b"x" * 500)  # alone over the bound, yet kept as the newest
    assert len(cache) == 1 and cache.peek("huge") is not None


def test_concurrent_requests_for_one_key_compute_it_once():
    cache: LruCache[str] = LruCache(8)
    calls = []
    started = threading.Barrier(4)

    def compute():
        calls.append(1)
        time.sleep(0.2)
        return "done"

    def request():
        started.wait()
        results.append(cache.get("key", compute))

    results: list[str] = []
    threads = [threading.Thread(target=request) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["done"] * 4 and len(calls) == 1


def test_errors_are_not_cached():
    cache: LruCache[int] = LruCache(8)

    def fail():
        raise InputError("no")

    with pytest.raises(InputError):
        cache.get("k", fail)
    assert cache.get("k", lambda: 5) == 5


def test_cache_loads_once_under_concurrent_requests():
    cache = LruCache(max_size=2)
    calls = []

    def slow_load():
        calls.append(1)
        time.sleep(0.2)
        return object()

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get(("m",), slow_load))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len({id(r) for r in results}) == 1


def test_cache_is_bounded_and_least_recently_used_goes_first():
    cache = LruCache(max_size=2)
    a, b, c = object(), object(), object()
    cache.get(("a",), lambda: a)
    cache.get(("b",), lambda: b)
    cache.get(("a",), lambda: pytest.fail("a was cached"))
    cache.get(("c",), lambda: c)
    assert len(cache) == 2
    assert cache.get(("a",), lambda: pytest.fail("a was evicted")) is a
    assert cache.get(("b",), lambda: "reloaded") == "reloaded"
    cache.resize(1)
    assert len(cache) == 1
    with pytest.raises(InputError):
        cache.resize(0)
