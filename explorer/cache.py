"""A thread-safe LRU cache bounded in entries (and optionally bytes); concurrent requests for a key compute it once."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from explorer.errors import InputError

T = TypeVar("T")


class LruCache(Generic[T]):
    """Least-recently-used cache of computed values (loaded models, analyses, attributions).

    Concurrent `get`s of one missing key run `compute` once; the others wait for it. Errors are not cached.
    """

    def __init__(self, max_size: int, max_bytes: int | None = None,
                 size_of: Callable[[T], int] | None = None) -> None:
        if max_size < 1:
            raise InputError(f"A cache needs room for at least 1 entry, not {max_size}.")
        self._max_size = max_size
        self._max_bytes = max_bytes
        self._size_of = size_of or (lambda _: 0)
        self._items: OrderedDict[Hashable, tuple[T, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    @property
    def max_size(self) -> int:
        return self._max_size

    @property
    def bytes(self) -> int:
        """The summed sizes of the cached values, as `size_of` measures them."""
        return self._bytes

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached value for `key`, or `compute()` stored under it."""
        with self._lock:
            if key in self._items:
                return self._hit(key)
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._items:
                    return self._hit(key)
            try:
                value = compute()
            except BaseException:
                with self._lock:
                    self._key_locks.pop(key, None)
                raise
            with self._lock:
                self.misses += 1
                size = self._size_of(value)
                self._items[key] = (value, size)
                self._bytes += size
                self._key_locks.pop(key, None)
                self._evict()
            return value

    def peek(self, key: Hashable) -> T | None:
        """The cached value for `key` without computing it, or None."""
        with self._lock:
            entry = self._items.get(key)
            return entry[0] if entry is not None else None

    def resize(self, max_size: int) -> None:
        """Change the bound on entries, evicting the least recently used beyond it."""
        if max_size < 1:
            raise InputError(f"A cache needs room for at least 1 entry, not {max_size}.")
        with self._lock:
            self._max_size = max_size
            self._evict()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def _hit(self, key: Hashable) -> T:
        self._items.move_to_end(key)
        self.hits += 1
        return self._items[key][0]

    def _evict(self) -> None:
        # The newest entry always stays, even when it alone is over the byte bound.
        while len(self._items) > 1 and (len(self._items) > self._max_size or (
                self._max_bytes is not None and self._bytes > self._max_bytes)):
            _, (_, dropped) = self._items.popitem(last=False)
            self._bytes -= dropped
