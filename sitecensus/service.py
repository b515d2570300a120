"""`sitecensus serve`: the long-lived service. An APScheduler scheduler whose job store lives in the
scans' database runs the weekly full scan, the home-page probe rounds and the daily dashboard refresh.

- Jobs are stored by reference (`sitecensus.service:probe_job`) with the config folder as argument,
  so they and their next run times survive a restart; a run missed while the service was down runs
  once (coalesced) if it is late by less than `misfire_grace_seconds`.
- A scan runs as `sitecensus scan` in a child process: the Twisted reactor cannot be restarted
  in-process, and a crash of the child cannot take the scheduler down. The child holds the scan
  lock (sitecensus/lock.py), so scans never overlap, whoever started them.
- SIGINT/SIGTERM: no new runs start, a running scan is asked to stop (it saves what it fetched and
  marks itself interrupted), the running probe round finishes, then the process exits with status 0.
  A repeated SIGTERM is the same request (`timeout`, process managers and `kill` on the process group
  deliver it twice); only a second Ctrl-C stops at once.
"""
from __future__ import annotations

import logging
import logging.handlers
import os
import signal
import socket
import subprocess
import sys
import threading
from collections import deque
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session, sessionmaker

from sitecensus import stopflag
from sitecensus.availability import probe_and_store
from sitecensus.config import Config, load_config
from sitecensus.lock import EXIT_BUSY
from sitecensus.scan import EXIT_INTERRUPTED, mark_stale_scans, stale_note
from sitecensus.store import ServiceState, open_store
from sitecensus.yamlfile import ConfigError

log = logging.getLogger("sitecensus.service")
JOB_NAMES = {"weekly-scan": "每周全面检测", "probes": "首页可用性探测", "dashboard": "刷新总览页面"}

_children: set[subprocess.Popen] = set()
_children_lock = threading.Lock()
_stopping = threading.Event()   # set under _children_lock: no scan child starts once the stop has begun


@lru_cache(maxsize=4)
def _sessions(store_url: str) -> sessionmaker[Session]:
    return open_store(store_url)


def _load(config_dir: str) -> Config | None:
    """The config as it is now (the office may edit units.yaml while the service runs)."""
    try:
        return load_config(config_dir)
    except ConfigError as exc:
        log.error("配置有误，本次任务不运行；请按提示修改：\n%s", exc)
        return None


# --- jobs (module-level functions: the job store keeps them by reference) ---

def probe_job(config_dir: str) -> None:
    config = _load(config_dir)
    if config is None:
        return
    sessions = _sessions(config.settings.store_url)
    summary = probe_and_store(config, sessions)
    heartbeat(sessions)
    failures = "; ".join(f"{url} {error}" for url, error in list(summary.failures.items())[:10])
    log.info("探测一轮：%d 个网站，%d 个失败，用时 %.1f 秒%s", summary.probes, summary.failed, summary.seconds,
             f"（{failures}）" if failures else "")


def scan_job(config_dir: str) -> None:
    """Run `sitecensus scan` in a child process, its output into the log."""
    command = [sys.executable, "-m", "sitecensus", "scan", "--config", config_dir]
    with _children_lock:   # a job already handed to a worker when the stop began must not start a scan now
        if _stopping.is_set():
            log.warning("服务正在停止，本次每周全面检测不再启动")
            return
        # A session of its own: Ctrl-C in the service's terminal reaches the service, which stops the child.
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 text=True, encoding="utf-8", errors="replace", start_new_session=True)
        _children.add(child)
    log.info("每周全面检测开始（子进程 %s）", child.pid)
    tail: deque[str] = deque(maxlen=60)
    try:
        for line in child.stdout:
            line = line.rstrip()
            if line:
                tail.append(line)
                log.info("[检测 %s] %s", child.pid, line)
        code = child.wait()
    finally:
        with _children_lock:
            _children.discard(child)
    if code == 0:
        log.info("每周全面检测完成（子进程 %s）", child.pid)
    elif code == EXIT_BUSY:
        log.warning("另一次检测仍在运行，本次每周检测跳过")
    elif code == EXIT_INTERRUPTED or code == -signal.SIGTERM:
        log.warning("每周全面检测被中断（子进程 %s）；已抓取的内容已保存，该次检测标记为 interrupted", child.pid)
    else:
        log.error("每周全面检测失败（子进程 %s，退出码 %s）；服务继续运行。最后的输出：\n%s", child.pid, code,
                  "\n".join(tail))


def dashboard_job(config_dir: str) -> None:
    """Render the dashboard of the last scan again, with availability up to now."""
    from sitecensus.app import App
    config = _load(config_dir)
    if config is None:
        return
    application = App(config)
    try:
        document = application.stored(None)
    except LookupError as exc:
        log.info("总览页面未刷新：%s", exc)
        return
    path = application.render(document, availability_end=datetime.now(ZoneInfo(config.settings.timezone)))
    log.info("总览页面已刷新：%s", path)


# --- the scheduler ---

def wanted_jobs(config: Config) -> dict[str, tuple[str, object, dict]]:
    service, tz = config.settings.service, config.settings.timezone
    return {
        "weekly-scan": ("sitecensus.service:scan_job", CronTrigger(**service.scan_schedule, timezone=tz), {}),
        "probes": ("sitecensus.service:probe_job",
                   IntervalTrigger(seconds=service.probe_interval_seconds, timezone=tz),
                   {"next_run_time": datetime.now(timezone.utc)}),   # a new service probes at once
        "dashboard": ("sitecensus.service:dashboard_job", CronTrigger(**service.dashboard_schedule, timezone=tz), {}),
    }


