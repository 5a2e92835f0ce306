"""Tests run against real PostgreSQL and Redis (never eager Celery)."""

from .base import *  # noqa: F403
from .base import database, env

DATABASES = {"default": database("postgres://postgres@127.0.0.1:5432/leadhandoff")}
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
# A database number of its own so tests never read another app's queue.
CELERY_BROKER_URL = env("TEST_CELERY_BROKER_URL", default=REDIS_URL.rsplit("/", 1)[0] + "/9")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DEBUG = False
# Throttle counts per test process, emptied before each test (tests/conftest.py):
# a Redis cache would share them with the broker's database number.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
