"""V1 站点无法访问 and D1 首页可用性: home-page probes over the window before the check time."""
from __future__ import annotations

from datetime import timedelta

from scoring.findings import Evidence
from scoring.links import failure_label
from scoring.registry import RULES, rule


def probe_counts(error: str | None) -> bool:
    """A probe the site refused (403, 429 ...) cannot tell whether the public could open the page, so it
    counts neither way; nor can one that our address guard stopped (a redirect to a private address:
    nothing was sent)."""
    return not (error or "").startswith(("blocked", "private_address", "not_listed"))


def _window(snap, profile):
    start = snap.as_of - timedelta(days=profile.availability.window_days)
    # the snapshot holds no later probes but the scan's own
    probes = [p for p in snap.probes if start <= p.at and probe_counts(p.error)]
    failed = [p for p in probes if not p.ok]
    return probes, failed


def _needed(profile) -> int:
    """Probes the criteria want before V1 may veto: a week of spaced probes."""
    return profile.availability.window_days * profile.availability.min_probes_per_day


def _basis(snap, profile, probes) -> str:
    a = profile.availability
    note = f"依据 {len(probes)} 次首页探测"
    if len(probes) < _needed(profile):
        note += f"（标准要求 {a.window_days} 天 × 每天 {a.min_probes_per_day} 次 = {_needed(profile)} 次）"
    return note


def _provisional_reason(profile, probes) -> str:
    a = profile.availability
    return (f"暂定：只有 {len(probes)} 次首页探测，少于标准要求的 {a.window_days} 天 × 每天 {a.min_probes_per_day} 次"
            f" = {_needed(profile)} 次，暂不作单项否决；检测服务连续探测满一周后才能确定")


def _probe_failure(probe) -> str:
    return "返回空白页面" if probe.error == "empty" else failure_label(probe.error, probe.status)


def _evidence(snap, failed, basis):
    rows = [Evidence(url=snap.url, detail=basis)]
    tz = snap.as_of.tzinfo   # the configured time zone, as the check time: probes are stored in UTC
    rows += [Evidence(url=snap.url, detail=f"{p.at.astimezone(tz):%Y-%m-%d %H:%M} 探测失败：{_probe_failure(p)}")
             for p in failed[:20]]
    return rows


@rule("V1", "站点无法访问", "veto",
      "一周内每天不少于 20 次间隔探测首页，超过 15 秒仍打不开记为失败，失败次数占比达到 5% 即单项否决。",
      "检查服务器、网络与域名解析，保证首页 15 秒内可以打开；必要时增加带宽或启用监控告警。")
def site_unreachable(snap, profile):
    probes, failed = _window(snap, profile)
    a = profile.availability
    if len(probes) < a.min_probes_for_veto or not failed:
        return []
    share = len(failed) / len(probes)
    if share < a.veto_failure_share:
        return []
    certain = len(probes) >= _needed(profile)   # fewer than a week of probes: shown, but no veto yet
    finding = RULES["V1"].finding(snap, snap.url, count=len(failed),
                                  evidence=_evidence(snap, failed, _basis(snap, profile, probes)),
                                  title=f"站点无法访问{'' if certain else '（暂定）'}：{len(failed)}/{len(probes)} 次探测失败（{share:.1%}）")
    if not certain:
        finding.provisional, finding.provisional_reason = True, _provisional_reason(profile, probes)
    return [finding]


@rule("D1", "首页可用性", "deduction",
      "首页探测失败按失败百分比扣分（与单项否决使用同样的探测）。",
      "排查首页偶发打不开的原因（服务器负载、防火墙、CDN），保证每次访问都能在 15 秒内打开。")
def home_availability(snap, profile):
    probes, failed = _window(snap, profile)
    if not probes or not failed:
        return []
    percent = 100 * len(failed) / len(probes)
    basis = _basis(snap, profile, probes)
    return [RULES["D1"].finding(snap, snap.url, points=percent * profile.availability.points_per_percent,
                                count=len(failed), evidence=_evidence(snap, failed, basis),
                                title=f"首页可用性：{percent:.1f}% 的探测失败")]
