"""Company Access Management in a real browser, as owner@acme.test on the demo data: sign-in, the IAM
table and the Users page — with htmx dialogs, and once with JavaScript disabled."""

import re

from playwright.sync_api import Page, expect

from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import GroupMembership, User
from tests.helpers import dialog, expect_dialog_closed, open_dialog, submit_company_role

OWNER = "owner@acme.test"


def company_role(user: User, company) -> str | None:
    return RoleBinding.objects.filter(user=user, company=company).values_list("role", flat=True).first()


def test_sign_in_lands_on_the_company_overview(page: Page, live_server, demo):
    page.goto(f"{live_server.url}/companies/acme/iam/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/companies/acme/iam/"))
    page.locator("#id_username").fill(OWNER)
    page.locator("#id_password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))

    page.locator("#id_password").fill(demo.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/companies/acme/iam/")
    expect(page.locator(".whoami")).to_have_text("Olivia Owner")

    page.get_by_role("navigation", name="Acme").get_by_role("link", name="Overview").click()
    expect(page).to_have_url(f"{live_server.url}/companies/acme/")
    main = page.locator("main")
    expect(main).to_contain_text("Webshop")
    expect(main).to_contain_text("Payments")
    sidebar = page.get_by_role("navigation", name="Acme")
    for section in ("IAM", "Users", "Groups", "Service accounts"):
        expect(sidebar.get_by_role("link", name=section, exact=True)).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.goto(f"{live_server.url}/companies/acme/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_iam_table_lists_every_identity_and_filters(signed_in, url, demo):
    page = signed_in(OWNER)
    page.goto(url("/companies/acme/iam/"))
    expect(page.locator("#iam-count")).to_contain_text(
        "11 identities · 8 users · 1 group · 2 service accounts"
    )
    owner = page.locator(f"#identity-user-{demo.user('owner').pk}")
    expect(owner.locator(".role")).to_have_text("Company Owner")
    group = page.locator(f"#identity-group-{demo.developers.pk}")
    expect(group.locator(".role")).to_have_text("Developer")
    expect(group.get_by_role("link", name="Remove")).to_have_count(0)
    deployer = page.locator(f"#identity-service-account-{demo.deployer.pk}")
    expect(deployer).to_contain_text(demo.deployer.client_id)
    expect(deployer.locator(".role")).to_have_text("Maintainer")
    # A user's effective company role, and where it comes from.
    junior = page.locator(f"#identity-user-{demo.user('junior1').pk}")
    expect(junior.locator(".role")).to_have_text("Developer")
    expect(junior).to_contain_text("via Acme Developers · direct: Guest")
    expect(page.get_by_role("note").first).to_contain_text("Company roles reach further")

    page.get_by_label("Identity type").select_option("service-account")
    expect(page.locator("#iam-table tbody tr")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"type=service-account"))
    page.get_by_label("Identity type").select_option("")
    expect(page.locator("#iam-table tbody tr")).to_have_count(11)
    page.get_by_label("Search identities").fill("designer")
    expect(page.locator("#iam-table tbody tr")).to_have_count(2)
    expect(page.locator("#iam-count")).to_contain_text("matching “designer”")


def test_add_user_with_a_company_role(signed_in, url, demo):
    newbie = User.objects.create_user("newbie@acme.test", "pw", full_name="New Bie")
    page = signed_in(OWNER)
    page.goto(url("/companies/acme/iam/"))
    expect(page.locator(f"#identity-user-{newbie.pk}")).to_have_count(0)

    page.get_by_role("link", name="Add user").click()
    expect(dialog(page)).to_be_visible()
    expect(dialog(page).get_by_role("heading", name="Add user")).to_be_visible()
    # An email without an account: a clear message, nothing created, the dialog stays open.
    dialog(page).get_by_label("Email").fill("nobody@acme.test")
    submit_company_role(page, "Developer", "Add user")
    expect(dialog(page).locator(".error")).to_contain_text("administrator")
    expect(dialog(page)).to_be_visible()
    assert not User.objects.filter(email="nobody@acme.test").exists()

    dialog(page).get_by_label("Email").fill("newbie@acme.test")
    submit_company_role(page, "Developer", "Add user")
    expect_dialog_closed(page)
    expect(page.locator("#messages")).to_contain_text("New Bie was added to Acme as Developer.")
    row = page.locator(f"#identity-user-{newbie.pk}")
    expect(row).to_contain_text("newbie@acme.test")
    expect(row.locator(".role")).to_have_text("Developer")
    expect(page.locator("#iam-count")).to_contain_text("12 identities · 9 users")
    assert company_role(newbie, demo.acme) == "developer"

    page.get_by_role("navigation", name="Acme").get_by_role("link", name="Users", exact=True).click()
    expect(page.locator(f"#user-{newbie.pk} .role-developer")).to_be_visible()

    # Adding someone who already has direct access points to "Edit"; nothing changes.
    page.get_by_role("link", name="Add user").click()
    dialog(page).get_by_label("Email").fill("newbie@acme.test")
    submit_company_role(page, "Maintainer", "Add user")
    expect(dialog(page).locator(".error")).to_contain_text("Edit")
    assert company_role(newbie, demo.acme) == "developer"
    dialog(page).get_by_role("link", name="Cancel").click()
    expect_dialog_closed(page)


def test_users_page_shows_role_labels(signed_in, url, demo):
    page = signed_in(OWNER)
    page.goto(url("/companies/acme/users/"))
    expect(page.locator("#users-table tbody tr")).to_have_count(8)
    assert page.locator(f"#user-{demo.user('owner').pk} .role").inner_text() == "Company Owner"
    assert page.locator(f"#user-{demo.user('pm').pk} .role").inner_text() == "Guest"


def test_change_a_company_role(signed_in, url, demo):
    designer, owner = demo.user("designer1"), demo.user("owner")
    page = signed_in(OWNER)
    page.goto(url("/companies/acme/iam/"))

    # The last Company Owner cannot be demoted: the dialog says so before saving, the other roles disabled.
    open_dialog(
        page.locator(f"#identity-user-{owner.pk}").get_by_role("link", name="Edit"), "Edit company role"
    )
    role = dialog(page).get_by_label("Company role")
    expect(role.locator("option[value=guest]")).to_be_disabled()
    expect(role.locator("option[value=company-owner]")).to_be_enabled()
    expect(role).to_have_accessible_description(re.compile("Acme must keep at least one Company Owner"))
    assert company_role(owner, demo.acme) == "company-owner"
    dialog(page).get_by_role("link", name="Close").click()
    expect_dialog_closed(page)

    row = page.locator(f"#identity-user-{designer.pk}")
    expect(row.locator(".role")).to_have_text("Guest")

    open_dialog(row.get_by_role("link", name="Edit"), "Edit company role")
    expect(dialog(page)).to_contain_text("Dana Designer")
    expect(dialog(page).get_by_label("Company role")).to_have_value("guest")
    submit_company_role(page, "Reporter", "Save")

    expect_dialog_closed(page)
    expect(page.locator("#messages")).to_contain_text("Dana Designer is now Reporter of Acme.")
    expect(row.locator(".role")).to_have_text("Reporter")
    assert company_role(designer, demo.acme) == "reporter"

    # A group's company role is edited the same way.
    group = page.locator(f"#identity-group-{demo.developers.pk}")
    group.get_by_role("link", name="Edit").click()
    submit_company_role(page, "Maintainer", "Save")
    expect_dialog_closed(page)
    expect(group.locator(".role")).to_have_text("Maintainer")


def test_remove_direct_access_keeps_group_membership(signed_in, url, demo):
    junior = demo.user("junior1")
    page = signed_in(OWNER)
    page.goto(url("/companies/acme/iam/"))
    row = page.locator(f"#identity-user-{junior.pk}")
    open_dialog(row.get_by_role("link", name="Remove"), "Remove direct access")
    consequences = dialog(page).locator(".consequences")
    expect(consequences).to_contain_text("Guest")
    expect(consequences).to_contain_text("Developer")
    expect(consequences).to_contain_text("Maintainer")
    expect(dialog(page)).to_contain_text("Acme Developers")
    dialog(page).get_by_role("button", name="Remove").click()

    expect_dialog_closed(page)
    expect(page.locator("#messages")).to_contain_text("Jun One no longer has direct access to Acme.")
    # Still listed: the group membership keeps them in the company, with the group's role only.
    expect(row.locator(".role")).to_have_text("Developer")
    expect(row.locator(".role-source")).to_have_text("via Acme Developers")
    assert not RoleBinding.objects.filter(user=junior).exists()
    assert GroupMembership.objects.filter(user=junior, group=demo.developers).exists()


def test_remove_a_user(signed_in, url, demo):
    junior = demo.user("junior1")
    page = signed_in(OWNER)
    page.goto(url("/companies/acme/users/"))
    row = page.locator(f"#user-{junior.pk}")
    expect(row).to_contain_text("Acme Developers")

    open_dialog(row.get_by_role("link", name="Remove"), "Remove user")
    expect(dialog(page)).to_contain_text("junior1@acme.test")
    consequences = dialog(page).locator(".consequences")
    expect(consequences.first).to_contain_text("Guest")
    expect(consequences.first).to_contain_text("Developer")
    expect(consequences.first).to_contain_text("Maintainer")
    expect(consequences.last).to_contain_text("Acme Developers")
    dialog(page).get_by_role("button", name="Remove").click()

    expect_dialog_closed(page)
    expect(page.locator("#messages")).to_contain_text("Jun One was removed from Acme.")
    expect(row).to_have_count(0)
    expect(page.locator(f"#user-{demo.user('junior2').pk}")).to_be_visible()
    assert not RoleBinding.objects.filter(user=junior).exists()
    assert not GroupMembership.objects.filter(user=junior).exists()

    page.goto(url("/companies/acme/iam/"))
    expect(page.locator(f"#identity-user-{junior.pk}")).to_have_count(0)


def test_without_javascript_add_a_user_and_change_a_role(nojs_page, signed_in, live_server, demo):
    newbie = User.objects.create_user("newbie@acme.test", "pw", full_name="New Bie")
    page = signed_in(OWNER, page=nojs_page)

    page.goto(f"{live_server.url}/companies/acme/users/")
    page.get_by_role("link", name="Add user").click()
    # A full page, not a dialog.
    expect(page).to_have_url(re.compile(r"/companies/acme/users/add/"))
    expect(page.get_by_role("heading", name="Add user")).to_be_visible()
    page.get_by_label("Email").fill("newbie@acme.test")
    page.get_by_label("Company role").select_option("reporter")
    page.locator("main").get_by_role("button", name="Add user").click()

    expect(page).to_have_url(f"{live_server.url}/companies/acme/users/")
    expect(page.locator("#messages")).to_contain_text("New Bie was added to Acme as Reporter.")
    row = page.locator(f"#user-{newbie.pk}")
    expect(row.locator(".role-reporter")).to_be_visible()
    assert company_role(newbie, demo.acme) == "reporter"

    row.get_by_role("link", name="Edit").click()
    expect(page).to_have_url(re.compile(rf"/companies/acme/iam/user/{newbie.pk}/edit/"))
    page.get_by_label("Company role").select_option("maintainer")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(f"{live_server.url}/companies/acme/iam/")
    expect(page.locator("#messages")).to_contain_text("New Bie is now Maintainer of Acme.")
    expect(page.locator(f"#identity-user-{newbie.pk} .role")).to_have_text("Maintainer")
    assert company_role(newbie, demo.acme) == "maintainer"
