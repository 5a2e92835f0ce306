"""The whole test command: lint, architecture, migrations, deploy check, pytest.

Runs against PostgreSQL and Redis at their usual local addresses unless
DATABASE_URL / REDIS_URL say otherwise. Exits non-zero on the first failure.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

env = dict(os.environ)
env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/leadhandoff")
env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")


def step(title: str, cmd: list[str], extra_env: dict | None = None) -> None:
    print(f"\n==> {title}", flush=True)
    result = subprocess.run(cmd, cwd=ROOT, env={**env, **(extra_env or {})}, check=False)
    if result.returncode != 0:
        print(f"FAILED: {title} (exit {result.returncode})", flush=True)
        sys.exit(result.returncode)


step("ruff lint", [str(BIN / "ruff"), "check", "."])
step("ruff format", [str(BIN / "ruff"), "format", "--check", "."])
step("import-linter", [str(BIN / "lint-imports")])
step(
    "migrations are up to date",
    [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
    {"DJANGO_SETTINGS_MODULE": "leadhandoff.settings.test"},
)
step(
    "deploy check (production settings)",
    [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
    {
        "DJANGO_SETTINGS_MODULE": "leadhandoff.settings.production",
        "DJANGO_SECRET_KEY": "ci-" + "x7Gq2LmVb9RtY4pZs8NcW1hJk5Df3Ae6Uo0Ii" * 2,
        "DJANGO_ALLOWED_HOSTS": "leadhandoff.example.com",
    },
)
# --create-db: CI machines keep databases between runs; never test on a stale schema.
step("pytest", [sys.executable, "-m", "pytest", "-q", "--create-db", *sys.argv[1:]])
