# Every target installs what it needs: a clean clone has no .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TEST_ENV = $(shell $(BIN)/python scripts/test_services.py)

.PHONY: install run test lint format migrate check-migrations bench resilience browser-deps clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/python scripts/run_demo.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Development targets: DJANGO_DEBUG=1 unless set (with it off every manage.py command runs
# the production guard, which refuses the demo defaults; production migrates via the image).
migrate: install
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py migrate --noinput

check-migrations: install
	DJANGO_DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

# Browser tests drive Debian's Chromium (never a downloaded browser build).
browser-deps:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	  || echo "WARNING: could not install chromium; browser tests will say so"; }

# The token-state guarantees (SPEC 9) and the merchant API's are proven on both databases: the
# whole suite on PostgreSQL + Redis, then these again on the embedded default (SQLite, files).
EMBEDDED_ENV = DATABASE_URL=sqlite:///$(CURDIR)/var/test-embedded.sqlite3 REDIS_URL= CELERY_BROKER_URL= \
	CACHE_DIR=$(CURDIR)/var/test-embedded-cache \
	ALLOW_SQLITE_IN_PRODUCTION=1
EMBEDDED_TESTS = tests/resilience/test_token_state_machine.py tests/authorizers/test_integrity.py \
	tests/authorizers/test_onboarding_claims.py tests/resilience/test_sqlite_single_flight.py \
	tests/api tests/tags tests/webhooks tests/token_center

test: install lint check-migrations browser-deps
	@$(BIN)/python scripts/test_services.py > /dev/null
	env $(TEST_ENV) $(BIN)/pytest
	mkdir -p var
	env $(TEST_ENV) $(EMBEDDED_ENV) $(BIN)/pytest $(EMBEDDED_TESTS)

# Every tests/bench/bench_*.py in full, each rewriting its section of tests/bench/RESULTS.md.
# Iterating on one part, e.g. the tag lookup's single-lookup matrix (prints, writes nothing):
#   env $(.venv/bin/python scripts/test_services.py) .venv/bin/python -m tests.bench.bench_tags \
#     --only single --db postgres --clients 16 --requests 1000
bench: install
	@$(BIN)/python scripts/test_services.py > /dev/null
	env $(TEST_ENV) $(BIN)/python -m tests.bench

# The long versions of tests/resilience (faults under load, crashes, fuzz), then their figures
# as a table; the short versions run in `make test`. Fails if the tests failed, table or not.
resilience: install
	@$(BIN)/python scripts/test_services.py > /dev/null
	rm -rf var/resilience
	env $(TEST_ENV) $(BIN)/pytest -m slow --run-slow --resilience-report var/resilience \
	  tests/resilience; status=$$?; \
	env $(TEST_ENV) $(EMBEDDED_ENV) $(BIN)/pytest -m slow --run-slow \
	  --resilience-report var/resilience tests/resilience/test_token_state_machine.py \
	  || status=1; \
	  $(BIN)/python scripts/resilience_report.py var/resilience; exit $$status

clean:
	rm -rf $(VENV) var
