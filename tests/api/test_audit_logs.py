"""GET /api/tenants/{companyId}/audit-logs (spec §6.2): the company's events for machines, newest first,
between two unix-millisecond times, paginated; only for accounts that may manage the company's identities."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from iam_portal.access.catalogue import DEVELOPER, MAINTAINER
from iam_portal.access.resolver import SYSTEM
from iam_portal.access.services import company_role_set
from iam_portal.audit.models import AuditEvent
from tests.helpers import error

pytestmark = pytest.mark.django_db

URL = "/api/tenants/acme/audit-logs"


@pytest.fixture
def changes(demo):
    """Two role changes of Acme, recorded by the command line."""
    company_role_set(actor=SYSTEM, company=demo.acme, subject=demo.user("junior1"), role=DEVELOPER)
    company_role_set(actor=SYSTEM, company=demo.acme, subject=demo.user("senior"), role=MAINTAINER)
    return list(AuditEvent.objects.filter(company_id=demo.acme.pk).order_by("-id"))


def test_an_owner_level_account_reads_the_events_newest_first(api, demo, owner_token, changes):
    response = api.get(URL, token=owner_token)
    assert response.status_code == 200
    events = response.json()
    assert [e["_id"] for e in events[:2]] == [str(changes[0].pk), str(changes[1].pk)]
    newest = events[0]
    assert newest["action"] == "role.changed" and newest["outcome"] == "success"
    assert newest["subject"] == {"type": "user", "id": demo.user("senior").pk, "name": "Sara Senior"}
    assert newest["author"] == {"type": "command", "id": None, "name": "Command line"}
    assert newest["after"] == {"role": "maintainer"} and newest["source"] == "command"
    assert "Sara Senior" in newest["description"]
    assert response["x-total-items"] == str(AuditEvent.objects.filter(company_id=demo.acme.pk).count())


def test_from_and_to_in_unix_milliseconds_and_pages(api, demo, owner_token):
    t1, t2 = (timezone.now() + datetime.timedelta(days=n) for n in (1, 2))
    with time_machine.travel(t1, tick=False):
        company_role_set(actor=SYSTEM, company=demo.acme, subject=demo.user("junior1"), role=DEVELOPER)
    with time_machine.travel(t2, tick=False):
        company_role_set(actor=SYSTEM, company=demo.acme, subject=demo.user("senior"), role=MAINTAINER)
    first, second = AuditEvent.objects.filter(company_id=demo.acme.pk).order_by("-id")[:2][::-1]
    ms1, ms2 = (int(moment.timestamp() * 1000) for moment in (t1, t2))

    def ids(query: str) -> list[str]:
        return [event["_id"] for event in api.get(f"{URL}?{query}", token=owner_token).json()]

    assert ids(f"from={ms2}&to={ms2 + 1}") == [str(second.pk)]
    assert ids(f"from={ms1}&to={ms2}") == [str(first.pk)]
    assert str(second.pk) not in ids(f"to={ms2}")
    page = api.get(f"{URL}?from={ms1}&page=0&per_page=1", token=owner_token)
    assert [e["_id"] for e in page.json()] == [str(second.pk)]
    assert (page["x-total-items"], page["x-total-pages"]) == ("2", "2")
    assert ids(f"from={ms1}&page=1&per_page=1") == [str(first.pk)]


@pytest.mark.parametrize(
    "query", ["page=-1", "per_page=0", "per_page=201", "from=1e999", "from=abc", f"to={10**16}"]
)
def test_bad_parameters_are_400(api, owner_token, query):
    response = api.get(f"{URL}?{query}", token=owner_token)
    assert error(response)["statusCode"] in (400, 422) and response.status_code in (400, 422)


def test_who_may_read_it(api, demo, make_account, changes):
    reporter = api.token(make_account("reporter", name="reporter-bot"))
    assert error(api.get(URL, token=reporter))["statusCode"] == 403
    globex = api.token(make_account("company-owner", name="globex-bot", company=demo.globex))
    assert error(api.get(URL, token=globex))["statusCode"] == 404
    assert error(api.get(URL))["statusCode"] == 401
    assert error(api.get("/api/tenants/nope/audit-logs", token=reporter))["statusCode"] == 404


def test_reading_changes_nothing(api, owner_token, changes):
    before = AuditEvent.objects.count()
    api.get(URL, token=owner_token)
    assert AuditEvent.objects.count() - before <= 1  # at most the token's own issuance event
    assert timezone.now()
