"""Identifiers a government site must show in its footer (shared/criteria.md §3.3, §3.4): 网站标识码,
ICP and 公安 record numbers, the 党政机关 badge, the sponsor and a contact."""
from __future__ import annotations

import re

# Province abbreviations as record numbers print them: ICP uses the classical ones (蜀 黔 滇 陇), 公安 the common.
_PROVINCES = "京津沪渝冀晋辽吉黑苏浙皖闽赣鲁豫鄂湘粤琼川蜀贵黔云滇陕甘陇青蒙桂藏宁新"
# Each identifier is kept exactly as printed, odd forms included (a space or colon after 备, no 号, 号 first).
SITE_CODE = re.compile(r"网站(?:标识|识别)码\s*[:：]?\s*([0-9]{10}|bm\d{8})(?!\d)", re.I)
ICP = (re.compile(rf"[{_PROVINCES}]ICP备\s*[:：]?\s*\d{{5,}}(?:号)?(?:-\d+)?"),
       # No ICP filing printed: an ICP licence (ICP证 or the B2 value-added telecom licence) stands in.
       re.compile(rf"[{_PROVINCES}](?:ICP证\s*[:：]?\s*\d{{5,}}号?|B2-\d{{8}}(?:-\d+)?)"))
PSB = (re.compile(rf"[{_PROVINCES}]公网安备\s*号?\s*[:：]?\s*\d{{14}}(?:号)?"),
       # Printed under another field label: the number alone (the label schema drops field labels).
       re.compile(r"(?:网警备案号|公安(?:机关)?备案号|公安网备)\s*[:：]?\s*(\d{14})(?!\d)"))
SPONSOR = re.compile(r"主办(?:单位)?\s*[:：]\s*([^\s|｜　]+)")
CONTACT = re.compile(r"联系电话|联系方式|联系我们|电话\s*[:：]\s*[\d-]{7,}")


def _first(text: str, *patterns: re.Pattern) -> str | None:
    """The first match of the first pattern that matches: its group when it has one, else the whole match."""
    for pattern in patterns:
        m = pattern.search(text)
        if m:
            return m.group(1) if pattern.groups else m.group(0)
    return None


def extract_identifiers(text: str, tree) -> dict:
    """网站标识码, ICP 备案号, 公安备案号 as shown, and the SiteIDCode meta tag (None when absent)."""
    meta = tree.find(".//meta[@name='SiteIDCode']")
    badge = any("党政机关" in (img.get("alt") or "") or "conac" in (img.get("src") or "") for img in tree.iter("img")) \
        or any("conac" in (a.get("href") or "") for a in tree.iter("a"))
    sponsor = SPONSOR.search(text)
    return {"site_code": _first(text, SITE_CODE), "icp": _first(text, *ICP), "psb": _first(text, *PSB),
            "meta_site_code": meta.get("content") if meta is not None else None,
            "badge": badge, "sponsor": sponsor.group(1)[:40] if sponsor else None,
            "contact": bool(CONTACT.search(text))}
