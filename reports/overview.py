"""Across units: what the office workbook and the district bulletin both say about a judged scan, so the
two never disagree — each unit's verdict over its site and its retained portal page, the Chinese labels
of roles and severities, indicator names."""
from __future__ import annotations

from reports.sheet import SEVERITY_LABELS, SEVERITY_ORDER, severity_of  # noqa: F401 - one definition, shared

ROLE_LABELS = {"site": "本单位网站", "portal_page": "门户网站保留页面", "portal": "门户网站"}
UNREGISTERED_ROLE = "疑似未登记网站"


def severity_label(finding: dict) -> str:
    return SEVERITY_LABELS[severity_of(finding)] + ("（暂定）" if finding.get("provisional") else "")


def indicator(code: str, rule_names: dict[str, str]) -> str:
    """'D2 链接可用性'."""
    return f"{code} {rule_names.get(code, '')}".strip()


def problem_text(code: str, title: str, rule_names: dict[str, str]) -> str:
    """'J3 逾期未关停', 'G2 域名不规范：直接使用 IP 地址', 'D2 链接可用性：首页失效链接' — the indicator named once."""
    name = rule_names.get(code, "")
    if name and title.startswith(name):
        return f"{code} {title}"
    return f"{indicator(code, rule_names)}：{title}"


def unit_verdicts(sites: list[dict]) -> dict[str, str]:
    """Each unit's verdict over everything it answers for: its own site and its page retained on the portal.
    A unit is 不合格 when any of them is; otherwise its site's verdict (a unit whose only page is retained
    on the portal takes that page's)."""
    verdicts: dict[str, str] = {}
    for site in sites:
        role = site.get("role", "site")
        if role == "portal" or not site["url"]:
            continue
        current = verdicts.get(site["unit"])
        if site["verdict"] == "不合格" or current is None or (role == "site" and current != "不合格"):
            verdicts[site["unit"]] = site["verdict"]
    return verdicts


def counted(findings: list[dict]) -> list[dict]:
    """Findings that stand as problems: not silenced by the office."""
    return [f for f in findings if not f.get("silenced")]


def by_severity(codes: set[str] | list[str], kinds: dict[str, str]) -> list[str]:
    """Indicator codes in the sheets' order: vetoes, deductions, consolidation, advisories; then by code
    (D2 before D10)."""
    order = {severity: i for i, severity in enumerate(SEVERITY_ORDER)}
    return sorted(codes, key=lambda c: (order.get(kinds.get(c, ""), 9), c[0], int(c[1:]) if c[1:].isdigit() else 0))
