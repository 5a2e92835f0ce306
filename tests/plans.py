"""Reading a query's plan with one index left on leads_lead.

A test table is too small for the planner to prefer an index, so the plan is
read with every other (non-constraint) index dropped, inside a transaction
that is rolled back, and with sequential scans and sorts priced out: the index
shows in the plan only if the query's expression, order and predicate match it.
"""

from django.db import connection, transaction


def plan_with_only_index(queryset, *, only_index: str, rows: int = 25) -> str:
    """The plan of the first `rows` rows of `queryset` when `only_index` is the one index left."""
    sql, params = queryset[:rows].query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'leads_lead' AND indexname <> %s"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))",
            [only_index],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return plan
