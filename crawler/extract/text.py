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

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

_SUPERSET = {"gb2312": "gb18030", "gbk": "gb18030", "gb_2312-80": "gb18030", "x-gbk": "gb18030",
             "cp936": "gb18030", "ascii": "utf-8", "iso8859-1": "utf-8", "latin-1": "utf-8"}
_FALLBACKS = ["utf-8", "gb18030", "big5"]


def _normal(name: str | None) -> str | None:
    if not name:
        return None
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        return None
    return _SUPERSET.get(canonical, canonical)


def _fits(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _undecodable(body: bytes, encoding: str) -> int:
    """How many replacement characters decoding adds (those already in the text do not count)."""
    try:
        return body.decode(encoding, errors="replace").count("\ufffd")
    except LookupError:
        return len(body)


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding used)."""
    bom_encoding, bom = read_bom(body)
    if bom_encoding:
        return body[len(bom):].decode(bom_encoding, errors="replace"), bom_encoding
    declared = [_normal(http_content_type_encoding(content_type or "")),
                _normal(html_body_declared_encoding(body[:4096]))]
    for encoding in filter(None, declared):
        if _fits(body, encoding):
            return body.decode(encoding), encoding
    for encoding in _FALLBACKS:
        if _fits(body, encoding):
            return body.decode(encoding), encoding
    # Nothing fits whole: the declared codec first, then UTF-8 and GB18030, whichever loses the fewest bytes.
    candidates = list(dict.fromkeys([*filter(None, declared), "utf-8", "gb18030"]))
    encoding = min(candidates, key=lambda name: _undecodable(body, name))
    return body.decode(encoding, errors="replace"), encoding
