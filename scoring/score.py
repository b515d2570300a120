"""Apply a profile to a snapshot: run every rule, then vetoes, points, per-indicator caps, verdict."""
from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatch

from scoring.certainty import content_unreadable, unverified_items
from scoring.consolidation import closure_window, site_seen
from scoring.findings import Finding
from scoring.links import failure_label
from scoring.profile import Profile
from scoring.rules import RULES
from scoring.snapshot import SiteSnapshot

PASS, FAIL, CLOSED, UNCHECKED = "合格", "不合格", "已关停", "无法检测"


def caps(profile: Profile) -> dict[str, float]:
    """The most an indicator can take off the score."""
    services = profile.services
    limits = {"D1": profile.availability.cap, "D2": profile.links.cap, "D3": profile.home_update.cap,
              "D4": profile.column_update.cap, "D5": profile.interaction.cap, "D6": profile.activities.cap,
              "D7": profile.activities.cap, "D8": services.guide_cap, "D9": services.attachment_cap,
              "D10": services.online_cap}
    limits.update({code: spec.cap for code, spec in profile.guide_rules.items() if spec.severity == "deduction"})
    return limits


@dataclass
class Judged:
    verdict: str
    vetoed: bool
    score: float | None
    findings: list[Finding]
    indicators: dict[str, dict] = field(default_factory=dict)  # code -> {points, cap, taken}
    note: str = ""
    unverified: list[dict] = field(default_factory=list)   # what could not be verified, and why (never scored)


def is_closed(snap: SiteSnapshot) -> bool:
    """Planned to close and now gone: no answer at all, or a redirect to the portal."""
    return closure_window(snap.plan, snap.context) is not None and site_seen(snap)[0] is True


def apply_silences(findings: list[Finding], silences: list[dict]) -> None:
    """Mark findings the office verified as false positives: the same problem (fingerprint, from
    `sitecensus ignore`), or the same rule where the URL pattern (if any) matches the finding's first
    evidence URL or its linking page (units.yaml / settings.yaml `silence`)."""
    for finding in findings:
        where = [finding.evidence[0].url or "", finding.evidence[0].source or ""] if finding.evidence else []
        for entry in silences:
            if entry.get("fingerprint"):
                if entry["fingerprint"] == finding.fingerprint:
                    finding.silenced, finding.silence_reason = True, entry["reason"]
                    break
            elif entry["rule"] == finding.code and (not entry.get("url") or any(fnmatch(u, entry["url"]) for u in where)):
                finding.silenced, finding.silence_reason = True, entry["reason"]
                break


PORTAL_PAGE_RULES = ("J5", "J6")
PORTAL_RULES = ("J7",)


def judge_portal_page(snap: SiteSnapshot, profile: Profile) -> Judged:
    """A unit's page retained on the portal is judged only on where its entries link."""
    findings = [f for code in PORTAL_PAGE_RULES for f in RULES[code].check(snap, profile)]
    apply_silences(findings, snap.silences)
    note = "门户网站保留页面：只检查信息公开、互动交流、办事服务栏目的链接"
    if snap.home is None or snap.home.outcome != "ok":
        return Judged(UNCHECKED, False, None, findings, note=note)
    return Judged(FAIL if any(not f.silenced for f in findings) else PASS, False, None, findings, note=note)


def judge_portal(snap: SiteSnapshot, profile: Profile) -> Judged:
    """The district portal is crawled only to find district sites that are not in the register."""
    findings = [f for code in PORTAL_RULES for f in RULES[code].check(snap, profile)]
    apply_silences(findings, snap.silences)
    verdict = PASS if snap.home is not None and snap.home.outcome == "ok" else UNCHECKED
    return Judged(verdict, False, None, findings, note="区政府门户网站：用于发现未登记的网站")


def judge(snap: SiteSnapshot, profile: Profile) -> Judged:
    if snap.role == "portal_page":
        return judge_portal_page(snap, profile)
    if snap.role == "portal":
        return judge_portal(snap, profile)
    judged = _judge_site(snap, profile)
    judged.unverified = unverified_items(snap)
    return judged


