"""`sitecensus status`: is the service running, what will it run next, the last scan, and each
registered site's availability over the last 7 days (from the store, so it works with the service
stopped too)."""
from __future__ import annotations

import re
import socket
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import func, select

from sitecensus.availability import availability, probed_urls
from sitecensus.lock import pid_alive
from sitecensus.scan import stale_note, stale_scans
from sitecensus.service import JOB_NAMES, stored_jobs
from sitecensus.store import Judgement, Scan, ServiceState, Site


SCAN_KINDS = {"scan": "全面检测", "audit": "即时检测", "recheck": "复查"}
SCAN_STATES = {"done": "已完成", "running": "进行中", "interrupted": "已中断", "failed": "失败"}


WEEKDAYS = {"mon": "一", "tue": "二", "wed": "三", "thu": "四", "fri": "五", "sat": "六", "sun": "日"}


def schedule_words(trigger: str) -> str:
    """APScheduler's trigger text (cron[day_of_week='mon', hour='2', minute='0'], interval[0:30:00]) in the
    office's words (每周一 02:00, 每 30 分钟); a schedule these words do not cover is shown as written."""
    if match := re.fullmatch(r"interval\[(\d+):(\d\d):(\d\d)\]", trigger):
        amounts = zip(map(int, match.groups()), ("小时", "分钟", "秒"))
        return "每 " + " ".join(f"{n} {unit}" for n, unit in amounts if n)
    fields = dict(re.findall(r"(\w+)='([^']*)'", trigger))
    days = [WEEKDAYS.get(d) for d in fields.get("day_of_week", "").split(",") if d]
    if (not trigger.startswith("cron[") or not set(fields) <= {"day_of_week", "hour", "minute", "second"}
            or not all(fields.get(k, "0").isdigit() for k in ("hour", "minute", "second")) or None in days):
        return trigger
    when = f"{int(fields.get('hour', 0)):02d}:{int(fields.get('minute', 0)):02d}"
    return f"每周{'、'.join(days)} {when}" if days else f"每天 {when}"


def _service(state: ServiceState | None, interval: float, now: datetime) -> dict:
    if state is None:
        return {"state": "从未运行", "pid": None}
    facts = {"pid": state.pid, "host": state.host, "started_at": state.started_at.isoformat(),
             "heartbeat_at": state.heartbeat_at.isoformat(),
             "stopped_at": state.stopped_at.isoformat() if state.stopped_at else None}
    if state.stopped_at:
        facts["state"] = "已停止"
    elif state.host == socket.gethostname() and not pid_alive(state.pid):
        facts["state"] = "未运行（进程已不存在，可能异常退出）"
    elif now - state.heartbeat_at > timedelta(seconds=max(180, 2 * interval)):
        facts["state"] = "无响应（长时间没有心跳）"
    else:
        facts["state"] = "运行中"
    return facts


def _scan_state(scan: Scan, stale: bool) -> dict:
    """A scan's status, and a note when it did not finish (`stale`: its process was killed)."""
    if stale:
        return {"status": "interrupted", "note": stale_note(scan.id)}
    if scan.status == "interrupted":
        return {"status": "interrupted", "note": "该次检测被中断，已保存的内容保留；名单不变时，下次全面检测从中断处继续"}
    return {"status": scan.status, "note": None}


def collect(application) -> dict:
    config = application.config
    tz = ZoneInfo(config.settings.timezone)
    now = datetime.now(tz).replace(microsecond=0)
    profile = config.profile()
    days = profile.availability.window_days
    urls = probed_urls(config)
    unit_of = {url: unit.name for unit in config.units for url in unit.urls}
    with application.sessions() as session:
        state = session.get(ServiceState, 1)
        scan = session.scalar(select(Scan).order_by(Scan.id.desc()).limit(1))
        stale = {s.id for s in stale_scans(session)}
        figures = availability(session, urls, now, days)
    jobs = [{"id": job.id, "name": JOB_NAMES.get(job.id, job.name), "trigger": str(job.trigger),
             "next_run_time": job.next_run_time.astimezone(tz).isoformat() if job.next_run_time else None}
            for job in stored_jobs(application.sessions)]
    last_scan = None if scan is None else {
        **_scan_state(scan, scan.id in stale), "id": scan.id, "started_at": scan.started_at.astimezone(tz).isoformat(),
        "finished_at": scan.finished_at.astimezone(tz).isoformat() if scan.finished_at else None}
    sites = [{"unit": unit_of[url], "url": url, "probes": f.probes, "failed": f.failed, "refused": f.refused,
              "availability": None if f.share is None else round(f.share, 4)} for url, f in figures.items()]
    return {"now": now.isoformat(), "window_days": days,
            "veto_failure_share": profile.availability.veto_failure_share,
            "service": _service(state, config.settings.service.probe_interval_seconds, now),
            "jobs": jobs, "last_scan": last_scan, "sites": sites}


