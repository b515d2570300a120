"""Safety rules: S1 hidden links (暗链), S3 links to banned or hijacked domains."""
from __future__ import annotations

from scoring.content import _advisory
from scoring.findings import Evidence
from scoring.hosts import listed
from scoring.registry import rule


@rule("S1", "暗链", "advisory",
      "页面中隐藏（display:none、移出屏幕、零尺寸、字号为 0、与背景同色等）的指向外部网站的链接。",
      "删除隐藏链接，检查网页模板和服务器是否被篡改，修补漏洞后修改后台密码。")
def hidden_links(snap, profile):
    by_target = snap.notes_by(("hidden_link",), lambda n: n.detail["url"])
    if not by_target:
        return []
    evidence = [Evidence(url=target, source=notes[0].url,
                         detail=f"隐藏方式：{notes[0].detail['why']}；链接文字“{notes[0].detail['text']}”；{len(notes)} 个页面")
                for target, notes in by_target.items()]
    return [_advisory(snap, profile, "S1", snap.url, evidence, f"发现 {len(evidence)} 个暗链")]


@rule("S3", "链接到违规或被劫持的域名", "advisory",
      "页面链接到名单中的违规、被劫持或已失效的域名（违规域名名单，见配置目录 dictionaries.yaml）。",
      "删除指向违规域名的链接；如为原合作网站域名被抢注，及时撤下链接。")
def banned_hosts(snap, profile):
    banned = {h.lower() for h in snap.context.banned_hosts}
    evidence = [Evidence(url=link.target, source=link.source, detail=f"链接到名单中的域名 {host}")
                for host, link in snap.link_hosts.items() if any(listed(host, b) for b in banned)]
    return [_advisory(snap, profile, "S3", snap.url, evidence, f"链接到 {len(evidence)} 个违规域名")] if evidence else []
