"""The plugin manager through the real ``paysim`` command: ``paysim plugins``, the environment
switches, the ``plugins`` key of run summaries, and plugins that fail, from a distribution
installed with pip for these tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from paysim.simulation import RUN_METADATA_KEYS
from tests.cli_support import DEMO

PAYSIM = Path(sys.executable).with_name("paysim")
SHIPPED = {
    ("networks", "paysim-networks"),
    ("research", "paysim-research-policies"),
    ("tabular", "paysim-tabular"),
}


def paysim(
    *args: object,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    site: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("PAYSIM_")}
    if site is not None:
        full["PYTHONPATH"] = str(site)
    full.update(env or {})
    return subprocess.run(
        [str(PAYSIM), *map(str, args)],
        capture_output=True,
        text=True,
        env=full,
        cwd=cwd,
        check=False,
    )


def listed(run: subprocess.CompletedProcess[str]) -> set[tuple[str, str]]:
    assert run.returncode == 0, run.stderr
    return {(e["name"], e["distribution"]) for e in json.loads(run.stdout)}


def test_plugins_lists_the_three_distributions_and_none_when_autoload_is_off() -> None:
    assert listed(paysim("plugins", "--format", "json")) == SHIPPED
    off = {"PAYSIM_DISABLE_PLUGIN_AUTOLOAD": "1"}
    assert listed(paysim("plugins", "--format", "json", env=off)) == set()
    builtins = json.loads(paysim("plugins", "--all", "--format", "json", env=off).stdout)
    assert [(e["name"], e["builtin"]) for e in builtins] == [
        ("paysim.policy.sources", True),
        ("paysim.sinks.builtin", True),
        ("paysim.objectives", True),
    ]
    assert builtins[1]["registers"] == {"paysim_register_sinks": ["console", "jsonl"]}
    text = paysim("plugins")
    assert "tabular  paysim-tabular 0.1.0  (entry point tabular = paysim_tabular)" in text.stdout
    assert "  paysim_register_sinks: parquet" in text.stdout
    sinks = paysim("plugins", "--hook", "paysim_register_sinks", "--format", "json")
    assert listed(sinks) == {("tabular", "paysim-tabular")}
    bad = paysim("plugins", "--hook", "paysim_register_sink")
    assert bad.returncode == 2 and "did you mean `paysim_register_sinks`?" in bad.stderr


@pytest.mark.parametrize(
    ("allow", "expected"),
    [
        ("paysim-tabular", {("tabular", "paysim-tabular")}),
        (
            "networks, research",
            {("networks", "paysim-networks"), ("research", "paysim-research-policies")},
        ),
        ("PAYSIM_TABULAR", {("tabular", "paysim-tabular")}),
        ("", set()),
    ],
)
def test_load_plugins_is_an_allow_list(allow: str, expected: set[tuple[str, str]]) -> None:
    assert listed(paysim("plugins", "--format", "json", env={"PAYSIM_LOAD_PLUGINS": allow})) == (
        expected
    )


def test_an_allow_list_name_that_matches_nothing_is_a_warning() -> None:
    run = paysim("plugins", env={"PAYSIM_LOAD_PLUGINS": "tabular,paysim-nope"})
    assert run.returncode == 0
    assert "warning: PAYSIM_LOAD_PLUGINS names `paysim-nope`" in run.stderr


def test_run_summaries_record_the_loaded_plugins_as_metadata() -> None:
    run = paysim("run", DEMO, "--format", "json")
    assert run.returncode == 0, run.stderr
    with_plugins = json.loads(run.stdout)
    assert with_plugins["plugins"] == [
        {"name": name, "distribution": dist, "version": "0.1.0"} for name, dist in sorted(SHIPPED)
    ]
    bare = json.loads(
        paysim("run", DEMO, "--format", "json", env={"PAYSIM_LOAD_PLUGINS": ""}).stdout
    )
    assert bare["plugins"] == []
    assert "plugins" in RUN_METADATA_KEYS

    def strip(s: dict[str, object]) -> dict[str, object]:
        return {k: v for k, v in s.items() if k not in RUN_METADATA_KEYS}

    assert strip(with_plugins) == strip(bare)


BROKEN = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=77"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "paysim-test-broken"
        version = "9.9.9"

        [project.entry-points.paysim]
        broken_import = "paysim_test_broken.does_not_exist"
        typo_hook = "paysim_test_broken.typo_hook"
        generators = "paysim_test_broken.generators"
        commands = "paysim_test_broken.commands"

        [tool.setuptools]
        packages = ["paysim_test_broken"]
    """,
    "paysim_test_broken/__init__.py": "",
    "paysim_test_broken/typo_hook.py": """
        from paysim.hookspecs import hookimpl

        @hookimpl
        def paysim_register_sink(register):
            pass
    """,
    "paysim_test_broken/generators.py": """
        from paysim.hookspecs import hookimpl

        class Raises:
            name = "raises"

            def generate(self, scenario, agent_id, options, seed):
                yield [{"tick": 1, "sender": agent_id, "receiver": "B", "amount": 5,
                        "deadline_tick": 3}]
                raise RuntimeError("the feed went away")

        class BadRecord:
            name = "bad_record"

            def generate(self, scenario, agent_id, options, seed):
                good = {"tick": 1, "sender": agent_id, "receiver": "B", "amount": 5,
                        "deadline_tick": 3}
                yield [good]
                yield {"tick": [1, 2, 3], "sender": [agent_id] * 3, "receiver": ["B"] * 3,
                       "amount": [5, options["amount"], 7], "deadline_tick": [3, 4, 5]}

        @hookimpl
        def paysim_register_arrival_generators(register):
            register(Raises())
            register(BadRecord())
    """,
    "paysim_test_broken/commands.py": """
        from paysim.hookspecs import hookimpl

        @hookimpl
        def paysim_register_commands(app):
            @app.command("broken-hello")
            def hello():
                print("hello from a plugin")
    """,
}


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("broken")
    for name, text in BROKEN.items():
        path = root / "dist" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
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
            str(root / "dist"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert pip.returncode == 0, pip.stderr
    return site


def test_a_plugin_that_cannot_be_imported_stops_runs_but_not_help_or_listing(
    broken_site: Path,
) -> None:
    only = {"PAYSIM_LOAD_PLUGINS": "broken_import"}
    run = paysim("run", DEMO, env=only, site=broken_site)
    assert run.returncode == 1
    assert run.stderr.startswith(
        "error: plugin `broken_import` (paysim-test-broken 9.9.9, entry point `broken_import = "
        "paysim_test_broken.does_not_exist`): failed to load: ModuleNotFoundError: "
    )
    assert "Traceback" not in run.stderr
    debug = paysim("--debug", "run", DEMO, env=only, site=broken_site)
    assert "Traceback" in debug.stderr
    assert paysim("--help", env=only, site=broken_site).returncode == 0
    listing = paysim("plugins", "--format", "json", env=only, site=broken_site)
    assert listing.returncode == 1
    (entry,) = json.loads(listing.stdout)
    assert entry["name"] == "broken_import" and "ModuleNotFoundError" in entry["error"]


def test_a_plugin_implementing_an_unknown_hook_is_refused_with_a_suggestion(
    broken_site: Path,
) -> None:
    run = paysim("run", DEMO, env={"PAYSIM_LOAD_PLUGINS": "typo_hook"}, site=broken_site)
    assert run.returncode == 1
    assert "implements `paysim_register_sink`, which is not a paysim hook" in run.stderr
    assert "(did you mean `paysim_register_sinks`?)" in run.stderr


def test_plugin_commands_join_the_paysim_app(broken_site: Path) -> None:
    env = {"PAYSIM_LOAD_PLUGINS": "commands"}
    run = paysim("broken-hello", env=env, site=broken_site)
    assert run.returncode == 0 and run.stdout == "hello from a plugin\n"
    assert "broken-hello" in paysim("--help", env=env, site=broken_site).stdout


def generator_scenario(tmp: Path, name: str) -> Path:
    path = tmp / "gen.yaml"
    path.write_text(
        "simulation: {ticks_per_day: 10, num_days: 1, rng_seed: 3}\n"
        "agents:\n"
        f"  - {{id: A, opening_balance: 100, arrival_config: {{generator: {{name: {name}, "
        "options: {amount: 0}}}}\n"
        "  - {id: B, opening_balance: 0}\n"
    )
    return path


def test_a_generator_that_raises_is_a_runtime_failure_naming_the_plugin(
    broken_site: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ev.parquet"
    run = paysim(
        "run",
        generator_scenario(tmp_path, "raises"),
        "--sink",
        f"parquet:path={out}",
        env={"PAYSIM_LOAD_PLUGINS": "generators,tabular"},
        site=broken_site,
        cwd=tmp_path,
    )
    assert run.returncode == 1
    assert run.stderr == (
        "error: plugin `generators` (paysim-test-broken 9.9.9, entry point `generators = "
        "paysim_test_broken.generators`), hook `paysim_register_arrival_generators`: generator "
        "`raises` for agent `A` raised RuntimeError: the feed went away after 1 batch(es)\n"
    )
    assert list(tmp_path.iterdir()) == [tmp_path / "gen.yaml"]


def test_a_generator_record_with_a_bad_field_names_the_plugin_batch_record_and_field(
    broken_site: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ev.parquet"
    run = paysim(
        "run",
        generator_scenario(tmp_path, "bad_record").name,
        "--sink",
        f"parquet:path={out}",
        env={"PAYSIM_LOAD_PLUGINS": "generators,tabular"},
        site=broken_site,
        cwd=tmp_path,
    )
    assert run.returncode == 2
    assert run.stderr == (
        "error: gen.yaml at /agents/0/arrival_config/generator: plugin `generators` "
        "(paysim-test-broken 9.9.9, entry point `generators = paysim_test_broken.generators`), "
        "hook `paysim_register_arrival_generators`: generator `bad_record` for agent `A` yielded "
        "a bad record (batch 1, record 1, field `amount`: expected 1..10^15 cents, found 0)\n"
    )
    assert list(tmp_path.iterdir()) == [tmp_path / "gen.yaml"]
