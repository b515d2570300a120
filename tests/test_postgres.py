"""The demo sites scanned once more with the store on a real PostgreSQL server (tests/pg.py): the same
document as the session's SQLite scan (`world`), findings and fingerprints included, and the same what-if
rescore; then the commands that read the store after a scan (export, report, audit, bulletin, scans)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import run_cli
from tests.pg import copy_store


def _on_store(world, directory: Path, store_url: str) -> Path:
    """The world's config with its own store and output folder (no PDFs or screenshots: no store in them)."""
    config = directory / "config"
    shutil.copytree(world.config, config)
    settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
    settings.update(store_url=store_url, output_dir=str(directory / "out"))
    settings["sheets"]["pdf"] = False
    settings["sheets"]["screenshots"]["enabled"] = False
    (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def pg_world(world, postgres, tmp_path_factory):
    config = _on_store(world, tmp_path_factory.mktemp("pg_world"), postgres.create_database())
    result = run_cli("scan", "--json", "--as-of", world.as_of.strftime("%Y-%m-%dT%H:%M"), config=config, timeout=300)
    assert result.returncode == 0, result.stderr
    return config, json.loads(result.stdout)


def _outline(site: dict) -> dict:
    """What a second scan of the same sites must repeat: probe times in the evidence may differ, and so may the
    order of equal findings (the crawl stores pages in the order they arrive)."""
    return {"verdict": site["verdict"], "score": site["score"], "stats": site["stats"],
            "findings": sorted((f["code"], f["fingerprint"], f["count"], f["points"]) for f in site["findings"])}


def test_the_demo_scan_on_postgresql_finds_what_the_sqlite_scan_found(world, pg_world):
    _, document = pg_world
    assert document["scan"] == world.document["scan"]
    for ours, theirs in zip(document["sites"], world.document["sites"], strict=True):
        assert (ours["unit"], ours["url"]) == (theirs["unit"], theirs["url"])
        assert _outline(ours) == _outline(theirs), ours["url"]


def test_the_sqlite_scans_facts_judged_on_postgresql_give_its_document(world, postgres, tmp_path):
    """The world's very facts moved to PostgreSQL and judged again at the same check time: every byte of the
    document the same (every judging query gives the same rows in the same order on both)."""
    store_url = postgres.create_database()
    copy_store(yaml.safe_load((world.config / "settings.yaml").read_text(encoding="utf-8"))["store_url"], store_url)
    config = _on_store(world, tmp_path, store_url)
    result = run_cli("rescore", str(world.document["scan"]["id"]), "--as-of", world.as_of.strftime("%Y-%m-%dT%H:%M"),
                     "--json", config=config, check=True)
    rescored = json.loads(result.stdout)
    for ours, theirs in zip(rescored["sites"], world.document["sites"], strict=True):
        assert ours == theirs, ours["url"]


def test_the_commands_after_a_scan_read_postgresql(world, pg_world):
    config, document = pg_world
    exported = json.loads(run_cli("export", "--json", config=config, check=True).stdout)
    assert exported["sites"] == document["sites"]
    out = config.parent / "out"
    (out / "index.html").unlink()
    assert "总览页面" in run_cli("report", config=config, check=True).stdout and (out / "index.html").exists()
    audited = run_cli("audit", "区水利局", "--json", config=config)
    assert audited.returncode == 1 and json.loads(audited.stdout)["sites"][0]["unit"] == "区水利局"
    assert "合格率" in run_cli("bulletin", config=config, check=True).stdout
    listed = run_cli("scans", config=config, check=True).stdout
    assert "即时检测" in listed and "全面检测" in listed
