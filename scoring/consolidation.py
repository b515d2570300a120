"""Consolidation (集约化) rules from 仑政办〔2017〕84号: J1 no closure notice, J2 notice without the
destination, J3 still serving after the planned closure."""
from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from urllib.parse import urlsplit

from scoring.findings import Evidence
from scoring.hosts import listed
from scoring.links import failure_label
from scoring.registry import RULES, rule


def closure_window(plan, context) -> tuple[date, date] | None:
    """(notice due from, closure overdue after) for a unit that plans to close, else None."""
    if not plan.participates or not plan.closure_month:
        return None
    year, month = map(int, plan.closure_month.split("-"))
    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    return first - timedelta(days=context.notice_lead_days), last + timedelta(days=context.grace_days)


def _host(url: str | None) -> str:
    return urlsplit(url or "").netloc.lower()


def migrated(snap) -> bool:
    """The home page answers with a redirect to the district portal (or the unit's retained page)."""
    home = snap.home
    destinations = {snap.context.portal_host, _host(snap.plan.portal_page_url)} - {""}
    return bool(home and home.redirects and _host(home.final_url) in destinations)


def serving(snap) -> bool:
    return bool(snap.home and snap.home.outcome == "ok" and not migrated(snap))


def _severity(profile, code):
    spec = getattr(profile.consolidation, code)
    return spec.severity, spec.points


@rule("J1", "未悬挂关停迁移公告", "consolidation",
      "计划关停的网站，在关停前须在首页悬挂网站关停和内容迁移去向公告。",
      "在网站首页显著位置悬挂关停公告，写明关停时间、内容迁移去向（“北仑之窗”门户网站）并附链接。")
def closure_notice_missing(snap, profile):
    window = closure_window(snap.plan, snap.context)
    if window is None or not serving(snap) or snap.home.notice:
        return []
    due, overdue = window
    today = snap.as_of.date()
    if not (due <= today <= overdue):
        return []
    severity, points = _severity(profile, "J1")
    return [RULES["J1"].finding(snap, snap.url, severity=severity, points=points, evidence=[Evidence(
        url=snap.url, detail=f"计划 {snap.plan.closure_month} 关停，公告应自 {due.isoformat()} 起悬挂；首页未发现关停迁移公告")])]


@rule("J2", "关停公告未指明迁移去向", "consolidation",
      "关停公告须写明并链接内容迁移去向（区政府门户网站或本单位保留页面）。",
      "在公告中写明“内容已迁移至‘北仑之窗’门户网站”，并加上指向门户网站（或本单位保留页面）的链接。")
def closure_notice_without_destination(snap, profile):
    if not snap.home or not snap.home.notice or migrated(snap):
        return []
    notice = snap.home.notice
    destinations = {snap.context.portal_host, _host(snap.plan.portal_page_url)} - {""}
    if any(_host(link) in destinations for link in notice.get("links", [])):
        return []
    named = snap.context.portal_name and snap.context.portal_name in notice.get("text", "")
    detail = f"公告：“{notice.get('text', '')[:120]}”；" + ("提到了门户网站但没有链接" if named else "未写明也未链接迁移去向")
    severity, points = _severity(profile, "J2")
    return [RULES["J2"].finding(snap, snap.url, severity=severity, points=points,
                                evidence=[Evidence(url=snap.home.final_url or snap.url, detail=detail)])]


@rule("J3", "逾期未关停", "consolidation",
      "已过计划关停时间（含宽限期）的网站仍在运行，既未关停也未跳转到门户网站。",
      "按整合意见书的时间关停网站或设置跳转到门户网站，并注销网站标识码、ICP 备案、公安备案和域名。")
def still_serving_after_closure(snap, profile):
    window = closure_window(snap.plan, snap.context)
    if window is None or not serving(snap) or snap.as_of.date() <= window[1]:
        return []
    notice = "首页有关停公告" if snap.home.notice else "首页无关停公告"
    severity, points = _severity(profile, "J3")
    return [RULES["J3"].finding(snap, snap.url, severity=severity, points=points, evidence=[Evidence(
        url=snap.url, detail=f"计划 {snap.plan.closure_month} 关停，宽限期至 {window[1].isoformat()}；"
                             f"检测时仍可访问（HTTP {snap.home.status}），{notice}")])]


