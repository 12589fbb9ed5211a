# The README's first two commands: `make demo` and `make test`. Both set up everything
# they need on a fresh machine (a virtualenv from the lock file; Chromium from apt for tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
APT_GET := $(if $(filter 0,$(shell id -u)),apt-get,sudo apt-get)

.PHONY: install demo test lint check pytest pytest-sqlite pytest-postgres chromium bench clean \
	prod-up prod-down prod-status prod-clean system-test soak screenshots audit

$(STAMP):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

# The one opt-in for demo conveniences (test payments, load_demo and its accounts); production
# settings and `check --deploy` refuse them without it.
demo: export MASTHEAD_DEMO := true
demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	@echo "Serving the demo on http://127.0.0.1:$(PORT)/ (admin: http://127.0.0.1:$(PORT)/admin/)"
	@echo "E-mails are queued and printed here by the mail worker (manage.py db_worker)."
	@# The worker beside the server, and scheduled stories published every minute (the
	@# timer's job in deploy/systemd); both stopped with it (Ctrl-C, or the server exiting).
	$(BIN)/python manage.py db_worker --backend mail --queue-name default,search --no-reload & worker=$$!; \
	while sleep 60; do $(BIN)/python manage.py publish_scheduled; done & publisher=$$!; \
	trap 'kill $$worker $$publisher 2>/dev/null; wait $$worker $$publisher 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver --insecure 127.0.0.1:$(PORT)

chromium:
	@test -x /usr/bin/chromium || { $(APT_GET) update -qq && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq chromium; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: install
	DJANGO_SETTINGS_MODULE=masthead.settings.test $(BIN)/python manage.py check --fail-level WARNING
	DJANGO_SETTINGS_MODULE=masthead.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

# Each pass runs on two workers (pytest-xdist, one test database per worker). PostgreSQL is
# production's database: every test runs on it, browser and schemathesis tests included.
# SQLite is the demo's: its pass runs only the tests marked `sqlite`, those whose code path
# differs there (SQL that Django or Wagtail writes per engine, such as the database meter
# store's upserts, full-text search and date functions; races, which meet row locks on
# PostgreSQL and the write lock on SQLite; per-engine branches such as /readyz's; load_demo
# and `make demo`'s server). Mark such a test with `pytest.mark.sqlite` (a module's
# `pytestmark`, or the test); the rest, unit tests included, would only repeat on SQLite what
# the PostgreSQL pass proves. Without a PostgreSQL to run that pass (outside CI), the SQLite
# pass runs the whole suite but the browser and schemathesis tests, as before.
XDIST ?= -n 2

pytest-sqlite: install
	@if $(BIN)/python tests/services.py postgres || [ "$$CI" = "true" ]; then \
		marks="sqlite"; \
	else \
		echo "No PostgreSQL on :5432, so the SQLite pass runs all but browser and schemathesis tests"; \
		marks="not browser and not schemathesis"; \
	fi; \
	echo "DATABASE_URL= $(BIN)/pytest $(XDIST) -m \"$$marks\""; \
	DATABASE_URL= $(BIN)/pytest $(XDIST) -m "$$marks"

pytest-postgres: install chromium
	@if $(BIN)/python tests/services.py postgres; then \
		DATABASE_URL=$(PG_URL) $(BIN)/pytest $(XDIST); \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL is required in CI but nothing answers on 127.0.0.1:5432"; exit 1; \
	else \
		echo "SKIPPED: the PostgreSQL run (no PostgreSQL on 127.0.0.1:5432)"; \
	fi

pytest: pytest-sqlite pytest-postgres

# Chromium's apt install (a download, mostly waiting) runs beside the virtualenv's; then the
# checks; then the system tests beside the SQLite pass (they run on their own ports, database
# and Redis, tests/system; together about 4:05 on a fresh clone here, one after the other
# 4:41), each target's output shown whole when it ends; last the PostgreSQL pass, which keeps
# both cores busy on its own.
test:
	$(MAKE) --no-print-directory --output-sync=target -j2 install chromium
	$(MAKE) --no-print-directory lint check
	$(MAKE) --no-print-directory --output-sync=target -j2 pytest-sqlite system-test
	$(MAKE) --no-print-directory pytest-postgres

bench: install
	bench/hotpath

# Review aids on a running demo (`make demo` in another shell), outside `make test`: full-page
# screenshots into var/screenshots/, and Lighthouse 12 and axe scores (docs/review.md).
BASE ?= http://127.0.0.1:$(PORT)

screenshots: install chromium
	$(BIN)/python tools/screenshots.py $(BASE)

audit: install chromium
	$(BIN)/python tools/audit.py $(BASE)

# The production topology on this machine (nginx :8080, granian :8001 and :8002, its own
# PostgreSQL :5433 and Redis :6380), state under var/prod/. See docs/production.md.
prod-up: install
	deploy/prod.sh up

prod-down:
	deploy/prod.sh down

prod-status:
	deploy/prod.sh status

prod-clean:
	deploy/prod.sh clean

# Failover and request-limit tests through nginx; brings the topology up if it is down and
# leaves it as it found it.
system-test: export MASTHEAD_DEMO := true
system-test: install
	MASTHEAD_SYSTEM_TESTS=1 $(BIN)/pytest tests/system

# The long load test (5 minutes; the system tests run it for one), outside CI.
soak: install
	MASTHEAD_SYSTEM_TESTS=1 MASTHEAD_LOAD_SECONDS=300 $(BIN)/pytest tests/system/test_load.py

clean:
	@if [ -d var/prod ]; then deploy/prod.sh down; fi
	rm -rf $(VENV) var test-results
