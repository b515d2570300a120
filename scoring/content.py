"""Content rules: V4 严重错误, S2 personal data exposed, S4 items dated in the future."""
from __future__ import annotations

from scoring.findings import Evidence
from scoring.registry import RULES, rule


def _advisory(snap, profile, code, key, evidence, title, count=None):
    spec = profile.advisory(code)
    count = count if count is not None else len(evidence)
    return RULES[code].finding(snap, key, severity=spec.severity, points=spec.points * count, count=count,
                               evidence=evidence[:100], title=title)


@rule("V4", "严重错误", "veto",
      "出现严重错别字（如领导人姓名、固定政治用语写错），或出现反动、暴力、色情、赌博等违规内容，即单项否决。",
      "立即更正错误表述、删除违规内容，排查是否被篡改或挂马，并建立发布前审校制度。")
def serious_errors(snap, profile):
    if not profile.serious_errors:
        return []
    by_word = snap.notes_by(("wrong_form", "banned"), lambda n: (n.kind, n.detail["word"], n.detail.get("correct")))
    findings = []
    for (kind, word, correct), notes in by_word.items():
        what = f"“{word}”应为“{correct}”" if kind == "wrong_form" else f"违规内容“{word}”"
        evidence = [Evidence(url=n.url, detail=f"{what}：…{n.detail['context']}…") for n in notes[:50]]
        findings.append(RULES["V4"].finding(snap, f"{kind}:{word}", count=len(notes), evidence=evidence,
                                            title=f"严重错误：{what}（{len(notes)} 处）"))
    return findings


@rule("S2", "泄露个人信息", "advisory",
      "页面公开了带有效校验位的身份证号码或手机号码等个人信息。",
      "删除或遮盖页面中的身份证号、手机号等个人信息（如 110***********002X），公示材料发布前做脱敏处理。")
def personal_data(snap, profile):
    by_page = snap.notes_by(("id_card", "mobile"), lambda n: n.url)
    label = {"id_card": "身份证号", "mobile": "手机号"}
    return [_advisory(snap, profile, "S2", url,
                      [Evidence(url=url, detail=f"{label[n.kind]} {n.detail['masked']}：{n.detail['context']}") for n in notes],
                      f"页面泄露个人信息 {len(notes)} 处") for url, notes in by_page.items()]


@rule("S4", "信息发布日期晚于检测时间", "advisory",
      "信息的发布日期晚于监测时间点（伪造或填错发布日期）。",
      "核实并更正发布日期，发布日期应为信息实际发布的时间。")
def future_dates(snap, profile):
    today = snap.as_of.date()
    future = {}
    for column in snap.columns:
        for item in column.items:
            if item.get("date") and item["date"] > today.isoformat():
                future.setdefault(item["url"], Evidence(url=item["url"], source=column.url,
                                                        detail=f"{item['title']}：发布日期 {item['date']}"))
    for url, when in snap.article_dates:
        if when > today:
            future.setdefault(url, Evidence(url=url, detail=f"发布时间 {when.isoformat()}"))
    if not future:
        return []
    evidence = list(future.values())
    return [_advisory(snap, profile, "S4", snap.url, evidence, f"{len(evidence)} 条信息的发布日期晚于监测时间点")]