@rule("J4", "关停后标识、证书或域名未注销", "consolidation",
      "网站关停后应注销网站标识码、ICP 备案、公安备案、党政机关网站标识、证书和域名；过了关停期限后仍可解析、仍有响应或仍显示标识的列出待注销项。",
      "向有关部门申请注销网站标识码、ICP 备案、公安备案和党政机关网站标识，吊销或停用证书，并注销域名。")
def left_to_deregister(snap, profile):
    window = closure_window(snap.plan, snap.context)
    if window is None or snap.as_of.date() <= window[1] or snap.role != "site":
        return []
    remaining = []
    tls = snap.tls or {}
    if tls.get("resolves", True):
        remaining.append("域名仍可解析")
    if snap.home and snap.home.status is not None:
        remaining.append(f"网站仍有响应（跳转到 {snap.home.final_url}）" if snap.home.redirects
                         else f"网站仍有响应（HTTP {snap.home.status}）")
    if serving(snap):
        shown = [label for key, label in (("site_code", "网站标识码"), ("icp", "ICP备案号"), ("psb", "公安备案号"),
                                          ("badge", "党政机关网站标识")) if snap.identifiers.get(key)]
        if shown:
            remaining.append("页面仍显示" + "、".join(shown))
    if tls.get("https") and tls.get("not_after") and date.fromisoformat(tls["not_after"][:10]) >= snap.as_of.date():
        remaining.append(f"证书仍有效（至 {tls['not_after'][:10]}）")
    if not remaining:
        return []
    severity, points = _severity(profile, "J4")
    return [RULES["J4"].finding(snap, snap.url, severity=severity, points=points, count=len(remaining),
                                evidence=[Evidence(url=snap.url, detail=item) for item in remaining],
                                title="关停后待注销：" + "；".join(remaining))]


_DECORATION = re.compile(r"更多|进入|点击|入口|专栏|频道|[\s>»›》→·|【】\[\]()（）:：-]")


def column_entry(text: str, words: list[str], extra_chars: int) -> bool:
    """A link named after a column (政府信息公开, 进入办事服务>>, 网上办事大厅), not a headline that mentions one."""
    name = _DECORATION.sub("", text)
    return any(word in name and len(name) <= len(word) + extra_chars for word in words)


def _entry_findings(snap, profile, code: str, words: list[str], hosts: list[str], platform: str):
    """Entries a retained portal page must point at the platforms (仑政办〔2017〕84号 二(二)): its column
    entries (navigation, block titles, tiles), never news headlines that happen to name 办事服务."""
    if snap.role != "portal_page" or not (snap.home and snap.home.outcome == "ok"):
        return []
    severity, points = _severity(profile, code)
    extra = profile.consolidation.entry_extra_chars
    entries = [link for link in snap.page_links if column_entry(link.text, words, extra)]
    if not entries:
        return [RULES[code].finding(snap, f"{snap.url}#missing", severity=severity, points=points, evidence=[Evidence(
            url=snap.url, detail=f"保留页面上未找到“{'/'.join(words[:2])}”栏目入口")], title=f"保留页面缺少{platform}入口")]
    if not hosts:
        return []  # settings.yaml names no platform host: nothing to compare against
    wrong = [link for link in entries if not any(listed(_host(link.target), h) for h in hosts)]
    return [RULES[code].finding(snap, link.target, severity=severity, points=points, evidence=[Evidence(
        url=link.target, source=link.source, detail=f"“{link.text}”链接到 {_host(link.target)}，应链接到{platform}（{'、'.join(hosts)}）")],
        title=f"“{link.text}”未链接到{platform}") for link in wrong]


@rule("J5", "保留页面信息公开栏目链接错误", "consolidation",
      "在门户网站保留页面的单位，其政府信息公开栏目必须统一链接到政府信息公开平台本单位的页面。",
      "把保留页面上“政府信息公开”栏目的链接改为政府信息公开平台上本单位的页面。")
