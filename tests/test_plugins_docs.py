"""The minimal plugin of docs/plugins.md, installed with pip exactly as written there and run
through the real ``paysim`` command; and the meta-test: every hook is documented and tested."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from paysim.plugin_listing import hook_names
from tests import test_plugins_hooks

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs" / "plugins.md"
PAYSIM = Path(sys.executable).with_name("paysim")


def documented_files() -> dict[str, str]:
    """``path → content`` of every code block preceded by ``<!-- file: PATH -->``."""
    text = DOCS.read_text(encoding="utf-8")
    blocks = re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", text, flags=re.DOTALL)
    return dict(blocks)


def test_every_hook_has_a_section_in_the_docs_and_a_test() -> None:
    text = DOCS.read_text(encoding="utf-8")
    hooks = hook_names()
    assert len(hooks) == 5
    for hook in hooks:
        assert re.search(rf"^### `{hook}\((register|app)\)`$", text, flags=re.MULTILINE), hook
        test = getattr(test_plugins_hooks, f"test_hook_{hook}", None)
        assert callable(test), f"tests/test_plugins_hooks.py has no test_hook_{hook}"


@pytest.fixture(scope="module")
def hello_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The documented plugin, built and installed by pip into a directory of its own."""
    root = tmp_path_factory.mktemp("hello")
    for name, content in documented_files().items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    site = root / "site"
    pip = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(site),
            str(root / "paysim-hello"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert pip.returncode == 0, pip.stderr
    return site


def run(site: Path, *args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site), "PAYSIM_LOAD_PLUGINS": "paysim-hello"}
    return subprocess.run(
        [str(PAYSIM), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
    )


def test_the_documented_minimal_plugin_installs_and_runs(hello_site: Path, tmp_path: Path) -> None:
    assert set(documented_files()) == {
        "paysim-hello/pyproject.toml",
        "paysim-hello/paysim_hello.py",
    }
    listing = run(hello_site, "plugins", "--format", "json", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    (entry,) = json.loads(listing.stdout)
    assert (entry["name"], entry["distribution"], entry["version"]) == (
        "hello",
        "paysim-hello",
        "0.1.0",
    )
    assert entry["registers"] == {
        "paysim_register_arrival_generators": ["every_few_ticks"],
        "paysim_register_objectives": ["queued_at_end"],
    }
    scenario = tmp_path / "hello.yaml"
    scenario.write_text(
        "simulation: {ticks_per_day: 20, num_days: 2, rng_seed: 1}\n"
        "agents:\n"
        "  - id: BANK_A\n"
        "    opening_balance: 1000000\n"
        "    arrival_config:\n"
        "      generator: {name: every_few_ticks, options: {every: 5, receiver: BANK_B}}\n"
        "  - {id: BANK_B, opening_balance: 0}\n"
    )
    result = run(hello_site, "run", scenario, "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    # Ticks 0, 5, 10, 15 of each of two days, 10,000 cents each.
    assert summary["totals"]["arrivals"] == 8
    assert summary["agents"]["BANK_B"]["final_balance"] == 80_000
    assert summary["plugins"] == [
        {"name": "hello", "distribution": "paysim-hello", "version": "0.1.0"}
    ]
