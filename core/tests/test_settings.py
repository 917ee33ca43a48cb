"""Settings profiles: the embedded default and production's refusal to start half-configured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROD_ENV = {
    "DJANGO_SECRET_KEY": "x" * 64,
    "DJANGO_ALLOWED_HOSTS": "clinic.example.org",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/clinic",
}


def _run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with only ``env`` deciding the stack."""
    inherited = {*PROD_ENV, "REDIS_URL", "CELERY_BROKER_URL"}
    base = {k: v for k, v in os.environ.items() if k not in inherited}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("missing", sorted(PROD_ENV))
def test_production_refuses_to_start_without_required_variable(missing: str) -> None:
    env = {k: v for k, v in PROD_ENV.items() if k != missing}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    result = _run("import django; django.setup()", env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_production_settings_load_and_are_hardened() -> None:
    env = {**PROD_ENV, "DJANGO_SETTINGS_MODULE": "config.settings.production"}
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.CHAOS_ENABLED, s.SESSION_COOKIE_SECURE, s.ALLOWED_HOSTS, "
        "s.DATABASES['default']['ENGINE'])"
    )
    result = _run(code, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "False",
        "True",
        "['clinic.example.org']",
        "core.db.postgresql",
    ]


def test_local_settings_default_to_the_embedded_stack() -> None:
    env = {"DJANGO_SETTINGS_MODULE": "config.settings.local"}
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], "
        "s.CELERY_TASK_ALWAYS_EAGER, s.CHAOS_ENABLED, s.CLINIC_TIME_ZONE)"
    )
    result = _run(code, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "django.core.cache.backends.locmem.LocMemCache",
        "True",
        "True",
        "UTC",
    ]


def test_database_url_switches_to_postgres_with_native_pool() -> None:
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/clinic",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "d = s.DATABASES['default']; print(d['ENGINE'], 'pool' in d['OPTIONS'], "
        "s.CACHES['default']['BACKEND'], s.CELERY_TASK_ALWAYS_EAGER)"
    )
    result = _run(code, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "core.db.postgresql",
        "True",
        "django.core.cache.backends.redis.RedisCache",
        "False",
    ]


def _database_settings(extra: dict[str, str]) -> list[str]:
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/clinic",
        **extra,
    }
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: {**v, 'OPTIONS': v['OPTIONS']} for k, v in s.DATABASES.items()}, "
        "default=str)); print(json.dumps(s.DATABASE_ROUTERS))"
    )
    result = _run(code, env)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_without_a_replica_url_there_is_one_database() -> None:
    import json

    databases, routers = _database_settings({"DATABASE_REPLICA_URL": ""})
    assert list(json.loads(databases)) == ["default"]
    assert json.loads(routers) == ["core.db.router.PrimaryReplicaRouter"]


def test_a_replica_is_configured_like_the_primary_and_mirrors_it_in_tests() -> None:
    import json

    databases, _ = _database_settings(
        {"DATABASE_REPLICA_URL": "postgres://reader@replica.internal:5433/clinic"}
    )
    default, replica = json.loads(databases)["default"], json.loads(databases)["replica"]
    assert (replica["HOST"], replica["PORT"], replica["USER"]) == (
        "replica.internal",
        5433,
        "reader",
    )
    assert replica["ENGINE"] == default["ENGINE"] == "core.db.postgresql"
    assert replica["OPTIONS"] == default["OPTIONS"]  # pool, connect_timeout, trigram threshold
    assert "pool" in replica["OPTIONS"]
    assert replica["TEST"]["MIRROR"] == "default"
    assert replica["ATOMIC_REQUESTS"] is False


def test_pgbouncer_mode_turns_off_server_side_prepares_and_cursors() -> None:
    import json

    databases, _ = _database_settings(
        {
            "DATABASE_PGBOUNCER": "true",
            "DATABASE_REPLICA_URL": "postgres://reader@replica-bouncer.internal:6432/clinic",
        }
    )
    for alias in json.loads(databases).values():
        options = alias["OPTIONS"]
        assert options["prepare_threshold"] is None
        assert options["server_side_binding"] is False
        assert "options" not in options  # PgBouncer refuses the startup parameter
        assert alias["DISABLE_SERVER_SIDE_CURSORS"] is True
        assert "pool" in options


def test_direct_connections_keep_the_trigram_threshold() -> None:
    import json

    databases, _ = _database_settings({"DATABASE_PGBOUNCER": "false"})
    default = json.loads(databases)["default"]
    assert default["OPTIONS"]["options"] == "-c pg_trgm.word_similarity_threshold=0.3"
    assert "prepare_threshold" not in default["OPTIONS"]
    assert default.get("DISABLE_SERVER_SIDE_CURSORS") is not True
