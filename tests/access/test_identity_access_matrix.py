"""Who may open an identity's access page (issue 13): those who manage the company's identities, anyone's;
anyone signed in, their own ("My access"). Everyone else: 404 where the company is not visible to them,
403 where it is."""

import pytest
from django.urls import reverse

from iam_portal.access.catalogue import COMPANY_OWNER, MAINTAINER, PROJECT_ADMIN, REPORTER
from tests.helpers import (
    ANONYMOUS,
    COMPANY_ROLES,
    NO_ACCESS,
    OTHER_COMPANY_OWNER,
    PROJECT_ROLES,
    ROOT_BINDER,
    ROOT_VIEWER,
    SUPERUSER,
    Persona,
    assert_access_matrix,
    may_manage_company,
)

# Beyond the company matrix: people with a role on a project or an environment only, and strangers.
NOT_MANAGERS = {
    Persona("project", PROJECT_ADMIN): 403,
    Persona("project", REPORTER, via_group=True): 403,
    Persona("environment", MAINTAINER): 403,
    NO_ACCESS: 404,
}


def identities(demo) -> dict[str, str]:
    return {
        "a user": reverse("identity_access", args=["acme", "user", demo.user("junior1").pk]),
        "a group": reverse("identity_access", args=["acme", "group", demo.developers.pk]),
        "a service account": reverse("identity_access", args=["acme", "service-account", demo.deployer.pk]),
    }


@pytest.mark.parametrize("whose", ["a user", "a group", "a service account"])
def test_only_company_managers_see_someone_elses_access(demo, persona, whose):
    def shows_it(who, response):
        assert response.context["subject"].pk in {
            demo.user("junior1").pk,
            demo.developers.pk,
            demo.deployer.pk,
        }
        assert not response.context["itself"]

    assert_access_matrix(
        persona, {**may_manage_company(200), **NOT_MANAGERS}, get=identities(demo)[whose], then=shows_it
    )


def test_everyone_in_the_company_sees_their_own_access(demo, persona):
    def own_page(user) -> str:
        return reverse("identity_access", args=["acme", "user", user.pk if user else 1])

    def about_themselves(who, response):
        assert response.context["itself"]
        assert response.context["subject"].pk == response.wsgi_request.user.pk

    everyone_in = {
        **{Persona("company", role): 200 for role in COMPANY_ROLES},
        **{Persona("company", role, via_group=True): 200 for role in (REPORTER, COMPANY_OWNER)},
        **{Persona(kind, role): 200 for kind in ("project", "other-project") for role in PROJECT_ROLES},
        Persona("environment", MAINTAINER): 200,
        SUPERUSER: 200,  # not an identity of Acme, yet it sees Acme: its page says it holds everything
        ROOT_VIEWER: 200,
        ROOT_BINDER: 200,
    }
    strangers = {NO_ACCESS: 404, OTHER_COMPANY_OWNER: 404, ANONYMOUS: 302}
    assert_access_matrix(persona, {**everyone_in, **strangers}, get=own_page, then=about_themselves)


def test_unknown_identities_are_404_for_managers_and_403_for_everyone_else(demo, login, persona):
    globex_owner = demo.user("owner@globex.test")
    unknown = [
        reverse("identity_access", args=["acme", "user", globex_owner.pk]),  # not in Acme
        reverse("identity_access", args=["acme", "user", 999999]),
        reverse("identity_access", args=["acme", "group", 999999]),
        reverse("identity_access", args=["acme", "service-account", 999999]),
        reverse("identity_access", args=["acme", "robot", demo.user("junior1").pk]),
        f"/companies/acme/access/user/{demo.user('junior1').pk}x/",
    ]
    owner = login("owner")
    for url in unknown:
        assert owner.get(url).status_code == 404, url
    research = reverse("identity_access", args=["globex", "user", globex_owner.pk])
    assert owner.get(research).status_code == 404  # Globex is not visible to Acme's owner
    developer = login(persona("company", "developer"))  # the same client, signed in again
    for url in unknown[:-1]:
        assert developer.get(url).status_code == 403, url  # what exists is no business of theirs


def test_the_page_only_reads(demo, login):
    url = identities(demo)["a user"]
    client = login("owner")
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)(url).status_code == 405
