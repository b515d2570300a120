"""The content of one unit's problem sheet (整改问题单), shared by the HTML and the DOCX versions so
the two always say the same thing: header, problems grouped by indicator with evidence and hint,
the status of the previous sheet's problems (整改情况), the deadline, and the feedback section."""
from __future__ import annotations

from datetime import datetime

SEVERITY_ORDER = ("veto", "deduction", "consolidation", "advisory")
SEVERITY_LABELS = {"veto": "单项否决", "deduction": "扣分", "advisory": "提示", "consolidation": "集约化"}
PLAN_LABELS = {None: "未报送意见书", True: "参与整合", False: "不参与整合"}
FEEDBACK_ROWS = ("整改措施及完成情况", "尚未完成的原因及计划完成时间", "对检测结果的异议（附说明）", "联系人及电话",
                 "单位负责人签字（盖章）")


def _severity(finding: dict) -> str:
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
    return {"code": finding["code"], "name": rule_names.get(finding["code"], ""), "severity": _severity(finding),
            "severity_label": SEVERITY_LABELS[_severity(finding)], "taken": indicator.get("taken"),
            "capped": cap is not None and indicator.get("points", 0) > cap,   # shown as （已达该项上限）
            "provisional": True, "problems": []}


def groups(site: dict, rule_names: dict[str, str], ledger: dict | None) -> list[dict]:
    """Findings grouped by indicator (rule code), vetoes first, then deductions, consolidation, advisories.
    Points are shown after the indicator's cap; a group whose findings are all provisional is 暂定."""
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
    order = {severity: i for i, severity in enumerate(SEVERITY_ORDER)}
    return sorted(by_code.values(), key=lambda g: (order[g["severity"]], g["code"]))


def sheet_data(scan: dict, site: dict, rule_names: dict[str, str], ledger: dict | None = None) -> dict:
    as_of = datetime.fromisoformat(scan["as_of"])
    counted = [f for f in site["findings"] if not f.get("silenced")]
    return {
        "unit": site["unit"], "unit_kind": site.get("unit_kind", ""), "url": site["url"],
        "scan_id": scan["id"], "as_of": as_of.strftime("%Y-%m-%d %H:%M"), "profile": scan["profile"],
        "verdict": site["verdict"], "vetoed": site["vetoed"], "score": site["score"], "plan": plan_text(site.get("plan")),
        "stats": site.get("stats") or {}, "note": site.get("note"),
        "groups": groups(site, rule_names, ledger),
        "counts": {"problems": len(counted), "vetoes": sum(1 for f in counted if f["severity"] == "veto" and not f.get("provisional")),
                   "silenced": len(site["findings"]) - len(counted)},
        "deadline": (ledger or {}).get("deadline"), "working_days": (ledger or {}).get("working_days"),
        "previous": (ledger or {}).get("previous"),
        "unverified": site.get("unverified") or [],
        "feedback": FEEDBACK_ROWS,
    }
