"""The district report (通报) of a full scan, as a Word document the office can issue: scope and check time,
pass rate, ranking of units by score, problems by indicator across units, consolidation progress, the units
past their closure date with their problems and the problems past their rectification deadline, and what
changed since the previous full scan (verdicts, problems fixed, new and recurring, from the ledger).

`collect` reads what the report needs from the store; `bulletin_data` shapes it (no store, testable);
`write_bulletin` writes the DOCX (python-docx)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from reports.docx import grid_table, page_frame
from reports.overview import (ROLE_LABELS, by_severity, counted, indicator, problem_text, severity_label,
                              severity_of, unit_verdicts)
from sitecensus.export import full_document
from sitecensus.ledger import FIXED, NEW, OPEN_STATUSES, REOPENED
from sitecensus.store import Problem, ProblemEvent, Scan, bytewise, latest_judgement

TITLE = "关于全区政府网站检测情况的通报"
OFFICE = "区委区政府电子政务办"
FONT = "SimSun"          # 宋体, what an office's Word has; the East Asian font is set apart from the Latin one
HEADING_FONT = "SimHei"  # 黑体 for headings
PLANNED_STATES = {"已关停": "已关停", "应已关停": "逾期未关停", "关停公告期": "待关停（关停公告期）", "待关停": "待关停"}
CHINESE_NUMBERS = "一二三四五六七八九十"
MAX_LISTED = 300         # rows of the long tables (fixed problems, overdue problems); the rest are counted


@dataclass
class History:
    """What the store says beyond the judged document: the previous full scan and the ledger's moves since."""
    previous: dict | None = None                     # the previous full scan's document
    moves: list[dict] = field(default_factory=list)  # {unit, code, title, status}: each problem's last move since it
    overdue: list[dict] = field(default_factory=list)  # open problems past their deadline at the check time


class NoScan(LookupError):
    """No finished full scan to report on (message in Chinese)."""


def _full_scans(session: Session):
    return select(Scan).where(Scan.status == "done", or_(Scan.kind.is_(None), Scan.kind == "scan"))


def _document(session: Session, scan_id: int, timezone: str) -> dict | None:
    judgement = latest_judgement(session, scan_id)
    return full_document(session, judgement, timezone) if judgement else None


def _moves(session: Session, after: int | None, upto: int) -> list[dict]:
    """Each problem's last status among the scans after `after` up to `upto` (scans, audits, re-checks)."""
    query = (select(ProblemEvent, Problem).join(Problem, Problem.id == ProblemEvent.problem_id)
             .where(ProblemEvent.scan_id <= upto).order_by(ProblemEvent.id))
    if after is not None:
        query = query.where(ProblemEvent.scan_id > after)
    last: dict[int, dict] = {}
    for event, problem in session.execute(query):
        first = last.get(problem.id, {}).get("first", event.status)
        last[problem.id] = {"unit": problem.unit, "code": problem.code, "title": problem.title, "status": event.status,
                            "first": first, "site_url": problem.site_url}
    return list(last.values())


def _overdue(session: Session, as_of: date) -> list[dict]:
    rows = session.scalars(select(Problem).where(Problem.status.in_(OPEN_STATUSES), Problem.ignored_reason.is_(None),
                                                 Problem.deadline < as_of.isoformat())
                           .order_by(bytewise(Problem.unit), Problem.deadline, Problem.id))
    return [{"unit": p.unit, "code": p.code, "title": p.title, "status": p.status, "deadline": p.deadline,
             "first_seen": p.first_seen_at.date().isoformat() if p.first_seen_at else ""} for p in rows]


