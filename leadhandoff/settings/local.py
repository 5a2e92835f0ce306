"""The demo / developer setup: PostgreSQL from DATABASE_URL (`make run` starts
an embedded one and sets it) and a filesystem broker unless REDIS_URL is set."""

from pathlib import Path

from .base import *  # noqa: F403
from .base import BASE_DIR, database, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
DATABASES = {"default": database()}

# kombu's filesystem transport: a real broker between real worker and beat
# processes, with nothing to install or start.
if CELERY_BROKER_URL == "filesystem://":  # noqa: F405
    _broker_dir = Path(env.str("DEMO_BROKER_DIR", default=str(BASE_DIR / ".demo" / "broker")))
    for sub in ("in", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
