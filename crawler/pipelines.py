"""Hand items to the sink the spider was given (sitecensus' store); without one, items flow on to
Scrapy's feed exports, so `scrapy crawl site -a url=... -O pages.jsonl` works on its own."""


class SinkPipeline:
    def __init__(self, crawler=None):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item, spider=None):
        spider = spider or getattr(self.crawler, "spider", None)
        sink = getattr(spider, "sink", None)
        if sink is not None:
            sink.accept(item)
        return item