def collect(session: Session, timezone: str, scan_id: int | None = None) -> tuple[dict, History]:
    """The judged document of a full scan (default: the latest) and its history. Raises NoScan."""
    scans = _full_scans(session)
    if scan_id is None:
        scan = session.scalar(scans.order_by(Scan.id.desc()).limit(1))
        if scan is None:
            raise NoScan("还没有完成的全面检测，无法生成通报。请先运行 sitecensus scan 完成一次全面检测。")
    else:
        scan = session.get(Scan, scan_id)
        if scan is None:
            raise NoScan(f"没有编号为 {scan_id} 的检测记录。可用 sitecensus scans 查看已有的检测。")
        if scan.status != "done" or (scan.kind or "scan") != "scan":
            raise NoScan(f"第 {scan_id} 次检测不是已完成的全面检测（单站检测、复查和中断的检测不出通报）。")
    document = _document(session, scan.id, timezone)
    if document is None:
        raise NoScan(f"第 {scan.id} 次检测还没有评分结果，请先运行 sitecensus rescore {scan.id}。")
    prior = session.scalar(scans.where(Scan.id < scan.id).order_by(Scan.id.desc()).limit(1))
    previous = _document(session, prior.id, timezone) if prior else None
    as_of = datetime.fromisoformat(document["scan"]["as_of"]).date()
    return document, History(previous, _moves(session, prior.id if prior else None, scan.id), _overdue(session, as_of))


# ---- shaping ----------------------------------------------------------------------------------------------

def _units(document: dict) -> dict[str, dict]:
    """unit -> {verdict, score, vetoed, site, sites}: the unit's own site (else its retained page) speaks
    for its score; the verdict is over all of them (reports/overview.py)."""
    verdicts = unit_verdicts(document["sites"])
    out: dict[str, dict] = {}
    for site in document["sites"]:
        if site.get("role", "site") == "portal":
            continue
        entry = out.setdefault(site["unit"], {"unit": site["unit"], "kind": site.get("unit_kind", ""), "sites": [],
                                              "verdict": verdicts.get(site["unit"], "未登记网站")})
        entry["sites"].append(site)
    for entry in out.values():
        main = next((s for s in entry["sites"] if s["url"] and s.get("role", "site") == "site"),
                    next((s for s in entry["sites"] if s["url"]), entry["sites"][0]))
        entry.update(site=main, url=main["url"], score=main["score"],
                     vetoed=any(s.get("vetoed") for s in entry["sites"]),
                     findings=[f for s in entry["sites"] for f in counted(s["findings"])])
    return out


def _reason(entry: dict, rule_names: dict[str, str]) -> str:
    if entry["verdict"] != "不合格":
        return ""
    vetoes = sorted({f["code"] for f in entry["findings"] if f["severity"] == "veto" and not f.get("provisional")})
    if vetoes:
        return "单项否决：" + "、".join(indicator(c, rule_names) for c in vetoes)
    failing = [ROLE_LABELS[s.get("role", "site")] for s in entry["sites"] if s["verdict"] == "不合格"]
    if failing == ["门户网站保留页面"]:
        return "门户网站保留页面不合格"
    return "得分低于合格线" if entry["score"] is not None else ""


def ranking(units: dict[str, dict], rule_names: dict[str, str]) -> list[dict]:
    """Units judged 合格 / 不合格, by score (highest first); a vetoed unit has no score and comes last.
    Equal scores share a rank."""
    judged = [u for u in units.values() if u["verdict"] in ("合格", "不合格")]
    judged.sort(key=lambda u: (u["vetoed"] or u["score"] is None, -(u["score"] or 0), u["unit"]))
    rows, rank, last = [], 0, object()
    for position, u in enumerate(judged, 1):
        key = None if u["vetoed"] or u["score"] is None else u["score"]
        if key != last or key is None:
            rank, last = position, key
        rows.append({"rank": rank, "unit": u["unit"], "url": u["url"], "verdict": u["verdict"],
                     "score": None if u["vetoed"] else u["score"], "reason": _reason(u, rule_names),
                     "vetoes": sum(1 for f in u["findings"] if f["severity"] == "veto" and not f.get("provisional")),
                     "deductions": sum(1 for f in u["findings"] if f["severity"] == "deduction"),
                     "consolidation": sum(1 for f in u["findings"] if f["code"].startswith("J"))})
    return rows


