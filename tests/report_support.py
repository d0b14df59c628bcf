"""Helpers of the report tests: headless Chromium (Debian's ``chromium`` and
``chromium-driver``, which ``make test`` installs) opening a report page, and reading back its
figures and the numbers of its tables."""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import matplotlib.image
import numpy as np
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

_TABLES_JS = """
const out = {};
for (const table of document.querySelectorAll('table[data-table]')) {
  const rows = [];
  for (const tr of table.querySelectorAll('tbody tr')) {
    const cells = {};
    for (const td of tr.querySelectorAll('td[data-col]')) {
      cells[td.dataset.col] = td.hasAttribute('data-value') ? td.dataset.value : td.textContent;
    }
    rows.push([tr.dataset.key, cells]);
  }
  out[table.dataset.table] = rows;
}
return out;
"""


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    assert not missing, f"{missing} missing: `make test` installs chromium and chromium-driver"
    os.environ["SE_OFFLINE"] = "true"  # selenium must not look for a driver on the network
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.add_argument("--window-size=1200,1400")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@dataclass(frozen=True)
class Shown:
    """A figure as the browser shows it."""

    name: str
    width: float
    height: float
    paths: int
    ink: float
    """Share of the figure's screenshot pixels that are not white."""


def open_page(driver: webdriver.Chrome, page: Path, shots: Path, name: str) -> None:
    """Loads ``page`` and saves a full-height screenshot as ``shots/NAME.png``."""
    driver.set_window_size(1200, 1400)
    driver.get(page.resolve().as_uri())
    height = int(driver.execute_script("return document.body.scrollHeight"))
    driver.set_window_size(1200, min(height + 120, 20_000))
    shots.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(shots / f"{name}.png"))


def figures(driver: webdriver.Chrome, shots: Path, prefix: str) -> dict[str, Shown]:
    """Every ``<figure data-figure>`` of the loaded page, each also saved as a screenshot
    (``shots/PREFIX-NAME.png``)."""
    out = {}
    for element in driver.find_elements(By.CSS_SELECTOR, "figure[data-figure]"):
        name = str(element.get_attribute("data-figure"))
        svg = element.find_element(By.TAG_NAME, "svg")
        rect = driver.execute_script("return arguments[0].getBoundingClientRect().toJSON()", svg)
        paths = int(
            driver.execute_script("return arguments[0].querySelectorAll('path').length", svg)
        )
        driver.execute_script("arguments[0].scrollIntoView()", element)
        png = element.screenshot_as_png
        (shots / f"{prefix}-{name}.png").write_bytes(png)
        pixels = np.asarray(matplotlib.image.imread(io.BytesIO(png), format="png"))[..., :3]
        ink = float((pixels.min(axis=2) < 0.9).mean())
        out[name] = Shown(name, float(rect["width"]), float(rect["height"]), paths, ink)
    return out


def tables(driver: webdriver.Chrome) -> dict[str, dict[str, dict[str, str]]]:
    """``{table: {row key: {column: data-value (or the text of a text cell)}}}``."""
    result = driver.execute_script(_TABLES_JS)
    assert isinstance(result, dict)
    # Rows come as [key, cells] pairs: the driver's JSON need not keep the order of object keys.
    return {name: dict(rows) for name, rows in result.items()}


def foreign_resources(driver: webdriver.Chrome) -> list[str]:
    """Resources the page loaded from anywhere but its own file and data URLs."""
    names = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    return [n for n in names if not n.startswith(("file:", "data:"))]


REPO = Path(__file__).resolve().parent.parent
CASTRO_SPEC = REPO / "scenarios" / "optimize" / "castro_equilibrium.yaml"
PARETO_SPEC = REPO / "scenarios" / "optimize" / "cost_delay_pareto.yaml"


def optimize(spec: Path, out: Path, *args: str) -> dict[str, object]:
    """``paysim optimize SPEC --output OUT ARGS`` in this process; ``result.json``'s object."""
    from tests.cli_support import invoke

    result = invoke("optimize", spec, "--output", out, "--format", "json", "--no-progress", *args)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def small_both_spec(tmp: Path) -> Path:
    """Castro's game in mode ``both`` on a 6 × 6 grid (fractions 0, 0.1, …, 0.5): a grid
    sampler runs the planner's study over the whole grid."""
    spec = tmp / "castro_both.yaml"
    scenario = REPO / "scenarios" / "castro_2period.yaml"
    search = "{search: {initial_liquidity_fraction: {min: 0.0, max: 0.5, step: 0.1}}}"
    spec.write_text(
        f"scenario: {scenario}\nmode: both\n"
        f"agents: {{BANK_A: {search}, BANK_B: {search}}}\n"
        "evaluation: {seeds: 1}\nsampler: grid\n"
        "best_response: {tolerance: 0.0, max_rounds: 10}\noutput: unused\n"
    )
    return spec
