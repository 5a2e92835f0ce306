"""Rejections per rule of a definition version (scoring.apis.VersionRejectionsApi): everyone who
takes part in the definition reads them, sales rounded (tests/scoring/test_rejections_per_rule.py)."""

from . import Route
from .routes_scoring import api, draft

ROUTES = [
    Route("api-definition-version-rejections", api(200), kwargs=draft, api=True),
]