def by_indicator(document: dict, rule_names: dict[str, str]) -> list[dict]:
    """Per indicator across every site judged (portal pages and the portal too): units affected, problems."""
    entries: dict[str, dict] = {}
    for site in document["sites"]:
        for f in counted(site["findings"]):
            entry = entries.setdefault(f["code"], {"code": f["code"], "name": indicator(f["code"], rule_names),
                                                   "kind": severity_label({**f, "provisional": False}),
                                                   "severity": severity_of(f), "units": [], "count": 0})
            entry["count"] += 1
            if site["unit"] not in entry["units"]:
                entry["units"].append(site["unit"])
    kinds = {code: e["severity"] for code, e in entries.items()}
    return [entries[code] for code in by_severity(set(entries), kinds)]


def consolidation(units: dict[str, dict]) -> dict:
    """The closure plans against what the scan saw: counts per state and one row per unit with a plan."""
    states: dict[str, list[str]] = {}
    planned = []
    for u in units.values():
        state = (u["site"].get("consolidation") or {}).get("state")
        if not state:
            continue
        states.setdefault(state, []).append(u["unit"])
        if state in PLANNED_STATES:
            c = u["site"]["consolidation"]
            planned.append({"unit": u["unit"], "month": c.get("closure_month") or "—", "state": PLANNED_STATES[state],
                            "raw_state": state, "seen": c.get("seen") or "", "detail": c.get("detail") or "",
                            "overdue_days": c.get("overdue_days") or 0,
                            "problems": [f for f in u["findings"] if f["code"].startswith("J")]})
    order = {s: i for i, s in enumerate(("应已关停", "关停公告期", "待关停", "已关停"))}
    planned.sort(key=lambda p: (order[p["raw_state"]], -p["overdue_days"], p["unit"]))
    count = {label: sum(len(states.get(s, [])) for s in PLANNED_STATES if PLANNED_STATES[s].startswith(label))
             for label in ("已关停", "逾期未关停", "待关停")}
    return {"states": states, "planned": planned, "counts": count,
            "total_planned": sum(count.values())}


def overdue_units(units: dict[str, dict], rule_names: dict[str, str]) -> list[dict]:
    """Units past their closure date and still serving, with every problem their sites still have."""
    rows = []
    for u in units.values():
        c = u["site"].get("consolidation") or {}
        if c.get("state") == "应已关停":
            rows.append({"unit": u["unit"], "url": u["url"], "month": c.get("closure_month"), "detail": c.get("detail"),
                         "seen": c.get("seen"), "overdue_days": c.get("overdue_days") or 0,
                         "problems": [problem_text(f["code"], f["title"], rule_names) for f in u["findings"]]})
    return sorted(rows, key=lambda r: -r["overdue_days"])


def changes(document: dict, history: History, rule_names: dict[str, str]) -> dict | None:
    """Since the previous full scan: units whose verdict changed, and per unit the problems fixed, new and
    recurring (the ledger's last move of each problem in between)."""
    if history.previous is None:
        return None
    before, now = _units(history.previous), _units(document)
    verdicts = [{"unit": name, "before": before[name]["verdict"], "after": u["verdict"],
                 "score_before": None if before[name]["vetoed"] else before[name]["score"],
                 "score_after": None if u["vetoed"] else u["score"]}
                for name, u in now.items() if name in before and before[name]["verdict"] != u["verdict"]]
    per_unit: dict[str, dict] = {}
    fixed = []
    for move in history.moves:
        entry = per_unit.setdefault(move["unit"], {"unit": move["unit"], "fixed": 0, "new": 0, "reopened": 0})
        if move["status"] == FIXED:
            entry["fixed"] += 1
            fixed.append({**move, "name": indicator(move["code"], rule_names)})
        elif move["status"] == REOPENED:
            entry["reopened"] += 1
        elif move["first"] == NEW and move["status"] in OPEN_STATUSES:
            entry["new"] += 1
    units = sorted((e for e in per_unit.values() if e["fixed"] or e["new"] or e["reopened"]),
                   key=lambda e: (-e["fixed"], e["unit"]))
    return {"scan_id": history.previous["scan"]["id"], "as_of": history.previous["scan"]["as_of"][:16].replace("T", " "),
            "verdicts": verdicts, "units": units, "fixed": sorted(fixed, key=lambda f: (f["unit"], f["code"])),
            "totals": {k: sum(e[k] for e in per_unit.values()) for k in ("fixed", "new", "reopened")}}