def _when(iso: str, width: int) -> str:
    """An ISO time as people write it: 2026-11-26 15:02:05 (no T, no offset)."""
    return iso[:width].replace("T", " ")


def show(facts: dict, console: Console) -> None:
    service = facts["service"]
    line = f"服务：{service['state']}"
    if service.get("pid"):
        line += f"（进程 {service['pid']}@{service['host']}，启动于 {_when(service['started_at'], 19)}，最近心跳 {_when(service['heartbeat_at'], 19)}）"
    console.print(line, highlight=False)
    jobs = Table(title="计划任务")
    for name in ("任务", "安排", "下次运行"):
        jobs.add_column(name)
    for job in facts["jobs"]:
        jobs.add_row(job["name"], escape(schedule_words(job["trigger"])), _when((job["next_run_time"] or "暂停"), 19))
    console.print(jobs if facts["jobs"] else "计划任务：无（运行 sitecensus serve 后创建）")
    scan = facts["last_scan"]
    console.print("最近一次检测：无" if scan is None else
                  f"最近一次检测：第 {scan['id']} 次，{SCAN_STATES.get(scan['status'], scan['status'])}，开始 {_when(scan['started_at'], 19)}，"
                  f"结束 {_when((scan['finished_at'] or '—'), 19)}" + (f"（{scan['note']}）" if scan["note"] else ""),
                  highlight=False)
    table = Table(title=f"近 {facts['window_days']} 天首页可用性（截至 {_when(facts['now'], 16)}）")
    for name in ("单位", "网站", "探测次数", "失败", "被拒", "可用率"):
        table.add_column(name)
    for site in facts["sites"]:
        share = site["availability"]
        failing = share is not None and 1 - share >= facts["veto_failure_share"]   # V1's share, from the profile
        shown = "—" if share is None else f"[{'red' if failing else 'green'}]{share:.1%}[/]"
        table.add_row(escape(site["unit"]), escape(site["url"]), str(site["probes"]), str(site["failed"]), str(site["refused"]), shown)
    console.print(table if facts["sites"] else "units.yaml 中还没有登记网站地址。")


def scan_history(sessions, timezone: str, limit: int = 20) -> list[dict]:
    """`sitecensus scans`: the latest scans, newest first, with their office judgement's profile, their units
    and sites, and how many what-if judgements (`rescore`) they have."""
    tz = ZoneInfo(timezone)
    with sessions() as session:
        scans = session.scalars(select(Scan).order_by(Scan.id.desc()).limit(limit)).all()
        ids = [scan.id for scan in scans]
        stale = {s.id for s in stale_scans(session)}
        sites = session.execute(select(Site.scan_id, func.count(func.distinct(Site.unit)), func.count(Site.url))
                                .where(Site.scan_id.in_(ids), Site.role != "portal").group_by(Site.scan_id)).all()
        judgements = session.execute(select(Judgement.scan_id, Judgement.profile, Judgement.what_if)
                                     .where(Judgement.scan_id.in_(ids)).order_by(Judgement.id)).all()
    counts = {scan_id: (units, urls) for scan_id, units, urls in sites}
    profile: dict[int, str] = {}
    what_if: dict[int, int] = {}
    for scan_id, name, hypothetical in judgements:
        if hypothetical:
            what_if[scan_id] = what_if.get(scan_id, 0) + 1
        else:
            profile[scan_id] = name   # the latest office judgement's
    return [{"id": scan.id, "kind": scan.kind or "scan", "as_of": scan.as_of.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
             "profile": profile.get(scan.id), "status": scan.status, "stale": scan.id in stale,
             "units": counts.get(scan.id, (0, 0))[0], "sites": counts.get(scan.id, (0, 0))[1],
             "started": scan.started_at.astimezone(tz).strftime("%m-%d %H:%M"),
             "seconds": (scan.finished_at - scan.started_at).total_seconds() if scan.finished_at else None,
             "what_if": what_if.get(scan.id, 0)} for scan in scans]
