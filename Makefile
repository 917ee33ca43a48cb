# The two commands that matter: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REQS := requirements/base.txt requirements/production.txt requirements/local.txt
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help run test faults pgstack browser-test lint format schema migrate seed clean \
	security audit check-migrations check-deploy schemathesis bench bench-smoke

help:
	@echo "make run              - install, migrate, seed the demo clinic, serve on http://$(HOST):$(PORT)"
	@echo "make test             - run the whole test suite (SQLite, or DATABASE_URL's database)"
	@echo "make faults           - the fault suite: its own PostgreSQL, Redis, gunicorn, worker, nginx (CI)"
	@echo "make pgstack          - read replica and PgBouncer tests: its own primary, standby, pgbouncer (CI)"
	@echo "make browser-test     - Playwright tests of the console in Debian's chromium (skipped without it)"
	@echo "make lint             - ruff check, ruff format --check, mypy"
	@echo "make format           - ruff check --fix, ruff format"
	@echo "make schema           - write schema.yaml and validate the OpenAPI schema"
	@echo "make migrate          - apply migrations to the configured database"
	@echo "make seed             - migrate, then load the demo clinic (idempotent)"
	@echo "make security         - bandit security lint (CI)"
	@echo "make audit            - pip-audit of the production requirements (CI)"
	@echo "make check-migrations - fail if a model change has no migration (CI)"
	@echo "make check-deploy     - Django's deploy checks under production settings (CI; DATABASE_URL)"
	@echo "make schemathesis     - schemathesis against a live server (CI; see .ci/schemathesis)"
	@echo "make bench            - API benchmark against the reference server (PostgreSQL, wrk; bench/)"
	@echo "make bench-smoke      - the benchmark on a tiny dataset, a few seconds (CI)"
	@echo "make clean            - remove .venv and tool caches"
	@echo "make help             - this list"

$(STAMP): $(REQS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/python -m pip install --quiet -r requirements/local.txt
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

# Starts its own servers on free ports (faults/); never the machine's PostgreSQL or Redis.
faults: $(STAMP)
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL $(BIN)/python -m pytest faults $(PYTEST_ARGS)

# Starts its own primary, streaming standby and PgBouncer on free ports (pgstack/).
pgstack: $(STAMP)
	env -u DATABASE_URL -u DATABASE_REPLICA_URL -u DATABASE_PGBOUNCER $(BIN)/python -m pytest pgstack $(PYTEST_ARGS)

# Outside `make test` (they are slow and need chromium); CI runs them as their own step.
browser-test: $(STAMP)
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/python -m pytest browser_tests $(PYTEST_ARGS)

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

# The CI steps (.ci/run and .github/workflows/ci.yml both call these).
security: $(STAMP)
	$(BIN)/bandit -q -r . -x './.venv,*/tests/*,./bench,./faults,./.ci-artifacts' --skip B101 -ll

audit: $(STAMP)
	.ci/pip-audit

check-migrations: $(STAMP)
	env -u DATABASE_URL $(BIN)/python manage.py makemigrations --check --dry-run

check-deploy: $(STAMP)
	DJANGO_SETTINGS_MODULE=config.settings.production \
	  DJANGO_SECRET_KEY="ci-only-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
	  DJANGO_ALLOWED_HOSTS=clinic.example.org \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING

schemathesis: $(STAMP)
	.ci/schemathesis

bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-smoke: $(STAMP)
	$(BIN)/python bench/run.py --profile smoke --duration 2 --passes 1 --rebuild

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
