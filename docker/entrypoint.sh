#!/bin/sh
# Container entrypoint: one image, several roles.
#
#   api        (default) bootstrap (lock, migrate, optional demo seed), then gunicorn
#   serve      gunicorn only, on the application given (default config.wsgi:application)
#   worker     Celery worker
#   beat       Celery beat (run exactly one)
#   bootstrap  only the bootstrap step (the Kubernetes migration Job, a one-off upgrade)
#   runserver  bootstrap, then Django's auto-reloading development server (compose override)
#   pytest     the test suite with config.settings.test, whatever DJANGO_SETTINGS_MODULE says
#   anything else is executed as given, e.g. `pytest` or `python manage.py shell`
#
# PYTHON picks the interpreter (default: `python` on PATH, which in the image is the
# virtualenv's). Outside the image, VIRTUAL_ENV=/path/to/.venv puts that venv first.
set -eu

if [ -n "${VIRTUAL_ENV:-}" ]; then
    PATH="${VIRTUAL_ENV}/bin:${PATH}"
    export PATH
fi
PYTHON="${PYTHON:-python}"

# Run from the project root whichever directory we were started in.
cd "$(dirname "$0")/.."

# With DATABASE_URL on PgBouncer in transaction mode, what needs a database session of
# its own talks to PostgreSQL directly, through DATABASE_DIRECT_URL: the bootstrap
# (migrations under a session-level advisory lock), Celery workers (an import job holds a
# session-level advisory lock while it runs) and the test suite. Without it, DATABASE_URL
# as given.
use_direct_database() {
    if [ -n "${DATABASE_DIRECT_URL:-}" ]; then
        DATABASE_URL="$DATABASE_DIRECT_URL"
        DATABASE_PGBOUNCER=false
        export DATABASE_URL DATABASE_PGBOUNCER
    fi
}

bootstrap() (
    use_direct_database
    if [ "${SEED_DEMO_DATA:-false}" = "true" ]; then
        "$PYTHON" manage.py bootstrap --seed-demo
    else
        "$PYTHON" manage.py bootstrap
    fi
)

# Multi-process Prometheus metrics: each process writes its samples here; the directory
# must start empty, or counters from an earlier run would be added to this one.
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    rm -rf "${PROMETHEUS_MULTIPROC_DIR}"
    mkdir -p "${PROMETHEUS_MULTIPROC_DIR}"
fi

# The API server: gunicorn on the WSGI application given as $1 (default the project's).
# One command line for the container and for bench/run.py, so that the benchmark
# measures what is deployed.
serve() {
    # /tmp is the only writable path on a read-only root filesystem (an emptyDir on
    # Kubernetes), hence the heartbeat directory; the control socket is not used.
    # No --access-logfile on purpose: gunicorn's access log prints the full request
    # line, query string included, and query strings can carry patient names
    # (?search=...). The application writes its own access log without them
    # (core.middleware), with the request id.
    # --limit-request-line 8190 (gunicorn's largest bounded value, default 4094):
    # long filter and cursor query strings reach the API and get its JSON errors;
    # only a request line past 8 KiB is refused by gunicorn itself (414).
    # gthread workers: a request waiting on a dependency holds one thread, at most
    # DB_CONNECT_TIMEOUT_SECONDS when PostgreSQL is down, and /health needs only one
    # free thread, so it keeps answering. A worker takes no more connections than it
    # has threads (--worker-connections): one whose threads are all waiting leaves new
    # requests to a worker with a free thread instead of queueing them behind its
    # own (gthread would otherwise accept up to 1000). Slow clients never reach
    # gunicorn: nginx (the proxy service / sidecar) buffers each request until it is
    # complete.
    # Keep GUNICORN_THREADS <= DB_POOL_MAX_SIZE (one pooled connection per thread).
    # GUNICORN_BIND (default 0.0.0.0:$PORT) lets the fault suite bind to loopback.
    exec "$PYTHON" -m gunicorn "${1:-config.wsgi:application}" \
        --bind "${GUNICORN_BIND:-0.0.0.0:${PORT:-8000}}" \
        --limit-request-line 8190 \
        --worker-class gthread \
        --workers "${GUNICORN_WORKERS:-3}" \
        --threads "${GUNICORN_THREADS:-4}" \
        --worker-connections "${GUNICORN_THREADS:-4}" \
        --timeout "${GUNICORN_TIMEOUT:-60}" \
        --graceful-timeout 30 \
        --worker-tmp-dir /tmp \
        --no-control-socket
}

role="${1:-api}"
case "$role" in
    api)
        bootstrap
        serve
        ;;
    serve)
        # The api role without its bootstrap (migrations applied by a Job or an earlier
        # start); `serve bench.reference_server:app` runs the benchmark's reference server.
        shift
        serve "$@"
        ;;
    worker)
        use_direct_database
        exec "$PYTHON" -m celery -A config.celery_app worker \
            --loglevel=INFO \
            --concurrency="${CELERY_WORKER_CONCURRENCY:-2}"
        ;;
    beat)
        # The schedule file must be writable: /tmp is (an emptyDir on Kubernetes). Beat
        # rebuilds it from the code's schedule on start, so losing it is harmless.
        exec "$PYTHON" -m celery -A config.celery_app beat \
            --loglevel=INFO \
            --schedule /tmp/celerybeat-schedule
        ;;
    bootstrap)
        bootstrap
        ;;
    runserver)
        bootstrap
        exec "$PYTHON" manage.py runserver "0.0.0.0:${PORT:-8000}"
        ;;
    pytest)
        # pytest-django lets the environment override pyproject.toml's settings module,
        # and the containers set one; the suite must run with the test settings.
        # The suite creates and drops its database and takes advisory locks: PostgreSQL
        # itself, not PgBouncer.
        shift
        use_direct_database
        DJANGO_SETTINGS_MODULE=config.settings.test
        export DJANGO_SETTINGS_MODULE
        exec "$PYTHON" -m pytest "$@"
        ;;
    *)
        exec "$@"
        ;;
esac
