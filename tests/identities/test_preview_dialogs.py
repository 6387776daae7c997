# ruff: noqa: RUF001 -- the dialogs write lost permissions with a minus sign (U+2212), as these lines expect
"""The what-if of the Users, Groups and Service accounts dialogs: group role, add members, remove a member,
delete a group, remove a user, delete a service account. Each shows who gains and who loses what before
saving (removals as they open), changes nothing, and is refused like the save. Expectations are written out
on the demo data: Acme Developers (Developer on Acme) holds Jun One and Jun Two, who are also Guests on Acme
and Developers on Webshop (Maintainers on its staging)."""

from django.urls import reverse

from iam_portal.access.catalogue import GUEST, MAINTAINER
from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group, GroupMembership, User
from tests.helpers import (
    assert_company_matrix,
    bind,
    company_roles,
    preview_lines,
    preview_refusal,
    previewed,
)


def group_url(demo, name: str, *args) -> str:
    return reverse(name, args=["acme", demo.developers.pk, *args])


def test_a_group_role_change_is_previewed_for_the_group_and_every_member(demo, login):
    response = previewed(
        login("owner"), group_url(demo, "group_edit"), {"name": "Acme Developers", "role": "reporter"}
    )
    assert preview_lines(response) == [
        "Acme Developers: Developer → Reporter on acme (− 2 permissions)",
        "Acme Developers: Developer → Reporter on acme/payments (− 2 permissions)",
        "Acme Developers: Developer → Reporter on acme/payments/production",
        "Acme Developers: Developer → Reporter on acme/webshop (− 2 permissions)",
        "Acme Developers: Developer → Reporter on acme/webshop/production",
        "Acme Developers: Developer → Reporter on acme/webshop/staging",
        "Jun One: Developer → Reporter on acme (− 2 permissions)",
        "Jun One: Developer → Reporter on acme/payments (− 2 permissions)",
        "Jun One: Developer → Reporter on acme/payments/production",
        "Jun One: Developer on acme/webshop (− 2 permissions)",  # their own Developer role there
        "Jun Two: Developer → Reporter on acme (− 2 permissions)",
        "Jun Two: Developer → Reporter on acme/payments (− 2 permissions)",
        "Jun Two: Developer → Reporter on acme/payments/production",
        "Jun Two: Developer on acme/webshop (− 2 permissions)",
    ]


def test_adding_a_member_previews_what_the_group_gives_them(demo, login):
    response = previewed(
        login("owner"), group_url(demo, "group_add_members"), {"emails": "designer1@acme.test"}
    )
    assert preview_lines(response) == [
        "Dana Designer: Guest → Developer on acme (+ 4 permissions)",
        "Dana Designer: Guest → Developer on acme/payments (+ 4 permissions)",
        "Dana Designer: Guest → Developer on acme/payments/production (+ 1 permission)",
        "Dana Designer: Reporter → Developer on acme/webshop (+ 4 permissions)",
        "Dana Designer: Reporter → Developer on acme/webshop/production (+ 1 permission)",
        "Dana Designer: Reporter → Developer on acme/webshop/staging (+ 1 permission)",
    ]


def test_an_unknown_email_previews_the_refusal_of_the_save(demo, login):
    response = previewed(login("owner"), group_url(demo, "group_add_members"), {"emails": "nobody@acme.test"})
    assert preview_refusal(response).startswith("No Console account uses: nobody@acme.test.")


def test_adding_a_member_above_ones_own_roles_previews_the_escalation(demo, login):
    crossing = Group.objects.create(company=demo.acme, name="Crossing")
    bind(crossing, GUEST, demo.acme)
    RoleBinding.objects.create(group=crossing, project=demo.research, role=MAINTAINER)
    url = reverse("group_add_members", args=["acme", crossing.pk])
    response = previewed(login("owner"), url, {"emails": "senior@acme.test"})
    assert preview_refusal(response).startswith("You can only grant or change roles up to your own")
    assert not GroupMembership.objects.filter(group=crossing).exists()


