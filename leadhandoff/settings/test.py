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
# The benchmarks' gunicorn shares one Redis cache between its workers, as production does
# (bench.queue.gunicorn sets it, with a key prefix of its own that it deletes afterwards).
if env.str("TEST_SHARED_CACHE_URL", default=""):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.str("TEST_SHARED_CACHE_URL"),
            "KEY_PREFIX": env.str("TEST_SHARED_CACHE_PREFIX", default="bench"),
        }
    }
# pytest-django swaps in the locmem backend in the test process; a Celery worker
# the tests start writes files the test reads (tests/outbox).
EMAIL_BACKEND = env.str("TEST_EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
EMAIL_FILE_PATH = env.str("TEST_EMAIL_FILE_PATH", default="")
DJANGO_SITE_URL = "https://leadhandoff.test"
