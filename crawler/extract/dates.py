"""Publication dates in the forms Chinese government CMSs print them, and in their article URLs.

Regexes rather than a general date library: the forms are few and fixed (2017-08-01, 2017/8/1,
2017.08.01, 2017年8月1日, [08-01]), and this runs on every list item of every page.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_FULL = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*([-/.年])\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)\s*日?"
    r"(?:\s*(\d{1,2})[:：](\d{2})(?:[:：]\d{2})?)?"
)
# A month-day date standing alone in a cell, with the year left out: "08-01", "[08-01]", "（8月1日）".
_SHORT_ALONE = re.compile(r"^[\[(（【]?\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*[\])）】]?$")
_URL_FORMS = (
    re.compile(r"[/_]t((?:19|20)\d{2})(\d{2})(\d{2})_\d+"),          # TRS: /201708/t20170801_123.html
    re.compile(r"/art/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})/"),        # Hanweb: /art/2017/8/1/art_1_2.html
    re.compile(r"/((?:19|20)\d{2})-?(\d{2})-?(\d{2})/"),              # /2017-08-01/ or /20170801/
    re.compile(r"/((?:19|20)\d{2})(\d{2})/(\d{2})/"),                 # /201708/01/
)


@dataclass(frozen=True, slots=True)
class FoundDate:
    value: date
    year_inferred: bool = False
    has_time: bool = False


def _make(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def find_full_dates(text: str) -> list[FoundDate]:
    """Every date with a year in the text, in order."""
    found = []
    for m in _FULL.finditer(text):
        d = _make(int(m.group(1)), int(m.group(3)), int(m.group(4)))
        if d:
            found.append(FoundDate(d, has_time=m.group(5) is not None))
    return found


def infer_year(month: int, day: int, reference: date) -> date | None:
    """A month-day without a year is the most recent such day not after the reference date."""
    d = _make(reference.year, month, day)
    if d is None and (month, day) == (2, 29):
        d = _make(reference.year - 1, 2, 28)
    if d is not None and d > reference:
        d = _make(reference.year - 1, month, day) or _make(reference.year - 1, month, day - 1)
    return d


def parse_date(text: str, reference: date | None = None) -> FoundDate | None:
    """The first date in a piece of text; a lone month-day takes its year from `reference`."""
    full = _FULL.search(text)
    if full:
        d = _make(int(full.group(1)), int(full.group(3)), int(full.group(4)))
        if d:
            return FoundDate(d, has_time=full.group(5) is not None)
    if reference is not None:
        short = _SHORT_ALONE.match(text.strip())
        if short:
            d = infer_year(int(short.group(1)), int(short.group(2)), reference)
            if d:
                return FoundDate(d, year_inferred=True)
    return None


def date_from_url(url: str) -> date | None:
    for pattern in _URL_FORMS:
        m = pattern.search(url)
        if m:
            d = _make(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            if d:
                return d
    return None