def test_removing_a_member_previews_on_open(demo, login):
    response = previewed(login("owner"), group_url(demo, "group_remove_member", demo.user("junior1").pk))
    assert preview_lines(response) == [
        "Jun One: Developer → Guest on acme (− 4 permissions)",
        "Jun One: Developer → Guest on acme/payments — loses all access to Payments (− 4 permissions)",
        "Jun One: Developer → Guest on acme/payments/production (− 1 permission)",
        "Jun One: Developer on acme/webshop (− 4 permissions)",
        "Jun One: Developer on acme/webshop/production (− 1 permission)",
        "Jun One: Maintainer on acme/webshop/staging (− 1 permission)",
    ]


def test_deleting_a_group_takes_all_access_from_a_member_who_had_only_it(demo, login):
    mo = User.objects.create_user("mo@acme.test", "x-password", full_name="Mo Member")
    GroupMembership.objects.create(group=demo.developers, user=mo)
    response = previewed(login("owner"), group_url(demo, "group_delete"))
    mo_lines = [line for line in preview_lines(response) if line.startswith("Mo Member")]
    assert mo_lines == [
        "Mo Member: Developer → no role on acme — loses all access to Acme (− 8 permissions)",
        "Mo Member: Developer → no role on acme/payments (− 4 permissions)",
        "Mo Member: Developer → no role on acme/payments/production (− 1 permission)",
        "Mo Member: Developer → no role on acme/webshop (− 4 permissions)",
        "Mo Member: Developer → no role on acme/webshop/production (− 1 permission)",
        "Mo Member: Developer → no role on acme/webshop/staging (− 1 permission)",
    ]
    assert "Acme Developers: Developer → no role on acme — loses all access to Acme (− 8 permissions)" in (
        preview_lines(response)
    )


def test_deleting_the_group_of_the_last_owner_previews_the_refusal(demo, login, owner_only_through_group):
    url = reverse("group_delete", args=["acme", owner_only_through_group.pk])
    response = previewed(login("owner"), url)
    assert preview_refusal(response).startswith("Acme must keep at least one Company Owner.")


def test_removing_a_user_previews_on_open(demo, login):
    response = previewed(
        login("owner"), reverse("company_user_remove", args=["acme", demo.user("junior1").pk])
    )
    assert preview_lines(response) == [
        "Jun One: Developer → no role on acme — loses all access to Acme (− 8 permissions)",
        "Jun One: Developer → no role on acme/payments (− 4 permissions)",
        "Jun One: Developer → no role on acme/payments/production (− 1 permission)",
        "Jun One: Developer → no role on acme/webshop (− 8 permissions)",
        "Jun One: Developer → no role on acme/webshop/production (− 2 permissions)",
        "Jun One: Maintainer → no role on acme/webshop/staging (− 7 permissions)",
    ]


def test_deleting_a_service_account_previews_on_open(demo, login):
    url = reverse("company_service_account_delete", args=["acme", demo.reader.pk])
    response = previewed(login("owner"), url)
    assert preview_lines(response) == [
        "metrics-reader: Reporter → no role on acme — loses all access to Acme (− 6 permissions)",
        "metrics-reader: Reporter → no role on acme/payments (− 2 permissions)",
        "metrics-reader: Reporter → no role on acme/payments/production (− 1 permission)",
        "metrics-reader: Reporter → no role on acme/webshop (− 2 permissions)",
        "metrics-reader: Reporter → no role on acme/webshop/production (− 1 permission)",
        "metrics-reader: Reporter → no role on acme/webshop/staging (− 1 permission)",
    ]
    # The link and the form still name the account: the dry deletion left its instance whole.
    assert f"/service-accounts/{demo.reader.pk}/delete/" in response.content.decode()


# -- a preview is refused exactly like the save ---------------------------------------------------------


def test_who_may_preview_a_group_role(demo, persona):
    assert_company_matrix(
        persona,
        "post",
        group_url(demo, "group_edit"),
        {"name": "Acme Developers", "role": "reporter", "preview": "1"},
        status=200,
        check=lambda: company_roles(demo.acme)["group:Acme Developers"] == "developer",
    )


def test_who_may_preview_new_members(demo, persona):
    assert_company_matrix(
        persona,
        "post",
        group_url(demo, "group_add_members"),
        {"emails": "designer1@acme.test", "preview": "1"},
        status=200,
        check=lambda: GroupMembership.objects.filter(group=demo.developers).count() == 2,
    )
