"""POST and DELETE of users, groups, group members and service accounts: exact bodies, database state, and
nothing changed on a refusal."""

import datetime
import json

import pytest
from django.utils import timezone
from jwt.algorithms import RSAAlgorithm

from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User, hash_secret
from tests.helpers import Credentials, error, private_pem, public_jwk, public_pem, rsa_private_key, snapshot

pytestmark = pytest.mark.django_db

ACME = "/api/companies/acme"


def refused(api, method, path, body, token, status, words=""):
    before = snapshot()
    response = api.call(method, path, body, token=token)
    payload = error(response)
    assert payload["statusCode"] == status, payload
    assert words in payload["message"]
    assert snapshot() == before
    return payload


# -- users ----------------------------------------------------------------------------------------------


def test_add_user(api, demo, owner_token):
    User.objects.create_user("new@acme.test", "x", full_name="New Person")
    response = api.post(f"{ACME}/users", {"email": "New@Acme.test", "role": "developer"}, token=owner_token)
    assert response.status_code == 200
    user = User.objects.get(email="new@acme.test")
    assert response.json() == {
        "statusCode": 200,
        "message": "user new@acme.test added to acme company",
        "userId": str(user.pk),
    }
    binding = RoleBinding.objects.get(user=user)
    assert (binding.company, binding.role, binding.created_by) == (demo.acme, "developer", None)


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"email": "ghost@acme.test", "role": "developer"}, 400, "No Console account uses ghost@acme.test"),
        ({"email": "junior1@acme.test", "role": "developer"}, 400, "already has direct access"),
        ({"email": "outsider@acme.test", "role": "boss"}, 400, "invalid role for company"),
        ({"email": "outsider@acme.test"}, 400, "role"),
        ({"role": "guest"}, 400, "email"),
        ({"email": ["outsider@acme.test"], "role": "guest"}, 400, "email"),
        ({"email": "", "role": "guest"}, 400, "email"),
        ({"email": "o" * 300 + "@acme.test", "role": "guest"}, 400, "email"),
        ({"email": "outsider@acme.test\x00", "role": "guest"}, 400, "NUL"),
    ],
)
def test_add_user_refusals(api, demo, owner_token, body, status, words):
    User.objects.create_user("outsider@acme.test", "x")
    refused(api, "POST", f"{ACME}/users", body, owner_token, status, words)


def test_remove_user_with_groups(api, demo, owner_token):
    junior = demo.user("junior1")
    response = api.delete(f"{ACME}/users/{junior.pk}?removeFromGroups=true", token=owner_token)
    assert response.json() == {"statusCode": 200, "message": f"user {junior.pk} successfully removed"}
    assert not RoleBinding.objects.filter(user=junior).exists()
    assert not GroupMembership.objects.filter(user=junior).exists()


@pytest.mark.parametrize("query", ["", "?removeFromGroups=false", "?removeFromGroups=0"])
def test_remove_user_without_groups_keeps_memberships(api, demo, owner_token, query):
    junior = demo.user("junior1")
    assert api.delete(f"{ACME}/users/{junior.pk}{query}", token=owner_token).status_code == 200
    assert not RoleBinding.objects.filter(user=junior).exists()  # company, project and environment roles
    assert GroupMembership.objects.filter(user=junior, group=demo.developers).exists()
    # Still a company user through the group, so still listed.
    listed = api.get(f"{ACME}/users", token=owner_token).json()
    assert [u["companyRoles"] for u in listed if u["userId"] == str(junior.pk)] == [[]]


def test_remove_direct_access_of_a_user_with_none_is_400(api, demo, owner_token):
    junior = demo.user("junior1")
    RoleBinding.objects.filter(user=junior).delete()
    refused(api, "DELETE", f"{ACME}/users/{junior.pk}", None, owner_token, 400, "no direct role")


