"""Engagement events from CSV (leads.events): marketing and admins only, 403 for sales."""

from leads.models import EventImportJob

from . import Route

ANON = 302
API_ANON = 401


def _marketing(ok: int, anonymous: int = ANON) -> dict[str, int]:
    return {"anonymous": anonymous, "marketer": ok, "rep": 403, "other_rep": 403, "manager": 403, "admin": ok}


def _job(leads) -> dict[str, int]:
    """A finished job whose file is not in storage: its pages never read the file (and the test writes none)."""
    job = EventImportJob.objects.create(
        file="event-imports/route-matrix-missing.csv",
        original_name="visits.csv",
        total_rows=1,
        state=EventImportJob.State.DONE,
        mapping={"events": "rows"},
    )
    return {"job_id": job.pk}


def queued_again(leads, kwargs, user):
    assert EventImportJob.objects.get(pk=kwargs["job_id"]).state == EventImportJob.State.QUEUED


ROUTES = [
    Route("leads:event_import", _marketing(200)),
    Route("leads:event_import", _marketing(400), method="post", data={}),  # no file: the form says so
    Route("leads:event_import_detail", _marketing(200), kwargs=_job),
    Route("leads:event_import_again", _marketing(302), method="post", kwargs=_job, effect=queued_again),
    # No file: a 400 naming it (the matrix writes no file).
    Route("api-event-imports", _marketing(400, API_ANON), method="post", data={}, api=True, format="json"),
    Route("api-event-import", _marketing(200, API_ANON), kwargs=_job, api=True),
]
