"""What a scan could not verify (无法核实), with the reason — never a finding.

DESIGN "facts first, certainty explicit": the crawler stores lists it saw but could not read (a CMS
family whose reader is off, a script-rendered list, an app shell that was not rendered) as such. Rules
that would conclude from an absence (no update, no item, no column) ask these functions first and stay
silent where the facts were not seen; the sheet and the JSON list what was left unverified and why.
"""
from __future__ import annotations

HOME_UNREAD = "首页内容由脚本生成，未能读取"


def home_unread_reason(snap) -> str | None:
    """Why the home page's lists could not be read, when they could not. A page that was no page at all
    (binary bytes, an error page served with status 200) stays unread even after rendering."""
    home = snap.home
    if home is None or home.outcome != "ok":
        return None
    whole = next((e for e in home.unread if e.get("whole_page")), None)
    if whole is not None:
        return whole.get("reason") or HOME_UNREAD
    if home.rendered:
        return None
    if home.app_shell:
        return "首页为脚本应用外壳（单页应用），内容未能读取"
    if home.unread:
        return home.unread[0].get("reason") or HOME_UNREAD
    return None


def absence_judgeable(snap) -> bool:
    """Can "there is no such column" be concluded? Not when the home page was not fetched or could not be read."""
    return snap.home is not None and snap.home.outcome == "ok" and home_unread_reason(snap) is None


NOTHING_READ = "首页及其链接的二级栏目中未读到任何信息条目"


def nothing_read(snap) -> bool:
    """The home page was read, yet no item was seen on it nor in the second-level columns it leads to:
    no evidence either way about updates."""
    home = snap.home
    return (home is not None and home.outcome == "ok" and not home.items and home_unread_reason(snap) is None
            and not any(c.item_count or c.blank for c in snap.columns if c.from_home))


def readable(columns) -> list:
    return [c for c in columns if not c.unverified]


def content_unreadable(snap) -> str | None:
    """The site's content could not be read at all: the home page unread and no column read either."""
    reason = home_unread_reason(snap)
    if reason is None or snap.home.items:
        return None
    if any(c.item_count for c in readable(snap.columns)):
        return None
    return reason


def unverified_items(snap) -> list[dict]:
    """Everything the judgement had to leave open, for the sheet and the JSON: {what, url, reason}."""
    out = []
    reason = home_unread_reason(snap)
    if reason or nothing_read(snap):
        out.append({"what": "首页更新情况（V2 首页不更新、D3 首页栏目信息更新量）", "url": snap.url,
                    "reason": reason or NOTHING_READ})
    out += [{"what": f"栏目“{c.name}”的更新情况", "url": c.url, "reason": c.unverified}
            for c in snap.columns if c.unverified]
    if snap.crawl is not None:   # the site's budgets (pages, link checks, time) and crawler traps
        out += [{"what": what, "url": url or snap.url, "reason": reason} for what, url, reason in snap.crawl.left()]
    return out
