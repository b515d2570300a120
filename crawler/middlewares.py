"""Honour Retry-After: a 429/503 that says when to come back is retried once after that delay
(up to SITECENSUS_RETRY_AFTER_MAX seconds); otherwise the answer stands."""
from __future__ import annotations

import asyncio
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone


def retry_after_seconds(value: bytes | str | None) -> float | None:
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


class RetryAfterMiddleware:
    def __init__(self, max_wait: float):
        self.max_wait = max_wait

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getfloat("SITECENSUS_RETRY_AFTER_MAX", 120))

    async def process_response(self, request, response, spider=None):
        if response.status not in (429, 503) or request.meta.get("retried_after"):
            return response
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is None or wait > self.max_wait:
            return response
        await asyncio.sleep(wait)
        retry = request.replace(dont_filter=True)
        retry.meta["retried_after"] = True
        return retry
