"""The API driven the way miactl drives it, from the operator's bootstrap command to removals, and then the
portal's own pages showing what the machine did."""

import html
import io
import json
import re
import time
import uuid

import jwt
import pytest
from django.core.management import call_command
from django.test import Client

from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group, ServiceAccount, User
from tests.helpers import (
    ASSERTION_TYPE,
    FORM,
    TOKEN_URL,
    basic_header,
    public_jwk,
    rsa_private_key,
)

pytestmark = pytest.mark.django_db

ACME = "/api/companies/acme"
MIACTL = {"HTTP_CLIENT_KEY": "miactl", "HTTP_ACCEPT": "application/json, */*"}


class Miactl:
    """Requests shaped like miactl's: JSON, `client-key: miactl`, a Bearer token fetched like Go's oauth2."""

    def __init__(self):
        self.http = Client(enforce_csrf_checks=True)
        self.token = None

    def login_basic(self, client_id, secret):
        response = self.http.post(
            TOKEN_URL,
            "grant_type=client_credentials",
            content_type=FORM,
            HTTP_AUTHORIZATION=basic_header(client_id, secret),
        )
        assert response.status_code == 200, response.content
        self.token = response.json()["access_token"]

    def login_jwt(self, client_id, key_id, key):
        now = int(time.time()) - 10
        signed = jwt.encode(
            {
                "iss": client_id,
                "sub": client_id,
                "aud": "console-client-credentials",
                "jti": str(uuid.uuid4()),
                "iat": now,
                "exp": now + 3600,
            },
            key,
            algorithm="RS256",
            headers={"alg": "RS256", "typ": "JWT", "kid": key_id},
        )
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": signed,
            "client_id": client_id,
            "token_endpoint_auth_method": "private_key_jwt",
        }
        from urllib.parse import urlencode

        response = self.http.post(TOKEN_URL, urlencode(form), content_type=FORM, **MIACTL)
        assert response.status_code == 200, response.content
        self.token = response.json()["access_token"]

    def __call__(self, method, path, body=None):
        headers = {**MIACTL, "HTTP_AUTHORIZATION": f"Bearer {self.token}"}
        if method == "GET":
            response = self.http.get(path, **headers)
        else:
            data = json.dumps(body) if body is not None else ""
            response = getattr(self.http, method.lower())(
                path, data, content_type="application/json", **headers
            )
        assert response.status_code == 200, (method, path, response.content)
        return response.json()


