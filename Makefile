# The two commands that matter: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REQS := requirements/base.txt requirements/production.txt requirements/local.txt
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test faults lint schema format migrate seed clean help

help:
	@echo "make run     - install, migrate, seed the demo clinic, serve on http://$(HOST):$(PORT)"
	@echo "make test    - run the whole test suite (SQLite, or DATABASE_URL's database)"
	@echo "make faults  - the fault suite (starts its own PostgreSQL, Redis, gunicorn, worker, nginx)"
	@echo "make lint    - ruff check, ruff format --check, mypy"
	@echo "make schema  - write schema.yaml and validate the OpenAPI schema"

$(STAMP): $(REQS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/local.txt
	@touch $(STAMP)

migrate: $(STAMP)
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	@echo ""
	@echo "  Clinic API      http://$(HOST):$(PORT)/api/v1/"
	@echo "  API docs        http://$(HOST):$(PORT)/api/docs/   (ReDoc: /api/redoc/)"
	@echo "  Admin console   http://$(HOST):$(PORT)/admin/"
	@echo "  Demo users      admin / admin-demo-pass   provider / provider-demo-pass   viewer / viewer-demo-pass"
	@echo "  Get a token     curl -s -X POST http://$(HOST):$(PORT)/api/v1/auth/token/ -H 'Content-Type: application/json' -d '{\"username\":\"provider\",\"password\":\"provider-demo-pass\"}'"
	@echo ""
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

faults: $(STAMP)
	$(BIN)/python -m pytest faults $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: $(STAMP)
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py spectacular --validate --fail-on-warn --file schema.yaml
	@echo "schema.yaml written and valid"

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
