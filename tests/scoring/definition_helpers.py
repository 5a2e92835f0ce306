"""Shared builders for the definition tests (versions, sign-off, previews)."""

import datetime

from django.utils import timezone

from scoring import services
from scoring.models import DefinitionVersion

GATE_BUSINESS_EMAIL = {
    "id": "gate-email",
    "type": "gate",
    "label": "Business email",
    "field": "email_domain",
    "op": "not_one_of",
    "value": ["gmail.com", "yahoo.com"],
}
FIT_BIG_COMPANY = {
    "id": "fit-size",
    "type": "fit",
    "label": "Company over 100 people",
    "field": "company_size",
    "op": "gt",
    "value": 100,
    "points": 30,
}
FIT_SOFTWARE = {
    "id": "fit-industry",
    "type": "fit",
    "label": "Software industry",
    "field": "industry",
    "op": "equals",
    "value": "Software",
    "points": 20,
}
BEHAVIOUR_DEMO = {
    "id": "beh-demo",
    "type": "behaviour",
    "label": "Asked for a demo",
    "event_kind": "demo_request",
    "min_count": 1,
    "within_days": 30,
    "points": 40,
    "cap": 40,
    "half_life_days": None,
}


def sample_rules() -> list[dict]:
    return [dict(GATE_BUSINESS_EMAIL), dict(FIT_BIG_COMPANY), dict(FIT_SOFTWARE), dict(BEHAVIOUR_DEMO)]


def make_draft(actor, *, rules=None, threshold=50, title="", now=None) -> DefinitionVersion:
    return services.definition_draft_create(
        actor=actor,
        now=now or timezone.now(),
        rules=sample_rules() if rules is None else rules,
        threshold=threshold,
        title=title,
    )


def make_proposed(actor, **kwargs) -> DefinitionVersion:
    version = make_draft(actor, **kwargs)
    return services.definition_propose(version=version, actor=actor, now=timezone.now())


def make_active(marketer, sales, **kwargs) -> DefinitionVersion:
    """A version signed off by `marketer` and `sales` (so active)."""
    version = make_proposed(marketer, **kwargs)
    now = timezone.now()
    services.definition_approve(version=version, actor=marketer, now=now)
    services.definition_approve(version=version, actor=sales, now=now + datetime.timedelta(seconds=1))
    version.refresh_from_db()
    assert version.state == DefinitionVersion.State.ACTIVE
    return version


def save_edit(version, actor, *, revision=None, threshold=None, rules=None, title=None, now=None) -> DefinitionVersion:
    """An editor's save: what is not given stays as `version` has it; the revision defaults to its own."""
    return services.definition_update(
        version=version,
        rules=version.rules if rules is None else rules,
        threshold=version.threshold if threshold is None else threshold,
        title=version.title if title is None else title,
        revision=version.revision if revision is None else revision,
        actor=actor,
        now=now or timezone.now(),
    )
