"""GET identities, users, groups and service-accounts: exact shapes (spec §6.3), filters, pagination, and
a query count that does not grow with the company."""

import datetime

import pytest
from django.utils import timezone

from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from tests.helpers import error

pytestmark = pytest.mark.django_db

ACME = "/api/companies/acme"


def ids(demo, *names):
    return [str(demo.user(name).pk) for name in names]


@pytest.fixture
def bot(make_account):
    return make_account("company-owner", name="owner-bot")


@pytest.fixture
def token(api, bot):
    return api.token(bot)


def test_identities_lists_every_kind_with_direct_company_roles(api, demo, token, bot):
    response = api.get(f"{ACME}/identities", token=token)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "x-total-pages" not in response
    users = [
        ("designer1", "Dana Designer", "guest"),
        ("designer2", "Dario Designer", "guest"),
        ("junior1", "Jun One", "guest"),
        ("junior2", "Jun Two", "guest"),
        ("lead", "Luca Lead", "guest"),
        ("owner", "Olivia Owner", "company-owner"),
        ("pm", "Paula Manager", "guest"),
        ("senior", "Sara Senior", "guest"),
    ]
    expected = [
        {
            "identityId": str(demo.user(u).pk),
            "name": n,
            "identityType": "user",
            "companyRoles": [r],
            "until": None,
            "projects": [],
        }
        for u, n, r in users
    ]
    expected.append(
        {
            "identityId": str(demo.developers.pk),
            "name": "Acme Developers",
            "identityType": "group",
            "companyRoles": ["developer"],
            "until": None,
            "projects": [],
        }
    )
    for account, role in [
        (demo.deployer, "maintainer"),
        (demo.reader, "reporter"),
        (bot.account, "company-owner"),
    ]:
        expected.append(
            {
                "identityId": account.client_id,
                "name": account.name,
                "identityType": "serviceaccount",
                "companyRoles": [role],
                "until": None,
                "projects": [],
            }
        )
    assert response.json() == expected


def test_users_with_access_through_groups_only_have_no_company_roles(api, demo, token):
    newcomer = User.objects.create_user("newcomer@acme.test", "x", full_name="Ann Newcomer")
    GroupMembership.objects.create(group=demo.developers, user=newcomer)
    items = api.get(f"{ACME}/identities?identityType=user", token=token).json()
    (item,) = [i for i in items if i["identityId"] == str(newcomer.pk)]
    assert item["companyRoles"] == []
    assert item["projects"] == []


@pytest.mark.parametrize(
    ("query", "types"),
    [
        ("identityType=user", {"user"}),
        ("identityType=group", {"group"}),
        ("identityType=serviceaccount", {"serviceaccount"}),
        ("identityType=serviceAccount", {"serviceaccount"}),
        ("identityType=user&identityType=group", {"user", "group"}),
        ("identityType=group,serviceaccount", {"group", "serviceaccount"}),
    ],
)
def test_identity_type_filter(api, demo, token, query, types):
    items = api.get(f"{ACME}/identities?{query}", token=token).json()
    assert {i["identityType"] for i in items} == types


def test_unknown_identity_type_is_400(api, demo, token):
    body = error(api.get(f"{ACME}/identities?identityType=robot", token=token))
    assert body["statusCode"] == 400
    assert "identityType" in body["message"]


def test_project_listing_carries_project_and_environment_roles(api, demo, token, bot):
    RoleBinding.objects.create(group=demo.developers, project=demo.webshop, role="reporter")
    RoleBinding.objects.create(service_account=demo.deployer, environment=demo.production, role="maintainer")
    items = api.get(f"{ACME}/identities?projectIds=webshop", token=token).json()
    by_id = {i["identityId"]: i for i in items}
    # Every identity of the company is listed, also those whose access is only inherited.
    assert len(items) == 12
    assert by_id[str(demo.user("owner").pk)]["projects"] == []
    assert by_id[str(demo.user("owner").pk)]["companyRoles"] == ["company-owner"]
    assert by_id[str(demo.user("junior1").pk)]["projects"] == [
        {
            "_id": "webshop",
            "roles": ["developer"],
            "until": None,
            "environments": [{"envId": "staging", "roles": ["maintainer"], "until": None}],
        }
    ]
    assert by_id[str(demo.user("pm").pk)]["projects"] == [
        {"_id": "webshop", "roles": ["project-admin"], "until": None, "environments": []}
    ]
    assert by_id[str(demo.developers.pk)]["projects"] == [
        {"_id": "webshop", "roles": ["reporter"], "until": None, "environments": []}
    ]
    assert by_id[demo.deployer.client_id]["projects"] == [
        {
            "_id": "webshop",
            "roles": [],
            "until": None,
            "environments": [{"envId": "production", "roles": ["maintainer"], "until": None}],
        }
    ]
    assert by_id[bot.client_id]["projects"] == []


def test_project_listing_with_a_type_filter(api, demo, token):
    items = api.get(f"{ACME}/identities?projectIds=webshop&identityType=group", token=token).json()
    assert [i["name"] for i in items] == ["Acme Developers"]


