"""Configuration errors name the file, the line and the field, and say what is expected."""
import shutil
from pathlib import Path

import pytest

from sitecensus.config import load_config
from sitecensus.yamlfile import ConfigError
from tests.conftest import REPO, run_cli


@pytest.fixture
def config(tmp_path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(REPO / "config", target)
    return target


def _replace(path: Path, old: str, new: str, count: int = 1):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def test_repo_register_has_the_47_units_of_attachment_1():
    cfg = load_config(REPO / "config")
    notice = (REPO.parent / "shared" / "notice-2017-84.txt")
    names = [u.name for u in cfg.units]
    assert len(names) == 47
    if notice.exists():  # names exactly as written in attachment 1
        listed = notice.read_text(encoding="utf-8").split("网站责任单位名单")[-1].split("附件2")[0]
        assert [n.strip() for n in listed.split("、") if n.strip()] == names
    assert {u.kind for u in cfg.units} == {"部门", "街道", "其他"}
    assert sum(u.kind == "街道" for u in cfg.units) == 10
    assert all(not u.urls for u in cfg.units)  # real addresses are unknown: never invented


def test_wrong_kind_names_file_line_and_field(config):
    units = config / "units.yaml"
    _replace(units, "kind: 街道", "kind: 乡镇")
    line = _line_of(units, "kind: 乡镇")
    with pytest.raises(ConfigError) as err:
        load_config(config)
    message = str(err.value)
    assert f"units.yaml:{line}:" in message and "kind" in message and "'部门'" in message


def test_broken_yaml_names_the_line(config):
    units = config / "units.yaml"
    _replace(units, "  - name: 区科技局", "  - name: [区科技局")
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert "units.yaml:" in str(err.value) and "YAML" in str(err.value)
    line = int(str(err.value).split("units.yaml:")[1].split(":")[0])
    assert abs(line - _line_of(units, "[区科技局")) <= 2


def test_bad_url_and_missing_setting(config):
    _replace(config / "units.yaml", "urls: []", "urls: [www.example.gov.cn]")
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert "urls" in str(err.value) and "http://" in str(err.value)


def test_missing_field_and_unknown_field_in_settings(config):
    settings = config / "settings.yaml"
    _replace(settings, "  max_depth: 8\n", "  max_dept: 8\n")
    with pytest.raises(ConfigError) as err:
        load_config(config)
    text = str(err.value)
    assert "crawl.max_depth" in text and "缺少" in text
    assert f"settings.yaml:{_line_of(settings, 'max_dept')}: crawl.max_dept" in text


def test_criteria_number_must_be_a_number(config):
    criteria = config / "criteria" / "census2015.yaml"
    _replace(criteria, "  veto_blank_columns: 5", "  veto_blank_columns: five")
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert f"census2015.yaml:{_line_of(criteria, 'five')}: column_update.veto_blank_columns" in str(err.value)


def test_participating_unit_needs_a_closure_month(config):
    _replace(config / "units.yaml", "{participates: , closure_month: ,", "{participates: true, closure_month: ,")
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert "closure_month" in str(err.value)


def test_cli_units_reports_config_errors_and_exits_2(config):
    _replace(config / "units.yaml", "kind: 部门", "kind: 局")
    result = run_cli("units", "--config", str(config))
    assert result.returncode == 2
    assert "units.yaml:" in result.stderr and "kind" in result.stderr


def test_cli_units_lists_the_register(config):
    result = run_cli("units", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "区发改局" in result.stdout and "郭巨街道" in result.stdout and "未登记网站" in result.stdout
