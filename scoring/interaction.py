"""Interaction rules: V5 互动回应差, D5 政务咨询, D6 调查征集, D7 互动访谈 — from the columns' items
(a consultation list row carries its submit date, and a reply date or status)."""
from __future__ import annotations

import calendar
from datetime import date, timedelta

from scoring.certainty import absence_judgeable, readable
from scoring.findings import Evidence
from scoring.registry import RULES, rule
from scoring.updates import category


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def consultation_columns(snap, profile) -> list:
    excluded = profile.interaction.excluded_keywords
    return [c for c in snap.columns
            if category(c, profile) == "政务咨询" and not any(word in c.name for word in excluded)]


def usable(column) -> bool:
    return column.crawled and not column.blank


def channel_problem(columns, snap=None) -> str | None:
    """Why there is no working consultation channel, or None when there is one (or it cannot be told)."""
    if snap is not None and not absence_judgeable(snap):
        return None   # the home page could not be read: a missing column is not a fact seen
    if not columns:
        return "未开设政务咨询类栏目"
    if not any(usable(c) for c in columns):
        return "政务咨询类栏目无法使用：" + "、".join(c.name for c in columns)
    return None


def _messages(column, since: date, until: date) -> list[dict]:
    return [i for i in column.items if i.get("date") and since <= date.fromisoformat(i["date"]) <= until]


@rule("V5", "互动回应差", "veto",
      "监测时间点前 1 年内，政务咨询类栏目（不含在线访谈、调查征集、举报投诉等）有超过 3 个月未回复的留言即单项否决；"
      "2019 年指标：没有可用的在线咨询建言渠道也单项否决。",
      "逐条答复超期未回复的留言并公开答复内容；建立留言办理时限制度，确保 3 个月内答复。")
def unanswered_messages(snap, profile):
    spec = profile.interaction
    today = snap.as_of.date()
    columns = consultation_columns(snap, profile)
    findings = []
    problem = channel_problem(columns, snap)
    if spec.veto_no_channel and problem:
        findings.append(RULES["V5"].finding(snap, f"{snap.url}#channel", evidence=[Evidence(url=snap.url, detail=problem)],
                                            title="互动回应差：没有可用的在线咨询建言渠道"))
    overdue = []
    for column in columns:
        for message in _messages(column, today - timedelta(days=spec.lookback_days), today):
            submitted = date.fromisoformat(message["date"])
            if message.get("status") == "pending" and add_months(submitted, spec.reply_months) < today:
                overdue.append(Evidence(url=message["url"], source=column.url,
                                        detail=f"{message['title']}：{submitted.isoformat()} 留言，至今未回复"))
    if overdue:
        findings.append(RULES["V5"].finding(snap, f"{snap.url}#overdue", count=len(overdue), evidence=overdue[:100],
                                            title=f"互动回应差：{len(overdue)} 条留言超过 {spec.reply_months} 个月未回复"))
    return findings


@rule("D5", "政务咨询类栏目", "deduction",
      "政务咨询类栏目未开设、无法使用，或 1 年内无有效留言的扣分。",
      "开设并保持可用的政务咨询（领导信箱、在线咨询）栏目，及时公开留言和答复。")
def consultation_channel(snap, profile):
    spec = profile.interaction
    today = snap.as_of.date()
    columns = consultation_columns(snap, profile)
    problem = channel_problem(columns, snap)
    if problem:
        return [RULES["D5"].finding(snap, f"{snap.url}#channel", points=spec.missing_points,
                                    evidence=[Evidence(url=columns[0].url if columns else snap.url, detail=problem)],
                                    title=f"政务咨询：{problem}")]
    since = today - timedelta(days=spec.lookback_days)
    if not columns or any(_messages(c, since, today) for c in columns) or len(readable(columns)) < len(columns):
        return []   # a consultation list that could not be read may hold the messages
    return [RULES["D5"].finding(snap, f"{snap.url}#messages", points=spec.no_message_points,
                                evidence=[Evidence(url=c.url, detail=f"{c.name}：1 年内无有效留言") for c in columns],
                                title="政务咨询：1 年内无有效留言")]


def _activities(snap, profile, code: str, kind: str, label: str):
    spec = profile.activities
    today = snap.as_of.date()
    columns = [c for c in snap.columns if category(c, profile) == kind]
    held = sum(len(_messages(c, today - timedelta(days=spec.window_days), today)) for c in columns)
    if held >= spec.min_count or len(readable(columns)) < len(columns) or (not columns and not absence_judgeable(snap)):
        return []   # what could not be read is not counted as "not held"
    points = spec.none_points if held == 0 else spec.few_points
    where = columns[0].url if columns else snap.url
    detail = f"{spec.window_days} 天内开展{label} {held} 次，少于 {spec.min_count} 次" if columns else f"未开设{label}栏目"
    return [RULES[code].finding(snap, f"{snap.url}#{code}", points=points, count=held,
                                evidence=[Evidence(url=where, detail=detail)], title=f"{label}：{detail}")]


@rule("D6", "调查征集类栏目", "deduction",
      "1 年内未开展或开展调查征集活动次数少于规定次数的扣分。",
      "围绕重要政策和民生事项定期开展网上调查、意见征集，并公开结果。")
def surveys(snap, profile):
    return _activities(snap, profile, "D6", "调查征集", "调查征集")


@rule("D7", "互动访谈类栏目", "deduction",
      "1 年内未开展或开展在线访谈次数少于规定次数的扣分。",
      "定期组织在线访谈，访谈前发布预告，访谈后公开文字实录。")
def interviews(snap, profile):
    return _activities(snap, profile, "D7", "互动访谈", "在线访谈")