@pytest.mark.parametrize(
    ("name", "query", "status", "words"),
    [
        ("owner", "?removeFromGroups=true", 409, "Company Owner"),  # the last owner
        ("junior1", "?removeFromGroups=maybe", 400, "removeFromGroups"),  # a bad flag
    ],
)
def test_remove_user_refusals(api, demo, owner_token, name, query, status, words):
    path = f"{ACME}/users/{demo.user(name).pk}{query}"
    refused(api, "DELETE", path, None, owner_token, status, words)


@pytest.mark.parametrize("path", ["users/999999", "users/abc", "users/-1"])
def test_remove_unknown_user_is_404(api, demo, owner_token, path):
    refused(api, "DELETE", f"{ACME}/{path}?removeFromGroups=true", None, owner_token, 404)


# -- groups ---------------------------------------------------------------------------------------------


def test_create_group_like_miactl(api, demo, owner_token):
    response = api.post(
        f"{ACME}/groups", {"name": "Release crew", "role": "reporter", "members": []}, token=owner_token
    )
    group = Group.objects.get(company=demo.acme, name="Release crew")
    assert response.json() == {
        "statusCode": 200,
        "message": "group Release crew added to acme company",
        "_id": str(group.pk),
    }
    assert RoleBinding.objects.get(group=group).role == "reporter"
    assert not group.memberships.exists()


def test_create_group_with_members(api, demo, owner_token):
    api.post(
        f"{ACME}/groups",
        {"name": "Crew", "role": "guest", "members": ["senior@acme.test", "pm@acme.test"]},
        token=owner_token,
    )
    group = Group.objects.get(name="Crew")
    assert sorted(group.members.values_list("email", flat=True)) == ["pm@acme.test", "senior@acme.test"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"name": "acme developers", "role": "guest", "members": []}, 400, "already exists"),
        ({"name": "Crew", "role": "guest", "members": ["ghost@acme.test"]}, 400, "ghost@acme.test"),
        ({"name": "Crew", "role": "chief", "members": []}, 400, "invalid role for company"),
        ({"name": "   ", "role": "guest", "members": []}, 400, "blank"),
        ({"name": "", "role": "guest"}, 400, "name"),
        ({"name": "x" * 151, "role": "guest"}, 400, "name"),
        ({"name": "Crew", "role": "guest", "members": "pm@acme.test"}, 400, "members"),
        ({"name": "Crew\x00", "role": "guest"}, 400, "NUL"),
    ],
)
def test_create_group_refusals(api, demo, owner_token, body, status, words):
    refused(api, "POST", f"{ACME}/groups", body, owner_token, status, words)


def test_delete_group(api, demo, owner_token):
    group = demo.developers
    response = api.delete(f"{ACME}/groups/{group.pk}", token=owner_token)
    assert response.json() == {"statusCode": 200, "message": f"group {group.pk} successfully removed"}
    assert not Group.objects.filter(pk=group.pk).exists()
    assert not RoleBinding.objects.filter(group_id=group.pk).exists()


def test_delete_the_group_of_the_last_owner_is_409(api, demo, make_account):
    owners = Group.objects.create(company=demo.acme, name="Owners")
    RoleBinding.objects.create(group=owners, company=demo.acme, role="company-owner")
    owner = demo.user("owner")
    GroupMembership.objects.create(group=owners, user=owner)
    RoleBinding.objects.filter(user=owner, company=demo.acme).delete()
    token = api.token(make_account("company-owner"))
    refused(api, "DELETE", f"{ACME}/groups/{owners.pk}", None, token, 409, "Company Owner")


def test_add_members(api, demo, owner_token):
    group = demo.developers
    response = api.post(
        f"{ACME}/groups/{group.pk}/members",
        {"emails": ["senior@acme.test", "junior1@acme.test"]},
        token=owner_token,
    )
    assert response.json() == {"statusCode": 200, "message": "the users have been added to the group"}
    assert sorted(group.members.values_list("email", flat=True)) == [
        "junior1@acme.test",
        "junior2@acme.test",
        "senior@acme.test",
    ]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"emails": ["senior@acme.test", "ghost@acme.test"]}, "ghost@acme.test"),
        ({"emails": []}, "emails"),
        ({}, "emails"),
        ({"emails": [1]}, "emails"),
    ],
)
def test_add_members_refusals(api, demo, owner_token, body, words):
    refused(api, "POST", f"{ACME}/groups/{demo.developers.pk}/members", body, owner_token, 400, words)


