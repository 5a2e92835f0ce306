"""Engagement history from CSV (issue 14, point 3): one row per event, or events derived from columns.

Rows become event payloads and go through the events API's own path
(leads.intake.services.events_ingest): the same checks, the same lead look-up
(an unknown email makes the nurture lead), the same idempotency. Every imported
event carries an external id, the file's own or one derived from (lead, kind,
time) — plus the column and the event's number for events derived from a count —
so importing a file twice, or a run taken over after its worker died, stores
nothing twice.
"""