def bulletin_data(document: dict, history: History, rule_names: dict[str, str], profile_title: str) -> dict:
    scan = document["scan"]
    units = _units(document)
    judged = [u for u in units.values() if u["verdict"] in ("合格", "不合格")]
    passed = sum(1 for u in judged if u["verdict"] == "合格")
    sites = [s for s in document["sites"] if s["url"]]
    portal = next((s for s in sites if s.get("role") == "portal"), None)
    return {
        "scan_id": scan["id"], "as_of": scan["as_of"][:16].replace("T", " "), "profile": profile_title,
        "started": scan["started_at"][:16].replace("T", " "),
        "scope": {"units": len(units), "registered": sum(1 for u in units.values() if u["url"]),
                  "unregistered": [u["unit"] for u in units.values() if not u["url"]],
                  "sites": sum(1 for s in sites if s.get("role", "site") == "site"),
                  "portal_pages": sum(1 for s in sites if s.get("role") == "portal_page"),
                  "portal": portal["unit"] if portal else None},
        "pass": {"judged": len(judged), "passed": passed, "failed": len(judged) - passed,
                 "rate": round(100 * passed / len(judged), 1) if judged else None,
                 "closed": sorted(u["unit"] for u in units.values() if u["verdict"] == "已关停"),
                 "unchecked": sorted((u["unit"], u["site"].get("note") or "") for u in units.values()
                                     if u["url"] and u["verdict"] == "无法检测")},
        "ranking": ranking(units, rule_names),
        "indicators": by_indicator(document, rule_names),
        "consolidation": consolidation(units),
        "overdue_units": overdue_units(units, rule_names),
        "overdue_problems": [{**p, "name": indicator(p["code"], rule_names)} for p in history.overdue],
        "changes": changes(document, history, rule_names),
    }


# ---- the Word document ---------------------------------------------------------------------------------

def _fonts(document) -> None:
    for name, font, size in (("Normal", FONT, 11), ("Title", HEADING_FONT, 18), ("Heading 1", HEADING_FONT, 14),
                             ("Heading 2", HEADING_FONT, 12)):
        style = document.styles[name]
        style.font.name, style.font.size = font, Pt(size)
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)


def _page_setup(document, data: dict) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(25)
    section.top_margin, section.bottom_margin = Mm(25), Mm(20)
    page_frame(section, f"{TITLE}（第 {data['scan_id']} 次检测）")


def _table(document, header: list[str], rows: list[list], widths: list[float]):
    table = grid_table(document, header, rows, widths)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    return table


def _heading(document, number: int, text: str) -> None:
    document.add_heading(f"{CHINESE_NUMBERS[number - 1]}、{text}", level=1)


def _score(value) -> str:
    return "—" if value is None else f"{value:g}"


def _write_scope(document, data: dict) -> None:
    scope = data["scope"]
    _heading(document, 1, "检测范围和时间")
    portal = f"；另检测门户网站“{scope['portal']}”首页链接，查找未经登记的网站" if scope["portal"] else ""
    document.add_paragraph(
        f"本次检测（第 {data['scan_id']} 次）于 {data['started']} 开始，监测时间点为 {data['as_of']}，"
        f"评分依据为《{data['profile']}》。名单内共 {scope['units']} 个单位，其中 {scope['registered']} 个单位登记了网站，"
        f"检测单位网站 {scope['sites']} 个、门户网站保留页面 {scope['portal_pages']} 个{portal}。"
        + (f"{len(scope['unregistered'])} 个单位未登记网站地址，未检测。" if scope["unregistered"] else ""))


