"""Django settings for dynassign, read from the environment.

Zero configuration runs on an SQLite file under ``./var``; set
``DATABASE_URL`` (for example ``postgres://user@127.0.0.1:5432/dynassign``)
to use PostgreSQL.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("DYNASSIGN_DATA_DIR", Path.cwd() / "var"))

DEBUG = os.environ.get("DYNASSIGN_DEBUG", "") == "1"
SECRET_KEY = os.environ.get("DYNASSIGN_SECRET_KEY", "dev-only-not-secret-change-me")
ALLOWED_HOSTS = os.environ.get("DYNASSIGN_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "js_lib_htmx",
    # Listed so /api/docs serves Swagger UI from the package's static files
    # instead of a CDN.
    "ninja",
    "dynassign",
    "dynassign.organizations",
    "dynassign.campaigns",
    "dynassign.assignment",
    "dynassign.messaging",
    "dynassign.api",
    "dynassign.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves STATIC_ROOT (filled by collectstatic) from gunicorn.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "dynassign.urls"
WSGI_APPLICATION = "dynassign.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database() -> dict:
    url = os.environ.get("DATABASE_URL")
    if url:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        return config
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return {
        # Django's SQLite backend with writers queued on a file lock before
        # BEGIN, so a waiting writer wakes when the lock frees.
        "ENGINE": "dynassign.sqlite_backend",
        "NAME": os.environ.get("DYNASSIGN_SQLITE_PATH", str(DATA_DIR / "dynassign.sqlite3")),
        "OPTIONS": {
            # Writers queue on BEGIN IMMEDIATE instead of failing on a
            # read-to-write upgrade; WAL lets readers go on meanwhile.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        "TEST": {"NAME": os.environ.get("DYNASSIGN_SQLITE_TEST_PATH", str(DATA_DIR / "test.sqlite3"))},
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]
if os.environ.get("DYNASSIGN_FAST_PASSWORD_HASHER") == "1":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "/login/"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {"dynassign": {"handlers": ["console"], "level": os.environ.get("DYNASSIGN_LOG_LEVEL", "INFO")}},
}
