"""Publication dates in the forms Chinese government CMSs print them, and in their article URLs.

Regexes rather than a general date library: the forms are few and fixed (2017-08-01, 2017/8/1,
2017.08.01, 2017年8月1日, [08-01]), and this runs on every list item of every page. Article bylines
also show the English forms of English-language templates and ASP defaults (Nov 3, 2025; 3 November
2025; 11/3/2025 9:23:57 PM, month first): `dates_in` finds those too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

# Every pattern here runs on every list row and byline: each starts with what its first character can be, and a
# "no digit (letter) before it" look-behind comes after that character, so re jumps between candidate starts
# instead of trying the look-behind at every position (3-8x faster; same matches, fuzzed against the plain forms).
_FULL = re.compile(
    r"((?:1(?<!\d1)9|2(?<!\d2)0)\d{2})\s*([-/.年])\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)\s*日?"
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
_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_YEAR = r"((?:19|20)\d{2})(?!\d)"
# English forms, as (pattern, group order month-day-year): "Nov 3, 2025", "3 November 2025", "11/3/2025".
_ENGLISH_FORMS = (
    (re.compile(rf"(?=[adfjmnos])(?<![a-z]){_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+{_YEAR}", re.I), (1, 2, 3)),
    (re.compile(rf"(\d(?<!\d\d)\d?)(?:st|nd|rd|th)?\s+{_MONTH},?\s+{_YEAR}", re.I), (2, 1, 3)),
    (re.compile(rf"(\d(?<![\d/.\-]\d)\d?)/(\d{{1,2}})/{_YEAR}(?![/\-])"), (1, 2, 3)),
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
    return [found for _, found in _full_dates(text)]


_DIGIT = re.compile(r"\d")


def dates_in(text: str) -> list[tuple[int, FoundDate]]:
    """Every date with a year in the text, Chinese and English forms, as (offset, date) in text order."""
    if not _DIGIT.search(text):   # most lines hold no digit at all: skip the patterns
        return []
    found = list(_full_dates(text))
    for pattern, (month, day, year) in _ENGLISH_FORMS:
        for m in pattern.finditer(text):
            d = _make(int(m.group(year)), _month_number(m.group(month)), int(m.group(day)))
            if d:
                found.append((m.start(), FoundDate(d)))
    return sorted(found, key=lambda pair: pair[0])


def _full_dates(text: str):
    for m in _FULL.finditer(text):
        d = _make(int(m.group(1)), int(m.group(3)), int(m.group(4)))
        if d:
            yield m.start(), FoundDate(d, has_time=m.group(5) is not None)


def _month_number(text: str) -> int:
    return int(text) if text.isdigit() else _MONTHS[text[:3].lower()]


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