def test_project_listing_of_a_project_without_roles(api, demo, token):
    items = api.get(f"{ACME}/identities?projectIds=payments", token=token).json()
    assert len(items) == 12
    assert all(i["projects"] == [] for i in items)


def test_several_projects(api, demo, token):
    RoleBinding.objects.create(user=demo.user("pm"), project=demo.payments, role="reporter")
    items = api.get(f"{ACME}/identities?projectIds=webshop&projectIds=payments", token=token).json()
    (pm,) = [i for i in items if i["identityId"] == str(demo.user("pm").pk)]
    assert sorted(p["_id"] for p in pm["projects"]) == ["payments", "webshop"]


@pytest.mark.parametrize("project", ["nope", "research", "UPPER", "a" * 300, "%00"])
def test_unknown_or_foreign_project_is_404(api, demo, token, project):
    response = api.get(f"{ACME}/identities?projectIds={project}", token=token)
    assert error(response)["statusCode"] == 404


def test_project_viewers_see_only_identities_with_access(api, demo, make_account):
    """A Reporter-level account may view projects but not manage their identities: it sees who has access,
    as the Project IAM page shows them read-only."""
    reader_token = api.token(make_account("reporter", name="reader-bot"))
    outsider = User.objects.create_user("outsider@acme.test", "x", full_name="Out Sider")
    RoleBinding.objects.create(user=outsider, company=demo.acme, role="guest")  # guest: no project view
    newcomer = User.objects.create_user("newcomer@acme.test", "x", full_name="Ann Newcomer")
    GroupMembership.objects.create(group=demo.developers, user=newcomer)  # developers see every project
    response = api.get(f"{ACME}/identities?projectIds=webshop", token=reader_token)
    assert response.status_code == 200
    names = [i["name"] for i in response.json()]
    assert "Out Sider" not in names
    assert "Ann Newcomer" in names
    assert "Jun One" in names and "Olivia Owner" in names
    # Without projectIds the same account may not list the company.
    assert api.get(f"{ACME}/identities", token=reader_token).status_code == 403


def test_users_list(api, demo, token):
    seen = timezone.make_aware(datetime.datetime(2026, 1, 2, 3, 4, 5, 678000), datetime.UTC)
    User.objects.filter(email="junior1@acme.test").update(last_login=seen)
    response = api.get(f"{ACME}/users", token=token)
    assert response.status_code == 200
    items = response.json()
    assert [i["email"] for i in items] == [
        f"{u}@acme.test"
        for u in ["designer1", "designer2", "junior1", "junior2", "lead", "owner", "pm", "senior"]
    ]
    junior = items[2]
    group = demo.developers
    assert junior == {
        "userId": str(demo.user("junior1").pk),
        "email": "junior1@acme.test",
        "fullname": "Jun One",
        "name": "Jun One",
        "companyRoles": ["guest"],
        "until": None,
        "lastLogin": "2026-01-02T03:04:05.678Z",
        "groups": [
            {
                "_id": str(group.pk),
                "name": "Acme Developers",
                "role": "developer",
                "roleId": "developer",
                "until": None,
            }
        ],
    }
    assert items[0]["lastLogin"] == ""
    assert items[0]["groups"] == []


def test_user_without_full_name_is_named_by_email(api, demo, token):
    user = User.objects.create_user("nameless@acme.test", "x")
    RoleBinding.objects.create(user=user, company=demo.acme, role="guest")
    (item,) = [i for i in api.get(f"{ACME}/users", token=token).json() if i["email"] == "nameless@acme.test"]
    assert (item["fullname"], item["name"]) == ("", "nameless@acme.test")


def test_groups_list(api, demo, token):
    empty = Group.objects.create(company=demo.acme, name="Empty crew")
    items = api.get(f"{ACME}/groups", token=token).json()
    assert items == [
        {
            "_id": str(demo.developers.pk),
            "name": "Acme Developers",
            "role": "developer",
            "roleId": "developer",
            "until": None,
            "members": [
                {
                    "userId": str(demo.user("junior1").pk),
                    "email": "junior1@acme.test",
                    "fullname": "Jun One",
                    "name": "Jun One",
                },
                {
                    "userId": str(demo.user("junior2").pk),
                    "email": "junior2@acme.test",
                    "fullname": "Jun Two",
                    "name": "Jun Two",
                },
            ],
        },
        {"_id": str(empty.pk), "name": "Empty crew", "role": "", "roleId": "", "until": None, "members": []},
    ]


