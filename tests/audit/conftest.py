"""Fixtures of the audit log tests: a settable clock, a few recorded changes, and raw access to the table."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from iam_portal.access.catalogue import DEVELOPER, GUEST, MAINTAINER, REPORTER
from iam_portal.access.resolver import SYSTEM
from iam_portal.access.services import company_role_set


@pytest.fixture
def clock(monkeypatch):
    """clock(days_ago=200) makes every event written from then on dated that long ago; clock() resets."""

    real_now = timezone.now

    def set_to(*, days_ago: float = 0):
        moment = real_now() - datetime.timedelta(days=days_ago)
        monkeypatch.setattr(timezone, "now", (lambda: moment) if days_ago else real_now)

    return set_to


@pytest.fixture
def role_changes(demo):
    """role_changes(n, actor=SYSTEM) records n company role changes of Jun One in Acme (n events)."""
    roles = [DEVELOPER, REPORTER, MAINTAINER, GUEST]

    def make(n: int, *, actor=SYSTEM, subject=None):
        for i in range(n):
            company_role_set(
                actor=actor, company=demo.acme, subject=subject or demo.user("junior1"), role=roles[i % 4]
            )

    return make


@pytest.fixture
def raw_sql():
    """raw_sql(statement, *params) runs SQL on the application's connection. On PostgreSQL the append-only
    trigger is switched off for the test (as a database owner could), so that tampering can be tested on
    both databases; the test's transaction puts it back."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_append_only")

    def run(statement: str, *params):
        with connection.cursor() as cursor:
            cursor.execute(statement, params)

    return run
