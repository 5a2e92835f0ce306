import pytest

from leadhandoff.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_healthz_is_200_when_database_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "scoring": {"ok": True, "version": None},  # no active version yet
        "sweep_age_s": None,  # never swept
    }


def test_healthz_is_503_when_the_broker_does_not_answer(client):
    original = celery_app.conf.broker_url
    # A real address where nothing listens: the check must notice, not hang.
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/healthz")
    finally:
        celery_app.conf.broker_url = original
    assert response.status_code == 503
    assert response.json()["broker"] == "down"
    assert response.json()["database"] == "ok"


def test_healthz_is_503_when_the_database_does_not_answer(client, settings):
    from django.db import connections

    conn = connections["default"]
    saved = conn.settings_dict["PORT"]
    conn.close()
    conn.settings_dict["PORT"] = "1"  # nothing listens there
    try:
        response = client.get("/healthz")
    finally:
        conn.close()
        conn.settings_dict["PORT"] = saved
    assert response.status_code == 503
    assert response.json()["database"] == "down"
