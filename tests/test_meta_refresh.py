"""A page's <meta http-equiv="refresh"> is followed as Scrapy follows it (a closed site often says where it went
this way), but a body is decoded for it only when its bytes say "refresh" (crawler.middlewares)."""
from __future__ import annotations

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.middlewares import MetaRefreshWhereWritten


def _answers(body: bytes, encoding: str = "utf-8"):
    """(response, what ours makes of it, what Scrapy's makes of the same page)"""
    out = []
    for middleware in (MetaRefreshWhereWritten, MetaRefreshMiddleware):
        request = Request("http://127.0.0.1:8000/old/")
        response = HtmlResponse(request.url, body=body, encoding=encoding, request=request)
        out.append((response, build_from_crawler(middleware, get_crawler()).process_response(request, response)))
    (response, ours), (_, scrapys) = out
    return response, ours, scrapys


def test_a_refresh_in_any_case_and_encoding_is_followed_as_scrapy_follows_it():
    for body, encoding in [('<META HTTP-EQUIV="Refresh" CONTENT="0; URL=/new/">'.encode(), "utf-8"),
                           ('<meta http-equiv="refresh" content="0;url=/new/"><title>区政府网站已关停</title>'
                            .encode("gb18030"), "gb18030"),
                           ('<meta http-equiv="refresh" content="0;url=/new/">'.encode("utf-16"), "utf-16")]:
        _, ours, scrapys = _answers(body, encoding)
        assert isinstance(ours, Request) and ours.url.startswith("http://127.0.0.1:8000/new/"), encoding
        assert ours.url == scrapys.url


def test_a_page_without_refresh_passes_without_being_decoded():
    response, ours, scrapys = _answers("<title>区财政局</title><p>政务公开</p>".encode("gb18030") * 500, "gb18030")
    assert ours is response and not isinstance(scrapys, Request)
    assert response._cached_ubody is None   # Scrapy's decoded text: never made
    late = b"<p>x</p>" * 3000 + b'<meta http-equiv="refresh" content="0;url=/new/">'   # past 4,096 characters
    response, ours, scrapys = _answers(late)
    assert ours is response and not isinstance(scrapys, Request)