def page_text(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def test_miactl_end_to_end_then_the_portal_shows_it(demo):
    # Bootstrap: the operator creates the automation's account on the command line.
    out = io.StringIO()
    call_command(
        "create_service_account",
        "--company",
        "acme",
        "--name",
        "pipeline",
        "--role",
        "company-owner",
        "--json",
        stdout=out,
    )
    credentials = json.loads(out.getvalue())
    miactl = Miactl()
    miactl.login_basic(credentials["clientId"], credentials["clientSecret"])

    # company iam list (+ each specific list)
    identities = miactl("GET", f"{ACME}/identities")
    assert {i["identityType"] for i in identities} == {"user", "group", "serviceaccount"}
    assert miactl("GET", f"{ACME}/identities?identityType=user")
    users = miactl("GET", f"{ACME}/users")
    assert miactl("GET", f"{ACME}/groups")[0]["name"] == "Acme Developers"
    assert "pipeline" in [a["name"] for a in miactl("GET", f"{ACME}/service-accounts")]

    # company iam add user
    User.objects.create_user("new.hire@acme.test", "x", full_name="Nora Hire")
    miactl("POST", f"{ACME}/users", {"email": "new.hire@acme.test", "role": "developer"})
    nora = next(u for u in miactl("GET", f"{ACME}/users") if u["email"] == "new.hire@acme.test")
    assert nora["companyRoles"] == ["developer"]

    # company iam edit user; project iam edit (project role, then environment role with miactl's quirk)
    url = f"{ACME}/users/{nora['userId']}"
    assert miactl("PATCH", url, {"role": "maintainer"}) == {
        "statusCode": 200,
        "message": "identity roles successfully updated",
    }
    miactl("PATCH", url, {"projectsRole": [{"projectId": "webshop", "role": "developer"}]})
    miactl(
        "PATCH",
        url,
        {
            "projectsRole": [
                {
                    "projectId": "webshop",
                    "role": "",
                    "environmentsRole": [{"envId": "production", "role": "reporter"}],
                }
            ]
        },
    )
    project_list = miactl("GET", f"{ACME}/identities?projectIds=webshop&identityType=user")
    (row,) = [i for i in project_list if i["identityId"] == nora["userId"]]
    assert row["projects"] == [
        {
            "_id": "webshop",
            "roles": ["developer"],
            "until": None,
            "environments": [{"envId": "production", "roles": ["reporter"], "until": None}],
        }
    ]

    # company iam add group / group-member, remove group-member
    created = miactl("POST", f"{ACME}/groups", {"name": "Release crew", "role": "reporter", "members": []})
    group_id = created["_id"]
    miactl(
        "POST", f"{ACME}/groups/{group_id}/members", {"emails": ["new.hire@acme.test", "senior@acme.test"]}
    )
    senior = next(u for u in users if u["email"] == "senior@acme.test")
    miactl("DELETE", f"{ACME}/groups/{group_id}/members", {"memberIds": [senior["userId"]]})
    (crew,) = [g for g in miactl("GET", f"{ACME}/groups") if g["_id"] == group_id]
    assert [m["name"] for m in crew["members"]] == ["Nora Hire"]
    miactl("PATCH", f"{ACME}/groups/{group_id}", {"role": "developer"})

    # company iam add serviceaccount basic / jwt; the JWT one signs in like miactl with its saved key
    basic = miactl(
        "POST",
        f"{ACME}/service-accounts",
        {"name": "nightly-report", "tokenEndpointAuthMethod": "client_secret_basic", "role": "reporter"},
    )
    assert set(basic) == {"clientId", "clientSecret", "clientIdIssuedAt", "company"}
    key = rsa_private_key(4096)
    jwt_account = miactl(
        "POST",
        f"{ACME}/service-accounts",
        {
            "name": "deploy-bot",
            "tokenEndpointAuthMethod": "private_key_jwt",
            "role": "developer",
            "publicKey": public_jwk(key),
        },
    )
    assert set(jwt_account) == {"clientId", "clientIdIssuedAt"}
    deploy_bot = Miactl()
    deploy_bot.login_jwt(jwt_account["clientId"], "miactl", key)
    assert deploy_bot("GET", "/api/me")["role"] == "developer"
    miactl("PATCH", f"{ACME}/service-accounts/{jwt_account['clientId']}", {"role": "maintainer"})

    # company iam remove user / serviceaccount
    designer = next(u for u in users if u["email"] == "designer2@acme.test")
    miactl("DELETE", f"{ACME}/users/{designer['userId']}?removeFromGroups=true")
    miactl("DELETE", f"{ACME}/service-accounts/{basic['clientId']}")

    # The database agrees.
    assert not ServiceAccount.objects.filter(client_id=basic["clientId"]).exists()
    assert not RoleBinding.objects.filter(user__email="designer2@acme.test").exists()
    assert Group.objects.get(name="Release crew").members.get().email == "new.hire@acme.test"

    # The portal's pages show the result to the Company Owner.
    browser = Client()
    browser.force_login(User.objects.get(email="owner@acme.test"))
    iam = page_text(browser, "/companies/acme/iam/")
    for name in ("Nora Hire", "Release crew", "deploy-bot", "pipeline"):
        assert name in iam
    assert "nightly-report" not in iam
    assert "Dario Designer" not in iam
    users_page = page_text(browser, "/companies/acme/users/")
    assert re.search(r"Nora Hire new\.hire@acme\.test Maintainer .*Release crew", users_page)
    assert "designer2@acme.test" not in users_page
    groups_page = page_text(browser, "/companies/acme/groups/")
    assert re.search(r"Release crew Developer 1\b", groups_page)
    detail = page_text(browser, f"/companies/acme/groups/{group_id}/")
    assert "Nora Hire" in detail and "Sara Senior" not in detail
    accounts_page = page_text(browser, "/companies/acme/service-accounts/")
    assert re.search(
        r"deploy-bot " + re.escape(jwt_account["clientId"]) + r" Private Key JWT Maintainer", accounts_page
    )
    assert "nightly-report" not in accounts_page
    project_page = page_text(browser, "/companies/acme/projects/webshop/iam/")
    assert "Nora Hire" in project_page
