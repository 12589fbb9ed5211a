"""A small least-recently-used map per process, for values whose key names the version of
what they were made from (a generation token, masthead.core.generations): such a value can
never be stale, so every worker may keep its own copy and skip the shared cache."""

import threading
from collections import OrderedDict

from .cache import cached


class Memo:
    def __init__(self, size: int):
        self.size = size
        self.items = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()

    def fetch(self, key, make, timeout: int, *, valid=None):
        """From this process, else the shared cache, else make() (core.cache.cached); kept
        here afterwards."""
        found = self.get(key)
        if found is None:
            found = cached(key, make, timeout, valid=valid)
            self.put(key, found)
        return found
