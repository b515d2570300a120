"""Every link a browser would fetch from a page, with its kind: anchors and frames, images (src, srcset,
poster, background, CSS url() in style attributes), media (video, audio, source, track, object, embed),
scripts, stylesheets and icons, and the target of a meta refresh. dns-prefetch and preconnect hints name
hosts, not documents: they are not links.

URLs are made absolute and percent-encoded the way a browser requests them: the path always as
UTF-8, the query in the page's encoding (this is where most link checkers report false 404s on
GBK pages with Chinese attachment names).
"""
from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from functools import lru_cache
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

from lxml import etree
from w3lib.url import safe_url_string

ATTACHMENT_EXTENSIONS = frozenset(
    ".pdf .doc .docx .xls .xlsx .ppt .pptx .wps .et .zip .rar .7z .txt .csv .ofd .tif".split())
IMAGE_EXTENSIONS = frozenset(".jpg .jpeg .png .gif .bmp .webp .svg .ico".split())
MEDIA_EXTENSIONS = frozenset(".mp4 .mp3 .flv .avi .wmv .swf .wav".split())
# element -> (attribute, kind or None to judge by the URL's extension); one URL per attribute.
_URL_ATTRIBUTES = {
    "a": (("href", None),), "area": (("href", None),), "iframe": (("src", None),), "frame": (("src", None),),
    "img": (("src", "image"),), "script": (("src", "script"),), "embed": (("src", "media"),),
    "source": (("src", "media"),), "video": (("src", "media"), ("poster", "image")), "audio": (("src", "media"),),
    "track": (("src", "media"),), "object": (("data", "media"),), "link": (("href", None),), "meta": (),
    "input": (("src", "image"),),  # an image submit button (type=image); other inputs carry no src
}
_SRCSET_TAGS = ("img", "source")
# Old table layouts paint backgrounds with an attribute; style attributes with url(): both are images.
_DECORATION = etree.XPath("//@background | //@style[contains(., 'url(')]")  # attribute nodes: cheapest
_CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)""", re.I)
_REFRESH_URL = re.compile(r"""^\s*[\d.]*\s*[;,]?\s*(?:url\s*=\s*)?['"]?([^'"]*)""", re.I)
_SRCSET_CANDIDATE = re.compile(r"[\s,]*(?:(\S*?),+(?=\s|$)|(\S+)(?:\s+[^,]*)?)")
_ICON_RELS = frozenset(("icon", "apple-touch-icon", "apple-touch-icon-precomposed", "mask-icon"))
_PAGE_RELS = frozenset(("canonical", "alternate", "next", "prev", "prerender"))
_PRELOAD_AS = {"image": "image", "script": "script", "style": "style", "font": "style", "document": "page",
               "audio": "media", "video": "media", "track": "media"}
_SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "about:", "#", "vbscript:", "sms:")


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    tag: str
    kind: str  # page | image | attachment | media | style | script
    text: str


_PAGE = threading.local()


@contextmanager
def one_page():
    """Within it, each distinct href is made absolute once: every extractor of a page reads the same anchors,
    and a page of 100,000 distinct links would thrash the shared LRU cache (a miss per link and reader).
    page_cached() results live as long, too."""
    outer = getattr(_PAGE, "urls", None)
    if outer is None:
        _PAGE.urls, _PAGE.shared = {}, {}
    try:
        yield
    finally:
        if outer is None:
            _PAGE.urls = _PAGE.shared = None


def page_cached(key, compute):
    """compute(), once per page (one_page) and key; the key holds what it depends on (the tree)."""
    shared = getattr(_PAGE, "shared", None)
    if shared is None:
        return compute()
    if key not in shared:
        shared[key] = compute()
    return shared[key]


def normalize(base: str, href: str, encoding: str = "utf-8") -> str | None:
    """Absolute, fragment-free, browser-encoded URL; None for links that are not fetchable."""
    urls = getattr(_PAGE, "urls", None)
    if urls is None:
        return _absolute(base, href, encoding)
    key = (base, href, encoding)
    url = urls.get(key, _PAGE)
    if url is _PAGE:
        url = urls[key] = _absolute(base, href, encoding)
    return url