def _write_overall(document, data: dict) -> None:
    result = data["pass"]
    _heading(document, 2, "总体情况")
    rate = "—" if result["rate"] is None else f"{result['rate']:g}%"
    document.add_paragraph(
        f"完成评分的单位 {result['judged']} 个，其中合格 {result['passed']} 个、不合格 {result['failed']} 个，"
        f"合格率 {rate}。")
    notes = []
    if result["closed"]:
        notes.append(f"已关停 {len(result['closed'])} 个：{'、'.join(result['closed'])}")
    if result["unchecked"]:
        notes.append(f"无法检测 {len(result['unchecked'])} 个：" +
                     "；".join(f"{unit}（{why}）" if why else unit for unit, why in result["unchecked"]))
    document.add_paragraph("合格率 = 合格单位数 ÷ 完成评分的单位数；单位的网站或其门户网站保留页面任一不合格，该单位即为不合格。"
                           + ("不计入合格率的单位：" + "；".join(notes) + "。" if notes else ""))


def _write_ranking(document, data: dict) -> None:
    _heading(document, 3, "各单位得分排名")
    if not data["ranking"]:
        document.add_paragraph("本次没有完成评分的单位。")
        return
    document.add_paragraph("按得分从高到低排列；触发单项否决的单位不计分，列在最后。")
    _table(document, ["排名", "单位", "得分", "结论", "单项否决", "扣分问题", "说明"],
           [[r["rank"], r["unit"], _score(r["score"]), r["verdict"], r["vetoes"],
             r["deductions"], r["reason"]] for r in data["ranking"]], [12, 44, 14, 14, 16, 16, 44])


def _write_indicators(document, data: dict) -> None:
    _heading(document, 4, "问题分布（按指标）")
    if not data["indicators"]:
        document.add_paragraph("本次检测未发现问题。")
        return
    _table(document, ["指标", "类别", "涉及单位数", "问题数", "涉及单位"],
           [[e["name"], e["kind"], len(e["units"]), e["count"], "、".join(e["units"])] for e in data["indicators"]],
           [40, 16, 18, 14, 72])


def _write_consolidation(document, data: dict) -> None:
    c = data["consolidation"]
    _heading(document, 5, "集约化整合进度")
    counts = c["counts"]
    others = "；".join(f"{state} {len(units)} 个" for state, units in c["states"].items() if state not in PLANNED_STATES)
    document.add_paragraph(f"计划关停网站的单位 {c['total_planned']} 个：已关停 {counts['已关停']} 个，"
                           f"逾期未关停 {counts['逾期未关停']} 个，待关停 {counts['待关停']} 个。" +
                           (f"其他单位：{others}。" if others else ""))
    if c["planned"]:
        _table(document, ["单位", "计划关停", "进度", "检测所见", "集约化问题"],
               [[p["unit"], p["month"], p["state"] + (f"，{p['detail']}" if p["detail"] else ""), p["seen"],
                 "；".join(f["title"] for f in p["problems"]) or "无"] for p in c["planned"]], [30, 18, 36, 48, 48])


def _write_overdue(document, data: dict) -> None:
    _heading(document, 6, "逾期事项")
    document.add_heading("（一）逾期未关停的网站", level=2)
    if not data["overdue_units"]:
        document.add_paragraph("无。")
    for u in data["overdue_units"]:
        document.add_paragraph(f"{u['unit']}（{u['url']}）：计划 {u['month']} 关停，{u['detail']}；检测时{u['seen']}。"
                               f"存在问题 {len(u['problems'])} 项：")
        for text in u["problems"]:
            document.add_paragraph(text, style="List Bullet")
    document.add_heading("（二）超过整改期限仍未整改的问题", level=2)
    problems = data["overdue_problems"]
    if not problems:
        document.add_paragraph("无。")
        return
    document.add_paragraph(f"共 {len(problems)} 项" + (f"，以下列出前 {MAX_LISTED} 项" if len(problems) > MAX_LISTED else "") + "：")
    _table(document, ["单位", "指标", "问题", "首次发现", "整改期限", "状态"],
           [[p["unit"], p["name"], p["title"], p["first_seen"], p["deadline"], p["status"]]
            for p in problems[:MAX_LISTED]], [28, 28, 54, 20, 20, 16])


