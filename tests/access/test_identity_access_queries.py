"""The access page costs the same number of queries for the demo company and for one with 50 projects of four
environments each: the identity's grants on all of them come from one query
(`AccessResolver.grants_everywhere`), never one per project."""

import pytest
from django.urls import reverse

from iam_portal.access.catalogue import DEVELOPER, MAINTAINER, REPORTER
from iam_portal.orgs.models import Environment, Project
from tests.helpers import HX, bind, count_queries

# Asked of junior1: two paths (Acme Developers' company role, their own role on Webshop), so the answer
# links to the dialogs that the owner may open there.
WHY = {"permission": "project.configuration.update", "resource": "acme/webshop"}


def grow(demo, projects: int = 50, environments: int = 4) -> None:
    """Acme up to `projects` projects of `environments` environments each, with roles on many of them for
    junior1, Acme Developers (so for junior1 too) and ci-deployer."""
    junior = demo.user("junior1")
    for i in range(projects - Project.objects.filter(company=demo.acme).count()):
        project = Project.objects.create(company=demo.acme, slug=f"p{i:02}", name=f"Project {i:02}")
        envs = [
            Environment.objects.create(project=project, env_id=f"e{n}", name=f"Env {n}", position=n)
            for n in range(environments)
        ]
        if i % 2:
            bind(junior, DEVELOPER, project)
            bind(junior, MAINTAINER, envs[i % environments])
        if i % 3:
            bind(demo.developers, REPORTER, envs[0])
        bind(demo.deployer, MAINTAINER, envs[-1])


def pages(demo) -> dict[str, tuple[str, dict]]:
    owner, junior = demo.user("owner"), demo.user("junior1")
    return {
        "a user": (reverse("identity_access", args=["acme", "user", junior.pk]), {}),
        "a user, with a why answer": (reverse("identity_access", args=["acme", "user", junior.pk]), WHY),
        "a group": (reverse("identity_access", args=["acme", "group", demo.developers.pk]), {}),
        "a service account": (
            reverse("identity_access", args=["acme", "service-account", demo.deployer.pk]),
            {},
        ),
        "my access": (reverse("identity_access", args=["acme", "user", owner.pk]), WHY),
    }


# The session and the signed-in user (2); the company and the viewer's grants on it (2); the identity (1,
# not for "my access"); projects, environments and the identity's bindings (3); per kind: the user's groups
# (1), or the group's summary, first page of members and roles (3), or the account's last credential
# change (1); the company switcher (1, not in the htmx answer). A why answer with a project path adds the
# viewer's grants on that project, to know which dialogs it may link to (1; known already on "my access").
EXPECTED = {
    "a user": 10,
    "a user, with a why answer": 11,
    "a group": 12,
    "a service account": 10,
    "my access": 9,
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_the_query_count_does_not_grow_with_the_company(demo, login, name):
    url, params = pages(demo)[name]
    client = login("owner")
    small = count_queries(client, url, params)
    grow(demo)
    assert Environment.objects.filter(project__company=demo.acme).count() == 3 + 48 * 4
    large = count_queries(client, url, params)
    assert (small, large) == (EXPECTED[name], EXPECTED[name])
    answer = count_queries(client, url, params, **HX, **{"HX-Target": "why-answer"})
    assert answer == EXPECTED[name] - 1  # the same questions, but no company switcher
