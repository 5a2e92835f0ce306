"""Core writes on a lead that every feature shares."""

import datetime
from typing import Any

from accounts.models import User

from .models import HistoryAction, Lead, LeadHistory


def history_write(
    *,
    lead: Lead,
    action: str,
    at: datetime.datetime,
    actor: User | None = None,
    field: str = "",
    old: Any = "",
    new: Any = "",
    note: str = "",
    data: dict | None = None,
) -> LeadHistory:
    """Record one transition; callers do it inside the transaction of the change."""
    return LeadHistory.objects.create(
        lead=lead,
        actor=actor,
        action=action,
        field=field,
        old_value="" if old is None else str(old)[:255],
        new_value="" if new is None else str(new)[:255],
        note=note,
        data=data or {},
        created_at=at,
    )


def history_row(
    *,
    lead_id: int,
    action: str,
    at: datetime.datetime,
    actor_id: int | None = None,
    field: str = "",
    old: Any = "",
    new: Any = "",
    note: str = "",
    data: dict | None = None,
) -> LeadHistory:
    """An unsaved history row, for bulk_create in set-based paths (imports, promotion)."""
    return LeadHistory(
        lead_id=lead_id,
        actor_id=actor_id,
        action=action,
        field=field,
        old_value="" if old is None else str(old)[:255],
        new_value="" if new is None else str(new)[:255],
        note=note,
        data=data or {},
        created_at=at,
    )


def status_change(
    *, lead: Lead, new_status: str, at: datetime.datetime, actor: User | None = None, note: str = ""
) -> None:
    """Set a lead's status and write the history row; caller holds the transaction and saves."""
    old = lead.status
    lead.status = new_status
    history_write(
        lead=lead,
        action=HistoryAction.STATUS_CHANGED,
        at=at,
        actor=actor,
        field="status",
        old=old,
        new=new_status,
        note=note,
    )
