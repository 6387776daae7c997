"""Project IAM in a real browser: a Project Administrator edits environment roles, a Company Owner adds a user
from the project, and a Reporter only looks."""

from playwright.sync_api import expect

from iam_portal.access.models import RoleBinding
from iam_portal.access.resolver import AccessResolver
from iam_portal.identities.models import User
from tests.helpers import dialog, expect_dialog_closed, open_dialog

PROJECT_IAM = "/companies/acme/projects/webshop/iam/"
# Columns: Type, Name, Company role, Project role, then one per environment (production, staging).
PROJECT_COL, PRODUCTION_COL, STAGING_COL = 3, 4, 5


def may_deploy(user: User, environment) -> bool:
    return AccessResolver(user).can("environment.deploy", environment)


def test_project_admin_changes_a_juniors_production_role(signed_in, url, demo):
    junior = demo.user("junior1")
    assert not may_deploy(junior, demo.production)
    page = signed_in("pm@acme.test")
    page.goto(url(PROJECT_IAM))
    expect(page.get_by_role("columnheader", name="Production")).to_be_visible()
    expect(page.get_by_role("link", name="Add user")).to_have_count(0)
    row = page.locator(f"#project-identity-user-{junior.pk}")
    cells = row.locator("td")
    expect(cells.nth(PROJECT_COL)).to_contain_text("Developer")
    expect(cells.nth(PRODUCTION_COL)).to_have_accessible_name("No role on Production")  # shows "—"
    expect(cells.nth(STAGING_COL)).to_contain_text("Maintainer")

    open_dialog(row.get_by_role("link", name="Edit"), "Edit project roles")
    expect(dialog(page)).to_contain_text("Jun One")
    expect(dialog(page).locator(".inherited")).to_contain_text("Acme Developers")
    expect(dialog(page).get_by_label("Project role")).to_have_value("developer")
    dialog(page).get_by_label("Production").select_option("maintainer")
    dialog(page).get_by_role("button", name="Save").click()

    expect_dialog_closed(page)
    expect(page.locator("#messages")).to_contain_text("The roles of Jun One on Webshop were saved.")
    expect(cells.nth(PRODUCTION_COL)).to_have_text("Maintainer")
    expect(cells.nth(STAGING_COL)).to_contain_text("Maintainer")
    expect(cells.nth(PROJECT_COL)).to_contain_text("Developer")
    assert RoleBinding.objects.get(user=junior, environment=demo.production).role == "maintainer"
    assert may_deploy(junior, demo.production)

    # Back to "none": the binding goes, and so does the right to deploy.
    row.get_by_role("link", name="Edit").click()
    expect(dialog(page).get_by_label("Production")).to_have_value("maintainer")
    dialog(page).get_by_label("Production").select_option(value="")
    dialog(page).get_by_role("button", name="Save").click()
    expect_dialog_closed(page)
    expect(cells.nth(PRODUCTION_COL)).to_have_accessible_name("No role on Production")  # shows "—"
    assert not RoleBinding.objects.filter(user=junior, environment=demo.production).exists()
    assert not may_deploy(junior, demo.production)


def test_owner_adds_a_user_from_the_project(signed_in, url, demo):
    newbie = User.objects.create_user("newbie@acme.test", "pw", full_name="New Bie")
    page = signed_in("owner@acme.test")
    page.goto(url(PROJECT_IAM))
    open_dialog(page.get_by_role("link", name="Add user"), "Add user")
    dialog(page).get_by_label("Email").fill("newbie@acme.test")
    dialog(page).get_by_label("Company role").select_option("guest")
    dialog(page).get_by_label("Project role").select_option("developer")
    dialog(page).get_by_label("Production").select_option("reporter")
    dialog(page).get_by_label("Staging").select_option("maintainer")
    dialog(page).get_by_role("button", name="Add user").click()

    expect_dialog_closed(page)
    expect(page.locator("#messages")).to_contain_text("New Bie was added to Acme as Guest")
    cells = page.locator(f"#project-identity-user-{newbie.pk} td")
    expect(cells.nth(2)).to_contain_text("Guest")
    expect(cells.nth(PROJECT_COL)).to_have_text("Developer")
    expect(cells.nth(PRODUCTION_COL)).to_have_text("Reporter")
    expect(cells.nth(STAGING_COL)).to_have_text("Maintainer")
    roles = {
        ("company" if b.company_id else "project" if b.project_id else b.environment.env_id): b.role
        for b in RoleBinding.objects.filter(user=newbie).select_related("environment")
    }
    assert roles == {
        "company": "guest",
        "project": "developer",
        "production": "reporter",
        "staging": "maintainer",
    }

    page.goto(url("/companies/acme/iam/"))
    row = page.locator(f"#identity-user-{newbie.pk}")
    expect(row).to_contain_text("newbie@acme.test")
    expect(row.locator(".role")).to_have_text("Guest")


