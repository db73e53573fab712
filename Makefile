# Two commands do all the set-up: `make demo` and `make test`.
# Both build a virtual environment in .venv from a bare Python 3.11+ with pip.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DIR ?= demo-election
# `make demo` serves the published bundle at the end (Ctrl-C stops); SERVE=0 does not.
SERVE ?= $(if $(CI),0,1)
PORT ?= 8000

.PHONY: install demo tamper-drill test lint bench bench-verify clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV) || { $(PYTHON) -m pip install --user virtualenv && $(PYTHON) -m virtualenv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/canvass demo $(DEMO_DIR) --replace
	$(BIN)/canvass log verify $(DEMO_DIR)
	$(BIN)/canvass verify $(DEMO_DIR)/public --trust-store $(DEMO_DIR)/trusted-checkpoints.json
ifneq ($(SERVE),0)
	$(BIN)/canvass serve $(DEMO_DIR)/public --port $(PORT)
endif

tamper-drill: $(STAMP)
	$(BIN)/canvass demo $(DEMO_DIR) --replace --tamper

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_log.py --entries 1000000
	$(BIN)/python benchmarks/bench_rcv.py --ballots 1000000
	$(BIN)/python benchmarks/bench_sampler.py --ballots 5000000

bench-verify: $(STAMP)  # about eight minutes: builds, publishes and verifies a 5,000,000-card state
	$(BIN)/python benchmarks/bench_verify.py --ballots-per-precinct 2000 --work $(DEMO_DIR)-bench-verify

clean:
	rm -rf $(VENV) $(DEMO_DIR) $(DEMO_DIR)-bench-verify .pytest_cache .mypy_cache .ruff_cache
