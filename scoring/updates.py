"""Update rules: V2 首页不更新, V3 栏目不更新, D3 首页栏目信息更新量, D4 栏目更新.

Windows are counted back from the check time; an item without a publication date counts as not
updated (2015 footnote). A blank column is judged as blank, not as stale.
"""
from __future__ import annotations

from datetime import date, timedelta

from scoring.certainty import home_unread_reason, nothing_read
from scoring.findings import Evidence
from scoring.registry import RULES, rule


def category(column, profile) -> str:
    return column.pinned_category or profile.category_of(column.name)


def window_of(column, profile) -> int | None:
    spec = profile.categories.get(category(column, profile))
    return spec.window_days if spec else None


def _since(snap, days: int) -> date:
    return snap.as_of.date() - timedelta(days=days)


def is_stale(column, days: int, snap) -> bool:
    return column.newest_date is None or column.newest_date < _since(snap, days)


def stale_columns(snap, profile, key_only: bool = False) -> list:
    """Crawled, non-blank columns with an update duty whose newest item is older than their window."""
    out = []
    for column in snap.columns:
        days = window_of(column, profile)
        spec = profile.categories.get(category(column, profile))
        if column.blank or column.unverified or not column.crawled or days is None or (key_only and not spec.key):
            continue
        if key_only and not column.from_home and category(column, profile) in profile.column_update.top_level_only:
            continue  # 2019: the 6-month rule counts top-level (一级) notice/policy columns only
        if is_stale(column, days, snap):
            out.append(column)
    return out


def _column_evidence(columns, profile, snap=None) -> list[Evidence]:
    rows = []
    for c in columns:
        days = window_of(c, profile)
        newest = c.newest_date.isoformat() if c.newest_date else "无发布日期"
        kind = category(c, profile)
        detail = (c.name + ("" if kind == "other" else f"（{kind}）") + "：" +   # an unclassified column: its name alone
                  ("空白栏目，无内容" if c.blank else f"最新信息 {newest}，更新周期 {days} 天" if days else f"最新信息 {newest}"))
        rows.append(Evidence(url=c.url, detail=detail))
    return rows


def _home_judgeable(snap) -> bool:
    """The home page was fetched and its lists were read (an unread script list proves nothing), and some
    item was seen, on it or in the second-level columns it leads to: a home from which nothing at all was
    read is no evidence of staleness (an undated item that was seen counts as not updated, [C])."""
    home = snap.home
    if home is None or home.outcome != "ok":
        return False
    return bool(home.items) or not (home_unread_reason(snap) or nothing_read(snap))


def _home_new_items(snap, days: int) -> tuple[int, str | None, bool, bool]:
    """(new items within the window, newest date seen, judged on second-level columns?, every list read?)."""
    since = _since(snap, days)
    if snap.home.items:
        dates = [date.fromisoformat(i["date"]) for i in snap.home.items if i.get("date")]
        # a home block that could not be read may hold the update: then only a seen update counts
        complete = home_unread_reason(snap) is None
        return sum(1 for d in dates if since <= d <= snap.as_of.date()), max(dates, default=None), False, complete
    new, newest = 0, None
    home_columns = [c for c in snap.columns if c.from_home]
    for column in home_columns:
        for item in column.items:
            if item.get("date"):
                d = date.fromisoformat(item["date"])
                newest = max(newest, d) if newest else d
                new += since <= d <= snap.as_of.date()
    return new, newest, True, not any(c.unverified for c in home_columns)


@rule("V2", "首页不更新", "veto",
      "监测时间点前 2 周内首页栏目无信息更新即单项否决；首页仅为栏目导航入口的，检查所有二级页面，均无更新即否决。",
      "首页各栏目（要闻、动态、通知公告等）保持每两周以内有新信息发布，并标明发布日期。")
