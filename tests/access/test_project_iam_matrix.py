"""Who may do what on the Project IAM page, the Project Overview and every project action.

Each of the six roles bound on the company, on this project (webshop), on another project (payments) and
through a group; a super user; the owner of another company; anonymous visitors. Refusals change nothing.
"""

import pytest
from django.urls import reverse

from iam_portal.access.catalogue import (
    COMPANY_OWNER,
    DEVELOPER,
    GUEST,
    MAINTAINER,
    PROJECT_ADMIN,
    REPORTER,
)
from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import ServiceAccount
from tests.conftest import HX

NONE, VIEW, EDIT, ADD = "none", "view", "edit", "add"
PROJECT_ROLES = [GUEST, REPORTER, DEVELOPER, MAINTAINER, PROJECT_ADMIN]
COMPANY_ROLES = [*PROJECT_ROLES, COMPANY_OWNER]
COMPANY_LEVEL = {
    GUEST: NONE,
    REPORTER: VIEW,
    DEVELOPER: VIEW,
    MAINTAINER: VIEW,
    PROJECT_ADMIN: EDIT,
    COMPANY_OWNER: ADD,
}

ACTORS = (
    [pytest.param("company", role, COMPANY_LEVEL[role], id=f"company-{role}") for role in COMPANY_ROLES]
    + [pytest.param("group", role, COMPANY_LEVEL[role], id=f"group-{role}") for role in COMPANY_ROLES]
    + [
        pytest.param("project", role, EDIT if role == PROJECT_ADMIN else VIEW, id=f"project-{role}")
        for role in PROJECT_ROLES
    ]
    + [pytest.param("other", role, NONE, id=f"other-project-{role}") for role in PROJECT_ROLES]
    + [pytest.param("superuser", None, ADD, id="superuser")]
)


def urls(demo):
    args = ["acme", "webshop"]
    designer = demo.user("designer1")
    return {
        "iam": reverse("project_iam", args=args),
        "overview": reverse("project_overview", args=args),
        "edit": reverse("project_role_edit", args=[*args, "user", designer.pk]),
        "add_user": reverse("project_user_add", args=args),
        "add_sa": reverse("project_service_account_add", args=args),
    }


def edit_payload(demo):
    return {"project_role": DEVELOPER, f"env_{demo.production.pk}": MAINTAINER, f"env_{demo.staging.pk}": ""}


def designer_roles(demo):
    designer = demo.user("designer1")
    return (
        RoleBinding.objects.filter(user=designer, project=demo.webshop)
        .values_list("role", flat=True)
        .first(),
        set(
            RoleBinding.objects.filter(user=designer, environment__project=demo.webshop).values_list(
                "environment__env_id", "role"
            )
        ),
    )


# -- the pages ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("where", "role", "level"), ACTORS)
def test_pages(demo, client, actor, where, role, level):
    client.force_login(actor(where, role))
    u = urls(demo)
    for name in ("iam", "overview"):
        response = client.get(u[name])
        assert response.status_code == (404 if level == NONE else 200), name
    if level == NONE:
        return
    html = client.get(u["iam"]).content.decode()
    partial = client.get(u["iam"], headers=HX).content.decode()
    for body in (html, partial):
        assert ("Edit</a>" in body) is (level in (EDIT, ADD))
        assert (u["edit"] in body) is (level in (EDIT, ADD))
    assert (u["add_user"] in html) is (level == ADD)
    assert (u["add_sa"] in html) is (level == ADD)
    assert "<html" not in partial and 'id="project-iam-table"' in partial


# -- editing project and environment roles ------------------------------------------------------------


@pytest.mark.parametrize(("where", "role", "level"), ACTORS)
def test_edit_roles(demo, client, actor, where, role, level):
    client.force_login(actor(where, role))
    u = urls(demo)
    before = designer_roles(demo)
    expected = {NONE: 404, VIEW: 403}.get(level, 200)
    assert client.get(u["edit"], headers=HX).status_code == expected
    response = client.post(u["edit"], edit_payload(demo), headers=HX)
    if level in (NONE, VIEW):
        assert response.status_code == expected
        assert designer_roles(demo) == before
    else:
        assert response.status_code == 204
        assert designer_roles(demo) == (DEVELOPER, {("production", MAINTAINER)})


# -- adding users and service accounts from the project -------------------------------------------------


@pytest.mark.parametrize(("where", "role", "level"), ACTORS)
def test_add_user(demo, client, actor, newcomer, where, role, level):
    client.force_login(actor(where, role))
    u = urls(demo)
    expected = {NONE: 404, VIEW: 403, EDIT: 403}.get(level, 200)
    assert client.get(u["add_user"], headers=HX).status_code == expected
    payload = {
        "email": newcomer.email,
        "company_role": REPORTER,
        "project_role": DEVELOPER,
        f"env_{demo.staging.pk}": MAINTAINER,
    }
    response = client.post(u["add_user"], payload, headers=HX)
    if level == ADD:
        assert response.status_code == 204
        assert RoleBinding.objects.filter(user=newcomer).count() == 3
    else:
        assert response.status_code == expected
        assert not RoleBinding.objects.filter(user=newcomer).exists()


@pytest.mark.parametrize(("where", "role", "level"), ACTORS)
def test_add_service_account(demo, client, actor, where, role, level):
    client.force_login(actor(where, role))
    u = urls(demo)
    expected = {NONE: 404, VIEW: 403, EDIT: 403}.get(level, 200)
    assert client.get(u["add_sa"], headers=HX).status_code == expected
    payload = {
        "name": "matrix-bot",
        "auth_method": "client_secret_basic",
        "company_role": GUEST,
        "project_role": REPORTER,
    }
    response = client.post(u["add_sa"], payload, headers=HX)
    assert response.status_code == expected
    created = ServiceAccount.objects.filter(company=demo.acme, name="matrix-bot").first()
    if level == ADD:
        assert created is not None
        assert RoleBinding.objects.filter(service_account=created).count() == 2
    else:
        assert created is None


# -- strangers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["iam", "overview", "edit", "add_user", "add_sa"])
def test_anonymous_is_sent_to_login(demo, client, name):
    url = urls(demo)[name]
    responses = [client.get(url), client.get(url, headers=HX)]
    if name not in ("iam", "overview"):
        responses.append(client.post(url, {}, headers=HX))
    for response in responses:
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", ["iam", "overview", "edit", "add_user", "add_sa"])
def test_owner_of_another_company_gets_404(demo, login, name, newcomer):
    client = login("owner@globex.test")
    before = designer_roles(demo)
    url = urls(demo)[name]
    assert client.get(url).status_code == 404
    payload = {**edit_payload(demo), "email": newcomer.email, "company_role": GUEST, "name": "x"}
    if name not in ("iam", "overview"):
        assert client.post(url, payload, headers=HX).status_code == 404
    assert designer_roles(demo) == before
    assert not RoleBinding.objects.filter(user=newcomer).exists()
