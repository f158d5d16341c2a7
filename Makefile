# Two commands: `make run` and `make test`. Everything else is a step they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Find a Python >= 3.12: the pyenv version named in .python-version first, then the usual names.
PYTHON ?= $(shell \
	want=$$(cat .python-version 2>/dev/null); \
	for c in $$(ls -d $(HOME)/.pyenv/versions/$$want*/bin/python3 2>/dev/null | sort -V -r) \
	         $$(command -v pyenv >/dev/null && pyenv which python3 2>/dev/null) \
	         python3.13 python3.12 python3; do \
		if command -v "$$c" >/dev/null 2>&1 && "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
			command -v "$$c"; break; \
		fi; \
	done)

.PHONY: help run test lint lock bench check-python migrate demo clean

# A local run uses the development defaults (SQLite, embedded broker, console mail).
run demo migrate: export DEBUG ?= true
# `PORT=8001 make run` serves on another port; links in emails follow it.
PORT ?= 8000
run demo: export PORT := $(PORT)
run demo: export SITE_URL ?= http://127.0.0.1:$(PORT)

help:
	@echo "make run   - install, migrate, load demo data, start web + worker + beat (Ctrl-C stops all);"
	@echo "             PORT=8001 make run serves on another port"
	@echo "make test  - install what is missing and run the whole test suite"
	@echo "make lint  - ruff check and ruff format --check"
	@echo "make lock  - regenerate requirements*.txt (pinned, hashed) after editing pyproject.toml's dependencies"

check-python:
	@if [ -z "$(PYTHON)" ]; then \
		echo "No Python 3.12 or newer found. Install Python 3.13 (e.g. 'pyenv install 3.13') and run make again."; \
		exit 1; \
	fi

# The lock files are the install: every package pinned and checked against its hash (pip
# itself included, so it is upgraded from the lock too). Editing a lock reinstalls.
$(STAMP): requirements.txt requirements-dev.txt | check-python
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	@touch $(STAMP)

# pyproject.toml lists the direct dependencies (runtime, and the dev group); the .txt files
# are generated from it. Versions already in a lock are kept unless pyproject.toml asks
# otherwise (UPGRADE=--upgrade moves every indirect one to its newest release).
UV_COMPILE = $(VENV)/bin/uv pip compile pyproject.toml --quiet --generate-hashes --universal \
	--python-version 3.12 --custom-compile-command "make lock" $(UPGRADE)
lock: $(STAMP)
	$(UV_COMPILE) -o requirements.txt
	$(UV_COMPILE) --group dev -c requirements.txt -o requirements-dev.txt

migrate: $(STAMP)
	$(VPY) manage.py migrate --noinput

demo: migrate
	$(VPY) manage.py seed_demo

run: demo
	@mkdir -p var
	@echo "Starting web on $(SITE_URL) (PORT=$(PORT)), the Celery worker and beat. Ctrl-C stops all."
	$(VENV)/bin/honcho -f Procfile start

test: $(STAMP)
	$(VPY) -m pytest $(if $(filter true,$(CI)),--create-db -p no:cacheprovider,--reuse-db) $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Benchmarks (issue 8) against the production setup: gunicorn, PostgreSQL and Redis on
# 127.0.0.1, DEBUG off. Prints one table; copy it to BENCHMARKS.md. SOAK_MINUTES=2 for a
# shorter soak (the figure of record is 10).
SOAK_MINUTES ?= 10
bench: $(STAMP)
	$(VPY) -m bench.run_all --soak-minutes $(SOAK_MINUTES)

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache
