"""Core writes on a lead that every feature shares."""

import datetime

from accounts.models import User
from leads import history
from leads.models import Lead


def status_change(
    *, lead: Lead, new_status: str, at: datetime.datetime, actor: User | None = None, note: str = ""
) -> None:
    """Set a lead's status and write the history row; caller holds the transaction and saves."""
    old = lead.status
    lead.status = new_status
    history.status_changed(old=old, new=new_status, note=note).write(lead=lead, at=at, actor=actor)