def _write_changes(document, data: dict) -> None:
    _heading(document, 7, "与上次检测相比")
    change = data["changes"]
    if change is None:
        document.add_paragraph("本次为首次全面检测，没有可比较的上次检测。")
        return
    totals = change["totals"]
    document.add_paragraph(f"与第 {change['scan_id']} 次检测（监测时间点 {change['as_of']}）相比：已整改问题 {totals['fixed']} 项，"
                           f"新发现问题 {totals['new']} 项，复发问题 {totals['reopened']} 项。")
    document.add_heading("（一）检测结论发生变化的单位", level=2)
    if change["verdicts"]:
        _table(document, ["单位", "上次结论", "本次结论", "上次得分", "本次得分"],
               [[v["unit"], v["before"], v["after"], _score(v["score_before"]), _score(v["score_after"])]
                for v in change["verdicts"]], [50, 26, 26, 24, 24])
    else:
        document.add_paragraph("无。")
    document.add_heading("（二）各单位问题整改情况", level=2)
    if change["units"]:
        _table(document, ["单位", "已整改", "新发现", "复发"],
               [[e["unit"], e["fixed"], e["new"], e["reopened"]] for e in change["units"]], [70, 26, 26, 26])
    else:
        document.add_paragraph("无变化。")
    if change["fixed"]:
        document.add_heading("（三）已整改的问题", level=2)
        _table(document, ["单位", "指标", "问题"], [[f["unit"], f["name"], f["title"]] for f in change["fixed"][:MAX_LISTED]],
               [40, 40, 80])


def write_bulletin(data: dict, path: Path) -> Path:
    document = Document()
    _fonts(document)
    _page_setup(document, data)
    title = document.add_heading(TITLE, level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    subtitle = document.add_paragraph(f"第 {data['scan_id']} 次检测 · 监测时间点 {data['as_of']}")
    subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph("各单位：")
    document.add_paragraph(f"根据全区政府网站集约化建设和常态化监管的要求，{OFFICE}对全区政府网站进行了检测。现将检测情况通报如下：")
    for section in (_write_scope, _write_overall, _write_ranking, _write_indicators, _write_consolidation,
                    _write_overdue, _write_changes):
        section(document, data)
    _heading(document, 8, "工作要求")
    document.add_paragraph("请各单位对照本次下发的整改问题单逐项整改，在整改期限内完成，并将整改反馈表加盖公章后报送"
                           f"{OFFICE}。计划关停网站的单位请按期关停，并做好域名、网站标识码和备案的注销工作。")
    signature = document.add_paragraph(f"{OFFICE}\n{data['as_of'][:10]}")
    signature.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(path)
    return path


def bulletin_path(out_dir: Path, scan_id: int) -> Path:
    return out_dir / "bulletins" / f"{TITLE}（第{scan_id}次检测）.docx"


def write_for_scan(sessions, config, out_dir: Path, scan_id: int | None = None) -> tuple[Path, dict]:
    """The bulletin of a full scan (default: the latest), written under `<output_dir>/bulletins/`.
    Raises NoScan with a Chinese message when there is nothing to report on."""
    from scoring.registry import RULES
    from scoring.rules import RULES as _ALL_RULES  # noqa: F401 - registers every rule
    with sessions() as session:
        document, history = collect(session, config.settings.timezone, scan_id)
    profile = config.profile(document["scan"]["profile"])
    data = bulletin_data(document, history, {code: r.name for code, r in RULES.items()}, profile.title)
    return write_bulletin(data, bulletin_path(out_dir, data["scan_id"])), data
