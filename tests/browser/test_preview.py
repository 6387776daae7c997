"""What-if before saving in a real browser (issue 13 §2): the preview follows the select, at 390 px without
horizontal scrolling or the region moving, and removals show it as they open. Nothing is saved by a
preview."""

from playwright.sync_api import expect

from iam_portal.access.models import RoleBinding
from tests.helpers import dialog, open_dialog

OWNER = "owner@acme.test"


def test_the_preview_follows_the_role_chosen_and_saves_nothing(page, signed_in, url, demo):
    page.set_viewport_size({"width": 390, "height": 800})
    signed_in(OWNER)
    senior = demo.user("senior")
    page.goto(url("/companies/acme/iam/"))
    open_dialog(
        page.locator(f"#identity-user-{senior.pk}").get_by_role("link", name="Edit"), "Edit company role"
    )
    region = dialog(page).locator("#preview-changes")
    expect(region).to_have_attribute("aria-live", "polite")
    expect(region).to_contain_text("to see who gains and who loses what before you save")
    size = dialog(page).bounding_box()["height"]

    dialog(page).get_by_label("Company role").select_option("maintainer")
    expect(region).to_contain_text("Sara Senior: Guest → Maintainer on acme (+ 8 permissions)")
    assert dialog(page).bounding_box()["height"] == size  # the answer scrolls in its box: no jump
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    region.get_by_text("(+ 8 permissions)").first.click()
    expect(region.get_by_text("console.company.project.environment.deploy.trigger").first).to_be_visible()

    dialog(page).get_by_label("Company role").select_option("guest")
    expect(region).to_contain_text("Nobody's access changes.")
    assert RoleBinding.objects.get(user=senior, company=demo.acme).role == "guest"


def test_a_removal_shows_who_loses_what_as_it_opens(page, signed_in, url, demo):
    signed_in(OWNER)
    junior = demo.user("junior1")
    page.goto(url(f"/companies/acme/groups/{demo.developers.pk}/"))
    row = page.locator("tbody tr", has_text="Jun One")
    open_dialog(row.get_by_role("link", name="Remove"), "Remove member")
    expect(dialog(page).locator("#preview-changes")).to_contain_text(
        "Jun One: Developer → Guest on acme/payments — loses all access to Payments"
    )
    assert demo.developers.memberships.filter(user=junior).exists()


def test_text_fields_preview_on_demand(page, signed_in, url, demo):
    signed_in(OWNER)
    page.goto(url(f"/companies/acme/groups/{demo.developers.pk}/"))
    open_dialog(page.get_by_role("link", name="Add members"), "Add members")
    dialog(page).get_by_label("Emails").fill("designer1@acme.test")
    dialog(page).get_by_role("button", name="Show what this changes").click()
    expect(dialog(page).locator("#preview-changes")).to_contain_text(
        "Dana Designer: Guest → Developer on acme (+ 4 permissions)"
    )
    assert not demo.developers.memberships.filter(user=demo.user("designer1")).exists()
