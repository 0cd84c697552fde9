# Academy: `make run` and `make test` are the whole set-up on a fresh Debian machine (as root).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
PORT   ?= 5000
HOST   ?= 127.0.0.1
# Catalogues: one per feature package (academy/<feature>/translations), plus the shared one.
CATALOGUES := academy/translations $(wildcard academy/*/translations)

# Debian packages: Python with venv, WeasyPrint's Pango; for tests, Chromium and PostgreSQL;
# wrk drives `make bench`. poppler's pdftoppm draws a certificate as an image (the shared
# link's preview), at run time and in the tests.
APT_RUN  := python3 python3-venv python3-dev libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 shared-mime-info poppler-utils
APT_TEST := chromium postgresql wrk

define apt_ensure
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "run as root (or install:$$missing)"; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

.PHONY: help run serve test test-clocks deps test-deps lint format translations compile-translations migrate demo bench clean

help:
	@echo "make run    install everything, migrate, load the demo and serve on $(HOST):$(PORT)"
	@echo "make test   install what the tests need and run ruff and every test"
	@echo "make test-clocks   the suite at awkward clock moments (new year, leap day, month end)"

deps: $(VENV)/.deps compile-translations

$(VENV)/.deps: requirements.txt
	$(call apt_ensure,$(APT_RUN))
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

test-deps: $(VENV)/.test-deps

$(VENV)/.test-deps: $(VENV)/.deps requirements-dev.txt
	$(call apt_ensure,$(APT_TEST))
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

compile-translations: $(VENV)/.deps
	@for dir in $(CATALOGUES); do \
	  if ls $$dir/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
	    $(VENV)/bin/pybabel compile -f -d $$dir || exit 1; \
	  fi; \
	done

# Developers: refresh the Thai .po files from the code after adding or changing strings.
translations: $(VENV)/.deps
	$(PY) -m academy.core.catalogues
	@echo "Now fill in the empty msgstr entries in the .po files (Thai)."

migrate: deps
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) academy seed-demo

run: demo
	@echo "Serving Academy on http://$(HOST):$(PORT)/ (Ctrl+C stops it)"
	$(PY) -m academy.serve --host $(HOST) --port $(PORT)

lint: test-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: test-deps
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# All tests on SQLite (with the browser tests), then every database test again on a throwaway
# PostgreSQL cluster that tests/with_postgres.sh creates and removes.
test: test-deps compile-translations lint
	$(PY) -m pytest -q -n 2 --dist loadgroup
	tests/with_postgres.sh $(PY) -m pytest -q -n 2 --dist loadgroup -m "not browser"

# The suite again as if the machine's clock said each of these moments (ticking on from there;
# tests/conftest.py reads ACADEMY_TEST_CLOCK): 00:30 on 1 January in Bangkok (still 31 December
# in UTC), 23:30 on 31 December, leap day, 1 March after it, the last evening of a 30-day month.
# Narrow it with CLOCK_ARGS, e.g. make test-clocks CLOCK_ARGS='-m "not browser and not slow"'.
TEST_CLOCKS := 2027-01-01T00:30+07:00 2026-12-31T23:30+07:00 2028-02-29T12:00+07:00 \
               2028-03-01T00:30+07:00 2027-04-30T22:30+07:00
CLOCK_ARGS  ?=
test-clocks: test-deps compile-translations
	@for clock in $(TEST_CLOCKS); do \
	  echo "== the suite at $$clock"; \
	  ACADEMY_TEST_CLOCK=$$clock $(PY) -m pytest -q -n 2 --dist loadgroup $(CLOCK_ARGS) || exit 1; \
	done

bench: test-deps compile-translations
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