def sync_jobs(scheduler: BackgroundScheduler, config: Config, config_dir: str) -> None:
    """Keep stored jobs whose schedule is unchanged (and so their next run time); replace the others."""
    wanted = wanted_jobs(config)
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            job.remove()
    for job_id, (ref, trigger, extra) in wanted.items():
        stored = scheduler.get_job(job_id)
        if stored and stored.func_ref == ref and str(stored.trigger) == str(trigger) and stored.args == (config_dir,):
            log.info("沿用已保存的任务：%s，下次运行 %s", JOB_NAMES[job_id], stored.next_run_time)
            continue
        job = scheduler.add_job(ref, trigger, args=[config_dir], id=job_id, name=JOB_NAMES[job_id],
                                replace_existing=True, **extra)
        log.info("任务%s：%s（%s），下次运行 %s", "已更新" if stored else "已创建", JOB_NAMES[job_id], trigger,
                 job.next_run_time or "待定")


class _Scheduler(BackgroundScheduler):
    def _process_jobs(self):
        # APScheduler 3: shutdown() wakes the scheduler thread, which would then try to submit due jobs
        # to the executors it has just shut down (a logged RuntimeError). A stopped scheduler submits nothing.
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()


def build_scheduler(config: Config, sessions: sessionmaker[Session]) -> BackgroundScheduler:
    service = config.settings.service
    return _Scheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=sessions.kw["bind"])},   # our engine: WAL + busy timeout
        executors={"default": ThreadPoolExecutor(max_workers=4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": service.misfire_grace_seconds},
        timezone=config.settings.timezone)


def stored_jobs(sessions: sessionmaker[Session]) -> list[Job]:
    """The service's jobs as saved in the store (for `sitecensus status`; works while it is stopped)."""
    store = SQLAlchemyJobStore(engine=sessions.kw["bind"])
    store.start(None, "default")
    return store.get_all_jobs()


def heartbeat(sessions: sessionmaker[Session], started: bool = False, stopped: bool = False) -> None:
    now = datetime.now(timezone.utc)
    with sessions.begin() as session:
        state = session.get(ServiceState, 1)
        if state is None or started:
            state = session.merge(ServiceState(id=1, pid=os.getpid(), host=socket.gethostname(), started_at=now,
                                               heartbeat_at=now, stopped_at=None))
        state.heartbeat_at = now
        if stopped:
            state.stopped_at = now


def _stop_children(grace: float) -> None:
    with _children_lock:
        _stopping.set()
        children = list(_children)
    for child in children:
        log.info("正在停止检测子进程 %s（最多等待 %g 秒让它保存已抓取的内容）", child.pid, grace)
        child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(grace)
        except subprocess.TimeoutExpired:
            log.error("检测子进程 %s 未在 %g 秒内停止，强制结束；该次检测将标记为 interrupted", child.pid, grace)
            child.kill()


def setup_logging(config: Config, log_file: str | None) -> None:
    service = config.settings.service
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    path = log_file or service.log_file
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.RotatingFileHandler(path, maxBytes=service.log_max_bytes,
                                                             backupCount=service.log_backups, encoding="utf-8"))
    root = logging.getLogger()
    for handler in handlers:
        handler.setFormatter(fmt)
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)   # not a line per job run
    logging.getLogger("httpx").setLevel(logging.WARNING)


def serve(config_dir: str, log_file: str | None = None) -> int:
    # A SIGTERM that came while the program was still importing set stopflag (see __main__.py): stop at once.
    stop = stopflag.requested
    signals_seen: list[int] = [signal.SIGTERM] if stop.is_set() else []

    def on_signal(signum, _frame):
        signals_seen.append(signum)
        if signum == signal.SIGINT and signals_seen.count(signal.SIGINT) > 1:
            # a second Ctrl-C: stop now; a half-done scan is marked interrupted on next start
            for child in list(_children):
                child.kill()
            os._exit(1)
        stop.set()   # a repeated SIGTERM asks for the same stop again: the stop under way goes on

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    config = load_config(config_dir)
    setup_logging(config, log_file)
    sessions = _sessions(config.settings.store_url)
    for stale in mark_stale_scans(sessions):
        log.warning(stale_note(stale))
    scheduler = build_scheduler(config, sessions)
    scheduler.start(paused=True)
    sync_jobs(scheduler, config, config_dir)
    heartbeat(sessions, started=True)
    if not stop.is_set():   # asked to stop while starting: run nothing
        scheduler.resume()
        log.info("sitecensus 服务已启动（进程 %s，数据库 %s）；按 Ctrl-C 或发送 SIGTERM 停止", os.getpid(),
                 config.settings.store_url)
    while not stop.wait(60):
        heartbeat(sessions)
    log.info("收到 %s，正在停止：不再启动新任务，等待正在运行的任务结束", signal.Signals(signals_seen[0]).name)
    scheduler.pause()
    _stop_children(config.settings.service.scan_stop_seconds)
    scheduler.shutdown(wait=True)
    mark_stale_scans(sessions)   # a scan child that had to be killed leaves no 'running' scan behind
    heartbeat(sessions, stopped=True)
    # Stopped: a late duplicate SIGTERM must not turn a clean exit into death by signal while Python shuts
    # down (it restores the default action of handled signals then, but leaves ignored ones ignored).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    log.info("sitecensus 服务已停止")
    return 0
