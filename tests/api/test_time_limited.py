"""Roles that end on their own, over the machine API: `until` on the role edits, and in the lists."""

import datetime

import pytest
from django.utils import timezone

from iam_portal.access.catalogue import DEVELOPER, GUEST, MAINTAINER
from iam_portal.access.models import RoleBinding
from iam_portal.audit.models import AuditEvent
from tests.helpers import error, snapshot

ACME = "/api/companies/acme"


def _until(days: int = 3) -> datetime.datetime:
    return (timezone.now() + datetime.timedelta(days=days)).replace(microsecond=0)


def _rfc3339(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_a_role_edit_until_a_moment_and_the_lists_answer_it(api, demo, owner_token):
    junior, until = demo.user("junior1"), _until()
    payload = {
        "role": MAINTAINER,
        "until": until.isoformat(),
        "projectsRole": [{"projectId": "webshop", "role": MAINTAINER}],
    }
    response = api.patch(f"{ACME}/users/{junior.pk}", payload, token=owner_token)
    assert response.status_code == 200, response.content
    company = RoleBinding.objects.get(user=junior, company=demo.acme)
    project = RoleBinding.objects.get(user=junior, project=demo.webshop)
    assert (company.role, company.until, company.role_after) == (MAINTAINER, until, GUEST)
    assert (project.role, project.until, project.role_after) == (MAINTAINER, until, DEVELOPER)
    event = AuditEvent.objects.filter(subject_id=junior.pk, resource_path="acme").latest("id")
    assert event.after == {"role": MAINTAINER, "until": until.isoformat(), "then": GUEST}

    users = {u["userId"]: u for u in api.get(f"{ACME}/users", token=owner_token).json()}
    assert users[str(junior.pk)]["companyRoles"] == [MAINTAINER]
    assert users[str(junior.pk)]["until"] == _rfc3339(until)
    assert users[str(demo.user("senior").pk)]["until"] is None
    identities = api.get(f"{ACME}/identities?projectIds=webshop", token=owner_token).json()
    item = next(i for i in identities if i["identityId"] == str(junior.pk))
    assert item["until"] == _rfc3339(until)
    assert item["projects"] == [
        {
            "_id": "webshop",
            "roles": [MAINTAINER],
            "until": _rfc3339(until),
            "environments": [{"envId": "staging", "roles": [MAINTAINER], "until": None}],
        }
    ]


def test_a_group_and_a_service_account_list_their_ends(api, demo, owner_token):
    until = _until(1)
    RoleBinding.objects.filter(group=demo.developers, company=demo.acme).update(until=until)
    RoleBinding.objects.filter(service_account=demo.reader, company=demo.acme).update(until=until)
    groups = api.get(f"{ACME}/groups", token=owner_token).json()
    assert next(g for g in groups if g["name"] == "Acme Developers")["until"] == _rfc3339(until)
    accounts = api.get(f"{ACME}/service-accounts", token=owner_token).json()
    assert next(a for a in accounts if a["name"] == "metrics-reader")["until"] == _rfc3339(until)


def test_an_ended_role_is_listed_as_the_role_it_returned_to(api, demo, owner_token):
    junior = demo.user("junior1")
    RoleBinding.objects.filter(user=junior, company=demo.acme).update(
        role=MAINTAINER, until=timezone.now() - datetime.timedelta(minutes=1), role_after=GUEST
    )
    users = {u["userId"]: u for u in api.get(f"{ACME}/users", token=owner_token).json()}
    assert (users[str(junior.pk)]["companyRoles"], users[str(junior.pk)]["until"]) == ([GUEST], None)


@pytest.mark.parametrize(
    "until",
    ["2020-01-01T00:00:00Z", "2099-01-01T00:00:00", "next friday", 17, "9999-12-31T23:59:59-12:00"],
)
def test_a_bad_until_is_refused_and_changes_nothing(api, demo, owner_token, until):
    before = snapshot()
    response = api.patch(
        f"{ACME}/users/{demo.user('junior1').pk}", {"role": MAINTAINER, "until": until}, token=owner_token
    )
    assert response.status_code == 400
    assert "until" in str(error(response))
    assert snapshot() == before