def portal_disclosure_link(snap, profile):
    return _entry_findings(snap, profile, "J5", profile.consolidation.disclosure_entry_words,
                           snap.context.disclosure_hosts, "政府信息公开平台")


@rule("J6", "保留页面互动交流、办事服务栏目链接错误", "consolidation",
      "在门户网站保留页面的单位，其互动交流、办事服务栏目必须统一链接到浙江政务服务网本单位的页面。",
      "把保留页面上“互动交流”“办事服务”栏目的链接改为浙江政务服务网（北仑平台）上本单位的页面。")
def portal_service_link(snap, profile):
    return _entry_findings(snap, profile, "J6", profile.consolidation.service_entry_words,
                           snap.context.service_hosts, "浙江政务服务网")


@rule("J7", "发现未登记的政府网站", "consolidation",
      "门户网站和各单位网站链接到的本区政府网站域名下（或名称看起来属于本区的 .gov.cn）站点，不在单位名单中且能够访问的，可能是未经审批开设的网站。",
      "核实该网站的主办单位；未经审批开设的应关停，确需保留的按程序报区政府办公室审核并登记到名单。")
def unregistered_sites(snap, profile):
    context = snap.context
    if not context.district_domains and not context.district_host_hints:
        return []
    severity, points = _severity(profile, "J7")
    findings = []
    for host, link in sorted(snap.link_hosts.items()):
        if host in snap.context.registered_hosts or link.status is None:
            continue  # registered, or it did not answer
        name = host.split(":")[0].lower()
        looks_like_ours = name.endswith(".gov.cn") and any(hint in name for hint in context.district_host_hints)
        if looks_like_ours or any(listed(host, domain) for domain in context.district_domains):
            findings.append(RULES["J7"].finding(snap, host, severity=severity, points=points, evidence=[Evidence(
                url=link.target, source=link.source, detail=f"{host} 不在单位名单中，访问返回 HTTP {link.status}")],
                title=f"发现未登记的网站 {host}"))
    return findings


STATE_ORDER = ("应已关停", "关停公告期", "待关停", "未报送意见书", "不参与整合", "已关停")


def site_seen(snap) -> tuple[bool | None, str]:
    """(gone?, what the scan saw) — gone: no answer at all, or a redirect to the portal / retained page."""
    if snap is None:
        return None, "未登记网站，无法核实"
    home = snap.home
    if migrated(snap):
        return True, f"已跳转到 {home.final_url}"
    if home is None:
        return None, "首页未能检测"
    if home.outcome == "broken" and home.error in ("dns", "connect"):
        return True, "域名无法解析" if home.error == "dns" else "网站已无法连接"
    if home.outcome == "ok":
        if home.notice:
            return False, f"仍在运行，首页有关停公告：“{home.notice.get('text', '')[:80]}”"
        return False, "仍在运行，首页无关停公告"
    return None, f"首页无法检测（{failure_label(home.error, home.status)}）"


def consolidation_state(plan, context, today: date, snap=None) -> dict:
    """The unit's consolidation state at the check time, from its form and what the last scan saw."""
    gone, seen = site_seen(snap)
    out = {"state": "未报送意见书", "seen": seen, "closure_month": plan.closure_month, "overdue_days": 0,
           "detail": ""}
    if plan.participates is False:
        out.update(state="不参与整合", detail=plan.reason or "")
    elif plan.participates:
        due, overdue = closure_window(plan, context)
        if gone:
            out["state"] = "已关停"
        elif today < due:
            out.update(state="待关停", detail=f"关停公告应自 {due.isoformat()} 起悬挂")
        elif today <= overdue:
            out.update(state="关停公告期", detail=f"应于 {overdue.isoformat()} 前关停")
        else:
            out.update(state="应已关停", overdue_days=(today - overdue).days,
                       detail=f"已超过关停期限（{overdue.isoformat()}）{(today - overdue).days} 天")
    return out
