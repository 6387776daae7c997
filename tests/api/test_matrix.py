"""The API's authorization as a matrix: every endpoint for service accounts of each level, another
company's account, root accounts, and requests without a valid token. A refusal changes nothing."""

import datetime

import pytest
from django.test import RequestFactory
from django.utils import timezone

from iam_portal.api import tokens
from iam_portal.identities.models import ServiceAccount, User, hash_secret
from tests.helpers import Credentials, error, snapshot

pytestmark = pytest.mark.django_db

ACME = "/api/companies/acme"

# principal → the status of every company IAM endpoint
EXPECTED = {
    "company-owner": 200,
    "root-binder": 200,
    "project-admin": 403,
    "maintainer": 403,
    "developer": 403,
    "reporter": 403,
    "guest": 403,
    "no-role": 403,
    "root-viewer": 403,
    "globex-owner": 404,
    "no-token": 401,
    "expired-token": 401,
    "garbage-token": 401,
}


@pytest.fixture
def token_of(api, demo, make_account):
    def make(principal: str) -> str | None:
        if principal == "no-token":
            return None
        if principal == "garbage-token":
            return "garbage"
        if principal == "expired-token":
            account = make_account("company-owner").account
            past = timezone.now() - datetime.timedelta(hours=1, minutes=5)
            return tokens.access_token_issue(RequestFactory().get("/"), account, now=past)
        if principal == "globex-owner":
            return api.token(make_account("company-owner", company=demo.globex))
        if principal.startswith("root-"):
            keys = ["console.root.view"] + (["console.root.user.bind"] if principal == "root-binder" else [])
            account = ServiceAccount.objects.create(
                company=None, name=principal, root_permissions=keys, secret_hash=hash_secret("root-secret")
            )
            return api.token(Credentials(account, secret="root-secret"))
        return api.token(make_account(None if principal == "no-role" else principal))

    return make


def calls(demo) -> list[tuple[str, str, dict | None]]:
    """Every company IAM endpoint with a body that succeeds for an allowed caller, in an order where each
    allowed call leaves the next one something to act on."""
    junior, designer = demo.user("junior1").pk, demo.user("designer1").pk
    group, reader = demo.developers.pk, demo.reader.client_id
    return [
        ("GET", f"{ACME}/identities", None),
        ("GET", f"{ACME}/users", None),
        ("GET", f"{ACME}/groups", None),
        ("GET", f"{ACME}/service-accounts", None),
        ("POST", f"{ACME}/users", {"email": "outsider@acme.test", "role": "guest"}),
        ("PATCH", f"{ACME}/users/{junior}", {"role": "reporter"}),
        ("POST", f"{ACME}/groups", {"name": "Matrix", "role": "guest", "members": []}),
        ("PATCH", f"{ACME}/groups/{group}", {"role": "reporter"}),
        ("POST", f"{ACME}/groups/{group}/members", {"emails": ["senior@acme.test"]}),
        ("DELETE", f"{ACME}/groups/{group}/members", {"memberIds": [str(junior)]}),
        (
            "POST",
            f"{ACME}/service-accounts",
            {"name": "matrix-sa", "tokenEndpointAuthMethod": "client_secret_basic", "role": "guest"},
        ),
        ("PATCH", f"{ACME}/service-accounts/{reader}", {"role": "guest"}),
        ("DELETE", f"{ACME}/users/{designer}?removeFromGroups=true", None),
        ("DELETE", f"{ACME}/service-accounts/{reader}", None),
        ("DELETE", f"{ACME}/groups/{group}", None),
    ]


@pytest.mark.parametrize(("principal", "status"), list(EXPECTED.items()))
def test_company_iam_matrix(api, demo, token_of, principal, status):
    User.objects.create_user("outsider@acme.test", "x")
    token = token_of(principal)
    for method, path, body in calls(demo):
        before = snapshot()
        response = api.call(method, path, body, token=token)
        assert response.status_code == status, (principal, method, path, response.content)
        if status == 200:
            if method != "GET":
                assert snapshot() != before, (method, path)
        else:
            error(response)
            assert snapshot() == before, (method, path)


@pytest.mark.parametrize(
    ("principal", "status"),
    [(p, 200 if s in (200, 403, 404) else s) for p, s in EXPECTED.items()],
)
def test_me_answers_every_valid_token(api, demo, token_of, principal, status):
    response = api.get("/api/me", token=token_of(principal))
    assert response.status_code == status


def test_project_listing_matrix(api, demo, token_of):
    """Reading a project's identities: managers see all, viewers those with access, others 403/404."""
    expected = {
        "company-owner": 200,
        "project-admin": 200,
        "maintainer": 200,
        "developer": 200,
        "reporter": 200,
        "guest": 404,
        "no-role": 404,
        "globex-owner": 404,
        "root-viewer": 200,
        "no-token": 401,
    }
    for principal, status in expected.items():
        response = api.get(f"{ACME}/identities?projectIds=webshop", token=token_of(principal))
        assert response.status_code == status, principal
