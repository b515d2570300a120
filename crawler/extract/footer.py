"""Identifiers a government site must show in its footer (shared/criteria.md §3.3, §3.4): 网站标识码,
ICP and 公安 record numbers, the 党政机关 badge, the sponsor and a contact."""
from __future__ import annotations

import re

_PROVINCES = "京津沪渝冀晋辽吉黑苏浙皖闽赣鲁豫鄂湘粤琼川贵云陕甘青蒙桂藏宁新"
SITE_CODE = re.compile(r"网站标识码\s*[:：]?\s*([0-9]{10}|bm\d{8})", re.I)
ICP = re.compile(rf"[{_PROVINCES}]ICP备\s*\d+号(?:-\d+)?")
SPONSOR = re.compile(r"主办(?:单位)?\s*[:：]\s*([^\s|｜　]+)")
CONTACT = re.compile(r"联系电话|联系方式|联系我们|电话\s*[:：]\s*[\d-]{7,}")
PSB = re.compile(rf"[{_PROVINCES}]公网安备\s*\d{{14}}号")


def extract_identifiers(text: str, tree) -> dict:
    """网站标识码, ICP 备案号, 公安备案号 as shown, and the SiteIDCode meta tag (None when absent)."""
    def first(pattern):
        m = pattern.search(text)
        return (m.group(1) if pattern.groups else m.group(0)) if m else None

    meta = tree.find(".//meta[@name='SiteIDCode']")
    badge = any("党政机关" in (img.get("alt") or "") or "conac" in (img.get("src") or "") for img in tree.iter("img")) \
        or any("conac" in (a.get("href") or "") for a in tree.iter("a"))
    sponsor = SPONSOR.search(text)
    return {"site_code": first(SITE_CODE), "icp": first(ICP), "psb": first(PSB),
            "meta_site_code": meta.get("content") if meta is not None else None,
            "badge": badge, "sponsor": sponsor.group(1)[:40] if sponsor else None,
            "contact": bool(CONTACT.search(text))}
