"""Scrapy settings for sitecensus. `sitecensus scan` overrides the politeness and limit values from
config/settings.yaml (see sitecensus.scan.scrapy_settings); these defaults serve `scrapy crawl site`."""

BOT_NAME = "sitecensus"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = "sitecensus/0.1 (+government website census)"
ROBOTSTXT_OBEY = False

# Politeness: slots are per host:port (the spider sets meta["download_slot"]); work runs on many hosts at once.
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
DOWNLOAD_DELAY_JITTER = 0   # the configured delay, as set (not 0.5-1.5x of it)

DOWNLOAD_TIMEOUT = 20
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 0
REDIRECT_MAX_TIMES = 10
RETRY_TIMES = 1
# Not timeouts nor refused connections: those are asked again after the crawl, with more time and nothing
# else running (crawler/retry.py); retrying them here too made a hanging site cost two timeouts.
RETRY_EXCEPTIONS = [
    "scrapy.exceptions.CannotResolveHostError",
    "scrapy.exceptions.DownloadFailedError",
    "scrapy.exceptions.ResponseDataLossError",
    "twisted.internet.error.ConnectionDone",
    "twisted.internet.error.ConnectionLost",
    "scrapy.core.downloader.handlers.http11.TunnelError",
]
RETRY_HTTP_CODES = [502, 504, 522, 524, 408]
HTTPERROR_ALLOW_ALL = True          # a 404 is a fact to record, not an error to drop
COOKIES_ENABLED = True
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "WARNING"
DNS_TIMEOUT = 10
TWISTED_DNS_RESOLVER = "crawler.resolver.HostsResolver"   # settings.yaml crawl.hosts answers first, the guard checks
SITECENSUS_HOSTS: dict = {}
SITECENSUS_RESOLVE_ONLY_LISTED = False
# The address guard (crawler/guard.py): the scan's registered site hosts, crawl.private_networks_allowed
SITECENSUS_ALLOWED_HOSTS: list = []
SITECENSUS_PRIVATE_NETWORKS_ALLOWED: list = []
REACTOR_THREADPOOL_MAXSIZE = 20
# aiohttp's client, not Twisted's (crawler/download.py); crawler/render.py swaps in the browser-aware one
DOWNLOAD_HANDLERS = {"http": "crawler.download.HttpDownloadHandler", "https": "crawler.download.HttpDownloadHandler"}
DUPEFILTER_CLASS = "scrapy.dupefilters.BaseDupeFilter"  # the spider de-duplicates itself (see SiteSpider)
SCHEDULER_MEMORY_QUEUE = "crawler.frontier.CompactLifoQueue"   # waiting requests as tuples (~0.24 vs ~0.9 KB)

# Scrapy starts this many asyncio workers for every response's output; each page yields dozens of
# requests and one item, handled synchronously, so a large pool only costs task churn (~20% CPU).
CONCURRENT_ITEMS = 2

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.AddressGuardMiddleware": 40,   # first: a refused request never reaches the others
    "crawler.middlewares.RefererFromMeta": 45,
    "crawler.middlewares.RetryAfterMiddleware": 540,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.middlewares.RedirectKeepingReferrer": 600,   # Scrapy's, at its place
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.MetaRefreshWhereWritten": 580,   # Scrapy's, at its place
    # Scrapy's defaults that do nothing for us but cost every request a call (and a signal handler):
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,     # every request is dont_filter
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,   # no site is crawled with a password
}
DOWNLOADER_STATS = False   # byte and status counters nobody reads: the store holds every fetch
# Nor Scrapy's other counters: every request, response and item bumped several, through signal handlers (CoreStats)
# and the stats collector's wrapped methods (~1.5 % of a worker); LogStats only logs them at INFO.
STATS_CLASS = "scrapy.statscollectors.DummyStatsCollector"
EXTENSIONS = {"scrapy.extensions.corestats.CoreStats": None, "scrapy.extensions.logstats.LogStats": None}
# Spider middlewares wrap every request and item a page yields in one more async generator each. The
# spider sets depth (meta), Referer, and refuses over-long URLs (crawl.trap_max_url_chars) itself.
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,   # it overwrote the depth the spider gives
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,   # a development aid
}
# An HTTP server per crawler that runs Python code sent to it (Scrapy 2.19's default): not in a scan.
REMOTE_CONTROL_ENABLED = False
ITEM_PIPELINES = {
    "crawler.pipelines.SinkPipeline": 300,
}
# Per-site limits read by SiteSpider.
SITECENSUS_MAX_PAGES = 5000
SITECENSUS_MAX_DEPTH = 8
SITECENSUS_CHECK_EXTERNAL = True

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
