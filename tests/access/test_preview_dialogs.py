# ruff: noqa: RUF001 -- the dialogs write lost permissions with a minus sign (U+2212), as these lines expect
"""The what-if of the IAM dialogs (company role, project and environment roles, remove direct access): each
shows who gains and who loses what before saving, and a preview changes nothing and is refused like the
save. Expectations are written out on the demo data (see tests/access/test_preview.py for its people)."""

import html

from django.urls import reverse

from iam_portal.access.catalogue import DEVELOPER, GUEST, MAINTAINER, REPORTER
from iam_portal.access.models import RoleBinding
from tests.helpers import (
    HX,
    assert_access_matrix,
    assert_company_matrix,
    company_roles,
    preview_lines,
    preview_refusal,
    previewed,
    project_matrix,
)


def role_edit_url(demo, who: str) -> str:
    return reverse("company_role_edit", args=["acme", "user", demo.user(who).pk])


def project_edit_url(demo, who: str) -> str:
    return reverse("project_role_edit", args=["acme", "webshop", "user", demo.user(who).pk])


def test_the_company_role_dialog_previews_the_role_chosen(demo, login):
    response = previewed(login("owner"), role_edit_url(demo, "senior"), {"role": MAINTAINER})
    assert response.status_code == 200
    assert preview_lines(response) == [
        "Sara Senior: Guest → Maintainer on acme (+ 8 permissions)",
        "Sara Senior: Guest → Maintainer on acme/payments (+ 8 permissions)",
        "Sara Senior: Guest → Maintainer on acme/payments/production (+ 5 permissions)",
        "Sara Senior: Maintainer on acme/webshop (+ 8 permissions)",  # her own role there already
        "Sara Senior: Maintainer on acme/webshop/production (+ 5 permissions)",
        "Sara Senior: Maintainer on acme/webshop/staging (+ 5 permissions)",
    ]
    assert "<code>console.company.project.environment.deploy.trigger</code>" in response.content.decode()


def test_the_dialog_has_one_live_preview_region(demo, login):
    page = login("owner").get(role_edit_url(demo, "senior"), headers=HX).content.decode()
    assert page.count('class="preview"') == 1
    assert 'hx-trigger="change from:closest form target:select"' in page
    assert ">Show what this changes</button>" in page
    assert 'hx-vals=\'{"preview": "1"}\'' in page
    assert 'id="preview-changes" class="preview-changes" aria-live="polite"' in page
    assert "to see who gains and who loses what before you save" in page


def test_keeping_the_role_changes_nothing(demo, login):
    response = previewed(login("owner"), role_edit_url(demo, "senior"), {"role": GUEST})
    assert preview_lines(response) == []
    assert "Nobody's access changes." in response.content.decode()


def test_demoting_the_last_owner_previews_the_refusal_and_records_nothing(demo, login):
    response = previewed(login("owner"), role_edit_url(demo, "owner"), {"role": REPORTER})
    assert response.status_code == 200
    assert preview_refusal(response) == (
        "Acme must keep at least one Company Owner. Make someone else Company Owner first, then try again."
    )
    assert preview_lines(response) == []


def test_an_invalid_choice_is_no_preview(demo, login):
    response = previewed(login("owner"), role_edit_url(demo, "senior"), {"role": "emperor"})
    assert response.status_code == 200
    assert "Nothing to show yet: Select a valid choice." in response.content.decode()


def test_the_project_dialog_previews_project_and_environment_roles(demo, login):
    data = {"project_role": DEVELOPER, f"env_{demo.production.pk}": MAINTAINER, f"env_{demo.staging.pk}": ""}
    response = previewed(login("owner"), project_edit_url(demo, "designer1"), data)
    assert preview_lines(response) == [
        "Dana Designer: Reporter → Developer on acme/webshop (+ 2 permissions)",
        "Dana Designer: Reporter → Maintainer on acme/webshop/production (+ 5 permissions)",
        "Dana Designer: Reporter → Developer on acme/webshop/staging",  # inherited; no key of its own
    ]


def test_removing_direct_access_previews_on_open_with_the_roles_it_deletes(demo, login):
    url = reverse("company_identity_remove", args=["acme", "user", demo.user("designer2").pk])
    response = previewed(login("owner"), url)
    text = html.unescape(response.content.decode())
    assert preview_lines(response) == [
        "Dario Designer: Guest → no role on acme — loses all access to Acme (− 4 permissions)",
        "Dario Designer: Guest → no role on acme/payments",
        "Dario Designer: Guest → no role on acme/payments/production",
        "Dario Designer: Reporter → no role on acme/webshop (− 2 permissions)",
        "Dario Designer: Reporter → no role on acme/webshop/production (− 1 permission)",
        "Dario Designer: Reporter → no role on acme/webshop/staging (− 1 permission)",
    ]
    # What the removal deletes is said inside the same region, not in a second list.
    region = text[text.index('class="preview"') :]
    assert region.index("Roles that will be deleted:") < region.index('id="preview-changes"')
    assert text.count("Roles that will be deleted:") == 1


# -- a preview is refused exactly like the save ---------------------------------------------------------


def test_who_may_preview_a_company_role(demo, persona):
    assert_company_matrix(
        persona,
        "post",
        role_edit_url(demo, "senior"),
        {"role": MAINTAINER, "preview": "1"},
        status=200,
        check=lambda: company_roles(demo.acme)["user:senior@acme.test"] == GUEST,
    )


def test_who_may_preview_project_roles(demo, persona):
    def nothing_saved(who, response):
        assert preview_lines(response)[0].startswith("Dana Designer: Reporter → Developer on acme/webshop")
        designer = demo.user("designer1")
        assert RoleBinding.objects.get(user=designer, project=demo.webshop).role == REPORTER

    assert_access_matrix(
        persona,
        project_matrix(none=404, view=403, edit=200, add=200),
        post=project_edit_url(demo, "designer1"),
        data={"project_role": DEVELOPER, "preview": "1"},
        headers=HX,
        then=nothing_saved,
    )


def test_a_role_given_until_a_moment_previews_what_holds_now_and_stores_no_end(demo, login):
    """The Until fields go to the same service call as the save: the preview shows the role that would hold
    from now until the end, and a dry run leaves no end behind (previewed checks nothing changed)."""
    data = {"role": MAINTAINER, "ends": "7d"}
    response = previewed(login("owner"), role_edit_url(demo, "senior"), data)
    assert response.status_code == 200
    assert preview_lines(response)[0] == "Sara Senior: Guest → Maintainer on acme (+ 8 permissions)"
    assert not RoleBinding.objects.filter(until__isnull=False).exists()