def test_remove_members_with_a_json_body(api, demo, owner_token):
    group = demo.developers
    ids = [str(demo.user("junior1").pk), str(demo.user("junior2").pk)]
    response = api.delete(f"{ACME}/groups/{group.pk}/members", {"memberIds": ids}, token=owner_token)
    assert response.json() == {"statusCode": 200, "message": "the users have been removed from the group"}
    assert not group.memberships.exists()


def test_remove_members_is_all_or_nothing(api, demo, owner_token):
    group = demo.developers
    ids = [str(demo.user("junior1").pk), str(demo.user("senior").pk)]  # senior is not a member
    refused(
        api,
        "DELETE",
        f"{ACME}/groups/{group.pk}/members",
        {"memberIds": ids},
        owner_token,
        400,
        "not a member",
    )


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"memberIds": ["999999"]}, 404),
        ({"memberIds": ["x"]}, 404),
        ({"memberIds": []}, 400),
        ({}, 400),
        ({"memberIds": [5]}, 400),
        (None, 400),
    ],
)
def test_remove_members_refusals(api, demo, owner_token, body, status):
    refused(api, "DELETE", f"{ACME}/groups/{demo.developers.pk}/members", body, owner_token, status)


def test_remove_a_member_of_another_company_is_404(api, demo, owner_token):
    globex_owner = User.objects.get(email="owner@globex.test")
    body = {"memberIds": [str(globex_owner.pk)]}
    refused(api, "DELETE", f"{ACME}/groups/{demo.developers.pk}/members", body, owner_token, 404)


@pytest.mark.parametrize("method", ["DELETE", "POST"])
def test_groups_of_another_company_are_404(api, demo, owner_token, method):
    from iam_portal.orgs.models import Company

    foreign = Group.objects.create(company=Company.objects.get(slug="globex"), name="Globex crew")
    path = f"{ACME}/groups/{foreign.pk}" if method == "DELETE" else f"{ACME}/groups/{foreign.pk}/members"
    refused(api, method, path, {"emails": ["pm@acme.test"]}, owner_token, 404)


# -- service accounts -------------------------------------------------------------------------------------


def test_create_basic_service_account(api, demo, owner_token):
    before = int(timezone.now().timestamp())
    response = api.post(
        f"{ACME}/service-accounts",
        {"name": "sa", "tokenEndpointAuthMethod": "client_secret_basic", "role": "reporter"},
        token=owner_token,
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"clientId", "clientSecret", "clientIdIssuedAt", "company"}
    account = ServiceAccount.objects.get(client_id=body["clientId"])
    assert body["company"] == "acme"
    assert before <= body["clientIdIssuedAt"] <= int(timezone.now().timestamp())
    assert isinstance(body["clientIdIssuedAt"], int)
    assert account.secret_hash == hash_secret(body["clientSecret"])
    assert body["clientSecret"] not in json.dumps(
        api.get(f"{ACME}/service-accounts", token=owner_token).json()
    )
    assert RoleBinding.objects.get(service_account=account).role == "reporter"
    # The secret works at once, and is never shown again.
    assert api.token(Credentials(account, secret=body["clientSecret"]))


def test_create_jwt_service_account_like_miactl(api, demo, owner_token):
    key = rsa_private_key()
    response = api.post(
        f"{ACME}/service-accounts",
        {
            "name": "sa",
            "tokenEndpointAuthMethod": "private_key_jwt",
            "role": "reporter",
            "publicKey": public_jwk(key),
        },
        token=owner_token,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"clientId", "clientIdIssuedAt"}
    account = ServiceAccount.objects.get(client_id=body["clientId"])
    assert (account.auth_method, account.key_id, account.secret_hash) == ("private_key_jwt", "miactl", "")
    assert account.public_key["alg"] == "RS256"
    assert api.token(Credentials(account, key=key))


