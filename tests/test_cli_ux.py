"""The command line as a non-programmer meets it: what-if rescores kept apart from the office's dashboard,
the scan history, settings paths taken from the config folder, readable progress, and Chinese help and
errors (YAML mistakes with their line, near-miss unit names, bad addresses, a recheck of a site that is down)."""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from rich.cells import cell_len
from rich.console import Console

from sitecensus.cli import CrawlProgress
from sitecensus.config import load_config
from sitecensus.demo import serve_demo_sites, write_demo_config
from sitecensus.demo.sites import demo_specs
from sitecensus.store import Scan, open_store
from sitecensus.yamlfile import ConfigError
from tests.conftest import REPO, run_cli

# typer's own English, and its type names, where a help text should be Chinese
ENGLISH_HELP = ("Usage", "Options", "Arguments", "Commands", "Show this message", "[default", "[required",
                "DESIGN.md", "<bool>", "<str>", "<int>", "<path>", "<list", "…")


@pytest.fixture
def config(tmp_path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(REPO / "config", target)
    return target


def _replace(path: Path, old: str, new: str) -> int:
    """Replace the first `old` and return the line it is on."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text[:text.index(old)].count("\n") + 1


def _help(*words: str) -> str:
    env = dict(os.environ, COLUMNS="100", TERMINAL_WIDTH="100")
    result = subprocess.run([str(Path(sys.executable).with_name("sitecensus")), *words, "--help"], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_every_help_is_chinese_and_whole_at_100_columns():
    from typer.main import get_command

    from sitecensus.cli import app
    group = get_command(app)
    commands = [[name] for name in group.commands] + [["forms", "import"]]
    assert ["scans"] in commands and ["rescore"] in commands
    for words in [[], *commands]:
        text = _help(*words)
        assert "用法：sitecensus" in text and "显示本帮助并退出" in text, words
        leaks = [w for w in ENGLISH_HELP if w in text]
        assert not leaks, f"sitecensus {' '.join(words)} --help: {leaks}\n{text}"
        assert max(cell_len(line) for line in text.splitlines()) <= 100, words
        assert "选项" in text


def test_rescore_is_a_what_if_in_its_own_folder(world, tmp_path):
    config = world.private_copy(tmp_path)
    out = tmp_path / "out"
    run_cli("report", config=config, check=True)   # the office's dashboard of the copy
    index = (out / "index.html").read_bytes()
    sheets = {p.name: p.read_bytes() for p in (out / "sheets").glob("*.html")}
    scan_id = world.document["scan"]["id"]
    later = (world.as_of + timedelta(days=400)).strftime("%Y-%m-%d")
    result = run_cli("rescore", str(scan_id), "--as-of", later, config=config, check=True)
    assert (out / "index.html").read_bytes() == index
    assert {p.name: p.read_bytes() for p in (out / "sheets").glob("*.html")} == sheets
    folder = next((out / "rescore").glob(f"scan-{scan_id}-*"))
    assert later.replace("-", "") in folder.name and (folder / "index.html").exists()
    assert any((folder / "sheets").glob("*.html")) and "假设评分" in result.stdout
    assert later in (folder / "index.html").read_text(encoding="utf-8")
    # `report` and `export` keep the office's judgement, not the what-if
    run_cli("report", config=config, check=True)
    assert later not in (out / "index.html").read_text(encoding="utf-8")
    exported = run_cli("export", "--json", config=config, check=True).stdout
    assert world.as_of.strftime("%Y-%m-%dT%H:%M") in exported and later not in exported
    listed = run_cli("scans", config=config, check=True).stdout
    row = next(line for line in listed.splitlines() if re.match(rf"\s*│\s*{scan_id}\s*│", line))   # the id column
    assert "全面检测" in row and "已完成" in row and world.as_of.strftime("%Y-%m-%d %H:%M") in row
    assert world.document["scan"]["profile"] in row
    units = len({s["unit"] for s in world.document["sites"] if s.get("role", "site") != "portal"})
    assert re.search(rf"│\s*{units}\s*│", row) and re.search(r"│\s*1\s*│?\s*$", row)   # one what-if rescore


def test_scans_names_an_interrupted_scan_and_an_audit(tmp_path, config):
    settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
    sessions = open_store(load_config(config).settings.store_url)
    now = datetime.now(timezone.utc)
    with sessions.begin() as session:
        session.add(Scan(started_at=now, as_of=now, status="interrupted", kind="scan", pid=None))
        session.add(Scan(started_at=now, finished_at=now + timedelta(seconds=75), as_of=now, status="done",
                         kind="audit", pid=None))
    listed = run_cli("scans", "--config", str(config), check=True).stdout
    assert "已中断" in listed and "即时检测" in listed and "1 分 15 秒" in listed
    assert "interrupted" not in listed and "audit" not in listed
    assert settings["store_url"].startswith("sqlite:///../")   # the shipped relative path, read from config/


def test_relative_paths_follow_the_config_folder_not_the_current_one(tmp_path, config, monkeypatch):
    settings_file = config / "settings.yaml"
    _replace(settings_file, "store_url: sqlite:///../sitecensus-out/sitecensus.db", "store_url: sqlite:///data/census.db")
    _replace(settings_file, "output_dir: ../sitecensus-out", "output_dir: reports")
    _replace(settings_file, "  ca_file: null", "  ca_file: certs/ca.pem")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    loaded = load_config(config).settings
    assert loaded.store_url == f"sqlite:///{config / 'data' / 'census.db'}"
    assert loaded.output_dir == str(config / "reports") and loaded.mail.ca_file == str(config / "certs" / "ca.pem")
    assert loaded.service.log_file == str(tmp_path / "sitecensus-out" / "logs" / "service.log")
    # a scan stored from one folder is seen by `scans` run from another: one database, in the config folder
    now = datetime.now(timezone.utc)
    with open_store(loaded.store_url).begin() as session:
        session.add(Scan(started_at=now, as_of=now, status="interrupted", kind="scan", pid=None))
    for folder in (elsewhere, tmp_path):
        result = subprocess.run([sys.executable, "-m", "sitecensus", "scans", "--config", os.path.relpath(config, folder)],
                                capture_output=True, text=True, cwd=folder, timeout=60)
        assert result.returncode == 0, result.stderr
        assert "全面检测" in result.stdout and "已中断" in result.stdout
    assert not list(elsewhere.rglob("*.db")) and not (tmp_path / "data").exists()


@pytest.mark.parametrize("old, new, explained", [
    ("  - name: 区科技局", "  - name: [区科技局", "方括号"),
    ("    kind: 部门", "    kind 部门", "缺少冒号"),
    ("  - name: 区科技局", '  - name: "区科技局', "引号没有配对"),
    ("    kind: 部门", "\tkind: 部门", "制表符"),
])
def test_yaml_syntax_errors_are_chinese_with_the_line(config, old, new, explained):
    units = config / "units.yaml"
    line = _replace(units, old, new)
    with pytest.raises(ConfigError) as err:
        load_config(config)
    message = str(err.value)
    assert f"units.yaml:{line}: YAML 格式错误：" in message and explained in message
    assert f"第 {line} 行：{new.strip()}" in message
    assert not re.search(r"\b(found|expected|while|scanning|parsing)\b", message)


def test_duplicate_unit_points_at_the_duplicate(config):
    units = config / "units.yaml"
    line = _replace(units, "  - name: 区教育局", "  - name: 区科技局")
    first = next(i for i, text in enumerate(units.read_text(encoding="utf-8").splitlines(), 1) if "name: 区科技局" in text)
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert f"units.yaml:{line}:" in str(err.value) and "单位名称重复" in str(err.value)
    assert f"已在第 {first} 行登记过" in str(err.value) and first < line


def test_near_miss_unit_and_a_space_in_a_host(config):
    result = run_cli("recheck", "区教育", "--config", str(config))
    assert result.returncode == 2 and "您是不是要找：区教育局？" in result.stderr
    line = _replace(config / "units.yaml", "urls: []", 'urls: ["http://www.bl .gov.cn/"]')
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert f"units.yaml:{line}:" in str(err.value) and "含有空格" in str(err.value)


def test_command_line_mistakes_answered_in_chinese(config):
    cases = {("rescore", "abc"): "检测编号应为数字", ("inspect", "host:port"): "应为以 http:// 或 https:// 开头的网址",
             ("audit", "http://www.ex ample.gov.cn/"): "含有空格", ("scna",): "您是不是要找：scan",
             ("scan", "--bogus"): "没有这个选项：--bogus", ("inspect",): "缺少参数 网址"}
    for args, expected in cases.items():
        result = run_cli(*args, "--config", str(config)) if args[0] != "scna" else run_cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert expected in result.stderr and "错误：" in result.stderr, (args, result.stderr)
        assert not re.search(r"Invalid value|No such|Missing|Error|Usage|Traceback", result.stderr), result.stderr


def test_recheck_of_a_site_that_is_down_says_it_could_not(tmp_path):
    """A unit's site audited while it answers (problems on its sheet), then down: the re-check says it could
    not re-check instead of counting every problem as not fixed."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    specs = [spec for spec in demo_specs() if spec.key == "broken"]
    with serve_demo_sites(today, specs) as urls:
        config = write_demo_config(tmp_path / "config", urls, today, tmp_path / "out", specs)
        audited = run_cli("audit", "区商务局", config=config)
        assert audited.returncode in (0, 1), audited.stderr   # a verdict; its broken links are on the sheet
        # stderr is no terminal here (as under the service): progress comes as log lines, the last when all is crawled
        assert re.search(r"抓取进度：已完成 1/1 个网站，页面 [1-9]\d* 个，已检查链接 [1-9]\d* 个（出错 [1-9]\d* 个），用时 ",
                         audited.stderr), audited.stderr
    result = run_cli("recheck", "区商务局", config=config)   # the servers are gone: connection refused
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"无法复查：首页无法访问（{urls['broken']}" in result.stderr and "请在网站恢复访问后再复查" in result.stderr
    assert "已整改" not in result.stdout + result.stderr and "仍未整改" not in result.stdout + result.stderr


def test_progress_says_sites_pages_links_errors_and_time():
    stream = io.StringIO()
    progress = CrawlProgress(Console(file=stream, force_terminal=False, width=200))
    progress.start(3)
    progress.fetched("a", "ok")
    progress.page("a", "http://a/")
    for outcome in ("ok", "broken", "unverifiable"):
        progress.fetched("a", outcome)
    progress.site_done("a")
    assert "已完成 1/3 个网站，页面 1 个，已检查链接 3 个（出错 2 个）" in progress.figures()
    assert "预计还需" in progress.figures()
    progress.site_done("b")
    progress.site_done("c")
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("抓取进度：已完成 0/3 个网站") and "已完成 3/3 个网站" in lines[-1]
    assert lines[-1].endswith("抓取完成")


def test_readme_set_up_commands_work_as_root_and_as_a_user():
    """The README's two set-up lines: .ci/run runs the test line verbatim; `S` is empty for root (no sudo on a
    fresh Debian machine as root) and `sudo` for a user; apt-get update comes before apt-get install."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    lines = [line for line in readme.splitlines() if line.startswith("S=$(")]
    assert len(lines) == 2 and lines[0].endswith("sitecensus demo") and lines[1].endswith("python -m pytest")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert ci == lines[1]
    for line in lines:
        assert line.index("apt-get update") < line.index("apt-get install") and "python3-venv" in line
        prefix = line.split(";")[0]
        for uid, expected in (("0", "[]"), ("1000", "[sudo]")):
            shell = f'id() {{ echo {uid}; }}; {prefix}; echo "[$S]"'
            assert subprocess.run(["sh", "-c", shell], capture_output=True, text=True).stdout.strip() == expected


def test_status_names_schedules_in_words():
    from sitecensus.status import schedule_words
    assert schedule_words("cron[day_of_week='mon', hour='2', minute='0']") == "每周一 02:00"
    assert schedule_words("cron[hour='7', minute='0']") == "每天 07:00"
    assert schedule_words("interval[0:30:00]") == "每 30 分钟"
    assert schedule_words("cron[hour='*/2']") == "cron[hour='*/2']"   # not covered: shown as written