# What can be said of a site whose home page nobody could read: its availability (the probes), its address,
# and the consolidation rules, which judge what the site answered. Everything else would conclude from an absence.
WITHOUT_CONTENT = ("V1", "D1", "G2")


def home_read(snap: SiteSnapshot) -> bool:
    return snap.home is not None and snap.home.outcome == "ok"


def _availability_note(findings: list[Finding]) -> str:
    """Why availability is not settled yet, when V1 is only provisional."""
    v1 = next((f for f in findings if f.code == "V1" and f.provisional and not f.silenced), None)
    return f"可用性尚无法确定（{v1.provisional_reason}）" if v1 else ""


def _home_unread_note(snap: SiteSnapshot, findings: list[Finding]) -> str:
    reason = f"首页无法检测：{failure_label(snap.home.error, snap.home.status)}" if snap.home else "首页未能抓取"
    return "；".join(filter(None, [reason, _availability_note(findings)]))


def _indicators(findings: list[Finding], profile: Profile) -> dict[str, dict]:
    """Per indicator: the points its findings add up to, its cap, and what it takes off (never above the cap)."""
    limits = caps(profile)
    indicators: dict[str, dict] = {}
    for f in findings:
        if f.severity != "deduction" or f.silenced:
            continue
        entry = indicators.setdefault(f.code, {"points": 0.0, "cap": limits.get(f.code), "taken": 0.0, "findings": []})
        entry["points"] = round(entry["points"] + f.points, 2)
        entry["findings"].append(f.fingerprint)
    for entry in indicators.values():
        entry["taken"] = round(min(entry["points"], entry["cap"]) if entry["cap"] is not None else entry["points"], 2)
    return indicators


def _unscored(verdict: str, findings: list[Finding], profile: Profile, note: str, vetoed: bool = False,
              score: float | None = None) -> Judged:
    """A site whose deductions do not count (vetoed, or not checkable): listed for reference, shown capped."""
    for f in findings:
        f.for_reference = f.severity == "deduction" and not f.silenced
    return Judged(verdict, vetoed, score, findings, _indicators(findings, profile), note=note)


def _judge_site(snap: SiteSnapshot, profile: Profile) -> Judged:
    findings = [f for r in RULES.values() if r.code not in PORTAL_PAGE_RULES for f in r.check(snap, profile)]
    apply_silences(findings, snap.silences)
    if is_closed(snap):  # the census no longer applies; what remains to do is consolidation work
        return Judged(CLOSED, False, None, [f for f in findings if f.code.startswith("J")],
                      note="网站已按计划关停或跳转到门户网站")
    certain_veto = any(f.code == "V1" and not f.provisional and not f.silenced for f in findings)
    if not home_read(snap):
        findings = [f for f in findings if f.code in WITHOUT_CONTENT or f.code.startswith("J")]
        if not certain_veto:   # a week of probes proves the site unreachable; anything less leaves it open
            return _unscored(UNCHECKED, findings, profile, _home_unread_note(snap, findings))
    unreadable = content_unreadable(snap)
    if unreadable and not certain_veto:
        return _unscored(UNCHECKED, findings, profile, f"网站内容无法检测：{unreadable}")
    total, factor = profile.total, 1.0
    scaling = profile.no_services_scaling
    if scaling and snap.no_external_services:  # 2019: no external services ⇒ out of 75, × 4/3
        findings = [f for f in findings if f.code not in scaling.indicators]
        total, factor = scaling.base, scaling.factor
    vetoed = any(f.severity == "veto" and not f.silenced and not f.provisional for f in findings)
    indicators = _indicators(findings, profile)
    score = round(max(profile.floor, (total - sum(e["taken"] for e in indicators.values())) * factor), 2)
    if vetoed:
        return _unscored(FAIL, findings, profile, "", vetoed=True, score=score)
    if score >= profile.pass_mark and _availability_note(findings):
        # it would pass, but V1 may yet fail it: no verdict until a week of probes is in
        return _unscored(UNCHECKED, findings, profile, _availability_note(findings))
    return Judged(FAIL if score < profile.pass_mark else PASS, False, score, findings, indicators)
