# Thin wrappers: the work is in scripts/. Every target installs what it uses.
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.9
UV := $(PYTHON) -m uv

.PHONY: install run test fuzz rollback-drill lint bench bench-webhook bench-nlu bench-ical bench-panel services stop

.venv/.installed: pyproject.toml uv.lock
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "uv==$(UV_VERSION)"
	UV_PYTHON_DOWNLOADS=never $(UV) sync --frozen --python $(PYTHON)
	touch $@

install: .venv/.installed

## API and panel with demo data on http://127.0.0.1:8000
run: install
	scripts/run.sh

## The whole suite against real PostgreSQL and Redis (started here when absent, stopped after)
test: install
	@# The panel's browser tests use Playwright's sync API, which holds an event loop of its own:
	@# they run in their own pytest process, after the rest.
	scripts/with-services.sh .run/test -- sh -c '.venv/bin/pytest --ignore=tests/admin $(PYTEST_ARGS) && .venv/bin/pytest tests/admin $(PYTEST_ARGS)'

## Generated requests (schemathesis, fixed seed) against a real server: no 5xx, none slower than 1 s
fuzz: install
	scripts/with-services.sh .run/test -- .venv/bin/python scripts/fuzz.py $(FUZZ_ARGS)

lint: install
	.venv/bin/ruff check src tests bench scripts
	.venv/bin/ruff format --check src tests bench scripts
	.venv/bin/mypy src

## Deploys and rollbacks rehearsed under a steady load through nginx (>= 20 requests/s): canary, blue-green,
## switch back, full rollback; per-phase failures and `failed requests during zero-downtime phases: N of M`
rollback-drill: install
	.venv/bin/python scripts/rollback_drill.py

## Holds through the API for 15 s (32 connections): attempts/s, latency, statements per hold, RSS and
## CPU per server process, pgbench's rate for the same insert, overlaps (must be 0)
bench: install
	scripts/with-services.sh .run/test -- .venv/bin/python bench/holds.py $(BENCH_ARGS)

## WhatsApp webhook-to-reply latency at a steady inbound rate
bench-webhook: install
	scripts/with-services.sh .run/test -- .venv/bin/python bench/webhook.py $(BENCH_ARGS)

## Importing a 2,000-event iCal feed
bench-ical: install
	scripts/with-services.sh .run/test -- .venv/bin/python bench/ical.py $(BENCH_ARGS)

## The operator panel's pages over 20,000 reservations: p50/p95 per page, pages/s, memory
bench-panel: install
	scripts/with-services.sh .run/test -- .venv/bin/python bench/panel.py $(BENCH_ARGS)

## NLU accuracy on the labelled corpus, and messages/s
bench-nlu: install
	.venv/bin/python bench/nlu.py $(BENCH_ARGS)

## Development servers, left running (`make stop` stops them)
services:
	scripts/services.sh start .run/dev

stop:
	scripts/services.sh stop .run/dev
