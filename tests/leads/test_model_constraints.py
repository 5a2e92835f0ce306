import pytest
from django.db import IntegrityError, transaction

from leads.models import Lead, Status
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_email_is_unique_whatever_its_case():
    LeadFactory(email="Ada@Example.com")
    with pytest.raises(IntegrityError):
        LeadFactory(email="ada@example.COM")


def test_a_lead_needs_an_email_or_an_external_id():
    with pytest.raises(IntegrityError):
        LeadFactory(email=None, external_id=None)


def test_external_ids_are_unique():
    LeadFactory(email=None, external_id="crm-1")
    with pytest.raises(IntegrityError):
        LeadFactory(email=None, external_id="crm-1")


def test_a_nurture_lead_has_no_owner(cast):
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadFactory(status=Status.NURTURE, owner=cast.rep)
    LeadFactory(status=Status.ASSIGNED, owner=cast.rep)
    assert Lead.objects.filter(owner=cast.rep).count() == 1