def test_service_accounts_list(api, demo, token, bot):
    ServiceAccount.objects.filter(pk=demo.reader.pk).update(
        last_login=datetime.datetime(2026, 5, 6, 7, 8, 9, tzinfo=datetime.UTC)
    )
    bot.account.refresh_from_db()
    items = api.get(f"{ACME}/service-accounts", token=token).json()
    assert items == [
        {
            "clientId": demo.deployer.client_id,
            "name": "ci-deployer",
            "authMethod": "private_key_jwt",
            "companyRoles": ["maintainer"],
            "until": None,
            "lastLogin": "",
        },
        {
            "clientId": "demo-metrics-reader",
            "name": "metrics-reader",
            "authMethod": "client_secret_basic",
            "companyRoles": ["reporter"],
            "until": None,
            "lastLogin": "2026-05-06T07:08:09.000Z",
        },
        {
            "clientId": bot.client_id,
            "name": "owner-bot",
            "authMethod": "client_secret_basic",
            "companyRoles": ["company-owner"],
            "until": None,
            "lastLogin": bot.account.last_login.astimezone(datetime.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
        },
    ]


def test_the_other_company_is_not_listed(api, demo, token):
    for path in ("identities", "users", "groups", "service-accounts"):
        items = api.get(f"{ACME}/{path}", token=token).json()
        assert "owner@globex.test" not in str(items)


@pytest.mark.parametrize("path", ["identities", "users", "groups", "service-accounts"])
def test_lists_ignore_unknown_query_parameters(api, demo, token, path):
    assert api.get(f"{ACME}/{path}?q=anything", token=token).status_code == 200


# -- pagination -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["identities", "users", "groups", "service-accounts"])
def test_pages_are_zero_based_with_total_headers(api, demo, token, path):
    everything = api.get(f"{ACME}/{path}", token=token).json()
    pages = []
    page = 0
    while True:
        response = api.get(f"{ACME}/{path}?page={page}&per_page=2", token=token)
        assert response.status_code == 200
        assert response["x-total-items"] == str(len(everything))
        assert response["x-total-pages"] == str(-(-len(everything) // 2))
        if not response.json():
            break
        pages.extend(response.json())
        page += 1
    assert pages == everything
    assert page == int(response["x-total-pages"])


def test_per_page_alone_starts_at_page_zero(api, demo, token):
    response = api.get(f"{ACME}/identities?per_page=3", token=token)
    assert len(response.json()) == 3
    assert response.json() == api.get(f"{ACME}/identities", token=token).json()[:3]


@pytest.mark.parametrize(
    "query", ["page=-1", "per_page=0", "per_page=1001", "page=x", "per_page=1.5", "page=%00"]
)
def test_bad_pagination_is_400(api, demo, token, query):
    assert error(api.get(f"{ACME}/identities?{query}", token=token))["statusCode"] == 400


# -- fixed number of queries ---------------------------------------------------------------------------


def grow(demo, n: int) -> None:
    """n more users (half through groups), n/5 groups and service accounts, and project roles."""
    users = User.objects.bulk_create(
        User(email=f"grow{i}@acme.test", full_name=f"Grow {i}") for i in range(n)
    )
    groups = Group.objects.bulk_create(
        Group(company=demo.acme, name=f"Grow group {i}") for i in range(n // 5)
    )
    accounts = ServiceAccount.objects.bulk_create(
        ServiceAccount(company=demo.acme, name=f"grow-bot-{i}", client_id=f"grow-{i}") for i in range(n // 5)
    )
    bindings = [RoleBinding(user=u, company=demo.acme, role="reporter") for u in users[: n // 2]]
    bindings += [RoleBinding(user=u, project=demo.webshop, role="developer") for u in users[::3]]
    bindings += [RoleBinding(user=u, environment=demo.staging, role="maintainer") for u in users[::4]]
    bindings += [RoleBinding(group=g, company=demo.acme, role="guest") for g in groups]
    bindings += [RoleBinding(service_account=a, company=demo.acme, role="reporter") for a in accounts]
    RoleBinding.objects.bulk_create(bindings)
    GroupMembership.objects.bulk_create(
        GroupMembership(group=groups[i % len(groups)], user=u) for i, u in enumerate(users[n // 2 :])
    )


QUERIES = {
    # auth (the account), company, the account's grants, then one query per kind / related data
    "identities": 6,
    "identities?projectIds=webshop": 8,
    "users": 6,
    "groups": 5,
    "service-accounts": 4,
}


@pytest.mark.parametrize("path", list(QUERIES))
@pytest.mark.parametrize("size", [10, 200])
def test_query_count_does_not_grow(api, demo, token, django_assert_num_queries, path, size):
    grow(demo, size)
    with django_assert_num_queries(QUERIES[path]):
        response = api.get(f"{ACME}/{path}", token=token)
    assert response.status_code == 200
    assert len(response.json()) > size // 5


@pytest.mark.parametrize("size", [10, 200])
def test_viewer_project_listing_query_count_does_not_grow(
    api, demo, make_account, django_assert_num_queries, size
):
    """The access filter adds the company's memberships and its groups' company roles: two queries."""
    reader_token = api.token(make_account("reporter", name="reader-bot"))
    grow(demo, size)
    with django_assert_num_queries(QUERIES["identities?projectIds=webshop"] + 2):
        response = api.get(f"{ACME}/identities?projectIds=webshop", token=reader_token)
    assert len(response.json()) > size // 3
