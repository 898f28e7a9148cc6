# The README's two commands: `make demo` and `make test`. Everything else is a helper of those.
SHELL := /bin/bash
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PASSWORD ?= demo
# What makemessages skips; tests/foundation/test_language.py extracts with the same list.
MESSAGES_IGNORE := --ignore '.venv/*' --ignore 'staticfiles/*' --ignore 'tests/*' --ignore 'bench/*' --ignore 'var/*'

.PHONY: demo test lint typecheck check sysdeps sysdeps-test messages bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

sysdeps:
	@scripts/ensure-sysdeps gdal

sysdeps-test:
	@scripts/ensure-sysdeps gdal chromium gettext

demo: $(STAMP) sysdeps
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py load_demo_city --password '$(DEMO_PASSWORD)'
	@echo
	@echo "  Patrol app:   http://$(HOST):$(PORT)/app/          (phone; log in as auxiliary or officer)"
	@echo "  Command map:  http://$(HOST):$(PORT)/command/      (dispatcher, commander; F2 takes a call)"
	@echo "  Statistics:   http://$(HOST):$(PORT)/command/stats/"
	@echo "  Admin:        http://$(HOST):$(PORT)/admin/"
	@echo "  API docs:     http://$(HOST):$(PORT)/api/docs/"
	@echo "  Logins: commander, dispatcher, hr, station, officer, auxiliary, telephony — password '$(DEMO_PASSWORD)'"
	@echo "  Ctrl-C stops the server and its timers."
	@echo
	DEBUG=1 exec $(BIN)/daphne -b $(HOST) -p $(PORT) cad_project.asgi:application

test: $(STAMP) sysdeps-test
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP) sysdeps
	$(BIN)/mypy apps cad_project frontend

check: lint typecheck test

messages: $(STAMP)
	DEBUG=1 $(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete $(MESSAGES_IGNORE)
	DEBUG=1 $(BIN)/python manage.py makemessages -d djangojs -l zh_Hans --no-obsolete $(MESSAGES_IGNORE)
	DEBUG=1 $(BIN)/python manage.py compilemessages -l zh_Hans --ignore '.venv/*'

bench: $(STAMP) sysdeps
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles var/*.sqlite3*
