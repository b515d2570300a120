"""Every link on a page: a, area, iframe, frame, img, link, script, embed, source — with its kind.

URLs are made absolute and percent-encoded the way a browser requests them: the path always as
UTF-8, the query in the page's encoding (this is where most link checkers report false 404s on
GBK pages with Chinese attachment names).
"""
from __future__ import annotations

import posixpath
from functools import lru_cache
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

from w3lib.url import safe_url_string

ATTACHMENT_EXTENSIONS = frozenset(
    ".pdf .doc .docx .xls .xlsx .ppt .pptx .wps .et .zip .rar .7z .txt .csv .ofd .tif".split())
IMAGE_EXTENSIONS = frozenset(".jpg .jpeg .png .gif .bmp .webp .svg .ico".split())
MEDIA_EXTENSIONS = frozenset(".mp4 .mp3 .flv .avi .wmv .swf .wav".split())
_SOURCES = {"a": "href", "area": "href", "iframe": "src", "frame": "src", "img": "src", "link": "href",
            "script": "src", "embed": "src", "source": "src"}
_SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "about:", "#", "vbscript:", "sms:")


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    tag: str
    kind: str  # page | image | attachment | media | style | script
    text: str


def normalize(base: str, href: str, encoding: str = "utf-8") -> str | None:
    """Absolute, fragment-free, browser-encoded URL; None for links that are not fetchable."""
    href = href.strip()
    if not href or href.lower().startswith(_SKIP_SCHEMES):
        return None
    # The same nav/footer/list hrefs recur on every page: cache on the part of the base they depend on.
    if href.startswith(("http://", "https://", "//")):
        anchor = ""
    elif href.startswith("/"):
        anchor = base[: base.find("/", base.find("//") + 2) % (len(base) + 1)]
    elif href.startswith("?"):
        anchor = base
    else:
        anchor = base[: base.rfind("/") + 1] if "?" not in base else base
    return _normalize(anchor or base, href, encoding)


@lru_cache(maxsize=65536)
def _normalize(base: str, href: str, encoding: str) -> str | None:
    try:
        absolute = urljoin(base, href)
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    path = parts.path or "/"
    return safe_url_string(urlunsplit((parts.scheme, parts.netloc.lower(), path, parts.query, "")), encoding)


def kind_of(url: str, tag: str, rel: str = "") -> str:
    if tag == "img":
        return "image"
    if tag == "script":
        return "script"
    if tag == "link":
        return "style" if "stylesheet" in rel or url.endswith(".css") else "page" if "alternate" in rel else "style"
    ext = posixpath.splitext(urlsplit(url).path.lower())[1]
    if ext in ATTACHMENT_EXTENSIONS:
        return "attachment"
    if ext in IMAGE_EXTENSIONS:
        return "image"
    if ext in MEDIA_EXTENSIONS or tag in ("embed", "source"):
        return "media"
    if ext in (".css", ".js"):
        return "style" if ext == ".css" else "script"
    return "page"


def extract_links(tree, base_url: str, encoding: str) -> list[Link]:
    base_el = tree.find(".//base[@href]")
    base = urljoin(base_url, base_el.get("href")) if base_el is not None else base_url
    links = []
    for el in tree.iter(*_SOURCES):
        raw = el.get(_SOURCES[el.tag])
        if not raw:
            continue
        url = normalize(base, raw, encoding)
        if url is None:
            continue
        kind = kind_of(url, el.tag, (el.get("rel") or "").lower())
        text = " ".join((el.text_content() if el.tag == "a" else el.get("alt") or "").split())[:200]
        links.append(Link(url, el.tag, kind, text))
    return links


def netloc(url: str) -> str:
    return urlsplit(url).netloc.lower()