def _absolute(base: str, href: str, encoding: str) -> str | None:
    href = href.strip()
    if not href or href.lower().startswith(_SKIP_SCHEMES):
        return None
    # The same nav/footer/list hrefs recur on every page: cache on the part of the base they depend on.
    if href.startswith(("http://", "https://")):
        anchor = "http:"   # the page does not matter: one cache entry per href (a footer's link on every page)
    elif href.startswith("//"):
        anchor = base[: base.find("//")]   # the page's scheme only
    elif href.startswith("/"):
        anchor = base[: base.find("/", base.find("//") + 2) % (len(base) + 1)]
    elif href.startswith("?") or "?" in base:
        anchor = base
    else:
        slash = base.rfind("/")
        # a bare origin (http://www.x.gov.cn, as a unit's address is often written) has the path "/"
        anchor = base + "/" if slash <= base.find("//") + 1 else base[: slash + 1]
    return _plain_join(anchor, href, encoding) or _normalize(anchor, href, encoding)


# Small on purpose: what recurs across pages is a site's nav/footer (per page, one_page() memoizes); 65,536
# entries were ~30 MB that a worker of 5,000-page sites filled with one-off article hrefs and kept.
@lru_cache(maxsize=4096)
def _normalize(base: str, href: str, encoding: str) -> str | None:
    try:
        absolute = urljoin(base, href)
        parts = urlsplit(absolute)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
        path = parts.path or "/"
        return safe_url_string(urlunsplit((parts.scheme, parts.netloc.lower(), path, parts.query, "")), encoding)
    except ValueError:   # a port past 65535, a bad IPv6 literal: nothing a browser would fetch
        return None


# An href of unreserved ASCII characters only (no '%', ':' or ';', no dot segment, no empty query): urljoin
# and safe_url_string leave it as it is, so it joins its base by concatenation, 10x cheaper (a page may
# carry 100,000 of them). tests/test_many_links.py holds this equal to _normalize on many shapes.
_PLAIN = re.compile(r"(https?://[A-Za-z0-9.-]+(?::\d{1,5})?)?([A-Za-z0-9_.~/-]*)(\?[A-Za-z0-9_.~=&-]+)?(?:#.*)?", re.S)


def _plain_join(anchor: str, href: str, encoding: str) -> str | None:
    """_normalize(anchor, href) for a plain href, else None (then _normalize decides)."""
    m = _PLAIN.fullmatch(href)
    if m is None:
        return None
    origin, path, query = m.groups()
    if origin:
        if path[:1] not in ("/", ""):
            return None
        prefix, path = _prefix(origin, "/x", encoding), path or "/"
    elif path.startswith("//") or not path:
        return None   # protocol-relative; a query alone keeps the base's last segment
    elif path.startswith("/"):
        prefix = _prefix(anchor, "/x", encoding)
    else:
        while path.startswith("./"):
            path = path[2:]
        if "//" in "/" + path:
            return None   # urljoin drops empty segments of relative paths
        prefix = _prefix(anchor, "x", encoding)
    if prefix is None or "/." in "/" + path:
        return None
    return prefix + path + (query or "")


@lru_cache(maxsize=4096)
def _prefix(base: str, probe: str, encoding: str) -> str | None:
    """What a plain href is appended to (the normalized origin, or the base's directory): the probe joined
    and its own characters cut off; None for a base that is not fetchable or an encoding that is not
    ASCII-transparent (a query's bytes would change)."""
    try:
        if "?=&".encode(encoding) != b"?=&":
            return None
    except LookupError:
        return None
    url = _normalize(base, probe, encoding)
    return url[: -len(probe)] if url and url.endswith("/x") else None


def _extension(url: str) -> str:
    """'.pdf' of an absolute, fragment-free URL's last path segment (cheap: runs for every link)."""
    path = url.split("?", 1)[0]
    name = path[path.rfind("/") + 1:]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def kind_of(url: str) -> str:
    """The kind a URL's extension tells (attachment, image, media, style, script), else page."""
    ext = _extension(url)
    if ext in ATTACHMENT_EXTENSIONS:
        return "attachment"
    if ext in IMAGE_EXTENSIONS:
        return "image"
    if ext in MEDIA_EXTENSIONS:
        return "media"
    if ext in (".css", ".js"):
        return "style" if ext == ".css" else "script"
    return "page"


