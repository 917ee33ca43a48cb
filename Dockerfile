# syntax=docker/dockerfile:1.7
#
# Clinic backend image. Targets:
#   production (default, last stage): gunicorn + Celery roles, production settings
#   dev:        production plus requirements/local.txt (pytest, ruff, mypy, ...), used by
#               docker-compose.override.yml so that `docker compose run --rm api pytest` works
#
# Build:  docker build -t clinic-backend .            (production)
#         docker build --target dev -t clinic-backend:dev .

ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

# ---------------------------------------------------------------------------------------
# builder: compilers and headers, turns every requirement into a wheel. Never shipped.
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
# Debian package versions are not pinned: the base image tag fixes the release, and
# pinning exact .deb versions breaks the build at every Debian security update.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY requirements/ requirements/
RUN pip wheel --wheel-dir /wheels/production -r requirements/production.txt

# builder-dev: the same for the development and test tools.
FROM builder AS builder-dev
RUN pip wheel --wheel-dir /wheels/dev -r requirements/local.txt

# ---------------------------------------------------------------------------------------
# runtime: what every final image shares. No compiler; OCR for clinical notes.
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    HOME=/tmp \
    PORT=8000 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    DJANGO_MEDIA_ROOT=/var/lib/clinic/media \
    AUDIT_SPOOL_DIR=/var/lib/clinic/audit-spool
# See the builder stage for why Debian versions are not pinned.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-eng \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /tmp --shell /usr/sbin/nologin app \
    && python -m venv "$VIRTUAL_ENV" \
    && install -d -o app -g app -m 0750 /var/lib/clinic/media /var/lib/clinic/audit-spool
WORKDIR /app

# ---------------------------------------------------------------------------------------
# dev: production dependencies plus the test and lint tools. Source is bind-mounted by
# the compose override; the copy below makes the image usable on its own too.
FROM runtime AS dev
RUN --mount=type=bind,from=builder-dev,source=/wheels/dev,target=/wheels \
    --mount=type=bind,source=requirements,target=/tmp/requirements \
    pip install --no-index --find-links /wheels -r /tmp/requirements/local.txt
COPY . .
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["api"]

# ---------------------------------------------------------------------------------------
# production: the default target.
FROM runtime AS production
RUN --mount=type=bind,from=builder,source=/wheels/production,target=/wheels \
    --mount=type=bind,source=requirements,target=/tmp/requirements \
    pip install --no-index --find-links /wheels -r /tmp/requirements/production.txt
# Source stays owned by root: the app user can read it but not change it.
COPY . .
# Static files are collected into the image and served by WhiteNoise. Production
# settings refuse to load without a secret, hosts and a database URL; the values below
# exist only for this one command and are not part of the image's environment.
RUN DJANGO_SECRET_KEY=collectstatic-build-only-not-a-secret \
    DJANGO_ALLOWED_HOSTS=localhost \
    DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 \
    python manage.py collectstatic --noinput --verbosity 0 \
    && rm -f /tmp/collectstatic.sqlite3
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/app/docker/healthcheck.py"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["api"]
