"""`?dryRun=true` on every write of the machine API: 200 with what the write would change, nothing saved and
nothing recorded; a refusal answers exactly as the write would."""

import datetime

import pytest
from django.utils import timezone

from iam_portal.access.catalogue import GUEST, MAINTAINER
from iam_portal.access.models import RoleBinding
from iam_portal.audit.models import AuditEvent
from iam_portal.identities.models import Group, GroupMembership, User
from tests.api.test_matrix import EXPECTED, calls, token_of  # noqa: F401 (token_of is a fixture)
from tests.helpers import bind, snapshot

pytestmark = pytest.mark.django_db

ACME = "/api/companies/acme"


def dry(path: str) -> str:
    return path + ("&" if "?" in path else "?") + "dryRun=true"


def call_dry(api, method, path, body, token):
    """The dry run of a write: asserts that it changed nothing and recorded nothing."""
    before, events = snapshot(), AuditEvent.objects.count()
    response = api.call(method, dry(path), body, token=token)
    assert snapshot() == before, (method, path)
    assert AuditEvent.objects.count() == events, (method, path)
    return response


@pytest.mark.parametrize(("principal", "status"), list(EXPECTED.items()))
def test_every_write_answers_its_dry_run_like_the_write(api, demo, token_of, principal, status):  # noqa: F811
    User.objects.create_user("outsider@acme.test", "x")
    token = token_of(principal)
    for method, path, body in calls(demo):
        if method == "GET":
            continue
        response = call_dry(api, method, path, body, token)
        assert response.status_code == status, (principal, method, path, response.content)
        if status == 200:
            assert set(response.json()) == {"dryRun", "changes"}
            assert response.json()["dryRun"] is True


def test_a_role_change_answers_the_diff(api, demo, owner_token):
    senior = demo.user("senior")
    response = call_dry(api, "PATCH", f"{ACME}/users/{senior.pk}", {"role": MAINTAINER}, owner_token)
    assert response.status_code == 200
    changes = response.json()["changes"]
    assert changes[0] == {
        "identity": {"type": "user", "id": str(senior.pk), "name": "Sara Senior"},
        "resource": "acme",
        "level": "company",
        "before": "guest",
        "after": "maintainer",
        "gained": [
            "console.company.project.configuration.update",
            "console.company.project.environment.deploy.trigger",
            "console.company.project.environment.k8s.job.create",
            "console.company.project.environment.k8s.job.delete",
            "console.company.project.environment.k8s.pod.delete",
            "console.company.project.environment.view",
            "console.company.project.service.repository.create",
            "console.company.project.view",
        ],
        "lost": [],
        "losesAllAccess": False,
    }
    assert [(c["resource"], c["before"], c["after"], len(c["gained"])) for c in changes[1:]] == [
        ("acme/payments", "guest", "maintainer", 8),
        ("acme/payments/production", "guest", "maintainer", 5),
        ("acme/webshop", "maintainer", "maintainer", 8),
        ("acme/webshop/production", "maintainer", "maintainer", 5),
        ("acme/webshop/staging", "maintainer", "maintainer", 5),
    ]
    assert RoleBinding.objects.get(user=senior, company=demo.acme).role == GUEST


def test_deleting_a_group_says_who_loses_all_access(api, demo, owner_token):
    mo = User.objects.create_user("mo@acme.test", "x", full_name="Mo Member")
    GroupMembership.objects.create(group=demo.developers, user=mo)
    response = call_dry(api, "DELETE", f"{ACME}/groups/{demo.developers.pk}", None, owner_token)
    losing = {
        (c["identity"]["name"], c["resource"]) for c in response.json()["changes"] if c["losesAllAccess"]
    }
    assert losing == {
        ("Mo Member", "acme"),
        ("Acme Developers", "acme"),
        ("Jun One", "acme/payments"),  # Guest on Acme of their own: only Payments goes
        ("Jun Two", "acme/payments"),
    }


def test_creating_a_group_previews_its_members(api, demo, owner_token):
    body = {"name": "Preview", "role": "developer", "members": ["designer1@acme.test"]}
    response = call_dry(api, "POST", f"{ACME}/groups", body, owner_token)
    first = {
        (c["identity"]["name"], c["resource"], c["before"], c["after"]) for c in response.json()["changes"]
    }
    assert ("Preview", "acme", None, "developer") in first
    assert ("Dana Designer", "acme", "guest", "developer") in first
    assert not Group.objects.filter(name="Preview").exists()


