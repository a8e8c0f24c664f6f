# Kairos — operator and developer entry points. `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Servers the integration tests use (`make test` skips those tests, saying why,
# when they are not reachable; CI requires them).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/kairos
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15

.DEFAULT_GOAL := help
.PHONY: help install run test unit integration lint format migrate chaos screenshots

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed ## Create .venv with every pinned dependency

run: install ## Set up and run web, worker and beat on the embedded default (SQLite, no servers)
	$(PY) manage.py runkairos

test: unit integration ## Set up and run all tests (integration ones need PostgreSQL and Redis)

unit: install ## Unit tests, on SQLite
	$(PY) -m pytest -m "not integration"

integration: install ## Integration tests: real PostgreSQL, Redis, Celery worker and beat
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
		$(PY) -m pytest -m integration -s

# The browser tests' screenshots the README shows, refreshed only on purpose.
README_SCREENSHOTS := composer-thread composer-preview post-published approval-queue dashboard calendar-month calendar-week analytics-account analytics-heatmap notifications workspace-members
screenshots: install ## Run the browser tests and copy the README's screenshots into docs/screenshots/
	KAIROS_REQUIRE_SERVICES=1 $(PY) -m pytest -m browser tests/browser
	mkdir -p docs/screenshots
	cp $(README_SCREENSHOTS:%=var/screenshots/%.png) docs/screenshots/

lint: install ## ruff, formatting and missing migrations
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

format: install ## Fix formatting and safe lint findings
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrate: install ## Apply database migrations (also creates the beat entries)
	$(PY) manage.py migrate

N ?= 10000
chaos: install ## Chaos run: N posts (default 10000) through crashes and faults; fails on a lost or doubled post
	$(PY) -m chaos --posts $(N)

.PHONY: bench bench-full
bench: install ## Benchmarks beside the naive baseline, quick (<= 5 min); SMOKE=1 for a < 1 min smoke run
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	$(PY) -m bench $(if $(SMOKE),--smoke,)

bench-full: install ## Benchmarks at full size (P1 at 100,000, 5 minutes idle; about 30 minutes)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	$(PY) -m bench --full
