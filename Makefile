# Centralita quick start. Needs only python3:
#   make run    builds .venv, migrates, loads the demo and starts the desk on http://127.0.0.1:8000/
#   make test   runs the whole suite (PostgreSQL/Redis tests too when they answer on localhost)
#   make messages  updates the translation catalogs from the source (docs/languages.md; needs GNU gettext)
# With DATABASE_URL and REDIS_URL set, `make run` uses PostgreSQL and Redis and starts Celery.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
# The simulator receives the demo API channel's replies here (as the outside system would).
REPLY_PORT ?= 8001
DEMO   ?= 1
# Extra pytest arguments, e.g. make test PYTEST_ARGS="tests/core -x"
PYTEST_ARGS ?=

# Stamps: pip runs again only when a requirements file is newer than its stamp.
REQ_STAMP := $(VENV)/.requirements.stamp
DEV_STAMP := $(VENV)/.requirements-dev.stamp

.PHONY: run test install install-dev migrate seed help messages

help:
	@echo "make run     start the desk with demo data and simulated traffic (http://$(HOST):$(PORT)/)"
	@echo "make test    run the test suite"
	@echo "make seed    load the demo data only (idempotent)"
	@echo "make messages  update locale/*/LC_MESSAGES from the source, compile them, list what to translate"

$(PY):
	@$(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV): on Debian/Ubuntu install python3-venv"; exit 1; }

$(REQ_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements-dev.txt requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@ $(REQ_STAMP)

install: $(REQ_STAMP)
install-dev: $(DEV_STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py demo_seed

# run_desk supervises uvicorn, the traffic simulator and (with REDIS_URL) a Celery
# worker and beat: when one stops, or on Ctrl-C, it stops them all.
run: migrate
ifeq ($(DEMO),1)
	$(PY) manage.py demo_seed --base-url http://$(HOST):$(PORT) --reply-url http://$(HOST):$(REPLY_PORT)/
	$(PY) manage.py run_desk --host $(HOST) --port $(PORT) --reply-port $(REPLY_PORT)
else
	$(PY) manage.py run_desk --host $(HOST) --port $(PORT) --no-simulator
endif

# The compiled catalogs (.mo) are committed, so `make run` needs no gettext; this is for whoever
# adds or changes a string: it lists what to translate and exits non-zero until nothing is left.
messages: install-dev
	$(PY) manage.py messages_update

# PostgreSQL and Redis are used when they answer on localhost (or the env already names
# them); otherwise the suite runs embedded and only the tests needing them are skipped.
test: install-dev
	@if [ -z "$${DATABASE_URL:-}" ] && $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; then \
		export DATABASE_URL=postgres://postgres@127.0.0.1:5432/centralita; fi; \
	if [ -z "$${REDIS_URL:-}" ] && $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 6379), 1)" 2>/dev/null; then \
		export REDIS_URL=redis://127.0.0.1:6379/0; fi; \
	echo "database: $${DATABASE_URL:-embedded SQLite} · redis: $${REDIS_URL:-none (embedded)}" | sed -E 's#//[^@/]*@#//***@#g'; \
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)
