"""crawler/frontier.py: waiting requests kept as tuples come back as the same requests, in LIFO order."""
import tracemalloc
from types import SimpleNamespace

import scrapy
from scrapy.squeues import LifoMemoryQueue

from crawler.frontier import CompactLifoQueue
from crawler.settings import SCHEDULER_MEMORY_QUEUE
from crawler.spiders.site import SiteSpider

FIELDS = ("url", "method", "callback", "errback", "priority", "dont_filter", "meta", "headers", "body", "cookies",
          "flags", "cb_kwargs", "encoding")


def _queue():
    spider = SiteSpider(url="http://127.0.0.1:8080/")
    return CompactLifoQueue(SimpleNamespace(spider=spider)), spider


def _same(a: scrapy.Request, b: scrapy.Request) -> bool:
    return all(getattr(a, name) == getattr(b, name) for name in FIELDS)


def test_the_spiders_requests_come_back_the_same_last_in_first_out():
    queue, spider = _queue()
    made = [spider._request("http://127.0.0.1:8080/", spider.parse_page, 0, None, is_home=True),
            spider._request("http://127.0.0.1:8080/a b.html", spider.parse_page, 1, "http://127.0.0.1:8080/"),
            spider._request("http://127.0.0.1:9/x.pdf", spider.on_checked, 2, "http://127.0.0.1:8080/a",
                            method="HEAD", check_only=True)]
    for request in made:
        queue.push(request)
    assert len(queue) == 3 and all(isinstance(item, tuple) for item in queue.waiting)
    assert _same(queue.peek(), made[-1])
    back = [queue.pop() for _ in range(3)]
    assert [r.url for r in back] == [r.url for r in reversed(made)]
    assert all(_same(a, b) for a, b in zip(back, reversed(made)))
    assert queue.pop() is None and len(queue) == 0


def test_requests_carrying_more_wait_as_themselves():
    queue, spider = _queue()
    odd = [scrapy.Request("http://127.0.0.1:8080/h", headers={"X-A": "1"}, callback=spider.parse_page),
           scrapy.Request("http://127.0.0.1:8080/p", method="POST", body=b"q=1", callback=spider.parse_page),
           scrapy.Request("http://127.0.0.1:8080/k", callback=spider.parse_page, cb_kwargs={"n": 1}),
           scrapy.Request("http://127.0.0.1:8080/l", callback=lambda response: None),
           scrapy.FormRequest("http://127.0.0.1:8080/f", formdata={"a": "b"})]
    for request in odd:
        queue.push(request)
    assert all(item is request for item, request in zip(queue.waiting, odd))
    assert [queue.pop() for _ in odd] == list(reversed(odd))


def test_it_holds_far_less_than_scrapys_queue_and_the_crawl_uses_it():
    _, spider = _queue()

    def held(queue) -> int:
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for i in range(2000):
            queue.push(spider._request(f"http://127.0.0.1:8080/zwgk/202511/t20251120_{i}.html", spider.parse_page,
                                       3, "http://127.0.0.1:8080/zwgk/index.html"))
        size = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        return size

    compact, plain = held(CompactLifoQueue(SimpleNamespace(spider=spider))), held(LifoMemoryQueue())
    assert compact < 0.3 * plain, (compact, plain)
    assert SCHEDULER_MEMORY_QUEUE == "crawler.frontier.CompactLifoQueue"
