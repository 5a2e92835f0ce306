"""The demo history (`manage.py seed_demo`): the public entry points."""

from demo.seed.builder import (
    DEFAULT_LEADS,
    DEFAULT_SEED,
    DEMO_PASSWORD,
    DEMO_PREFIX,
    LIVE_PREFIX,
    SeedResult,
    demo_clear,
    demo_present,
    demo_seed,
)

__all__ = [
    "DEFAULT_LEADS",
    "DEFAULT_SEED",
    "DEMO_PASSWORD",
    "DEMO_PREFIX",
    "LIVE_PREFIX",
    "SeedResult",
    "demo_clear",
    "demo_present",
    "demo_seed",
]