def home_not_updated(snap, profile):
    if not _home_judgeable(snap):
        return []
    days = profile.home_update.window_days
    new, newest, nav_only, complete = _home_new_items(snap, days)
    if new or not complete:   # a second-level column that could not be read may hold the update
        return []
    where = "首页仅为导航入口，所有二级栏目页面" if nav_only else "首页栏目"
    shown = newest.isoformat() if newest else "无任何带日期的信息"
    evidence = [Evidence(url=snap.home.final_url or snap.url, detail=f"{where} {days} 天内无更新；最新信息：{shown}")]
    if nav_only:
        evidence += _column_evidence([c for c in snap.columns if c.from_home], profile)
    return [RULES["V2"].finding(snap, snap.url, evidence=evidence, title=f"首页不更新：{where} {days} 天内无新信息")]


@rule("V3", "栏目不更新", "veto",
      "以下任一情况即单项否决：动态要闻类（2 周）与通知公告、政策文件类（6 个月）栏目未更新累计达 5 个；"
      "应更新但长期未更新的栏目达 10 个；空白栏目达 5 个。",
      "对照问题清单逐个栏目补充更新；确实无力保障的栏目应撤销或归并，不留空白栏目。")
def columns_not_updated(snap, profile):
    rules = profile.column_update
    key_stale = stale_columns(snap, profile, key_only=True)
    should = stale_columns(snap, profile, key_only=False)
    if not rules.should_update_includes_key:
        should = [c for c in should if c not in key_stale]
    blank = [c for c in snap.columns if c.blank and not c.unverified]
    checks = (("key", key_stale, rules.veto_stale_key_columns, "动态要闻、通知公告、政策文件类栏目未更新"),
              ("should", should, rules.veto_stale_should_update, "应更新但长期未更新的栏目"),
              ("blank", blank, rules.veto_blank_columns, "空白栏目"))
    return [RULES["V3"].finding(snap, f"{snap.url}#{name}", count=len(columns),
                                evidence=_column_evidence(columns, profile),
                                title=f"栏目不更新：{label} {len(columns)} 个（达到 {limit} 个即否决）")
            for name, columns, limit, label in checks if len(columns) >= limit]


@rule("D3", "首页栏目信息更新量", "deduction",
      "监测时间点前 2 周内首页栏目新增信息条数少于规定数量的扣分。",
      "加强首页要闻、动态、通知公告等栏目的日常发布，两周内新增信息不少于规定条数。")
def home_update_volume(snap, profile):
    if not _home_judgeable(snap):
        return []
    spec = profile.home_update
    new, _, nav_only, complete = _home_new_items(snap, spec.window_days)
    if new >= spec.min_new_items or not complete:
        return []
    where = "二级栏目" if nav_only else "首页栏目"
    return [RULES["D3"].finding(snap, snap.url, points=spec.points, count=new,
                                evidence=[Evidence(url=snap.url, detail=f"{spec.window_days} 天内{where}新增 {new} 条，"
                                                                        f"少于 {spec.min_new_items} 条")],
                                title=f"首页栏目更新量不足：{spec.window_days} 天内仅 {new} 条")]


@rule("D4", "栏目更新", "deduction",
      "动态要闻类 2 周、通知公告和政策文件类 6 个月、人事和规划计划类 1 年内未更新的，每个栏目扣分；空白栏目每个扣分。",
      "按栏目类别的更新周期补充信息并标明发布日期；空白栏目补充内容或撤销。")
def column_updates(snap, profile):
    findings = []
    for column in stale_columns(snap, profile):
        spec = profile.categories[category(column, profile)]
        if spec.stale_points <= 0:
            continue
        findings.append(RULES["D4"].finding(snap, column.url, points=spec.stale_points,
                                            evidence=_column_evidence([column], profile),
                                            title=f"栏目未按期更新：{column.name}"))
    for column in (c for c in snap.columns if c.blank and not c.unverified):
        findings.append(RULES["D4"].finding(snap, column.url, points=profile.column_update.blank_points,
                                            evidence=_column_evidence([column], profile),
                                            title=f"空白栏目：{column.name}"))
    return findings
