# Two commands do all the set-up: `make demo` and `make test`.
# Both build a virtual environment in .venv from a bare Python 3.11+ with pip, holding
# exactly the packages of requirements.txt (every version pinned, every file hashed).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LOCK := requirements.txt
# The resolver `make lock` uses; it runs in its own environment, never in .venv.
UV_VERSION := 0.13.8
LOCK_TOOL := .lock-tool
DEMO_DIR ?= demo-election
# `make demo DATABASE=postgresql://host/db` keeps the demo's log in PostgreSQL (in a schema
# named after DEMO_DIR, or DEMO_SCHEMA); by default, or with CANVASS_DATABASE unset, SQLite.
DATABASE ?= $(CANVASS_DATABASE)
DEMO_SCHEMA ?=
# `make demo` serves the published bundle at the end (Ctrl-C stops); SERVE=0 does not.
SERVE ?= $(if $(CI),0,1)
PORT ?= 8000
# The officials' application beside the public results (plain HTTP on this machine only,
# so its cookies drop the Secure flag here).
APP_PORT ?= 8001

.PHONY: install lock demo tamper-drill test lint fuzz bench bench-verify bench-peers clean

# axe-core for the accessibility tests, installed exactly as tests/a11y/package-lock.json
# pins it (integrity hashes checked by npm ci); without npm those tests skip, saying why.
AXE := tests/a11y/node_modules/axe-core/axe.min.js

# A new environment each time the lock changes, so nothing outside the lock lingers.
$(STAMP): $(LOCK) pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV) || { $(PYTHON) -m pip install --user virtualenv && $(PYTHON) -m virtualenv $(VENV); }
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# Resolve pyproject.toml's ranges (every extra) into the lock, keeping the pins that still
# satisfy them; `make lock UPGRADE=1` takes the newest releases. Then run `make test`.
# The same pins are written as pylock.toml, the standard lock format (PEP 751), for the
# tools that read it; pip installs from requirements.txt.
lock:
	test -x $(LOCK_TOOL)/bin/uv || { $(PYTHON) -m venv $(LOCK_TOOL) && $(LOCK_TOOL)/bin/python -m pip install --quiet uv==$(UV_VERSION); }
	$(LOCK_TOOL)/bin/uv pip compile pyproject.toml --all-extras --generate-hashes --universal \
		--python-version 3.11 --custom-compile-command "make lock" --quiet \
		$(if $(UPGRADE),--upgrade) -o $(LOCK)
	$(LOCK_TOOL)/bin/uv pip compile $(LOCK) --generate-hashes --universal --python-version 3.11 \
		--custom-compile-command "make lock" --quiet -o pylock.toml

demo: $(STAMP)
	$(BIN)/canvass demo $(DEMO_DIR) --replace $(if $(DATABASE),--database $(DATABASE)) \
		$(if $(DEMO_SCHEMA),--schema $(DEMO_SCHEMA))
	$(BIN)/canvass log verify $(DEMO_DIR)
	$(BIN)/canvass verify $(DEMO_DIR)/public --trust-store $(DEMO_DIR)/trusted-checkpoints.json
	$(BIN)/python -m canvass.demo.officials $(DEMO_DIR)
ifneq ($(SERVE),0)
	@echo "Officials' application: http://127.0.0.1:$(APP_PORT)/  Public results: http://127.0.0.1:$(PORT)/"
	CANVASS_ELECTION=$(DEMO_DIR) CANVASS_INSECURE_COOKIES=1 $(BIN)/uvicorn --factory \
		canvass.web.app:from_environment --host 127.0.0.1 --port $(APP_PORT) --log-level warning & \
		app=$$!; trap 'kill $$app' EXIT INT TERM; \
		$(BIN)/canvass serve $(DEMO_DIR)/public --port $(PORT)
endif

tamper-drill: $(STAMP)
	$(BIN)/canvass demo $(DEMO_DIR) --replace --tamper

$(AXE): tests/a11y/package.json tests/a11y/package-lock.json
	cd tests/a11y && npm ci --ignore-scripts --no-audit --no-fund --silent
	touch $(AXE)

test: $(STAMP) $(if $(shell command -v npm),$(AXE))
	$(BIN)/python -m pytest

# `make fuzz` mutates real samples against every reader, loader and the verifier for
# FUZZ_SECONDS each (docs/reliability.md); crashes are shrunk and written to fuzz-crashes/.
FUZZ_SECONDS ?= 60
fuzz: $(STAMP)
	$(BIN)/python -m fuzz --seconds $(FUZZ_SECONDS) $(if $(TARGET),--target $(TARGET)) --out fuzz-figures.json

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

# Canvass and its peers on the same inputs, side by side; the peers are installed from PyPI
# into their own environment, never into the project's. Writes its table into
# docs/benchmarks.md. About fifteen minutes.
PEERS_VENV := .venv-peers
$(PEERS_VENV)/.installed-stamp: benchmarks/peers/requirements.txt
	$(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install --quiet -r benchmarks/peers/requirements.txt
	touch $@

bench-peers: $(STAMP) $(PEERS_VENV)/.installed-stamp
	$(BIN)/python benchmarks/bench_peers.py --peers-python $(PEERS_VENV)/bin/python --work $(DEMO_DIR)-bench-peers --write-docs

clean:
	rm -rf $(VENV) $(LOCK_TOOL) $(PEERS_VENV) $(DEMO_DIR) $(DEMO_DIR)-bench-verify $(DEMO_DIR)-bench-peers .pytest_cache .mypy_cache .ruff_cache fuzz-crashes fuzz-figures.json
	rm -rf tests/a11y/node_modules
