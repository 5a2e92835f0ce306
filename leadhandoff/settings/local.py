"""The demo / developer setup: SQLite and a filesystem broker unless the
environment points at PostgreSQL and Redis."""

from .base import *  # noqa: F403
from .base import BASE_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# kombu's filesystem transport: a real broker between real worker and beat
# processes, with nothing to install or start.
if CELERY_BROKER_URL == "filesystem://":  # noqa: F405
    _broker_dir = BASE_DIR / ".broker"
    for sub in ("in", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A worker and the web server write at once; wait instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20  # noqa: F405
