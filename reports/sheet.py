"""The content of a unit's sheet, shared by the HTML, PDF and DOCX versions so they always say the
same thing. One sheet per unit (`unit_sheets`): the unit's site(s) and its page retained on the portal,
each with its verdict, deductions, problems grouped by indicator with evidence and hint, what could not
be verified and its columns; then the status of the previous sheet's problems, the deadline and the
feedback section. What the sheet is depends on what it finds: a 整改问题单 when there is something to
rectify, a 关停确认单 for a unit whose site is closed with nothing left to do, else a 检测结果告知单."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import datetime

SEVERITY_ORDER = ("veto", "deduction", "consolidation", "advisory")
SEVERITY_LABELS = {"veto": "单项否决", "deduction": "扣分", "advisory": "提示", "consolidation": "集约化"}
PLAN_LABELS = {None: "未报送意见书", True: "参与整合", False: "不参与整合"}
ROLE_LABELS = {"site": "网站", "portal_page": "门户网站保留页面", "portal": "门户网站"}
CATEGORY_LABELS = {"other": "其他（未归类）"}
FEEDBACK_ROWS = ("整改措施及完成情况", "尚未完成的原因及计划完成时间", "对检测结果的异议（附说明）", "联系人及电话",
                 "单位负责人签字（盖章）")
# what a unit's sheet is: its mail's subject tag, its title, its short name (the attachment's)
NOTICES = {"rectify": {"tag": "整改通知", "title": "政府网站检测整改问题单", "short": "整改问题单"},
           "closure": {"tag": "关停确认", "title": "政府网站关停情况确认单", "short": "关停确认单"},
           "result": {"tag": "检测结果告知", "title": "政府网站检测结果告知单", "short": "检测结果告知单"}}


def safe_name(unit: str) -> str:
    """A unit's name as part of a file name on any system: no separators, dots or control characters."""
    return re.sub(r"[^\w\u4e00-\u9fff]+", "_", unit).strip("_")[:40] or "unit"


def sheet_name(unit: str, url: str | None = "") -> str:
    """A file name safe on any system for any unit name: the unit's name made safe, then a short hash
    of unit and site for uniqueness."""
    return f"{safe_name(unit)}-{hashlib.sha1((unit + (url or '')).encode()).hexdigest()[:6]}.html"


def stem(unit: str, url: str | None = "") -> str:
    return sheet_name(unit, url).removesuffix(".html")


def verdict_class(verdict: str | None) -> str:
    """One colour per verdict on every page: a closure as planned is as good as a pass."""
    return {"合格": "pass", "已关停": "pass", "不合格": "fail"}.get(verdict or "", "muted")


def severity_of(finding: dict) -> str:
    """The finding's kind as the sheets group it: consolidation rules (J*) apart from the advisories."""
    return "consolidation" if finding["code"].startswith("J") else finding["severity"]


def plan_text(plan: dict | None) -> str:
    plan = plan or {}
    text = PLAN_LABELS.get(plan.get("participates"), "未报送意见书")
    if plan.get("closure_month"):
        text += f"，拟关停时间 {plan['closure_month']}"
    if plan.get("reason"):
        text += f"，情况说明：{plan['reason']}"
    return text


def shown_points(finding: dict, indicators: dict | None) -> float:
    """A finding's points as they can count: never more than its indicator's cap."""
    cap = (indicators or {}).get(finding["code"], {}).get("cap")
    return finding["points"] if cap is None else min(finding["points"], cap)


def _group(finding: dict, site: dict, rule_names: dict[str, str]) -> dict:
    indicator = (site.get("indicators") or {}).get(finding["code"], {})
    cap = indicator.get("cap")
    return {"code": finding["code"], "name": rule_names.get(finding["code"], ""), "severity": severity_of(finding),
            "severity_label": SEVERITY_LABELS[severity_of(finding)], "taken": indicator.get("taken"),
            "capped": cap is not None and indicator.get("points", 0) > cap,   # shown as （已达该项上限）
            "provisional": True, "problems": []}


MAX_LISTED = 100   # problems listed per indicator (sheets.max_problems_per_indicator)


def groups(site: dict, rule_names: dict[str, str], ledger: dict | None, max_listed: int = MAX_LISTED) -> list[dict]:
    """Findings grouped by indicator (rule code), vetoes first, then deductions, consolidation, advisories.
    Points are shown after the indicator's cap; a group whose findings are all provisional is 暂定. A group
    lists its first `max_listed` problems and counts the rest (`total`, `more`): a site with 5,000 stale
    columns must not make a 150 MB sheet; the workbook lists them all."""
    problems = (ledger or {}).get("problems", {})
    by_code: dict[str, dict] = {}
    for finding in site["findings"]:
        entry = problems.get(finding["fingerprint"], {})
        group = by_code.setdefault(finding["code"], _group(finding, site, rule_names))
        group["provisional"] = group["provisional"] and bool(finding.get("provisional"))
        group["problems"].append({**finding, "status": "已核实排除" if finding.get("silenced") else entry.get("status"),
                                  "first_seen": entry.get("first_seen"), "deadline": entry.get("deadline"),
                                  "reopened": entry.get("reopened", 0),
                                  "points": shown_points(finding, site.get("indicators"))})
    for group in by_code.values():
        group["total"], group["more"] = len(group["problems"]), max(0, len(group["problems"]) - max_listed)
        del group["problems"][max_listed:]
    order = {severity: i for i, severity in enumerate(SEVERITY_ORDER)}
    return sorted(by_code.values(), key=lambda g: (order[g["severity"]], g["code"]))


