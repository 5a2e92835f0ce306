"""Which database the set-based paths may count on."""

from django.db import connection


def has_set_based_sql() -> bool:
    """True on PostgreSQL, where production and the test suite run.

    The demo's embedded SQLite lacks the statements the set-based paths use
    (unnest, ON CONFLICT on partial indexes, FOR NO KEY UPDATE, advisory locks,
    COPY); those paths have ORM twins that run only where this is False.
    """
    return connection.vendor == "postgresql"
