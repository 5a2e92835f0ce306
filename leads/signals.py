"""Hooks that let higher layers react to lead changes without leads importing them.

`lead_activity` is sent (after commit) with `lead_ids` when a lead's data changed
or an engagement event arrived; scoring connects a receiver that schedules an
incremental rescore.
"""

from django.dispatch import Signal

lead_activity = Signal()