def indicator_rows(site: dict, rule_names: dict[str, str]) -> list[dict]:
    """The deduction table: per indicator the points found, its cap and what was taken."""
    return [{"code": code, "name": rule_names.get(code, ""), "points": ind.get("points", 0), "cap": ind.get("cap"),
             "taken": ind.get("taken", 0), "findings": ind.get("findings", [])}
            for code, ind in sorted((site.get("indicators") or {}).items())]


def column_rows(site: dict) -> list[dict]:
    """The 栏目更新情况 table, with Chinese category names."""
    return [{**column, "category": CATEGORY_LABELS.get(column.get("category"), column.get("category") or "")}
            for column in site.get("columns") or []]


def sheet_data(scan: dict, site: dict, rule_names: dict[str, str], ledger: dict | None = None,
               profile_title: str | None = None, max_listed: int = MAX_LISTED) -> dict:
    """One site's part of a sheet."""
    as_of = datetime.fromisoformat(scan["as_of"])
    counted = [f for f in site["findings"] if not f.get("silenced")]
    role = site.get("role") or "site"
    return {
        "unit": site["unit"], "unit_kind": site.get("unit_kind", ""), "url": site["url"],
        "role": role, "role_label": ROLE_LABELS.get(role, "网站"),
        "scan_id": scan["id"], "as_of": as_of.strftime("%Y-%m-%d %H:%M"), "profile": profile_title or scan["profile"],
        "verdict": site["verdict"], "verdict_class": verdict_class(site["verdict"]), "vetoed": site["vetoed"],
        "score": site["score"], "plan": plan_text(site.get("plan")),
        "stats": site.get("stats") or {}, "note": site.get("note"), "consolidation": site.get("consolidation"),
        "indicators": indicator_rows(site, rule_names),
        "groups": groups(site, rule_names, ledger, max_listed),
        "counts": {"problems": len(counted), "vetoes": sum(1 for f in counted if f["severity"] == "veto" and not f.get("provisional")),
                   "silenced": len(site["findings"]) - len(counted)},
        "deadline": (ledger or {}).get("deadline"), "working_days": (ledger or {}).get("working_days"),
        "previous": (ledger or {}).get("previous"),
        "unverified": site.get("unverified") or [],
        "columns": column_rows(site),
        "feedback": FEEDBACK_ROWS,
    }


def notice_kind(sites: list[dict]) -> str:
    """rectify when any site has a problem that counts; closure when the unit's own sites are all closed
    (as planned) and nothing is left to do; else a plain result notice."""
    if any(not f.get("silenced") for site in sites for f in site["findings"]):
        return "rectify"
    own = [site for site in sites if (site.get("role") or "site") == "site"]
    return "closure" if own and all(site["verdict"] == "已关停" for site in own) else "result"


def unit_sheet(scan: dict, sites: list[dict], rule_names: dict[str, str], ledgers: dict | None = None,
               profile_title: str | None = None, max_listed: int = MAX_LISTED) -> dict:
    """One unit's sheet over its sites (its own site(s), its retained portal page). The top-level keys of
    the unit's first site are kept as they are, so a reader of one site's sheet still reads it; `sites`
    holds every site's part."""
    ledgers = ledgers or {}
    parts = [sheet_data(scan, site, rule_names, ledgers.get((site["unit"], site["url"])), profile_title, max_listed)
             for site in sites]
    kind = notice_kind(sites)
    deadline = next((p["deadline"] for p in parts if p["deadline"]), None) if kind == "rectify" else None
    first = parts[0]
    return {**first,
            "stem": stem(first["unit"], first["url"]), "sites": parts,
            "notice": kind, "notice_tag": NOTICES[kind]["tag"], "title": NOTICES[kind]["title"],
            "verdicts": "；".join(f"{p['url']} {p['verdict']}" for p in parts),
            "counts": {key: sum(p["counts"][key] for p in parts) for key in ("problems", "vetoes", "silenced")},
            "deadline": deadline,
            "working_days": first["working_days"] if deadline else None,
            "feedback": FEEDBACK_ROWS if kind == "rectify" else (),
            "previous_rows": [dict(row, url=p["url"]) for p in parts for row in (p["previous"] or {}).get("rows", [])],
            "previous_scans": sorted({(p["previous"]["scan_id"], p["previous"]["as_of"]) for p in parts if p["previous"]})}


def unit_sheets(scan: dict, sites: list[dict], rule_names: dict[str, str], ledgers: dict | None = None,
                profile_title: str | None = None, max_listed: int = MAX_LISTED) -> Iterator[dict]:
    """One sheet per unit, in the document's order, for every unit with a site that has an address."""
    by_unit: dict[str, list[dict]] = {}
    for site in sites:
        if site["url"]:
            by_unit.setdefault(site["unit"], []).append(site)
    for unit_sites in by_unit.values():
        yield unit_sheet(scan, unit_sites, rule_names, ledgers, profile_title, max_listed)
