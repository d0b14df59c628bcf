"""The live page in headless Chromium (Debian's ``chromium`` and ``chromium-driver``, which
``make test`` installs): it loads, runs the demo scenario and ends on the run summary, whose
numbers are the library's. Both the page and ``/docs`` load nothing from outside the server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

import paysim
from tests.api_support import LiveServer, live_server, make_app
from tests.cli_support import DEMO

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    assert not missing, f"{missing} missing: `make test` installs chromium and chromium-driver"
    # Selenium must not look for a browser or driver on the network.
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1100,1300",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with live_server(make_app()) as live:
        yield live


def _foreign_resources(driver: webdriver.Chrome, origin: str) -> list[str]:
    names = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    return [n for n in names if not n.startswith(origin) and not n.startswith("data:")]


def test_page_runs_the_demo_and_shows_the_summary(
    browser: webdriver.Chrome, server: LiveServer, tmp_path: Path
) -> None:
    browser.get(server.url + "/")
    wait = WebDriverWait(browser, 30)
    wait.until(lambda d: d.find_element(By.ID, "run").is_enabled())
    assert browser.find_element(By.ID, "example").get_attribute("value") == "demo"
    assert "BANK_A" in str(browser.find_element(By.ID, "yaml").get_attribute("value"))
    browser.execute_script(
        "const d = document.getElementById('delay'); d.value = '10';"
        " d.dispatchEvent(new Event('input'));"
    )
    browser.find_element(By.ID, "run").click()
    # Live updates arrive before the end: the progress bar moves through the run.
    wait.until(
        lambda d: 0 < float(str(d.find_element(By.ID, "progress").get_attribute("value"))) < 100
    )
    browser.save_screenshot(str(tmp_path / "page-running.png"))
    WebDriverWait(browser, 60).until(
        lambda d: d.find_element(By.ID, "summary").get_attribute("data-state") == "done"
    )
    shot = tmp_path / "page-done.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000

    sim = paysim.Simulation(DEMO)
    sim.run()
    expected = sim.summary()
    totals = expected["totals"]
    assert isinstance(totals, dict)
    for key in ("arrivals", "settled", "unsettled", "settled_value", "total_cost"):
        cell = browser.find_element(By.CSS_SELECTOR, f'#summary-totals dd[data-key="{key}"]')
        assert int(str(cell.get_attribute("data-value"))) == totals[key], key
    assert browser.find_element(By.CSS_SELECTOR, 'dd[data-key="settled"]').text == "143 (94.7%)"
    rows = browser.find_elements(By.CSS_SELECTOR, "#summary-agents tbody tr")
    assert [r.get_attribute("data-agent") for r in rows] == ["BANK_A", "BANK_B", "BANK_C"]
    bank_b = rows[1].find_elements(By.TAG_NAME, "td")
    agents = expected["agents"]
    assert isinstance(agents, dict)
    b = agents["BANK_B"]

    def money(cents: int) -> str:  # the page shows currency units with separators
        return f"{cents / 100:,.2f}"

    assert [c.text for c in bank_b] == [
        "BANK_B",
        money(b["opening_balance"]),
        money(b["final_balance"]),
        money(b["min_balance"]),
        str(b["sent"]),
        str(b["settled_sent"]),
        str(b["received"]),
        money(b["costs"]["total"]),
    ]
    assert bank_b[1].text == "3,000.00"  # the thousands separator, as in `paysim run`
    status = browser.find_element(By.ID, "status").text
    assert status == "done: 100 ticks, 143 of 151 payments settled"
    assert browser.find_element(By.ID, "error").get_attribute("hidden") is not None
    assert _foreign_resources(browser, server.url) == []


def test_docs_render_offline(browser: webdriver.Chrome, server: LiveServer) -> None:
    browser.get(server.url + "/docs")
    WebDriverWait(browser, 30).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) >= 15
    )
    assert _foreign_resources(browser, server.url) == []
