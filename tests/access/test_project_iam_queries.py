"""The Project IAM page costs the same number of queries whatever the number of identities and environments."""

import pytest
from django.urls import reverse

from iam_portal.access.catalogue import COMPANY_OWNER, DEVELOPER, GUEST, MAINTAINER, PROJECT_ADMIN, REPORTER
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from iam_portal.orgs.models import Company, Environment, Project
from tests.helpers import HX, bind, count_queries

ROLES = [GUEST, REPORTER, DEVELOPER, MAINTAINER, PROJECT_ADMIN]


def build(identities: int, environments: int):
    """A company with one project of `environments` environments and `identities` identities (the owner
    included): users, groups and service accounts with company, project, environment and group roles."""
    company = Company.objects.create(slug="bench", name="Bench")
    project = Project.objects.create(company=company, slug="shop", name="Shop")
    envs = [
        Environment.objects.create(project=project, env_id=f"env{i}", name=f"Env {i}", position=i)
        for i in range(environments)
    ]
    owner = User.objects.create_user("owner@bench.test", "x", full_name="Bench Owner")
    bind(owner, COMPANY_OWNER, company)
    groups = []
    for i in range(identities - 1):
        role = ROLES[i % len(ROLES)]
        if i % 5 == 3:
            group = Group.objects.create(company=company, name=f"group {i:03}")
            bind(group, role, company)
            bind(group, REPORTER, envs[i % len(envs)])
            groups.append(group)
        elif i % 5 == 4:
            account = ServiceAccount.objects.create(company=company, name=f"sa {i:03}")
            bind(account, role, company)
            bind(account, role, project)
        else:
            user = User.objects.create_user(f"u{i:03}@bench.test", "x", full_name=f"User {i:03}")
            bind(user, GUEST, company)
            bind(user, role, project)
            bind(user, MAINTAINER, envs[i % len(envs)])
            if groups:
                GroupMembership.objects.create(group=groups[-1], user=user)
    return owner


def page_queries(client, viewer, **params) -> tuple[int, int]:
    """The queries of the full page and of its htmx partial."""
    client.force_login(viewer)
    url = reverse("project_iam", args=["bench", "shop"])
    client.get(url, params)  # steady state: the first page after a change counts the company's users again
    return tuple(count_queries(client, url, params, **headers) for headers in ({}, HX))


def viewer_of(project: Project) -> User:
    """A Reporter of the project: a viewer who may not manage its identities (it shows its members only)."""
    viewer = User.objects.create_user("viewer@bench.test", "x", full_name="Vera Viewer")
    bind(viewer, GUEST, project.company)
    bind(viewer, REPORTER, project)
    return viewer


@pytest.mark.parametrize("who", ["owner", "viewer"])
@pytest.mark.parametrize("params", [{}, {"q": "u0"}, {"type": "user"}], ids=["all", "search", "users"])
def test_query_count_is_fixed(db, client, params, who):
    results = {}
    for identities, environments in ((2, 2), (200, 2), (2, 6), (200, 6)):
        Company.objects.filter(slug="bench").delete()
        User.objects.filter(email__endswith="@bench.test").delete()
        owner = build(identities, environments)
        viewer = owner if who == "owner" else viewer_of(Project.objects.get(slug="shop"))
        results[(identities, environments)] = page_queries(client, viewer, **params)
    assert len(set(results.values())) == 1, results
    if not params:
        # session, user, project, viewer's grants on the project and on the company, environments,
        # one page query per kind (3), memberships, bindings, counts (3), the company switcher; the
        # partial skips the switcher.
        assert results[(2, 2)] == (15, 14), results


def test_pages_are_full_at_200(db, client):
    owner = build(200, 6)
    client.force_login(owner)
    body = client.get(reverse("project_iam", args=["bench", "shop"])).content.decode()
    assert body.count('id="project-identity-') == 50
    assert "200 identities" in body
