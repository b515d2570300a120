"""Service rules: V6 服务不实用 (2019), D8 办事指南, D9 附件下载, D10 在线系统."""
from __future__ import annotations

from scoring.certainty import absence_judgeable
from scoring.findings import Evidence
from scoring.links import failure_label
from scoring.registry import RULES, rule
from scoring.updates import category


def guides(snap, profile) -> list[tuple[str, str, list[str]]]:
    """(url, title, missing element categories) for every service-guide page the crawler found."""
    elements = profile.services.guide_elements
    out = []
    for note in snap.notes:
        if note.kind == "guide":
            present = set(note.detail["labels"])
            missing = [name for name, labels in elements.items() if not present & set(labels)]
            out.append((note.url, note.detail.get("title") or "", missing))
    return out


@rule("V6", "服务不实用", "veto",
      "（2019 年指标）未提供办事服务，或办事指南缺少事项名称、设定依据、申请条件、办理材料等关键要素的事项达到规定数量，即单项否决。",
      "在办事服务栏目提供办事指南，逐项补齐事项名称、设定依据、申请条件、办理材料、办理地点、办理机构、收费标准、办理时间、联系电话、办理流程。")
def services_not_useful(snap, profile):
    veto = profile.services.veto
    if veto is None or snap.no_external_services or not (snap.home and snap.home.outcome == "ok"):
        return []
    found = guides(snap, profile)
    has_service_column = any(category(c, profile) == "办事服务" for c in snap.columns)
    if not found and not has_service_column:
        if not veto.veto_no_services or not absence_judgeable(snap):
            return []
        return [RULES["V6"].finding(snap, f"{snap.url}#none", evidence=[Evidence(url=snap.url, detail="未发现办事服务栏目或办事指南")],
                                    title="服务不实用：未提供办事服务")]
    poor = [(url, title, missing) for url, title, missing in found if len(missing) >= veto.min_missing_categories]
    if len(poor) < veto.min_events:
        return []
    evidence = [Evidence(url=url, detail=f"{title}：缺少 {'、'.join(missing)}") for url, title, missing in poor]
    return [RULES["V6"].finding(snap, f"{snap.url}#guides", count=len(poor), evidence=evidence[:100],
                                title=f"服务不实用：{len(poor)} 个事项的办事指南缺少 {veto.min_missing_categories} 类以上要素")]


@rule("D8", "办事指南", "deduction",
      "办事指南缺少事项名称、设定依据、申请条件、办理材料、办理地点、办理时间、联系电话、办理流程等要素的，每缺一项扣分。",
      "按要素清单补齐每个办事指南的内容。")
def guide_elements(snap, profile):
    if snap.no_external_services:
        return []
    points = profile.services.guide_points
    return [RULES["D8"].finding(snap, url, points=points * len(missing), count=len(missing),
                                evidence=[Evidence(url=url, detail=f"{title}：缺少 {'、'.join(missing)}")],
                                title=f"办事指南要素缺失：{title or url}（缺 {len(missing)} 项）")
            for url, title, missing in guides(snap, profile) if missing]


SERVICE_CATEGORIES = ("办事服务", "通知公告")
SERVICE_TITLE_WORDS = ("通知", "公告", "指南", "办事", "服务", "下载", "表格")


def service_pages(snap, profile) -> set[str]:
    """Pages of 办事服务 and 通知公告 columns: their list pages and their items."""
    pages = set()
    for column in snap.columns:
        if category(column, profile) in SERVICE_CATEGORIES:
            pages.add(column.url)
            pages.update(item["url"] for item in column.items)
    return pages


def _failed_download(link) -> str | None:
    if link.outcome == "broken":
        return f"无法下载（{failure_label(link.error, link.status)}）"
    if link.outcome == "ok" and (link.content_type or "").startswith("text/html"):
        return "下载得到的是网页（错误页），不是文件"
    return None


@rule("D9", "附件下载", "deduction",
      "办事服务和通知公告页面（栏目中的页面，或标题为通知、公告、指南、办事、表格下载的页面）提供的附件、表格无法下载，或下载得到的是错误网页的，每个扣分。",
      "重新上传缺失的附件和表格，检查链接地址，确保点击即可下载文件。")
def attachment_downloads(snap, profile):
    if snap.no_external_services:
        return []
    failed, seen = [], set()
    pages = service_pages(snap, profile)
    for link in snap.service_links:
        on_service_page = link.source in pages or any(w in link.source_title for w in SERVICE_TITLE_WORDS)
        why = _failed_download(link) if link.kind == "attachment" and on_service_page else None
        if why and link.target not in seen:
            seen.add(link.target)
            failed.append(Evidence(url=link.target, source=link.source, detail=f"{link.text or '附件'}：{why}"))
    if not failed:
        return []
    return [RULES["D9"].finding(snap, f"{snap.url}#attachments", points=profile.services.attachment_points * len(failed),
                                count=len(failed), evidence=failed[:100], title=f"{len(failed)} 个附件无法下载")]


@rule("D10", "在线系统", "deduction",
      "在线办理、在线申报、在线查询等在线系统入口打不开的，每个扣分。",
      "修复在线办事系统入口的链接，系统迁移到浙江政务服务网的，链接到新的办事页面。")
def online_systems(snap, profile):
    if snap.no_external_services:
        return []
    keywords = profile.services.online_keywords
    failed, seen = [], set()
    for link in snap.service_links:
        if link.kind == "page" and link.outcome == "broken" and any(k in link.text for k in keywords) \
                and link.target not in seen:
            seen.add(link.target)
            failed.append(Evidence(url=link.target, source=link.source,
                                   detail=f"{link.text}：打不开（{failure_label(link.error, link.status)}）"))
    if not failed:
        return []
    return [RULES["D10"].finding(snap, f"{snap.url}#online", points=profile.services.online_points * len(failed),
                                 count=len(failed), evidence=failed, title=f"{len(failed)} 个在线系统入口打不开")]
