"""A set of URLs that keeps each URL as its 64-bit hash, not as the string.

A spider of a 5,000-page site remembers ~15,000 URLs (claimed, parsed, checked); as strings that is ~155 bytes
each, ~90 as hashes, and a worker runs 16 such spiders at once. Two URLs of one site sharing a 64-bit hash is
a chance of about 1 in 10^11; the set answers `in`, `add`, `discard` and `len`, and cannot list its URLs.
"""
from __future__ import annotations

from collections.abc import Iterable


class UrlSet(set):
    __slots__ = ()

    def __init__(self, urls: Iterable[str] = ()):
        super().__init__(map(hash, urls))

    def add(self, url: str) -> None:
        set.add(self, hash(url))

    def discard(self, url: str) -> None:
        set.discard(self, hash(url))

    def update(self, urls: Iterable[str]) -> None:
        set.update(self, map(hash, urls))

    def __contains__(self, url: object) -> bool:
        return set.__contains__(self, hash(url))
