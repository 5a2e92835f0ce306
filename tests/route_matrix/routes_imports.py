"""CSV import pages (leads.imports.views): marketing and admins only, 403 for sales."""

from leads.models import ImportJob

from . import Route

ANON = 302  # pages send anonymous users to the login page


def _expect(marketing: int) -> dict[str, int]:
    return {"anonymous": ANON, "marketer": marketing, "rep": 403, "other_rep": 403, "manager": 403, "admin": marketing}


def _job(leads) -> dict[str, int]:
    """A mapped job whose file is not in storage: the pages say so instead of failing (and the test writes no file)."""
    job = ImportJob.objects.create(
        file="imports/route-matrix-missing.csv",
        original_name="leads.csv",
        total_rows=1,
        mapping_snapshot={"columns": {"email": "email"}, "values": {}, "options": {}},
        rejections=[{"line": 2, "reason": "has no email (the key column)", "key": ""}],
        rejected_count=1,
    )
    return {"job_id": job.pk}


def import_queued(leads, kwargs, user):
    assert ImportJob.objects.get(pk=kwargs["job_id"]).state == ImportJob.State.QUEUED


ROUTES = [
    Route("leads:import_list", _expect(200)),
    Route("leads:import_upload", _expect(200)),
    Route("leads:import_upload", _expect(400), method="post", data={}),  # no file: the form says so
    Route("leads:import_mapping", _expect(200), kwargs=_job),
    Route("leads:import_mapping", _expect(200), method="post", kwargs=_job, data={}),
    Route("leads:import_preview", _expect(200), kwargs=_job),
    Route("leads:import_start", _expect(302), method="post", kwargs=_job, effect=import_queued),
    Route("leads:import_start", _expect(405), kwargs=_job),  # GET never starts an import
    Route("leads:import_detail", _expect(200), kwargs=_job),
    Route("leads:import_progress", _expect(200), kwargs=_job),
    Route("leads:import_rejections", _expect(200), kwargs=_job),
]
