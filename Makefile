# Rost: two commands do all the set-up.
#   make run    virtualenv, dependencies, translations, migrations, demo data on first start, serve
#   make test   the same set-up, then every test (browser tests included)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
DEMO   ?= 1
HTMX_VERSION := 4.0.1
HTMX_SRI     := sha384-Qp9rdC8H7EqOoX+nR0P3RPG2Noji+qdwJlGpfzwQJsfOpp3sGwIdSP9xO3+UlEhn
HTMX_FILE    := static/vendor/htmx.min.js
# How the app is served on a 2-core school server (the benchmark serves it the same way):
# one process per core, each with four threads to overlap the waits on the database.
GUNICORN_ARGS ?= --workers 2 --worker-class gthread --threads 4 --no-control-socket

export FLASK_APP := wsgi.py

.PHONY: run test bench venv translations messages migrate htmx clean lint

$(BIN)/activate: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(BIN)/activate

venv: $(BIN)/activate

translations: venv
	$(BIN)/pybabel -q compile -d webapp/translations

# After changing UI strings: refresh the catalogues, then translate the new msgids in ru.
messages: venv
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --ignore-dirs ".*" --no-location --sort-output -o webapp/translations/messages.pot .
	$(BIN)/pybabel update -i webapp/translations/messages.pot -d webapp/translations --no-fuzzy-matching --ignore-obsolete

$(HTMX_FILE):
	@mkdir -p static/vendor
	@tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent htmx.org@$(HTMX_VERSION) >/dev/null \
	  && tar xzf htmx.org-$(HTMX_VERSION).tgz package/dist/htmx.min.js \
	  && got="sha384-$$(openssl dgst -sha384 -binary package/dist/htmx.min.js | openssl base64 -A)" \
	  && if [ "$$got" != "$(HTMX_SRI)" ]; then echo "htmx $(HTMX_VERSION): hash mismatch ($$got)"; exit 1; fi \
	  && cp package/dist/htmx.min.js $(CURDIR)/$(HTMX_FILE) && rm -rf $$tmp
	@echo "htmx $(HTMX_VERSION) fetched into $(HTMX_FILE), hash checked"

htmx: $(HTMX_FILE)

migrate: venv translations
	$(BIN)/flask db upgrade

# The app logs one JSON line per request on stderr (rost.request): no gunicorn access log beside it.
run: migrate
	@if [ "$(DEMO)" = "1" ]; then $(BIN)/flask seed-demo --if-empty; fi
	@echo "Rost: http://$(HOST):$(PORT)/"
	$(BIN)/gunicorn $(GUNICORN_ARGS) --bind $(HOST):$(PORT) wsgi:app

test: venv translations htmx
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Chromium is needed for the browser tests: sudo apt-get install -y chromium"; exit 1; fi
	HTMX_SOURCE=local $(BIN)/pytest

# The benchmark (docs/performance.md): seeds bench/data/ (or the database DATABASE_URL names),
# serves the app with GUNICORN_ARGS, drives it with wrk, writes bench/results/.
SIZES ?= small large
BENCH_ROUNDS ?= 3
BENCH_SECONDS ?= 5
bench: venv translations htmx
	@if ! command -v wrk >/dev/null 2>&1; then echo "wrk is needed for the benchmark: sudo apt-get install -y wrk"; exit 1; fi
	SIZES="$(SIZES)" BENCH_ROUNDS="$(BENCH_ROUNDS)" BENCH_SECONDS="$(BENCH_SECONDS)" GUNICORN_ARGS="$(GUNICORN_ARGS)" HTMX_SOURCE=local $(BIN)/python -m bench.run

lint: venv
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) static/vendor .pytest_cache
