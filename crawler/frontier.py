"""The scheduler's memory queue (SCHEDULER_MEMORY_QUEUE) with waiting requests kept small: a site of 5,000 pages
has thousands of requests waiting in its crawler, and a worker crawls 16 sites at once. A plain request is kept as
one tuple of what rebuilds it (URL, method, the names of its spider callbacks, its meta's values) instead of a
Request with its headers, cookies, flags, meta dict and two bound methods (~0.24 vs ~0.9 KB); it becomes a Request
again when the scheduler hands it to the downloader. Anything else (a body, headers, cookies, keyword arguments,
flags, a callback that is not a method of the spider) waits as the Request itself. Last in, first out, as
Scrapy's default LifoMemoryQueue."""
from __future__ import annotations

from scrapy import Request

_SHAPES: dict[tuple, tuple] = {}   # one shared tuple per kind of request (a spider makes a handful)


def pack(request: Request, spider) -> tuple | None:
    """What rebuilds `request` exactly, or None when it carries more than a URL, a method, callbacks and meta:
    (shape, url, meta values...), the shape (method, callback names, priority, dont_filter, meta keys) shared."""
    if (type(request) is not Request or request.body or request.headers or request.cookies or request.cb_kwargs
            or request.flags or request.encoding != "utf-8"):
        return None
    callback, errback = _method_name(request.callback, spider), _method_name(request.errback, spider)
    if callback is False or errback is False:
        return None
    meta, url = request.meta, request.url
    shape = (request.method, callback, errback, request.priority, request.dont_filter, tuple(meta))
    shape = _SHAPES.setdefault(shape, shape)
    # a meta value equal to the URL (the spider's first_url) is kept as the same string
    return (shape, url, *(url if value == url else value for value in meta.values()))


def unpack(packed: tuple, spider) -> Request:
    (method, callback, errback, priority, dont_filter, keys), url, *values = packed
    return Request(url, method=method, callback=callback and getattr(spider, callback),
                   errback=errback and getattr(spider, errback), priority=priority, dont_filter=dont_filter,
                   meta=dict(zip(keys, values)))


def _method_name(function, spider) -> str | None | bool:
    """None for no callback, the name of a spider's bound method, or False (anything else)."""
    if function is None:
        return None
    if getattr(function, "__self__", None) is spider and getattr(spider, function.__name__, None) == function:
        return function.__name__
    return False


class CompactLifoQueue:
    def __init__(self, crawler):
        self.crawler = crawler
        self.waiting: list = []

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        return cls(crawler)

    def push(self, request: Request) -> None:
        packed = pack(request, self.crawler.spider)
        self.waiting.append(request if packed is None else packed)

    def pop(self) -> Request | None:
        if not self.waiting:
            return None
        return self._request(self.waiting.pop())

    def peek(self) -> Request | None:
        return self._request(self.waiting[-1]) if self.waiting else None

    def _request(self, item) -> Request:
        return item if isinstance(item, Request) else unpack(item, self.crawler.spider)

    def close(self) -> None:
        self.waiting.clear()

    def __len__(self) -> int:
        return len(self.waiting)
