"""The reads other code builds on: the machine API's window of events (GET /api/tenants/{id}/audit-logs
will call company_events_between), and the identity names of the filters."""

import datetime

import pytest

from iam_portal.audit.models import AuditEvent
from iam_portal.audit.selectors import MAX_PER_PAGE, Who, company_events_between, who_named


def ms(moment: datetime.datetime) -> int:
    return int(moment.timestamp() * 1000)


@pytest.fixture
def dated(demo, role_changes, clock):
    """Five Acme events: two 30 days ago, three now."""
    clock(days_ago=30)
    role_changes(2)
    clock()
    role_changes(3)
    return list(AuditEvent.objects.order_by("seq"))


def test_the_api_window_pages_a_time_range_newest_first(demo, dated):
    everything = company_events_between(demo.acme.pk, start_ms=None, end_ms=None)
    assert ([e.seq for e in everything.events], everything.total) == ([5, 4, 3, 2, 1], 5)
    recent = company_events_between(demo.acme.pk, start_ms=ms(dated[2].occurred_at), end_ms=None)
    assert ([e.seq for e in recent.events], recent.total) == ([5, 4, 3], 3)
    old = company_events_between(demo.acme.pk, start_ms=0, end_ms=ms(dated[2].occurred_at))
    assert ([e.seq for e in old.events], old.total) == ([2, 1], 2)
    page2 = company_events_between(demo.acme.pk, start_ms=None, end_ms=None, page=2, per_page=2)
    assert ([e.seq for e in page2.events], page2.total, page2.page, page2.per_page) == ([3, 2], 5, 2, 2)
    assert company_events_between(demo.globex.pk, start_ms=None, end_ms=None).total == 0


@pytest.mark.parametrize(
    "start, end, page, per_page, expected_page, expected_per_page",
    [
        (-(10**18), 10**18, 1, 50, 1, 50),
        (10**15, None, 0, 0, 1, 1),
        (None, -1, -5, 10**6, 1, MAX_PER_PAGE),
    ],
)
def test_the_api_window_takes_any_numbers(
    demo, dated, start, end, page, per_page, expected_page, expected_per_page
):
    window = company_events_between(demo.acme.pk, start_ms=start, end_ms=end, page=page, per_page=per_page)
    assert (window.page, window.per_page) == (expected_page, expected_per_page)
    assert window.total in (0, 5)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("user:12", Who("user", 12)),
        ("service-account:3", Who("service-account", 3)),
        ("command", Who("command")),
        ("user", None),
        ("command:3", None),
        ("group:-1", None),
        ("robot:1", None),
    ],
)
def test_tokens(text, expected):
    assert Who.parse(text) == expected


def test_names(demo):
    acme = demo.acme.pk
    assert who_named(acme, "JUNIOR1@acme.test") == Who("user", demo.user("junior1").pk)
    assert who_named(acme, "Jun One") == Who("user", demo.user("junior1").pk)
    assert who_named(acme, " acme developers ") == Who("group", demo.developers.pk)
    assert who_named(acme, "ci-deployer") == Who("service-account", demo.deployer.pk)
    assert who_named(demo.globex.pk, "ci-deployer") is None  # another company's account
    assert who_named(acme, "nobody") is None
