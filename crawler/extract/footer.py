"""Identifiers a government site must show in its footer (shared/criteria.md §3.3, §3.4)."""
from __future__ import annotations

import re

_PROVINCES = "京津沪渝冀晋辽吉黑苏浙皖闽赣鲁豫鄂湘粤琼川贵云陕甘青蒙桂藏宁新"
SITE_CODE = re.compile(r"网站标识码\s*[:：]?\s*([0-9]{10}|bm\d{8})", re.I)
ICP = re.compile(rf"[{_PROVINCES}]ICP备\s*\d+号(?:-\d+)?")
PSB = re.compile(rf"[{_PROVINCES}]公网安备\s*\d{{14}}号")


def extract_identifiers(text: str, tree) -> dict:
    """网站标识码, ICP 备案号, 公安备案号 as shown, and the SiteIDCode meta tag (None when absent)."""
    def first(pattern):
        m = pattern.search(text)
        return (m.group(1) if pattern.groups else m.group(0)) if m else None

    meta = tree.find(".//meta[@name='SiteIDCode']")
    return {"site_code": first(SITE_CODE), "icp": first(ICP), "psb": first(PSB),
            "meta_site_code": meta.get("content") if meta is not None else None}
