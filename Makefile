# Pingan: `make demo` serves the demo city; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.synced
VENDOR := src/pingan/web/vendor
WEB := $(VENDOR)/.copied
# pip-audit's vulnerability source: pypi (PyPI's JSON API) or osv (api.osv.dev)
AUDIT_SERVICE ?= pypi

.PHONY: demo test bench soak lint audit lock serve clean web

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

demo: $(STAMP) $(WEB)  ## seed the demo city of Jiaxing into var/pingan.db and serve http://127.0.0.1:8000
	$(BIN)/pingan demo

serve: $(STAMP) $(WEB)
	$(BIN)/pingan serve

test: $(STAMP) $(WEB)  ## the whole suite: unit, integration (SQLite + PostgreSQL), end to end
	$(BIN)/pytest

bench: $(STAMP) $(WEB)  ## print throughput and latency figures (never pass/fail on time)
	$(BIN)/python -m bench

soak: $(STAMP) $(WEB)  ## long reliability runs: 20x invariant examples, crash battery (CRASH_KILLS, default 300 per database), load soak (SOAK_MINUTES, default 30, SOAK_SCALE) on PostgreSQL
	PINGAN_SOAK=1 $(BIN)/pytest tests/reliability -q --deselect tests/reliability/test_crash_durability.py
	CRASH_KILLS=$${CRASH_KILLS:-300} $(BIN)/python -m tests.reliability.crash_battery run sqlite postgres
	$(BIN)/python -m bench.soak

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/bandit --quiet --recursive src --severity-level medium

audit: $(STAMP)  ## the locked Python packages and the browser libraries against public vulnerability data (needs the internet: pypi.org, npm's audit API); not part of `make test`
	$(BIN)/pip-audit -r requirements.lock --strict --desc --no-deps --disable-pip --vulnerability-service $(AUDIT_SERVICE)
	npm audit --package-lock-only --audit-level=high

web: $(WEB)  ## vendor Leaflet, Supercluster and ECharts from npm into the web apps (no CDN)

$(WEB): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p $(VENDOR)/images
	cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css $(VENDOR)/
	cp node_modules/leaflet/dist/images/*.png $(VENDOR)/images/
	cp node_modules/supercluster/dist/supercluster.min.js $(VENDOR)/
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/
	touch $(WEB)

lock:  ## re-resolve pinned dependencies after editing pyproject.toml
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev -o requirements.lock

clean:
	rm -rf $(VENV) $(VENDOR) node_modules var .pytest_cache .mypy_cache .ruff_cache
