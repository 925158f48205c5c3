"""Django settings for the web suite: SQLite always, PostgreSQL when the local server answers.

The ``pg`` alias points at the server on 127.0.0.1 (user postgres, trust auth); pytest-django
creates a private test database on it. When the server cannot be reached the alias is left
out and the PostgreSQL tests skip, unless ``MOLTRES_REQUIRE_SERVERS=1`` (then they fail).
"""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).parent
PG_HOST = os.environ.get("MOLTRES_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("MOLTRES_PG_PORT", "5432"))
PG_USER = os.environ.get("MOLTRES_PG_USER", "postgres")


def postgres_reachable() -> str | None:
    """Return None when the PostgreSQL server answers, else the reason it does not."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"PostgreSQL at {PG_HOST}:{PG_PORT} is unreachable: {exc}"
    return None


PG_UNAVAILABLE = postgres_reachable()
REQUIRE_SERVERS = os.environ.get("MOLTRES_REQUIRE_SERVERS") == "1"

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost"]
USE_TZ = True
ROOT_URLCONF = "tests.integrations.django.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "moltres.integrations.django",
    "tests.integrations.django.testapp",
]
MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    "moltres.integrations.django.MoltresExceptionMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [HERE / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": []},
    }
]
DATABASES: dict[str, dict[str, object]] = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
    # A second SQLite database, so that routing can be seen to pick the other one.
    "replica": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
}
if PG_UNAVAILABLE is None or REQUIRE_SERVERS:
    DATABASES["pg"] = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "postgres",
        "USER": PG_USER,
        "HOST": PG_HOST,
        "PORT": PG_PORT,
        # A private test database per run: several suites share this server.
        "TEST": {"NAME": f"test_moltres_web_{os.getpid()}"},
    }
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "moltres-tests"}}
LOGGING_CONFIG = None