def test_reporter_sees_the_project_iam_read_only(signed_in, url, demo):
    page = signed_in("designer1@acme.test")
    page.goto(url(PROJECT_IAM))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Webshop")
    expect(page.locator(f"#project-identity-user-{demo.user('junior1').pk}")).to_be_visible()
    expect(page.locator("#project-iam-table tbody tr")).to_have_count(11)
    expect(page.get_by_role("note")).to_contain_text("You can look at these roles but not change them.")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_role("button", name="Edit")).to_have_count(0)
    expect(page.get_by_role("link", name="Add user")).to_have_count(0)
    expect(page.get_by_role("link", name="Add service account")).to_have_count(0)
    # The company's Access Management section is not offered either.
    expect(page.get_by_role("link", name="Service accounts")).to_have_count(0)

    edit = url(f"/companies/acme/projects/webshop/iam/user/{demo.user('junior1').pk}/edit/")
    response = page.goto(edit)
    assert response.status == 403


def test_a_project_administrator_removing_their_own_role_is_warned_and_lands_on_the_company(
    signed_in, url, demo
):
    """Issue 9 item 3: saving "No project role" on oneself used to refresh the table into a 404 and leave an
    error page. The dialog says so before saving, and saving lands on the company, with the message."""
    pm = demo.user("pm")
    page = signed_in("pm@acme.test")
    page.goto(url(PROJECT_IAM))
    open_dialog(
        page.locator(f"#project-identity-user-{pm.pk}").get_by_role("link", name="Edit"), "Edit project roles"
    )
    warning = dialog(page).locator(".this-is-you")
    expect(warning).to_contain_text("This is you.")
    expect(warning).to_contain_text("With no project role, you will lose access to Webshop.")
    dialog(page).get_by_label("Project role").select_option(value="")
    dialog(page).get_by_role("button", name="Save").click()

    expect(page).to_have_url(url("/companies/acme/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme")
    expect(page.locator("#messages")).to_contain_text("The roles of Paula Manager on Webshop were saved.")
    expect(dialog(page)).not_to_be_visible()
    assert not RoleBinding.objects.filter(user=pm, project=demo.webshop).exists()


def test_a_project_administrator_becoming_developer_gets_the_read_only_table(signed_in, url, demo):
    pm = demo.user("pm")
    page = signed_in("pm@acme.test")
    page.goto(url(PROJECT_IAM + "?q=paula"))
    open_dialog(
        page.locator(f"#project-identity-user-{pm.pk}").get_by_role("link", name="Edit"), "Edit project roles"
    )
    dialog(page).get_by_label("Project role").select_option(value="developer")
    dialog(page).get_by_role("button", name="Save").click()

    expect(page).to_have_url(url(PROJECT_IAM))
    expect(page.locator("#messages")).to_contain_text("The roles of Paula Manager on Webshop were saved.")
    expect(page.get_by_role("note").first).to_contain_text("You can look at these roles but not change them.")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)


def test_adding_an_existing_member_offers_their_project_roles(signed_in, url, demo):
    """Issue 9 item 18: instead of "already has direct access … use Edit", the dialog turns into their Edit
    project roles dialog with the roles chosen filled in; Save gives them."""
    designer = demo.user("designer1")
    page = signed_in("owner@acme.test")
    page.goto(url(PROJECT_IAM))
    open_dialog(page.get_by_role("link", name="Add user"), "Add user")
    dialog(page).get_by_label("Email").fill("designer1@acme.test")
    dialog(page).get_by_label("Company role").select_option(value="developer")
    dialog(page).get_by_label("Project role").select_option(value="maintainer")
    dialog(page).get_by_label("Production").select_option(value="reporter")
    dialog(page).get_by_role("button", name="Add user").click()

    expect(dialog(page).get_by_role("heading", name="Edit project roles")).to_be_visible()
    expect(dialog(page)).to_contain_text(
        "Dana Designer is already a member of Acme, with the company role Guest."
    )
    expect(dialog(page).get_by_label("Project role")).to_have_value("maintainer")
    expect(dialog(page).get_by_label("Production")).to_have_value("reporter")
    expect(page).to_have_url(url(PROJECT_IAM))  # the page under the dialog stays where it was
    dialog(page).get_by_role("button", name="Save").click()

    expect_dialog_closed(page)
    cells = page.locator(f"#project-identity-user-{designer.pk} td")
    expect(cells.nth(PROJECT_COL)).to_have_text("Maintainer")
    expect(cells.nth(PRODUCTION_COL)).to_have_text("Reporter")
    assert RoleBinding.objects.get(user=designer, company=demo.acme).role == "guest"
