"""Can a body be read as a web page at all? And making pages that nest too deep readable.

DESIGN "facts first": a finding stands only on what was seen. Bytes that are not text (an image, an
archive, random data served as text/html) and a home page that is an error page served with status 200
(a soft 404) show nothing about the site; they are stored as unread, with the reason, never judged.
Runs on every page: the byte tests are C-speed (bytes.translate) on a bounded sample.

libxml2 stops building the tree at depth 2048 even with huge_tree, and everything after that point of
the page is lost (links, lists, footer). `flatten` drops the container tags beyond a depth, keeping all
text, links and the elements that carry URLs, so the page can be parsed whole.
"""
from __future__ import annotations

import re
from collections import Counter

from w3lib.encoding import read_bom

SAMPLE = 65_536            # bytes (characters) looked at: a binary body shows itself at once
MAX_CONTROL_SHARE = 0.02   # C0 control bytes in the sample (random or compressed data: ~0.10; pages: 0)
MAX_BAD_CHAR_SHARE = 0.05  # controls and U+FFFD after decoding (random bytes: ~0.25; real pages: <= 0.003)

NOT_A_PAGE = "内容不是可读的网页（{what}）"
GARBAGE = "二进制数据或乱码"
ERROR_HOME = "首页返回的是错误提示页（如“页面不存在”），不是网站首页"

_MAGIC = ((b"\x89PNG", "PNG 图片"), (b"GIF87a", "GIF 图片"), (b"GIF89a", "GIF 图片"), (b"\xff\xd8\xff", "JPEG 图片"),
          (b"%PDF-", "PDF 文档"), (b"PK\x03\x04", "ZIP 压缩包或 Office 文档"), (b"\x1f\x8b", "gzip 压缩数据"),
          (b"\xd0\xcf\x11\xe0", "Office 文档"), (b"Rar!\x1a", "RAR 压缩包"), (b"7z\xbc\xaf", "7z 压缩包"),
          (b"\xfd7zXZ", "xz 压缩数据"), (b"\x28\xb5\x2f\xfd", "zstd 压缩数据"), (b"\x00\x00\x01\x00", "图标文件"),
          (b"\x00asm", "WebAssembly 程序"))
_CONTROLS = bytes(b for b in range(32) if b not in b"\t\n\v\f\r")
_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x1f]")


def _magic(head: bytes) -> str | None:
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if head[4:8] == b"ftyp" or (head.startswith(b"RIFF") and head[8:12] in (b"WEBP", b"AVI ", b"WAVE")):
        return "音视频或图片数据"
    return None


def _control_share(body: bytes, text: str) -> float:
    """Share of C0 control characters, counted in the bytes (C speed), or in the decoded text of UTF-16/32,
    which is half NUL bytes."""
    if read_bom(body[:4])[0]:
        chars = text[:SAMPLE]
        return len(_CONTROL_CHARS.findall(chars)) / max(1, len(chars))
    sample = body[:SAMPLE]
    return (len(sample) - len(sample.translate(None, _CONTROLS))) / max(1, len(sample))


def not_a_page(body: bytes, text: str) -> str | None:
    """Why these bytes are no readable page (as the reason shown), or None for a page."""
    what = _magic(body[:16])
    if what:
        return NOT_A_PAGE.format(what=what)
    controls = _control_share(body, text)
    undecoded = text.count("\ufffd", 0, SAMPLE) / max(1, min(len(text), SAMPLE))
    if controls > MAX_CONTROL_SHARE or controls + undecoded > MAX_BAD_CHAR_SHARE:
        return NOT_A_PAGE.format(what=GARBAGE)
    return None


# ------------------------------------------------------------------ soft 404 at the home page

ERROR_PAGE_MAX_CHARS = 400  # own text (outside navigation, header, footer) an error page has at most
_ERROR_TITLE = re.compile(r"(?<![\d.])40[34](?![\d.])|not\s*found|forbidden|不存在|未找到|找不到|已删除|出错|"
                          r"错误(?:提示|页面)|系统错误|无法访问|禁止访问", re.I)
_ERROR_TEXT = re.compile(r"(?:页面|网页|文章|信息|内容|资源|文件|栏目)(?:不存在|未找到|已被?删除|已下线|走丢|丢失)|"
                         r"找不到(?:您要|你要|该|此|所)?(?:访问|请求|查看|浏览)?的?(?:页面|网页)|"
                         r"(?:访问|请求)的(?:页面|网页|资源|地址)(?:不存在|已被?删除|找不到)|"
                         r"(?<![\d.])404\s*(?:not\s*found|错误|页面|error)|error\s*404|错误代码\D{0,3}404(?!\d)|"
                         r"not\s+found|page\s+(?:does\s+not|doesn't)\s+exist", re.I)


def error_page(title: str, own_text: str, all_text: str, listed: bool) -> bool:
    """An error page served as a page: its title or its text says so, and it has little else (no list of
    items, a few sentences of its own at most). A home page that merely mentions 404 in a news title has
    lists and text of its own; a page that is short overall is read whole (the message may sit in a box
    whose class reads as a header)."""
    if listed or len(own_text) > ERROR_PAGE_MAX_CHARS:
        return False
    return bool(_ERROR_TITLE.search(title) or _ERROR_TEXT.search(own_text)
                or (len(all_text) <= ERROR_PAGE_MAX_CHARS and _ERROR_TEXT.search(all_text)))


def unread_entry(reason: str) -> dict:
    """An unread entry for the whole page (PageFacts.unread): no CMS family or browser could read it either."""
    return {"reason": reason, "family": None, "whole_page": True}


# ------------------------------------------------------------------ nesting bombs

# libxml2 closes these by itself when the next one opens: they never nest deep, never count, never go.
_SELF_CLOSING = frozenset(("a", "p", "li", "td", "th", "tr", "dt", "dd", "option", "form"))
# Elements that carry a URL or frame the document: counted, never dropped.
_KEEP = frozenset(("iframe", "object", "video", "audio", "noscript", "title", "head", "body", "html"))
_VOID = frozenset(("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
                   "track", "wbr", "keygen", "basefont", "frame", "isindex"))
_TOKEN = re.compile(r"<!--.*?(?:-->|\Z)|<(script|style)\b.*?(?:</\1\s*>|\Z)|<(/?)([a-zA-Z][\w:-]*)[^>]*>", re.S | re.I)
_CLOSE_SEARCH = 64  # open elements searched for a closing tag's match (a stray closer is left alone)


def flatten(text: str, depth: int) -> str:
    """The page with the container tags opened beyond `depth` (and their closing tags) removed; text,
    links and the elements that carry URLs stay where they were. Runs only on a page that was too deep."""
    stack: list[str] = []
    dropped: Counter = Counter()

    def keep(match: re.Match) -> str:
        name = (match.group(3) or "").lower()
        if not name or name in _VOID or name in _SELF_CLOSING or match.group(0).endswith("/>"):
            return match.group(0)   # comments, scripts, void and self-closing elements
        if match.group(2):   # a closing tag: the innermost dropped opener of that name first
            if dropped[name]:
                dropped[name] -= 1
                return ""
            for i in range(len(stack) - 1, max(-1, len(stack) - 1 - _CLOSE_SEARCH), -1):
                if stack[i] == name:
                    del stack[i:]
                    break
            return match.group(0)
        if len(stack) >= depth and name not in _KEEP:
            dropped[name] += 1
            return ""
        stack.append(name)
        return match.group(0)

    return _TOKEN.sub(keep, text)
