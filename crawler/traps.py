"""Crawler traps: URLs a site can generate without end, refused before they are requested.

- too long: a URL over `max_url_chars` (session ids and paths that grow with every hop);
- repeated path segments: a segment occurring `max_segment_repeats` times in one path (/a/b/a/b/a/b/).
  A soft-404 site answers every unknown path with the same page, whose relative links (`a/`,
  `b/x.html`) grow the path by one segment per hop; a limit on consecutive repeats alone would not
  stop it (words over two letters can grow forever without three equal blocks in a row);
- endless calendars: one path pattern whose date-like parts (a query value such as month=2026-11, or
  path parts such as /2026/11/ or /202611/) take more than `max_calendar_values` distinct values.
  Article URLs keep their own file name after the date folders (/art/2026/11/26/art_1229_456.html),
  so each is a pattern of its own and never counts against another.

One guard per site and scan (it remembers the calendar patterns seen). Checking a URL costs one
urlsplit and a pass over its segments: it runs on every new link of every page.
"""
from __future__ import annotations

import re
from collections import Counter
from urllib.parse import parse_qsl, urlencode, urlsplit

LONG, REPEAT, CALENDAR = "long", "repeat", "calendar"

_YEAR = r"(?:19|20)\d\d"
_MONTH, _DAY = r"(?:0?[1-9]|1[0-2])", r"(?:0?[1-9]|[12]\d|3[01])"
# 2026-11, 2026_11_26, 202611, 20261126 (compact forms zero-padded); a bare year only with a month after it
_PATH_DATE = re.compile(rf"{_YEAR}(?:[-_.]?(?:0[1-9]|1[0-2])(?:[-_.]?(?:0[1-9]|[12]\d|3[01]))?"
                        rf"|[-_.]{_MONTH}(?:[-_.]{_DAY})?)")
_QUERY_DATE = re.compile(rf"{_YEAR}[-_./]{_MONTH}(?:[-_./]{_DAY})?")   # ?month=2026-11, ?d=2026/11/26
# numbers (?year=2026, ?ym=202611, ?date=20261126, a month counter ?month=-3) only under a date-like name:
# elsewhere they are ids
_DATE_KEY = re.compile(r"(?i)date|year|month|day|riqi|nian|yue|^(?:cal|ym|ymd|nd)$")
_NUMBER = re.compile(r"-?\d{1,8}")
_YEAR_ONLY = re.compile(_YEAR)
_SMALL_NUMBER = re.compile(r"\d{1,2}")   # a month or day beside a year
_DIGIT = re.compile(r"\d")
MARK = "{d}"


class TrapGuard:
    def __init__(self, max_url_chars: int = 2000, max_segment_repeats: int = 3, max_calendar_values: int = 50):
        self.max_url_chars = max_url_chars
        self.max_segment_repeats = max_segment_repeats
        self.max_calendar_values = max_calendar_values
        # pattern -> the URLs admitted (at most max_calendar_values), both as 64-bit hashes (crawler/urlset.py):
        # one URL as its hash, several as a set. Most patterns are one article's own (its file name after the
        # date folders), so a 5,000-page site has ~6,500 of them: as strings, ~1.7 MB per site and 16 sites per
        # worker; an empty set alone is 216 bytes.
        self._calendars: dict[int, int | set[int]] = {}

    def reason(self, url: str) -> str | None:
        """LONG, REPEAT or CALENDAR when the URL looks like a trap, else None. Asking again about an
        admitted URL admits it again (a link found on many pages counts once)."""
        if len(url) > self.max_url_chars:
            return LONG
        parts = urlsplit(url)
        segments = [s for s in parts.path.split("/") if s]
        if segments and max(Counter(segments).values()) >= self.max_segment_repeats:
            return REPEAT
        if not _DIGIT.search(url):
            return None   # no number, no date: the common case stays cheap
        pattern = calendar_pattern(parts.netloc, segments, parts.query)
        if pattern is None:
            return None
        key, mark = hash(pattern), hash(url)
        seen = self._calendars.get(key)
        if seen is None:
            self._calendars[key] = mark
        elif isinstance(seen, int):
            if seen != mark:
                self._calendars[key] = {seen, mark}
        elif mark not in seen:
            if len(seen) >= self.max_calendar_values:
                return CALENDAR
            seen.add(mark)
        return None


def calendar_pattern(host: str, segments: list[str], query: str) -> str | None:
    """The URL with its date-like parts masked, or None when it has none."""
    masked_path = _mask_path(segments)
    masked_query = _mask_query(query) if query else None
    if masked_path is None and masked_query is None:
        return None
    path = "/".join(masked_path if masked_path is not None else segments)
    return f"{host}/{path}?{masked_query if masked_query is not None else query}"


def _mask_path(segments: list[str]) -> list[str] | None:
    out, found, after_year = [], False, 0
    for segment in segments:
        if _PATH_DATE.fullmatch(segment):
            out.append(MARK)
            found, after_year = True, 0
        elif _YEAR_ONLY.fullmatch(segment):
            out.append(segment)     # a year alone may be an id: it counts only with a month after it
            after_year = 2
        elif after_year and _SMALL_NUMBER.fullmatch(segment):
            if out[-1] != MARK:     # the year before this month
                out[-1] = MARK
            out.append(MARK)
            found, after_year = True, after_year - 1
        else:
            out.append(segment)
            after_year = 0
    return out if found else None


def _mask_query(query: str) -> str | None:
    """?year=2026&month=11: the date-like values masked, and beside them 1-2 digit numbers (month, day)."""
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(_query_date(key, value) for key, value in pairs):
        return None
    return urlencode(sorted((key, MARK if _query_date(key, value) or _SMALL_NUMBER.fullmatch(value) else value)
                            for key, value in pairs))


def _query_date(key: str, value: str) -> bool:
    return bool(_QUERY_DATE.fullmatch(value) or (_NUMBER.fullmatch(value) and _DATE_KEY.search(key)))
