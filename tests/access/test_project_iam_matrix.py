"""Who may see the Project IAM page and the Project Overview, and who may edit project roles.

The personas of the project matrix (PROJECT_LEVELS in tests/helpers.py): each of the six roles bound on the
company, on this project (webshop), on another project (payments) and through a group; a super user; the
owner of another company; anonymous visitors. Refusals change nothing. Who may add identities from the
project: tests/identities/test_project_add.py.
"""

import pytest
from django.urls import reverse

from iam_portal.access.catalogue import DEVELOPER, GUEST, MAINTAINER
from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import User
from tests.helpers import (
    ADD,
    EDIT,
    HX,
    PROJECT_LEVELS,
    assert_access_matrix,
    bind,
    project_matrix,
    row_html,
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


@pytest.mark.parametrize("headers", [{}, HX], ids=["full", "htmx"])
def test_pages(demo, persona, headers):
    u = urls(demo)
    matrix = project_matrix(none=404, view=200, edit=200, add=200)

    def shows_what_the_level_allows(who, response):
        level = PROJECT_LEVELS[who]
        body = response.content.decode()
        assert ("Edit</a>" in body) is (level in (EDIT, ADD))
        assert (u["edit"] in body) is (level in (EDIT, ADD))
        if headers:
            assert "<html" not in body and 'id="project-iam-table"' in body
        else:
            assert (u["add_user"] in body) is (level == ADD)
            assert (u["add_sa"] in body) is (level == ADD)

    assert_access_matrix(persona, matrix, get=u["iam"], headers=headers, then=shows_what_the_level_allows)
    assert_access_matrix(persona, matrix, get=u["overview"], headers=headers)


@pytest.mark.parametrize("headers", [{}, HX], ids=["full", "htmx"])
def test_only_those_who_manage_the_project_see_the_company_directory(demo, persona, headers):
    """Managers see every identity of the company, with emails and client ids. Any other viewer sees only the
    identities that have access to the project, by name: who to ask about Webshop, not the company's
    address book (emails) nor the ids half of the machines' credentials (client ids)."""
    outsider = User.objects.create_user("outsider@acme.test", "x", full_name="Otto Outsider")
    bind(outsider, GUEST, demo.acme)  # a company member without access to Webshop
    senior = demo.user("senior")
    u = urls(demo)

    def shows_what_the_level_allows(who, response):
        body = response.content.decode()
        directory = PROJECT_LEVELS[who] in (EDIT, ADD)
        assert bool(row_html(body, f"project-identity-user-{outsider.pk}")) is directory
        assert ("Otto Outsider" in body) is directory
        assert bool(row_html(body, f"project-identity-user-{senior.pk}"))  # a project Maintainer: listed
        assert ("senior@acme.test" in body) is directory
        assert ("owner@acme.test" in body) is directory
        assert (demo.deployer.client_id in body) is directory
        assert "ci-deployer" in body  # a company Maintainer reaches every project
        assert ("@" in body.split("<tbody>")[1]) is directory  # no email at all in a viewer's rows

    matrix = project_matrix(none=404, view=200, edit=200, add=200)
    assert_access_matrix(persona, matrix, get=u["iam"], headers=headers, then=shows_what_the_level_allows)


# -- editing project and environment roles ------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, HX], ids=["full", "htmx"])
def test_edit_dialog(demo, persona, headers):
    matrix = project_matrix(none=404, view=403, edit=200, add=200)
    assert_access_matrix(persona, matrix, get=urls(demo)["edit"], headers=headers)


def test_edit_roles(demo, persona):
    def saved(who, response):
        assert designer_roles(demo) == (DEVELOPER, {("production", MAINTAINER)})

    matrix = project_matrix(none=404, view=403, edit=204, add=204)
    url, data = urls(demo)["edit"], edit_payload(demo)
    assert_access_matrix(persona, matrix, post=url, data=data, headers=HX, then=saved)
