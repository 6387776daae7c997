"""What the remove-user, group role, remove-member and delete-group dialogs say before saving (the last-owner
rule, "This is you") and where saving leaves someone who removed or demoted themselves."""

import pytest
from django.urls import reverse

from iam_portal.access.catalogue import COMPANY_OWNER, DEVELOPER
from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group, GroupMembership
from tests.helpers import HX, assert_form_refused, messages_of, options, submit_disabled, this_is_you

LAST_OWNER = "Not possible now.</strong> Acme must keep at least one Company Owner."


def urls(demo, group, user) -> dict[str, str]:
    return {
        "remove_user": reverse("company_user_remove", args=["acme", user.pk]),
        "group_edit": reverse("group_edit", args=["acme", group.pk]),
        "remove_member": reverse("group_remove_member", args=["acme", group.pk, user.pk]),
        "group_delete": reverse("group_delete", args=["acme", group.pk]),
    }


@pytest.fixture
def senior_owns_too(demo):
    RoleBinding.objects.filter(user=demo.user("senior"), company=demo.acme).update(role=COMPANY_OWNER)


# -- the last owner -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialog", ["remove_user", "remove_member", "group_delete"])
def test_removals_that_would_leave_no_owner_are_disabled_and_explained(
    demo, login, owner_only_through_group, dialog
):
    url = urls(demo, owner_only_through_group, demo.user("owner"))[dialog]
    client = login("admin@acme.test")
    html = client.get(url, headers=HX).content.decode()
    assert submit_disabled(html) and LAST_OWNER in html
    assert_form_refused(client, url, {}, "must keep at least one Company Owner")  # the service still says no


@pytest.mark.parametrize("dialog", ["remove_user", "remove_member", "group_delete"])
def test_removals_are_offered_when_another_owner_remains(
    demo, login, owner_only_through_group, senior_owns_too, dialog
):
    html = login("admin@acme.test").get(urls(demo, owner_only_through_group, demo.user("owner"))[dialog])
    assert not submit_disabled(html.content.decode()) and "Not possible now" not in html.content.decode()


def test_the_group_role_that_makes_the_only_owners_offers_only_company_owner(
    demo, login, owner_only_through_group
):
    url = urls(demo, owner_only_through_group, demo.user("owner"))["group_edit"]
    html = login("admin@acme.test").get(url, headers=HX).content.decode()
    assert options(html, "role")["developer"] == "Developer [disabled]"
    assert options(html, "role")["company-owner"] == "Company Owner"
    assert "Only Company Owner can be chosen." in html


def test_other_groups_offer_every_role(demo, login):
    html = (
        login("owner").get(urls(demo, demo.developers, demo.user("junior1"))["group_edit"]).content.decode()
    )
    assert "[disabled]" not in str(options(html, "role"))
    html = (
        login("owner").get(urls(demo, demo.developers, demo.user("junior1"))["group_delete"]).content.decode()
    )
    assert not submit_disabled(html)


# -- "This is you", and where saving leaves you -------------------------------------------------------------


def test_removing_yourself_from_the_company(demo, login, senior_owns_too):
    owner = demo.user("owner")
    client = login("owner")
    url = urls(demo, demo.developers, owner)["remove_user"]
    assert this_is_you(client.get(url).content.decode()) == "This is you. You will lose access to Acme."
    response = client.post(url, headers=HX)
    assert response["HX-Redirect"] == "/"
    assert messages_of(response) == ["Olivia Owner was removed from Acme."]
    assert client.get("/companies/acme/").status_code == 404


def test_lowering_the_role_of_your_own_group(demo, login, owner_only_through_group, senior_owns_too):
    client = login("owner")
    url = urls(demo, owner_only_through_group, demo.user("owner"))["group_edit"]
    assert this_is_you(client.get(url).content.decode()).startswith(
        "This is you. With Guest, Reporter, Developer, Maintainer or Project Administrator, you will no longer "
        "manage the identities of Acme"
    )
    response = client.post(url, {"name": "Owners", "role": DEVELOPER}, headers=HX)
    assert response["HX-Redirect"] == "/companies/acme/"  # still a member: the company stays open


@pytest.mark.parametrize("action", ["remove_member", "group_delete"])
def test_leaving_or_deleting_your_only_group(demo, login, owner_only_through_group, senior_owns_too, action):
    """Leaving the group, or deleting it, takes the owner's only way into Acme: they land on their companies."""
    client = login("owner")
    url = urls(demo, owner_only_through_group, demo.user("owner"))[action]
    assert this_is_you(client.get(url).content.decode()) == "This is you. You will lose access to Acme."
    response = client.post(url, headers=HX)
    assert response["HX-Redirect"] == "/"
    assert not GroupMembership.objects.filter(group=owner_only_through_group).exists()
    if action == "group_delete":
        assert not Group.objects.filter(pk=owner_only_through_group.pk).exists()


def test_deleting_someone_elses_group_goes_back_to_the_groups(demo, login):
    response = login("owner").post(
        urls(demo, demo.developers, demo.user("owner"))["group_delete"], headers=HX
    )
    assert response["HX-Redirect"] == "/companies/acme/groups/"
    html = login("owner").get(urls(demo, demo.developers, demo.user("junior1"))["remove_member"]).content
    assert this_is_you(html.decode()) == ""
