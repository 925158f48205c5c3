"""Settings of the example project. The database file can be moved with MOLTRES_EXAMPLE_DB."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-change-me")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "moltres.integrations.django",  # the moltres_query command and {% load moltres_tags %}
    "people",
]
MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    "moltres.integrations.django.MoltresExceptionMiddleware",
]
ROOT_URLCONF = "exampleproject.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("MOLTRES_EXAMPLE_DB", str(BASE_DIR / "db.sqlite3")),
    }
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
MOLTRES_TEMPLATE_CACHE_TIMEOUT = 30
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
