"""PATCH users/groups/service-accounts/{id} with EditIAMRole: the payloads miactl sends (spec §6.3 and
miactl's common_test.go), the rules for omitted and empty roles, validation, and all or nothing."""

import pytest

from iam_portal.access.models import RoleBinding
from iam_portal.access.services import ActionRefused
from iam_portal.identities.models import Group, ServiceAccount, User
from tests.helpers import bind, error, snapshot

pytestmark = pytest.mark.django_db

ACME = "/api/companies/acme"
UPDATED = {"statusCode": 200, "message": "identity roles successfully updated"}


def roles_of(subject) -> dict[str, str]:
    """{"acme": company role, "webshop": project role, "webshop/staging": env role, …}"""
    field = {User: "user", Group: "group", ServiceAccount: "service_account"}[type(subject)]
    result = {}
    for b in RoleBinding.objects.filter(**{field: subject}).select_related(
        "company", "project", "environment__project"
    ):
        if b.company_id:
            result[b.company.slug] = b.role
        elif b.project_id:
            result[b.project.slug] = b.role
        else:
            result[f"{b.environment.project.slug}/{b.environment.env_id}"] = b.role
    return result


@pytest.fixture(params=["user", "group", "serviceaccount"])
def subject(request, demo):
    """An identity of each kind, holding guest on Acme, developer on webshop and maintainer on staging."""
    if request.param == "user":
        return demo.user("junior1"), f"{ACME}/users/{demo.user('junior1').pk}"
    if request.param == "group":
        identity = Group.objects.create(company=demo.acme, name="Editors")
        path = f"{ACME}/groups/{identity.pk}"
    else:
        identity = ServiceAccount.objects.create(company=demo.acme, name="edited-bot")
        path = f"{ACME}/service-accounts/{identity.client_id}"
    for role, resource in (("guest", demo.acme), ("developer", demo.webshop), ("maintainer", demo.staging)):
        bind(identity, role, resource)
    return identity, path


START = {"acme": "guest", "webshop": "developer", "webshop/staging": "maintainer"}

MIACTL_PAYLOADS = [
    # company edit
    ({"role": "maintainer"}, {**START, "acme": "maintainer"}),
    # change only project role
    (
        {"projectsRole": [{"projectId": "webshop", "role": "project-admin"}]},
        {**START, "webshop": "project-admin"},
    ),
    # change only environment role: miactl sends role "" for the project too, which leaves it unchanged
    (
        {
            "projectsRole": [
                {
                    "projectId": "webshop",
                    "role": "",
                    "environmentsRole": [{"envId": "production", "role": "reporter"}],
                }
            ]
        },
        {**START, "webshop/production": "reporter"},
    ),
    # both roles
    (
        {
            "projectsRole": [
                {
                    "projectId": "webshop",
                    "role": "project-admin",
                    "environmentsRole": [{"envId": "production", "role": "reporter"}],
                }
            ]
        },
        {**START, "webshop": "project-admin", "webshop/production": "reporter"},
    ),
    # remove project role
    (
        {"projectsRole": [{"projectId": "webshop", "role": ""}]},
        {"acme": "guest", "webshop/staging": "maintainer"},
    ),
    # remove environment role (no project role sent)
    (
        {"projectsRole": [{"projectId": "webshop", "environmentsRole": [{"envId": "staging", "role": ""}]}]},
        {"acme": "guest", "webshop": "developer"},
    ),
    # remove both roles: the env role goes; with environmentsRole present, role "" leaves the project role
    (
        {
            "projectsRole": [
                {"projectId": "webshop", "role": "", "environmentsRole": [{"envId": "staging", "role": ""}]}
            ]
        },
        {"acme": "guest", "webshop": "developer"},
    ),
]


@pytest.mark.parametrize(("payload", "expected"), MIACTL_PAYLOADS)
def test_miactl_payloads(api, demo, owner_token, subject, payload, expected):
    identity, url = subject
    assert roles_of(identity) == START
    response = api.patch(url, payload, token=owner_token)
    assert response.status_code == 200, response.content
    assert response.json() == UPDATED
    assert roles_of(identity) == expected


