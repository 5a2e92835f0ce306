"""Rep-sourced prospects created while their rep was not free to cold-call.

The product stamps `Lead.created_while_not_free` when a rep adds a prospect while they are not
free (leads.clock.selectors.free_to_cold_call: an overdue lead open, or compliance under the
policy's bar). The demo's builder plans leads without clocks read back, so this marks the
history afterwards, set-based, by the first half of that rule: the rep had an MQL past its
first-contact deadline and still uncontacted at the moment the prospect was created. The
skipping reps (demo.seed.cast, `skips`) prospect the most and let the most lapse, so the
cherry-pick index shows them adding cold calls while not free.
"""

from __future__ import annotations

from django.db import connection

MARK_SQL = """
    UPDATE leads_lead l SET created_while_not_free = true
    WHERE l.origin = 'rep_sourced' AND l.external_id LIKE %s AND EXISTS (
      SELECT 1 FROM leads_firstcontactclock c
      WHERE c.rep_id = l.owner_id AND c.due_at < l.created_at
        AND coalesce(c.contacted_at, c.ended_at, 'infinity') > l.created_at
    )
"""


def not_free_mark(*, prefix: str) -> int:
    """Mark the demo's rep-sourced leads created while their rep had an overdue MQL; how many."""
    with connection.cursor() as cursor:
        cursor.execute(MARK_SQL, [f"{prefix}%"])
        return cursor.rowcount
