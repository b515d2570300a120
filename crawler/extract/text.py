"""Turn a page's bytes into text with the right encoding, declared or not.

Chinese government sites mix UTF-8, GBK, GB2312 and GB18030, often declare one and serve another,
or declare nothing. w3lib reads the declarations (BOM, HTTP header, <meta>); when there is none, or
the declared codec does not fit the bytes, the first Chinese-first candidate that decodes them whole wins.
GB2312 and GBK are read as GB18030, their superset, so rare characters such as 碶 survive.

Many real GBK pages carry a few invalid bytes (a truncated character at a template seam). No candidate
then fits exactly, and a statistical guesser picks a single-byte codec (cp1252, ptcp154) that turns
the whole page into mojibake. Instead the candidate with the fewest undecodable bytes wins, decoded
with replacement characters: a GBK page read as GB18030 loses a character or two, read as UTF-8 it
fails on nearly every Chinese character, and the other way round for a UTF-8 page.
"""
from __future__ import annotations

import codecs
import re
from functools import lru_cache

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

_SUPERSET = {"gb2312": "gb18030", "gbk": "gb18030", "gb_2312-80": "gb18030", "x-gbk": "gb18030",
             "cp936": "gb18030", "ascii": "utf-8", "iso8859-1": "utf-8", "latin-1": "utf-8"}
_FALLBACKS = ["utf-8", "gb18030", "big5"]
_UTF8_TOLERANCE = 0.2  # undecodable share of non-ASCII bytes still read as UTF-8 (GBK read as UTF-8: ~0.63)


def _normal(name: str | None) -> str | None:
    if not name:
        return None
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        return None
    return _SUPERSET.get(canonical, canonical)


def _decoded(body: bytes, encoding: str) -> str | None:
    """The body as text in `encoding` if it decodes whole, else None."""
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _undecodable(body: bytes, encoding: str) -> int:
    """How many replacement characters decoding adds (those already in the text do not count)."""
    try:
        return body.decode(encoding, errors="replace").count("\ufffd")
    except LookupError:
        return len(body)


def _closest(body: bytes, declared: list[str]) -> str:
    """The codec for bytes that no candidate decodes whole. UTF-8 is strict and self-synchronising: when
    it reads nearly all non-ASCII bytes, it is UTF-8 with a few bad bytes (GB18030 would read the same
    bytes as mojibake with few errors). Otherwise the declared codec, UTF-8 or GB18030, whichever leaves
    the fewest bytes undecoded (a GBK page read as UTF-8 fails on nearly every character)."""
    non_ascii = len(body.translate(None, bytes(range(128))))
    if _undecodable(body, "utf-8") <= _UTF8_TOLERANCE * non_ascii:
        return "utf-8"
    candidates = list(dict.fromkeys([*declared, "utf-8", "gb18030"]))
    return min(candidates, key=lambda name: _undecodable(body, name))


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding used)."""
    bom_encoding, bom = read_bom(body)
    if bom_encoding:
        return body[len(bom):].decode(bom_encoding, errors="replace"), bom_encoding
    declared = [_normal(http_content_type_encoding(content_type or "")),
                _normal(html_body_declared_encoding(body[:4096]))]
    for encoding in [*filter(None, declared), *_FALLBACKS]:
        text = _decoded(body, encoding)
        if text is not None:
            return text, encoding
    encoding = _closest(body, [e for e in declared if e])
    return body.decode(encoding, errors="replace"), encoding


@lru_cache(maxsize=16)
def _placeholder_pattern(words: tuple[str, ...]) -> re.Pattern:
    alternatives = "|".join(map(re.escape, sorted(words, key=len, reverse=True)))
    # \w covers CJK characters: 建设中 inside 在建设中华民族 has word characters on both sides.
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


@lru_cache(maxsize=16)
def _squeezed(words: tuple[str, ...]) -> tuple[str, ...]:
    """The phrases with their spaces squeezed, as analyse_page squeezes the page's text (once per profile)."""
    return tuple(" ".join(word.split()) for word in words)


def shows_placeholder(tree, words: tuple[str, ...], text: str | None = None) -> bool:
    """Whether the page shows a placeholder (暂无信息, 建设中 …) as a phrase of its own: a text node that
    is the phrase, or the phrase standing between punctuation or spaces, never inside a longer run of words.
    `text`, the tree's text with its spaces squeezed (as analyse_page has it), rules out most pages at once: a
    phrase in one text node is in it too."""
    if not words or (text is not None and not any(word in text for word in _squeezed(tuple(words)))):
        return False
    pattern = _placeholder_pattern(tuple(words))
    if any("\n" in word for word in words):
        return any(pattern.search(piece) for piece in tree.itertext() if piece.strip())
    # One search over the text nodes joined by a line break, which no phrase holds and which stands where a
    # node's start or end did for the (?<!\w)/(?!\w) bounds: the same answer, without a search per node.
    return pattern.search("\n".join(tree.itertext())) is not None