def test_company_role_and_several_projects_at_once(api, demo, owner_token, subject):
    identity, url = subject
    payload = {
        "role": "developer",
        "projectsRole": [
            {
                "projectId": "webshop",
                "role": "maintainer",
                "environmentsRole": [
                    {"envId": "production", "role": "maintainer"},
                    {"envId": "staging", "role": "reporter"},
                ],
            },
            {"projectId": "payments", "role": "guest"},
        ],
    }
    assert api.patch(url, payload, token=owner_token).json() == UPDATED
    assert roles_of(identity) == {
        "acme": "developer",
        "webshop": "maintainer",
        "webshop/production": "maintainer",
        "webshop/staging": "reporter",
        "payments": "guest",
    }


def test_an_environment_not_listed_is_unchanged(api, demo, owner_token, subject):
    identity, url = subject
    payload = {
        "projectsRole": [
            {"projectId": "webshop", "environmentsRole": [{"envId": "production", "role": "maintainer"}]}
        ]
    }
    api.patch(url, payload, token=owner_token)
    assert roles_of(identity)["webshop/staging"] == "maintainer"


def test_empty_company_role_leaves_it_unchanged(api, demo, owner_token, subject):
    identity, url = subject
    payload = {"role": "", "projectsRole": [{"projectId": "webshop", "role": "guest"}]}
    assert api.patch(url, payload, token=owner_token).status_code == 200
    assert roles_of(identity) == {**START, "webshop": "guest"}


def test_adding_a_project_role_where_there_was_none(api, demo, owner_token, subject):
    identity, url = subject
    payload = {
        "projectsRole": [
            {
                "projectId": "payments",
                "role": "reporter",
                "environmentsRole": [{"envId": "production", "role": "reporter"}],
            }
        ]
    }
    assert api.patch(url, payload, token=owner_token).status_code == 200
    assert roles_of(identity) == {**START, "payments": "reporter", "payments/production": "reporter"}


# -- refusals: nothing changes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "status", "words"),
    [
        ({"role": "owner"}, 400, "invalid role for company"),
        ({"role": "Company-Owner"}, 400, "invalid role for company"),
        (
            {"projectsRole": [{"projectId": "webshop", "role": "company-owner"}]},
            400,
            "invalid role for project",
        ),
        (
            {
                "projectsRole": [
                    {"projectId": "webshop", "environmentsRole": [{"envId": "staging", "role": "developer"}]}
                ]
            },
            400,
            "invalid role for environment",
        ),
        (
            {
                "projectsRole": [
                    {"projectId": "webshop", "environmentsRole": [{"envId": "staging", "role": "guest"}]}
                ]
            },
            400,
            "invalid role for environment",
        ),
        (
            {"role": "developer", "projectsRole": [{"projectId": "research", "role": "guest"}]},
            404,
            "research",
        ),
        ({"role": "developer", "projectsRole": [{"projectId": "nope", "role": "guest"}]}, 404, "nope"),
        (
            {
                "projectsRole": [
                    {
                        "projectId": "webshop",
                        "environmentsRole": [{"envId": "development", "role": "reporter"}],
                    }
                ]
            },
            404,
            "development",
        ),
        (
            {
                "role": "developer",
                "projectsRole": [
                    {"projectId": "webshop", "role": "guest"},
                    {"projectId": "payments", "role": "boss"},
                ],
            },
            400,
            "boss",
        ),
        ({}, 400, "Nothing to change"),
        ({"role": ""}, 400, "Nothing to change"),
        ({"projectsRole": []}, 400, "Nothing to change"),
        ({"projectsRole": [{"projectId": "webshop"}]}, 400, "changes nothing"),
        ({"role": 3}, 400, "role"),
        ({"projectsRole": {"projectId": "webshop"}}, 400, "projectsRole"),
        ({"projectsRole": [{"role": "guest"}]}, 400, "projectId"),
        (
            {"projectsRole": [{"projectId": "webshop", "environmentsRole": [{"envId": "staging"}]}]},
            400,
            "role",
        ),
        ({"role": "x" * 100}, 400, "role"),
        ({"role": "guest\x00"}, 400, "NUL"),
    ],
)
def test_invalid_edits_change_nothing(api, demo, owner_token, subject, payload, status, words):
    _identity, url = subject
    before = snapshot()
    body = error(api.patch(url, payload, token=owner_token))
    assert body["statusCode"] == status
    assert words in body["message"]
    assert snapshot() == before


def test_a_body_that_is_not_json_is_400(api, demo, owner_token, subject):
    _identity, url = subject
    for raw in ["", "{", "[]", "null", '"role"', "\x00"]:
        assert error(api.patch(url, raw, token=owner_token))["statusCode"] == 400, raw


