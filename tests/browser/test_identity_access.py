"""An identity's access page in a real browser (issue 13): opened from the IAM table, asked "why can they
deploy to production?", one path removed through its dialog, the answer refreshed; and once without
JavaScript."""

import re

from playwright.sync_api import expect

from iam_portal.access.models import RoleBinding
from tests.helpers import dialog, expect_dialog_closed, open_dialog

OWNER = "owner@acme.test"


def ask(page, permission: str, resource: str) -> None:
    why = page.locator("section.why")
    why.locator("select[name=permission]").select_option(permission)
    why.locator("select[name=resource]").select_option(resource)
    why.get_by_role("button", name="Ask").click()


def test_why_can_they_deploy_to_production(signed_in, url, demo):
    senior = demo.user("senior")  # Sara Senior: Maintainer on Webshop, Guest on Acme
    page = signed_in(OWNER)
    page.goto(url("/companies/acme/iam/"))
    page.locator(f"#identity-user-{senior.pk}").get_by_role("link", name="Sara Senior", exact=True).click()
    start = url(f"/companies/acme/access/user/{senior.pk}/")
    expect(page).to_have_url(start)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sara Senior")
    production = page.locator(f"#access-environment-{demo.production.pk}")
    expect(production).to_contain_text("Maintainer direct, inherited from the project Webshop")
    expect(production).to_contain_text("Deploy to the environment")

    ask(page, "environment.deploy", "acme/webshop/production")
    answer = page.locator("#why-answer")
    expect(answer).to_contain_text(
        "Yes. Sara Senior can do “Deploy to the environment” on the environment Production"
    )
    expect(answer).to_contain_text("no other path: they could no longer do it.")
    expect(page).to_have_url(
        re.compile(r"\?permission=environment\.deploy&resource=acme%2Fwebshop%2Fproduction$")
    )

    # The way to take it away: the usual dialog, whose role picker says what each choice allows.
    open_dialog(
        answer.get_by_role("link", name="Edit project roles of Sara Senior on Webshop"), "Edit project roles"
    )
    picker = dialog(page).locator(".field-project_role")
    expect(picker.locator("summary")).to_have_text("What Maintainer allows")
    expect(picker.get_by_role("combobox")).to_contain_text("Maintainer — as Developer, and deploys")
    picker.get_by_role("combobox").select_option("reporter")
    expect(picker.locator("summary")).to_have_text("What Reporter allows")  # htmx asked for the new list
    picker.locator("summary").click()
    expect(picker.locator(".role-allows")).to_contain_text("View every environment of the project")
    expect(picker.locator(".role-allows")).not_to_contain_text("Deploy to the environment")
    dialog(page).get_by_role("button", name="Save").click()
    expect_dialog_closed(page)

    # The page reloads its content on the change, the question still asked.
    expect(answer).to_contain_text("No. Sara Senior cannot do “Deploy to the environment”")
    expect(answer).to_contain_text("It would take Maintainer on the company, or Maintainer on the project")
    expect(production).to_contain_text("Reporter direct, inherited from the project Webshop")
    assert RoleBinding.objects.get(user=senior, project=demo.webshop).role == "reporter"

    # Back: the page as it was before the question, whole.
    page.go_back()
    expect(page).to_have_url(start)
    expect(page.get_by_role("navigation", name="Acme")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sara Senior")
    expect(page.locator("#why-answer")).not_to_contain_text("Yes.")


def test_my_access_and_the_question_without_javascript(nojs_page, signed_in, url, demo):
    page = signed_in("junior1@acme.test", page=nojs_page)
    page.goto(url("/companies/acme/"))
    page.get_by_role("navigation", name="Acme").get_by_role("link", name="My access").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My access")
    ask(page, "environment.deploy", "acme/webshop/staging")
    expect(page).to_have_url(re.compile(r"permission=environment\.deploy&resource=acme%2Fwebshop%2Fstaging"))
    answer = page.locator("#why-answer")
    expect(answer).to_contain_text("Yes. You can do “Deploy to the environment” on the environment Staging")
    # Junior is no manager: the change that would remove it is named, not linked.
    expect(answer).to_contain_text("Edit project roles of Jun One on Webshop (not something you may do)")
    expect(answer.get_by_role("link")).to_have_count(0)
