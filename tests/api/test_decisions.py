"""GET /api/me and POST /api/authz/check (the explain command over HTTP)."""

import pytest

from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import ServiceAccount, hash_secret
from tests.helpers import Credentials, error

pytestmark = pytest.mark.django_db

CHECK = "/api/authz/check"
DEVELOPERS_PATH = 'Developer on company acme (via group "Acme Developers")'


def test_me(api, demo, make_account):
    bot = make_account("maintainer", name="me-bot")
    RoleBinding.objects.create(service_account=bot.account, project=demo.webshop, role="project-admin")
    response = api.get("/api/me", token=api.token(bot))
    assert response.status_code == 200
    body = response.json()
    last_login = body.pop("lastLogin")
    assert body == {
        "clientId": bot.client_id,
        "name": "me-bot",
        "authMethod": "client_secret_basic",
        "company": "acme",
        "role": "maintainer",
        "rootPermissions": [],
    }
    assert last_login.endswith("Z")


def test_me_of_a_jwt_account(api, demo, make_account):
    bot = make_account("reporter", jwt=True)
    assert api.get("/api/me", token=api.token(bot)).json()["authMethod"] == "private_key_jwt"


def test_me_of_a_root_account(api, demo):
    account = ServiceAccount.objects.create(
        name="root-bot", root_permissions=["console.root.view", "bogus"], secret_hash=hash_secret("s")
    )
    body = api.get("/api/me", token=api.token(Credentials(account, secret="s"))).json()
    assert (body["company"], body["role"], body["rootPermissions"]) == (None, None, ["console.root.view"])


def test_me_without_a_company_role(api, demo, make_account):
    assert api.get("/api/me", token=api.token(make_account(None))).json()["role"] is None


def check(api, token, identity, resource, permission):
    return api.post(
        CHECK, {"identity": identity, "resource": resource, "permission": permission}, token=token
    )


def test_an_account_asks_about_itself(api, demo, make_account):
    bot = make_account("maintainer")
    token = api.token(bot)
    response = check(
        api,
        token,
        bot.client_id,
        "acme/webshop/production",
        "console.company.project.environment.deploy.trigger",
    )
    assert response.status_code == 200
    assert response.json() == {"allowed": True, "paths": ["Maintainer on company acme (direct)"]}
    response = check(api, token, bot.client_id, "acme", "console.company.users.manage")
    assert response.json() == {"allowed": False, "paths": []}


def test_the_same_answer_as_explain(api, demo, owner_token):
    response = check(
        api, owner_token, "junior1@acme.test", "acme/webshop/staging", "console.environment.deploy.trigger"
    )
    assert response.json() == {
        "allowed": True,
        "paths": ["Maintainer on environment acme/webshop/staging (direct)"],
    }
    response = check(
        api, owner_token, "junior1@acme.test", "acme/webshop/production", "console.environment.deploy.trigger"
    )
    assert response.json() == {"allowed": False, "paths": []}
    response = check(
        api, owner_token, "JUNIOR2@acme.test", "acme/payments", "console.company.project.configuration.update"
    )
    assert response.json() == {"allowed": True, "paths": [DEVELOPERS_PATH]}


def test_groups_and_other_accounts_as_identities(api, demo, owner_token):
    response = check(api, owner_token, "group:acme/Acme Developers", "acme", "console.company.project.view")
    assert response.json() == {"allowed": True, "paths": ["Developer on company acme (direct)"]}
    response = check(api, owner_token, "demo-metrics-reader", "acme/webshop", "console.company.project.view")
    assert response.json() == {"allowed": True, "paths": ["Reporter on company acme (direct)"]}


def test_asking_about_others_needs_the_right_to_manage_identities(api, demo, make_account):
    token = api.token(make_account("maintainer"))
    body = error(check(api, token, "owner@acme.test", "acme", "console.company.view"))
    assert body["statusCode"] == 403
    body = error(check(api, token, "nobody@acme.test", "acme", "console.company.view"))
    assert body["statusCode"] == 403  # the same answer whether the identity exists or not


def test_a_root_viewer_may_ask_about_anyone(api, demo):
    account = ServiceAccount.objects.create(
        name="root-viewer", root_permissions=["console.root.view"], secret_hash=hash_secret("s")
    )
    token = api.token(Credentials(account, secret="s"))
    response = check(api, token, "owner@globex.test", "globex", "console.company.users.manage")
    assert response.json() == {"allowed": True, "paths": ["Company Owner on company globex (direct)"]}


def test_resources_of_another_company_do_not_exist_for_the_caller(api, demo, make_account, owner_token):
    globex_bot = make_account("company-owner", company=demo.globex)
    token = api.token(globex_bot)
    for resource in ("acme", "acme/webshop", "acme/nonexistent"):
        body = error(check(api, token, globex_bot.client_id, resource, "console.company.view"))
        assert body["statusCode"] == 404
    body = error(check(api, owner_token, "owner@acme.test", "globex", "console.company.view"))
    assert body["statusCode"] == 404


def question(identity="owner@acme.test", resource="acme", permission="console.company.view") -> dict:
    return {"identity": identity, "resource": resource, "permission": permission}


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (question(identity="ghost@acme.test"), 404, "unknown identity"),
        (question(identity="group:acme/nobody"), 404, "unknown group"),
        (question(identity="group:acme"), 400, "malformed group"),
        (question(resource="acme/webshop/nope"), 404, "unknown resource"),
        (question(resource="a/b/c/d"), 400, "malformed"),
        (question(resource="acme//x"), 400, "malformed"),
        (question(permission="console.nothing"), 400, "unknown permission"),
        (question(permission="DROP TABLE"), 400, "malformed permission"),
        ({"identity": "owner@acme.test", "resource": "acme"}, 400, "permission"),
        (question(identity=""), 400, "identity"),
        (question(identity="owner@acme.test\x00"), 400, "NUL"),
        (question(identity=5), 400, "identity"),
        (question(identity="o" * 400), 400, "identity"),
    ],
)
def test_bad_questions(api, demo, owner_token, body, status, words):
    response = api.post(CHECK, body, token=owner_token)
    payload = error(response)
    assert payload["statusCode"] == status
    assert words in payload["message"]


def test_a_revoked_role_is_answered_at_once(api, demo, owner_token):
    args = ("senior@acme.test", "acme/webshop", "console.project.configuration.update")
    assert check(api, owner_token, *args).json()["allowed"] is True
    RoleBinding.objects.filter(user=demo.user("senior"), project=demo.webshop).delete()
    assert check(api, owner_token, *args).json() == {"allowed": False, "paths": []}


def test_the_check_costs_a_fixed_number_of_queries(api, demo, owner_token, django_assert_num_queries):
    # token's account, resource, the caller's grants on the company, the identity, its grants
    with django_assert_num_queries(5):
        response = check(
            api, owner_token, "junior1@acme.test", "acme/webshop/staging", "console.environment.view"
        )
    assert response.json()["allowed"] is True
