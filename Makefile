# The two commands of the README: `make run` and `make test`. Everything else is a step of those.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export FLASK_APP := app.py
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test setup translations db demo lint worker clean

$(BIN)/activate: requirements.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $(BIN)/activate

setup: $(BIN)/activate translations

translations: $(BIN)/activate
	$(BIN)/pybabel compile -f -d translations -D messages

db: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask zsdx init

demo: db
	$(BIN)/flask zsdx seed-demo

## make run: set up (venv, packages, catalog, migrations, roles, demo data) and serve on 127.0.0.1:5000
run: demo
	$(BIN)/flask run --host $(HOST) --port $(PORT)

## make test: set up and run the whole suite (DATABASE_URL / REDIS_URL choose the backends)
test: setup
	$(BIN)/python -m pytest -n $${PYTEST_WORKERS:-2} $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check zsdx tests app.py config.py

worker: setup
	$(BIN)/rq worker -w zsdx.worker.ZsdxWorker --url $${REDIS_URL:?set REDIS_URL} $${RQ_QUEUE:-zsdx}

clean:
	rm -rf $(VENV) instance var test-artifacts
