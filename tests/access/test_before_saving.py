"""What the company role, remove direct access and project role dialogs say before saving, and where saving
leaves the signed-in person: the last-owner rule (options disabled, Remove disabled, the service still
refusing), "This is you" before a self-demotion and a page they can still reach after it, and project roles
that add nothing to what is inherited."""

import pytest
from django.urls import reverse

from iam_portal.access.catalogue import COMPANY_OWNER, DEVELOPER, GUEST, MAINTAINER, PROJECT_ADMIN
from iam_portal.access.models import RoleBinding
from tests.helpers import (
    HX,
    assert_form_refused,
    bind,
    hx_trigger,
    messages_of,
    options,
    submit_disabled,
    this_is_you,
)

ACME = "/companies/acme/"


def company_role_url(kind, pk):
    return reverse("company_role_edit", args=["acme", kind, pk])


def remove_url(pk):
    return reverse("company_identity_remove", args=["acme", "user", pk])


def project_role_url(kind, pk):
    return reverse("project_role_edit", args=["acme", "webshop", kind, pk])


@pytest.fixture
def second_owner(demo):
    """senior@acme.test is Company Owner too, so owner@acme.test may step down."""
    RoleBinding.objects.filter(user=demo.user("senior"), company=demo.acme).update(role=COMPANY_OWNER)
    return demo.user("senior")


# -- the last owner, said before saving ---------------------------------------------------------------


def test_the_only_owners_role_offers_only_company_owner(demo, login):
    owner = demo.user("owner")
    html = login("admin@acme.test").get(company_role_url("user", owner.pk), headers=HX).content.decode()
    assert options(html, "role") == {
        "guest": "Guest [disabled]",
        "reporter": "Reporter [disabled]",
        "developer": "Developer [disabled]",
        "maintainer": "Maintainer [disabled]",
        "project-admin": "Project Administrator [disabled]",
        "company-owner": "Company Owner",
    }
    assert "Only Company Owner can be chosen. Acme must keep at least one Company Owner." in html
    # The service still refuses what the dialog does not offer.
    assert_form_refused(
        login("admin@acme.test"), company_role_url("user", owner.pk), {"role": DEVELOPER}, "must keep", **HX
    )


def test_with_another_owner_every_role_is_offered(demo, login, second_owner):
    html = login("admin@acme.test").get(company_role_url("user", demo.user("owner").pk)).content.decode()
    assert "[disabled]" not in str(options(html, "role"))
    assert "must keep at least one" not in html


def test_a_group_that_makes_the_only_owners_offers_only_company_owner(demo, login, owner_only_through_group):
    html = login("owner").get(company_role_url("group", owner_only_through_group.pk)).content.decode()
    assert options(html, "role")["maintainer"] == "Maintainer [disabled]"
    assert options(html, "role")["company-owner"] == "Company Owner"
    # The owner's own (direct) role is not what keeps Acme owned: the group is.
    html = login("owner").get(company_role_url("user", demo.user("owner").pk)).content.decode()
    assert "[disabled]" not in str(options(html, "role"))


def test_service_accounts_never_count_as_owners(demo, login):
    RoleBinding.objects.filter(service_account=demo.reader, company=demo.acme).update(role=COMPANY_OWNER)
    html = login("owner").get(company_role_url("service-account", demo.reader.pk)).content.decode()
    assert "[disabled]" not in str(options(html, "role"))


def test_removing_the_only_owners_direct_access_is_disabled_and_explained(demo, login):
    html = login("admin@acme.test").get(remove_url(demo.user("owner").pk), headers=HX).content.decode()
    assert submit_disabled(html)
    assert "Not possible now.</strong> Acme must keep at least one Company Owner." in html
    assert_form_refused(login("admin@acme.test"), remove_url(demo.user("owner").pk), {}, "must keep")


def test_removing_an_owner_who_is_not_the_last_is_offered(demo, login, second_owner):
    html = login("admin@acme.test").get(remove_url(demo.user("owner").pk), headers=HX).content.decode()
    assert not submit_disabled(html) and "Not possible now" not in html
    html = login("owner").get(remove_url(demo.user("junior1").pk), headers=HX).content.decode()
    assert not submit_disabled(html)


# -- "This is you", and after saving a page the person can still reach -----------------------------------


WEBSHOP_IAM = "/companies/acme/projects/webshop/iam/"