def test_create_jwt_service_account_from_pem(api, demo, owner_token, keys):
    response = api.post(
        f"{ACME}/service-accounts",
        {
            "name": "pem-sa",
            "tokenEndpointAuthMethod": "private_key_jwt",
            "role": "guest",
            "publicKey": public_pem(keys[2]),
        },
        token=owner_token,
    )
    account = ServiceAccount.objects.get(client_id=response.json()["clientId"])
    assert len(account.key_id) == 43  # the RFC 7638 thumbprint
    assert api.token(Credentials(account, key=keys[2]))


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            {"name": "sa", "tokenEndpointAuthMethod": "private_key_jwt", "role": "reporter"},
            "publicKey is required",
        ),
        (
            {
                "name": "sa",
                "tokenEndpointAuthMethod": "client_secret_basic",
                "role": "reporter",
                "publicKey": "x",
            },
            "only for private_key_jwt",
        ),
        (
            {
                "name": "sa",
                "tokenEndpointAuthMethod": "private_key_jwt",
                "role": "reporter",
                "publicKey": "nonsense",
            },
            "Not a key",
        ),
        (
            {
                "name": "sa",
                "tokenEndpointAuthMethod": "private_key_jwt",
                "role": "reporter",
                "publicKey": {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
            },
            "use an RSA key of at least 2048 bits",
        ),
        ({"name": "sa", "tokenEndpointAuthMethod": "basic", "role": "reporter"}, "tokenEndpointAuthMethod"),
        (
            {"name": "ci-deployer", "tokenEndpointAuthMethod": "client_secret_basic", "role": "reporter"},
            "already exists",
        ),
        ({"name": "sa", "tokenEndpointAuthMethod": "client_secret_basic", "role": "root"}, "invalid role"),
        ({"name": " ", "tokenEndpointAuthMethod": "client_secret_basic", "role": "guest"}, "blank"),
        ({"name": "s" * 151, "tokenEndpointAuthMethod": "client_secret_basic", "role": "guest"}, "name"),
    ],
)
def test_create_service_account_refusals(api, demo, owner_token, body, words):
    refused(api, "POST", f"{ACME}/service-accounts", body, owner_token, 400, words)


def test_a_private_jwk_is_refused(api, demo, owner_token):
    key = rsa_private_key()
    private = json.loads(RSAAlgorithm.to_jwk(key))
    body = {"name": "sa", "tokenEndpointAuthMethod": "private_key_jwt", "role": "guest", "publicKey": private}
    refused(api, "POST", f"{ACME}/service-accounts", body, owner_token, 400, "private key")
    body["publicKey"] = private_pem(key)
    refused(api, "POST", f"{ACME}/service-accounts", body, owner_token, 400, "private key")


def test_delete_service_account(api, demo, owner_token):
    response = api.delete(f"{ACME}/service-accounts/{demo.reader.client_id}", token=owner_token)
    assert response.json() == {
        "statusCode": 200,
        "message": "service account demo-metrics-reader successfully removed",
    }
    assert not ServiceAccount.objects.filter(pk=demo.reader.pk).exists()


def test_delete_service_account_of_another_company_is_404(api, demo, owner_token):
    from iam_portal.orgs.models import Company

    foreign = ServiceAccount.objects.create(company=Company.objects.get(slug="globex"), name="g")
    refused(api, "DELETE", f"{ACME}/service-accounts/{foreign.client_id}", None, owner_token, 404)


def test_last_login_of_the_calling_account_shows_in_the_list(api, demo, make_account):
    bot = make_account("company-owner", name="aaa-bot")
    token = api.token(bot)
    (item,) = [i for i in api.get(f"{ACME}/service-accounts", token=token).json() if i["name"] == "aaa-bot"]
    seen = datetime.datetime.fromisoformat(item["lastLogin"].replace("Z", "+00:00"))
    assert timezone.now() - seen < datetime.timedelta(minutes=1)
