"""D2 链接可用性: broken links (pages, images, attachments, external) on the home page and elsewhere."""
from __future__ import annotations

from scoring.findings import Evidence
from scoring.registry import RULES, rule

_LABEL = {"dns": "域名无法解析", "connect": "无法连接", "timeout": "访问超时", "redirect_loop": "重定向循环",
          "tls": "证书/加密连接错误", "tls_obsolete": "网站只支持已淘汰的加密协议（TLS 1.0/1.1），现行浏览器无法打开",
          "too_large": "内容过大，超过下载上限", "blocked": "网站拦截了访问（防火墙或人机验证页面）",
          "failed": "下载失败",
          # refused by the address guard (crawler/guard.py): not requested, so never a 失效链接
          "private_address": "内网或本机地址，按设置不访问", "not_listed": "地址未列入 crawl.hosts，按设置不访问"}


def failure_label(error: str | None, status: int | None) -> str:
    """A failed request in words: 访问超时, 无法连接, HTTP 404 ... (never the error class itself)."""
    if error in _LABEL:
        return _LABEL[error]
    if status or (error or "").startswith("http_"):
        return f"HTTP {status or error.removeprefix('http_')}"
    return "访问失败"


def _try(entry: dict) -> str:
    if entry.get("error") == "host_down":
        return "该网站其他链接重试仍失败，未再重试"
    limit = f"（限时 {entry['timeout_s']:g} 秒）" if entry.get("timeout_s") else ""
    return failure_label(entry.get("error"), entry.get("status")) + limit


def describe(target) -> str:
    what = failure_label(target.error, target.status)
    if target.redirects:
        what += "（经 " + " → ".join(f"{r[1]}" for r in target.redirects) + " 跳转）"
    return what


def tries_text(target) -> str:
    """What happened on each try: the crawl's, then the second try after the crawl."""
    if len(target.tries) < 2:
        return ""
    return "；检测中" + _try(target.tries[0]) + "，检测结束后重试：" + _try(target.tries[1])


@rule("D2", "链接可用性", "deduction",
      "首页及其他页面的链接（含图片、附件、外部链接）打不开或返回错误，按首页和其他页面分别扣分。",
      "逐条修复或删除失效链接：更正地址、恢复被删除的文章或附件，外部链接失效时及时撤下。")
def broken_links(snap, profile):
    """One finding per broken target, so each can be followed across scans and silenced on its own."""
    findings = []
    for target in (t for t in snap.targets if t.outcome == "broken"):
        rate, where = ((profile.links.home_page_points, "首页") if target.on_home
                       else (profile.links.other_page_points, "其他页面"))
        sources = "、".join(target.sources[:3]) + (f" 等 {len(target.sources)} 个页面" if len(target.sources) > 3 else "")
        findings.append(RULES["D2"].finding(
            snap, target.url, points=rate,
            evidence=[Evidence(url=target.url, source=target.sources[0] if target.sources else None,
                               detail=f"{describe(target)}{tries_text(target)}；链接所在页面：{sources}")],
            title=f"{where}失效链接（{describe(target)}）"))
    return findings
