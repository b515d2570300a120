"""Sets of URLs that keep each URL as its 64-bit hash, not as the string, and share one table.

A spider of a 5,000-page site remembers ~15,000 URLs (claimed, parsed, checked, left over); as strings that is
~155 bytes each, and a worker runs 16 such spiders at once. Two URLs of one site sharing a 64-bit hash is a chance
of about 1 in 10^11. The sets of one spider overlap (a page is claimed, then parsed; a page past the budget is left,
then checked), so they are bits in one dict from the hash to the sets it is in (`UrlTable`): each hash is one int
object and one dict entry however many sets hold it (a Python int of 64 bits is 32 bytes, a dict entry ~30).
A dict, not a set: a set's table grows fourfold (5,000 entries: 512 KB, a dict 144 KB).
A `UrlSet` answers `in`, `add`, `discard`, `update` and `len`, and cannot list its URLs.
"""
from __future__ import annotations

from collections.abc import Iterable


class UrlTable(dict):
    """hash(url) -> the bits of the sets that hold it; `new_set()` hands out the next bit."""
    __slots__ = ("_bits",)

    def __init__(self):
        super().__init__()
        self._bits = 0

    def new_set(self, urls: Iterable[str] = ()) -> UrlSet:
        bit, self._bits = 1 << self._bits, self._bits + 1
        return UrlSet(urls, table=self, bit=bit)


class UrlSet:
    __slots__ = ("_table", "_bit", "_len")

    def __init__(self, urls: Iterable[str] = (), table: dict | None = None, bit: int = 1):
        self._table = {} if table is None else table
        self._bit = bit
        self._len = 0
        self.update(urls)

    def add(self, url: str) -> None:
        key = hash(url)
        held = self._table.get(key, 0)
        if not held & self._bit:
            self._table[key] = held | self._bit
            self._len += 1

    def discard(self, url: str) -> None:
        key = hash(url)
        held = self._table.get(key, 0)
        if held & self._bit:
            if held == self._bit:
                del self._table[key]
            else:
                self._table[key] = held & ~self._bit
            self._len -= 1

    def update(self, urls: Iterable[str]) -> None:
        for url in urls:
            self.add(url)

    def __contains__(self, url: object) -> bool:
        return bool(self._table.get(hash(url), 0) & self._bit)

    def __len__(self) -> int:
        return self._len