def test_creating_a_service_account_answers_no_secret(api, demo, owner_token):
    body = {"name": "dry-sa", "tokenEndpointAuthMethod": "client_secret_basic", "role": "reporter"}
    response = call_dry(api, "POST", f"{ACME}/service-accounts", body, owner_token)
    payload = response.json()
    assert "clientSecret" not in payload
    assert payload["changes"][0]["identity"]["name"] == "dry-sa"
    assert payload["changes"][0]["after"] == "reporter"


def _same_refusal(api, method, path, body, token):
    """The dry run's answer is the write's own refusal: same status, same body, and nothing recorded by
    the dry run (the real attempt records its refusal)."""
    dry_response = call_dry(api, method, path, body, token)
    before = snapshot()
    real = api.call(method, path, body, token=token)
    assert snapshot() == before
    assert (dry_response.status_code, dry_response.json()) == (real.status_code, real.json())
    return real


def test_the_last_owner_is_refused_in_a_dry_run_like_the_write(api, demo, owner_token):
    owner = demo.user("owner")
    real = _same_refusal(api, "PATCH", f"{ACME}/users/{owner.pk}", {"role": "guest"}, owner_token)
    assert real.status_code == 409
    assert "must keep at least one Company Owner" in real.json()["message"]


def test_an_escalation_is_refused_in_a_dry_run_like_the_write(api, demo, owner_token):
    crossing = Group.objects.create(company=demo.acme, name="Crossing")
    bind(crossing, GUEST, demo.acme)
    RoleBinding.objects.create(group=crossing, project=demo.research, role=MAINTAINER)
    path = f"{ACME}/groups/{crossing.pk}/members"
    real = _same_refusal(api, "POST", path, {"emails": ["senior@acme.test"]}, owner_token)
    assert real.status_code == 403


def test_bad_input_is_refused_before_the_dry_run(api, demo, owner_token):
    senior = demo.user("senior")
    _same_refusal(api, "PATCH", f"{ACME}/users/{senior.pk}", {"role": "emperor"}, owner_token)
    _same_refusal(api, "POST", f"{ACME}/users", {"email": "ghost@acme.test", "role": "guest"}, owner_token)


@pytest.mark.parametrize("flag", ["maybe", "", "\x00"])
def test_a_bad_flag_is_400_and_changes_nothing(api, demo, owner_token, flag):
    before = snapshot()
    response = api.patch(
        f"{ACME}/users/{demo.user('senior').pk}?dryRun={flag}", {"role": MAINTAINER}, token=owner_token
    )
    if flag == "":
        assert response.status_code == 200  # empty: the write itself, as without the flag
        return
    assert response.status_code == 400
    assert response.json() == {"statusCode": 400, "message": "dryRun must be true or false"}
    assert snapshot() == before


def test_dry_run_false_writes(api, demo, owner_token):
    senior = demo.user("senior")
    response = api.patch(f"{ACME}/users/{senior.pk}?dryRun=false", {"role": MAINTAINER}, token=owner_token)
    assert response.json() == {"statusCode": 200, "message": "identity roles successfully updated"}
    assert RoleBinding.objects.get(user=senior, company=demo.acme).role == MAINTAINER


def test_a_time_limited_role_change_answers_its_diff_and_keeps_nothing(api, demo, owner_token):
    """`until` flows into the dry run too: the diff is what holds now, and no end is stored."""
    senior = demo.user("senior")
    until = (timezone.now() + datetime.timedelta(days=2)).isoformat()
    body = {"role": MAINTAINER, "until": until}
    response = call_dry(api, "PATCH", f"{ACME}/users/{senior.pk}", body, owner_token)
    assert response.status_code == 200
    change = response.json()["changes"][0]
    assert (change["resource"], change["before"], change["after"]) == ("acme", "guest", "maintainer")
    assert not RoleBinding.objects.filter(user=senior, until__isnull=False).exists()
    past = {"role": MAINTAINER, "until": "2000-01-01T00:00:00Z"}
    assert call_dry(api, "PATCH", f"{ACME}/users/{senior.pk}", past, owner_token).status_code == 400
