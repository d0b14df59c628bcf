# One task runner for people and CI. `make demo` and `make test` set everything up themselves on
# a fresh machine (virtualenv, Python packages, release build of the extension) and are cheap to
# re-run: each setup step is a stamp file that only re-runs when its inputs change.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEPS_STAMP := $(VENV)/.deps-stamp
EXT_STAMP := $(VENV)/.ext-stamp
# The plugin distributions under plugins/, installed into the venv like any third-party plugin.
PLUGIN_DISTS := plugins/paysim-tabular plugins/paysim-networks plugins/paysim-research-policies
PLUGINS_STAMP := $(VENV)/.plugins-stamp
PLUGIN_INPUTS := $(shell find $(PLUGIN_DISTS) -type f \( -name '*.py' -o -name '*.json' -o -name '*.toml' -o -name '*.md' -o -name py.typed \) -not -path '*/build/*' -not -path '*.egg-info*' 2>/dev/null)
RUST_INPUTS := Cargo.toml $(wildcard Cargo.lock) $(shell find core bindings -name '*.rs' -o -name Cargo.toml 2>/dev/null)

# pyo3 (cargo test/clippy of the bindings) must see the venv's interpreter, and the Rust test
# binary that embeds Python must find libpython at run time.
export PYO3_PYTHON := $(abspath $(PY))
PY_LIBDIR = $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR") or "")')
CARGO_TEST_ENV = LD_LIBRARY_PATH="$(PY_LIBDIR):$${LD_LIBRARY_PATH:-}"

.PHONY: help setup build plugins demo test fuzz test-rust test-python postgres-bins lint lint-rust lint-python bench schemas clean

help:
	@echo "make demo     run the demo scenario (sets everything up first)"
	@echo "make test     every check CI runs: rustfmt, clippy, cargo test, ruff, mypy, stubtest, pytest"
	@echo "make lint     formatting, linting and type checks only"
	@echo "make fuzz     the policy parser/validator fuzz properties at full strength (minutes)"
	@echo "make bench    benchmarks (release build), printing throughput figures"
	@echo "make schemas  regenerate the JSON Schemas in schemas/"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(DEPS_STAMP): pyproject.toml constraints.txt scripts/requirements.py | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt \
		maturin $$($(PY) scripts/requirements.py)
	touch $@

$(EXT_STAMP): $(DEPS_STAMP) $(RUST_INPUTS) pyproject.toml
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop --release --quiet
	touch $@

setup build: $(EXT_STAMP)

# Real installs (not editable), so the tests see exactly what a user's pip install gives;
# --no-deps because paysim itself is the editable install above. Each build fetches its
# backend (setuptools) from PyPI into pip's isolated build environment.
$(PLUGINS_STAMP): $(EXT_STAMP) $(PLUGIN_INPUTS)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --force-reinstall \
		$(PLUGIN_DISTS)
	touch $@

plugins: $(PLUGINS_STAMP)

demo: $(EXT_STAMP)
	$(VENV)/bin/paysim run scenarios/demo.yaml

test: lint test-rust test-python

test-rust: $(DEPS_STAMP)
	$(CARGO_TEST_ENV) cargo test --release --workspace

# The policy fuzz properties with all their cases (make test runs a tenth, with fresh seeds).
fuzz: $(DEPS_STAMP)
	PAYSIM_FUZZ_FULL=1 $(CARGO_TEST_ENV) cargo test --release -p paysim-core --lib policy::tests::fuzz

# The browser test drives Debian's headless Chromium; the two binaries are their own stamps, so
# apt-get runs only on a machine that lacks them (CI runs as root on a fresh machine).
BROWSER_BINS := /usr/bin/chromium /usr/bin/chromedriver
$(BROWSER_BINS):
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver

# The distributed tests start their own PostgreSQL server from Debian's packages and put it and
# the workers in network namespaces (iproute2); apt-get runs only on a machine that lacks them.
postgres-bins:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null \
		|| ! command -v ip >/dev/null; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql iproute2; \
	fi

# Two pytest-xdist workers (the machine's two cores): about half the wall time of one. Tests of
# the shared PostgreSQL server and network namespaces run in one worker (tests/conftest.py).
PYTEST_WORKERS ?= 2
test-python: $(EXT_STAMP) $(PLUGINS_STAMP) $(BROWSER_BINS) postgres-bins
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

lint: lint-rust lint-python

lint-rust: $(DEPS_STAMP)
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

lint-python: $(EXT_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m mypy.stubtest paysim._core

bench: $(EXT_STAMP) postgres-bins
	cargo run --release --quiet -p paysim-benches --bin engine_bench
	cargo run --release --quiet -p paysim-benches --bin lsm_bench
	$(PY) benches/python_bench.py
	$(PY) benches/startup_bench.py
	$(PY) benches/loading_bench.py
	$(PY) benches/plugin_bench.py
	$(PY) benches/store_bench.py
	$(PY) benches/optimize_bench.py
	$(PY) benches/report_bench.py
	$(PY) benches/distributed_bench.py

schemas: $(EXT_STAMP)
	$(PY) -m paysim.schemas schemas

clean:
	rm -rf $(VENV) target
