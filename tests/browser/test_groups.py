"""Groups in a real browser, as owner@acme.test: create a group with members, add more on its detail page,
remove one, and delete a group whose deletion takes a member's access away."""

import re

from playwright.sync_api import expect

from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group, GroupMembership, User
from tests.helpers import dialog, expect_dialog_closed, expect_settled, open_dialog, submit_company_role

OWNER = "owner@acme.test"


def member_emails(group: Group) -> set[str]:
    return set(GroupMembership.objects.filter(group=group).values_list("user__email", flat=True))


def test_create_a_group_with_members_then_add_and_remove_members(signed_in, url, demo):
    page = signed_in(OWNER)
    page.goto(url("/companies/acme/groups/"))
    expect(page.locator(f"#group-{demo.developers.pk}")).to_contain_text("Acme Developers")

    open_dialog(page.get_by_role("link", name="Create group"), "Create group")
    dialog(page).get_by_label("Name").fill("Acme Developers")
    submit_company_role(page, "Reporter", "Create group")
    expect(dialog(page).locator(".error")).to_contain_text("already has a group named")
    expect_settled(page)  # the refused form was swapped in: type only once it has settled
    dialog(page).get_by_label("Name").fill("Release Team")
    dialog(page).get_by_label("Members").fill("designer1@acme.test\ndesigner2@acme.test")
    dialog(page).get_by_role("button", name="Create group").click()
    expect_dialog_closed(page)
    expect(page.locator("#messages")).to_contain_text("Group Release Team was created with 2 members.")
    group = Group.objects.get(company=demo.acme, name="Release Team")
    row = page.locator(f"#group-{group.pk}")
    expect(row.locator(".role")).to_have_text("Reporter")
    expect(row.locator("td").nth(2)).to_have_text("2")
    assert RoleBinding.objects.get(group=group, company=demo.acme).role == "reporter"
    assert member_emails(group) == {"designer1@acme.test", "designer2@acme.test"}

    row.get_by_role("link", name="Release Team", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/companies/acme/groups/{group.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Release Team")
    header = page.locator("#group-header")
    expect(header).to_contain_text("2 members")
    expect(page.locator("#members-table tbody tr")).to_have_count(2)

    # One unknown address: nothing is added, the unknown one is named.
    open_dialog(page.get_by_role("link", name="Add members"), "Add members")
    dialog(page).get_by_label("Emails").fill("senior@acme.test, ghost@acme.test")
    dialog(page).get_by_role("button", name="Add members").click()
    expect(dialog(page).locator(".error")).to_contain_text("ghost@acme.test")
    assert len(member_emails(group)) == 2

    dialog(page).get_by_label("Emails").fill("senior@acme.test\nlead@acme.test")
    dialog(page).get_by_role("button", name="Add members").click()
    expect_dialog_closed(page)
    expect(page.locator("#messages")).to_contain_text("2 members added to Release Team.")
    expect(page.locator("#members-table tbody tr")).to_have_count(4)
    expect(page.locator(f"#member-{demo.user('senior').pk}")).to_contain_text("senior@acme.test")
    expect(page.locator(f"#member-{demo.user('lead').pk}")).to_contain_text("lead@acme.test")
    expect(header).to_contain_text("4 members")
    assert member_emails(group) == {
        "designer1@acme.test",
        "designer2@acme.test",
        "senior@acme.test",
        "lead@acme.test",
    }

    # Removing a member who keeps a company role of their own: the dialog says so.
    lead = demo.user("lead")
    open_dialog(page.locator(f"#member-{lead.pk}").get_by_role("link", name="Remove"), "Remove member")
    expect(dialog(page)).to_contain_text("keeps access to Acme")
    dialog(page).get_by_role("button", name="Remove").click()
    expect_dialog_closed(page)
    expect(page.locator("#messages")).to_contain_text("Luca Lead was removed from Release Team.")
    expect(page.locator(f"#member-{lead.pk}")).to_have_count(0)
    expect(header).to_contain_text("3 members")
    assert "lead@acme.test" not in member_emails(group)


def test_delete_a_group_warns_who_loses_access(signed_in, url, demo):
    # A member whose only way into Acme is the group.
    solo = User.objects.create_user("solo@acme.test", "pw", full_name="Solo Member")
    GroupMembership.objects.create(group=demo.developers, user=solo)
    page = signed_in(OWNER)
    page.goto(url(f"/companies/acme/groups/{demo.developers.pk}/"))
    expect(page.locator(f"#member-{solo.pk}")).to_be_visible()

    open_dialog(page.get_by_role("link", name="Delete", exact=True), "Delete group")
    expect(dialog(page)).to_contain_text("Acme Developers")
    expect(dialog(page)).to_contain_text("1 member will lose access to Acme")
    consequences = dialog(page).locator(".consequences")
    expect(consequences.first).to_contain_text("Developer")
    expect(consequences.last).to_contain_text("Solo Member")
    expect(consequences.last).not_to_contain_text("Jun One")
    dialog(page).get_by_role("button", name="Delete").click()

    expect(page).to_have_url(url("/companies/acme/groups/"))
    expect(page.locator("#messages")).to_contain_text("Group Acme Developers was deleted.")
    expect(page.locator(f"#group-{demo.developers.pk}")).to_have_count(0)
    expect(page.locator("#groups-table")).to_contain_text("Acme has no groups yet")
    assert not Group.objects.filter(pk=demo.developers.pk).exists()
    assert not GroupMembership.objects.filter(user=solo).exists()

    page.goto(url("/companies/acme/iam/"))
    expect(page.locator(f"#identity-user-{solo.pk}")).to_have_count(0)
    expect(page.locator(f"#identity-user-{demo.user('junior1').pk}")).not_to_contain_text("via groups")
