"""The dashboard and a unit page in a real headless Chromium (Debian's chromium + chromium-driver,
which .ci/run installs): they load without console errors, the filters work, and a screenshot of the
dashboard is kept as a test artifact (test-artifacts/dashboard.png)."""
from __future__ import annotations

import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.conftest import REPO

ARTIFACTS = REPO / "test-artifacts"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync",
         "--disable-component-update", "--disable-dev-shm-usage", "--window-size=1400,1000")


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    assert chromium and driver_path, "Chromium and chromedriver are needed: apt-get install chromium chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    yield driver
    driver.quit()


def _errors(driver) -> list[dict]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_dashboard_loads_without_errors_and_filters(world, browser):
    browser.get((world.out / "index.html").as_uri())
    assert "政府网站检测总览" in browser.title
    assert _errors(browser) == []
    rows = browser.find_elements(By.CSS_SELECTOR, "#units tr.unit-row")
    assert len(rows) > 40
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "dashboard.png"))
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 10_000

    Select(browser.find_element(By.ID, "filter-verdict")).select_by_visible_text("不合格")
    shown = [r for r in rows if r.is_displayed()]
    assert shown and all(r.get_attribute("data-verdict") == "不合格" for r in shown)
    Select(browser.find_element(By.ID, "filter-kind")).select_by_visible_text("街道")
    shown = [r for r in rows if r.is_displayed()]
    assert all(r.get_attribute("data-kind") == "街道" and r.get_attribute("data-verdict") == "不合格" for r in shown)
    assert browser.find_element(By.ID, "filter-count").text.startswith(f"显示 {len(shown)} / {len(rows)}")
    Select(browser.find_element(By.ID, "filter-verdict")).select_by_visible_text("全部")
    Select(browser.find_element(By.ID, "filter-kind")).select_by_visible_text("全部")
    assert all(r.is_displayed() for r in rows)
    # the inline charts are drawn: availability timelines on every probed site
    assert browser.find_elements(By.CSS_SELECTOR, "svg.timeline")
    assert _errors(browser) == []


def test_unit_page_and_sheet_load_without_errors(world, browser):
    unit_pages = sorted((world.out / "units").glob("*.html"))
    assert unit_pages
    page = next(p for p in unit_pages if 'id="history"' in p.read_text(encoding="utf-8"))   # a unit with problems
    browser.get(page.as_uri())
    assert "检测与整改记录" in browser.title
    assert browser.find_elements(By.CSS_SELECTOR, "#history tr")
    assert _errors(browser) == []
    browser.find_element(By.PARTIAL_LINK_TEXT, "网页版").click()
    assert "整改问题单" in browser.title
    assert browser.find_element(By.XPATH, "//h2[contains(., '整改反馈')]")
    assert _errors(browser) == []