def test_all_or_nothing_when_a_later_step_is_refused(api, demo, owner_token, subject, monkeypatch):
    """A refusal in the second project entry undoes the company role and the first project already set."""
    from iam_portal.access import services

    _identity, url = subject
    real = services.project_roles_set
    calls = []

    def refuse_second(**kwargs):
        calls.append(kwargs["project"].slug)
        if len(calls) == 2:
            raise ActionRefused("refused for the test")
        return real(**kwargs)

    monkeypatch.setattr(services, "project_roles_set", refuse_second)
    before = snapshot()
    payload = {
        "role": "maintainer",
        "projectsRole": [
            {"projectId": "webshop", "role": "guest"},
            {"projectId": "payments", "role": "guest"},
        ],
    }
    body = error(api.patch(url, payload, token=owner_token))
    assert (body["statusCode"], body["message"]) == (400, "refused for the test")
    assert calls == ["webshop", "payments"]
    assert snapshot() == before


def test_the_last_owner_cannot_be_demoted(api, demo, owner_token):
    owner = demo.user("owner")
    before = snapshot()
    body = error(api.patch(f"{ACME}/users/{owner.pk}", {"role": "guest"}, token=owner_token))
    assert body["statusCode"] == 409
    assert "at least one Company Owner" in body["message"]
    assert snapshot() == before


@pytest.mark.parametrize(
    "path",
    [
        "users/999999",
        "users/abc",
        "users/0",
        "users/99999999999999999999999",
        "groups/999999",
        "groups/x",
        "service-accounts/unknown-client",
        "service-accounts/%00",
    ],
)
def test_unknown_ids_are_404(api, demo, owner_token, path):
    assert error(api.patch(f"{ACME}/{path}", {"role": "guest"}, token=owner_token))["statusCode"] == 404


def test_ids_of_another_company_are_404(api, demo, owner_token):
    from iam_portal.orgs.models import Company

    globex = Company.objects.get(slug="globex")
    globex_group = Group.objects.create(company=globex, name="Globex crew")
    globex_bot = ServiceAccount.objects.create(company=globex, name="globex-bot")
    globex_owner = User.objects.get(email="owner@globex.test")
    before = snapshot()
    for path in [
        f"users/{globex_owner.pk}",
        f"groups/{globex_group.pk}",
        f"service-accounts/{globex_bot.client_id}",
    ]:
        body = error(api.patch(f"{ACME}/{path}", {"role": "guest"}, token=owner_token))
        assert body["statusCode"] == 404
    assert snapshot() == before


def test_a_user_without_any_access_is_404(api, demo, owner_token):
    loner = User.objects.create_user("loner@acme.test", "x")
    assert api.patch(f"{ACME}/users/{loner.pk}", {"role": "guest"}, token=owner_token).status_code == 404


# -- who may edit: project administrators edit project roles only -------------------------------------------


def test_a_project_admin_account_edits_project_roles_but_not_company_roles(api, demo, make_account):
    token = api.token(make_account("project-admin", name="pa-bot"))
    junior = demo.user("junior1")
    url = f"{ACME}/users/{junior.pk}"
    assert (
        api.patch(url, {"projectsRole": [{"projectId": "webshop", "role": "maintainer"}]}, token=token).json()
        == UPDATED
    )
    before = snapshot()
    assert error(api.patch(url, {"role": "developer"}, token=token))["statusCode"] == 403
    # A company role and a project role in one request: the refused company role stops both.
    payload = {"role": "developer", "projectsRole": [{"projectId": "webshop", "role": "guest"}]}
    assert error(api.patch(url, payload, token=token))["statusCode"] == 403
    assert snapshot() == before


def test_an_account_with_a_project_role_only_edits_that_project(api, demo, make_account):
    bot = make_account("guest", name="webshop-admin-bot")
    RoleBinding.objects.create(service_account=bot.account, project=demo.webshop, role="project-admin")
    token = api.token(bot)
    url = f"{ACME}/users/{demo.user('junior1').pk}"
    assert (
        api.patch(
            url, {"projectsRole": [{"projectId": "webshop", "role": "reporter"}]}, token=token
        ).status_code
        == 200
    )
    before = snapshot()
    body = error(
        api.patch(url, {"projectsRole": [{"projectId": "payments", "role": "reporter"}]}, token=token)
    )
    assert body["statusCode"] == 403
    assert snapshot() == before