@pytest.mark.parametrize(
    ("name", "dialog", "data", "warning", "lands_on", "message", "left"),
    [
        (  # an owner stepping down lands on the company page: the IAM table would now answer 403
            "owner",
            company_role_url,
            {"role": DEVELOPER},
            "This is you. With Guest, Reporter, Developer, Maintainer or Project Administrator, you will no "
            "longer manage the identities of Acme (IAM, Users, Groups, Service accounts).",
            ACME,
            "Olivia Owner is now Developer of Acme.",
            lambda client: client.get("/companies/acme/iam/").status_code == 403,
        ),
        (  # a project administrator lowering their own project role: still a viewer, back to the project's IAM
            "pm",
            project_role_url,
            {"project_role": DEVELOPER},
            "This is you. With no project role, you will lose access to Webshop. With Guest, Reporter, "
            "Developer or Maintainer, you will no longer change the roles on Webshop.",
            WEBSHOP_IAM,
            "The roles of Paula Manager on Webshop were saved.",
            lambda client: "Edit</a>" not in client.get(WEBSHOP_IAM).content.decode(),  # read-only now
        ),
    ],
)
def test_lowering_ones_own_role_is_warned_and_lands_on_a_page_still_open(
    demo, login, second_owner, name, dialog, data, warning, lands_on, message, left
):
    client = login(name)
    url = dialog("user", demo.user(name).pk)
    assert this_is_you(client.get(url, headers=HX).content.decode()) == warning
    response = client.post(url, data, headers=HX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == lands_on  # not a table refresh that would now answer 403 or 404
    assert "HX-Trigger" not in response
    assert messages_of(response) == [message]
    page = client.get(lands_on)
    assert page.status_code == 200 and message in page.content.decode()
    assert left(client)


def test_without_javascript_a_self_demotion_redirects_to_the_company(demo, login, second_owner):
    response = login("owner").post(company_role_url("user", demo.user("owner").pk), {"role": GUEST})
    assert response.status_code == 302 and response["Location"] == ACME


def test_no_warning_when_a_group_keeps_the_owner_in_charge(
    demo, login, second_owner, owner_only_through_group
):
    bind(demo.user("owner"), COMPANY_OWNER, demo.acme)
    html = login("owner").get(company_role_url("user", demo.user("owner").pk)).content.decode()
    assert this_is_you(html) == ""
    response = login("owner").post(
        company_role_url("user", demo.user("owner").pk), {"role": GUEST}, headers=HX
    )
    assert response.status_code == 204 and "identitiesChanged" in hx_trigger(response)


def test_no_warning_about_someone_else(demo, login, second_owner):
    html = login("owner").get(company_role_url("user", second_owner.pk)).content.decode()
    assert this_is_you(html) == ""
    html = login("owner").get(remove_url(demo.user("junior1").pk)).content.decode()
    assert this_is_you(html) == ""


def test_removing_ones_own_direct_access(demo, login, second_owner):
    """Without a group the owner loses Acme altogether and lands on the list of their companies."""
    owner = demo.user("owner")
    client = login("owner")
    html = client.get(remove_url(owner.pk), headers=HX).content.decode()
    assert this_is_you(html) == "This is you. You will lose access to Acme."
    response = client.post(remove_url(owner.pk), headers=HX)
    assert response["HX-Redirect"] == "/"
    assert client.get(ACME).status_code == 404


def test_removing_ones_own_direct_access_keeping_a_group(demo, login, second_owner):
    owner = demo.user("owner")
    demo.developers.memberships.create(user=owner)
    client = login("owner")
    html = client.get(remove_url(owner.pk), headers=HX).content.decode()
    assert this_is_you(html) == (
        "This is you. You will no longer manage the identities of Acme (IAM, Users, Groups, Service accounts)."
    )
    response = client.post(remove_url(owner.pk), headers=HX)
    assert response["HX-Redirect"] == ACME


def test_a_project_administrator_removing_their_own_project_role_lands_on_the_company(demo, login):
    """The defect of issue 9 item 3: the table refresh got a 404 and the page turned into an error page."""
    pm = demo.user("pm")
    client = login("pm")
    response = client.post(project_role_url("user", pm.pk), {"project_role": ""}, headers=HX)
    assert response.status_code == 200 and response["HX-Redirect"] == ACME
    assert not RoleBinding.objects.filter(user=pm, project=demo.webshop).exists()
    assert client.get("/companies/acme/projects/webshop/iam/").status_code == 404
    assert client.get(ACME).status_code == 200


def test_a_member_of_a_group_editing_its_project_role_is_warned(demo, login, persona):
    lead = persona("project", PROJECT_ADMIN, via_group=True)
    group = lead.memberships.get().group
    html = login(lead).get(project_role_url("group", group.pk)).content.decode()
    assert this_is_you(html).startswith("This is you. With no project role, you will lose access to Webshop.")


def test_an_owner_editing_their_own_project_role_keeps_everything(demo, login):
    owner = demo.user("owner")
    html = login("owner").get(project_role_url("user", owner.pk)).content.decode()
    assert this_is_you(html) == ""
    response = login("owner").post(project_role_url("user", owner.pk), {"project_role": ""}, headers=HX)
    assert response.status_code == 204


# -- project roles that add nothing ---------------------------------------------------------------------


def test_project_roles_already_inherited_are_marked_before_saving(demo, login):
    junior = demo.user("junior1")  # Guest on Acme, and Developer on Acme through Acme Developers
    html = login("pm").get(project_role_url("user", junior.pk), headers=HX).content.decode()
    assert options(html, "project_role") == {
        "": "No project role",
        "guest": "Guest (already inherited)",
        "reporter": "Reporter (already inherited)",
        "developer": "Developer (already inherited)",
        "maintainer": "Maintainer",
        "project-admin": "Project Administrator",
    }
    assert "Roles marked “already inherited” add nothing: Jun One already has everything" in html


def test_a_company_guest_inherits_nothing_on_projects(demo, login):
    html = login("pm").get(project_role_url("user", demo.user("designer1").pk)).content.decode()
    assert "already inherited" not in html  # company Guest does not even show the project


def test_saving_a_role_that_adds_nothing_says_so(demo, login):
    junior = demo.user("junior1")
    response = login("pm").post(project_role_url("user", junior.pk), {"project_role": "guest"}, headers=HX)
    assert response.status_code == 204
    assert hx_trigger(response)["showMessage"]["text"] == (
        "The roles of Jun One on Webshop were saved. Their project role Guest adds nothing to what they inherit."
    )
    assert RoleBinding.objects.get(user=junior, project=demo.webshop).role == GUEST


def test_maintainer_on_the_company_makes_lower_project_roles_add_nothing(demo, login):
    html = login("owner").get(project_role_url("service-account", demo.deployer.pk)).content.decode()
    marked = [value for value, label in options(html, "project_role").items() if "already inherited" in label]
    assert marked == ["guest", "reporter", "developer", "maintainer"]
    assert MAINTAINER in marked