def _link_kind(el) -> str | None:
    """The kind a <link> element's rel (and as) gives. None for what is not a link: hints that name only
    a host (dns-prefetch, preconnect) and rels a browser neither fetches nor shows (pingback …)."""
    rels = set((el.get("rel") or "").lower().split())
    if "stylesheet" in rels:
        return "style"
    if rels & _ICON_RELS:
        return "image"
    if rels & _PAGE_RELS:
        return "page"
    if rels & {"preload", "prefetch", "modulepreload"}:
        return _PRELOAD_AS.get((el.get("as") or "").lower()) or ("script" if "modulepreload" in rels else "")
    if "manifest" in rels:
        return "script"
    return None  # pingback, EditURI, author …: neither fetched by a browser nor followed by a reader


def _refresh_target(el) -> str | None:
    if (el.get("http-equiv") or "").strip().lower() != "refresh":
        return None
    m = _REFRESH_URL.match(el.get("content") or "")
    return m.group(1).strip() or None if m else None


def _srcset_urls(value: str) -> list[str]:
    """srcset candidates as the HTML standard splits them: a URL (commas that end it end the candidate),
    then descriptors up to the next comma. "a.jpg, b.jpg 2x,c,d.jpg 3x" -> a.jpg, b.jpg, c,d.jpg."""
    return [ended or described for ended, described in _SRCSET_CANDIDATE.findall(value) if ended or described]


def _raw_links(tree):
    """(raw URL, tag, kind or "" to judge by extension, element) for every URL-bearing attribute."""
    for el in tree.iter(*_URL_ATTRIBUTES):
        tag = el.tag
        if tag == "meta":
            target = _refresh_target(el)
            if target:
                yield target, "meta", "page", el
            continue
        if tag == "link":
            kind = _link_kind(el)
            if kind is not None and el.get("href"):
                yield el.get("href"), tag, kind, el
            continue
        if tag == "input" and (el.get("type") or "").lower() != "image":
            continue
        for attribute, kind in _URL_ATTRIBUTES[tag]:
            raw = el.get(attribute)
            if raw:
                yield raw, tag, kind or "", el
        if tag in _SRCSET_TAGS and el.get("srcset"):
            for raw in _srcset_urls(el.get("srcset")):
                yield raw, tag, "image", el
    for value in _DECORATION(tree):
        el = value.getparent()
        if value.attrname == "background":
            yield value, el.tag, "image", el
        else:
            for _, raw in _CSS_URL.findall(value):
                yield raw, "style", "", el


def _kind(url: str, tag: str, kind: str) -> str:
    """The element's kind, but the extension where it names a document (<a href="x.pdf">, <object data="x.pdf">)."""
    if kind and kind != "media":
        return kind
    by_extension = kind_of(url)
    if not kind:
        return "image" if tag == "style" and by_extension == "page" else by_extension
    return by_extension if by_extension in ("attachment", "image") else kind


def extract_links(tree, base_url: str, encoding: str) -> list[Link]:
    base_el = tree.find(".//base[@href]")
    base = urljoin(base_url, base_el.get("href")) if base_el is not None else base_url
    links = []
    for raw, tag, kind, el in _raw_links(tree):
        url = normalize(base, raw, encoding)
        if url is None:
            continue
        text = " ".join((text_of(el) if tag == "a" else el.get("alt") or "").split())[:200]
        links.append(Link(url, tag, _kind(url, tag, kind), text))
    return links


def text_of(el) -> str:
    """el.text_content(), without its XPath call for an element without children (most links and cells)."""
    return el.text_content() if len(el) else el.text or ""


# The host part of a plain http(s) URL (as normalize() writes them), read without urlsplit: the spider asks
# it of every link of a page. Anything else goes through urlsplit.
_PLAIN_NETLOC = re.compile(r"https?://([A-Za-z0-9.:-]*)(?:[/?#]|$)")


def netloc(url: str) -> str:
    plain = _PLAIN_NETLOC.match(url)
    return plain.group(1).lower() if plain else urlsplit(url).netloc.lower()
