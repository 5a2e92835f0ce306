"""The text a lead is searched by, and its trigram index (pool search at a million leads).

The pool's search box matches each word anywhere in a lead's names, email, company
or external id. As one expression over those columns (upper-cased, space-joined)
it is answered on PostgreSQL from one GIN trigram index, lead_search_trgm_idx
(leads.migrations.0004), instead of five substring scans of the whole pool.
The index expression is SEARCH_TEXT_SQL inside icontains' UPPER(...::text);
tests/leads/test_pool_search.py checks that the pool's search uses it.
"""

from django.db.models import CharField
from django.db.models.expressions import RawSQL

# Immutable SQL (|| and coalesce; concat_ws is only stable) so PostgreSQL can index it.
SEARCH_TEXT_SQL = (
    "(leads_lead.first_name || ' ' || leads_lead.last_name || ' ' || coalesce(leads_lead.email, '')"
    " || ' ' || leads_lead.company || ' ' || coalesce(leads_lead.external_id, ''))"
)


def lead_search_text() -> RawSQL:
    """An alias for Lead querysets: `.alias(search_text=lead_search_text())`, then `search_text__icontains`."""
    return RawSQL(SEARCH_TEXT_SQL, (), output_field=CharField())  # noqa: S611 - fixed SQL, no input
