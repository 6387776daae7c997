"""A role that ends on its own, in a real browser: a Company Owner raises "Acme Developers" to Maintainer on
Webshop for one day from the Edit dialog (a quick choice), sees the end in the row, and once the clock has
passed it the members are back to what they had. time_machine moves the clock of this process, so of the
live server's thread too; the browser's own clock does not matter (the server renders every date)."""

import datetime
import os

import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from iam_portal.access.catalogue import DEVELOPER, MAINTAINER
from iam_portal.access.models import RoleBinding
from iam_portal.access.resolver import AccessResolver
from tests.browser.test_accessibility import check
from tests.helpers import dialog, expect_dialog_closed, open_dialog, sign_in

PROJECT_IAM = "/companies/acme/projects/webshop/iam/"
PROJECT_COL = 3  # Type, Name, Company role, Project role, then the environments
SHOTS = os.environ.get("TIME_LIMITED_SCREENSHOTS", "")  # a folder to keep the screenshots in, for a look


def _shoot(page, name: str) -> None:
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.evaluate("document.querySelectorAll('.table-wrap').forEach((wrap) => { wrap.scrollLeft = 0; })")
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
            page.locator(".table-wrap").scroll_into_view_if_needed()
            page.screenshot(path=f"{SHOTS}/{name}-{width}-table.png")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (
            f"{name} is wider than {width}px"
        )
    page.set_viewport_size({"width": 1366, "height": 900})


def test_a_group_raised_for_a_day_is_back_to_developer_after_it(signed_in, live_server, url, demo):
    junior, group = demo.user("junior1"), demo.developers
    found: dict[str, list[str]] = {}
    page = signed_in("owner@acme.test")
    page.goto(url(PROJECT_IAM))
    group_row = page.locator(f"#project-identity-group-{group.pk}")
    junior_row = page.locator(f"#project-identity-user-{junior.pk}")

    open_dialog(group_row.get_by_role("link", name="Edit"), "Edit project roles")
    dialog(page).get_by_label("Project role").select_option(MAINTAINER)
    # Before saving, the dialog's preview says what the raise does to every member. (Each change of a select
    # asks again; waiting for the answer keeps the live server's in-memory SQLite to one writer at a time.)
    preview = dialog(page).locator("#preview-changes")
    expect(preview).to_contain_text("Acme Developers: Developer → Maintainer on acme/webshop")
    dialog(page).get_by_label("Until").select_option(label="In 1 day")
    page.wait_for_load_state("networkidle")  # the preview asked again for the end; let it answer first
    expect(preview).to_contain_text(f"{junior.display_name}: Developer → Maintainer on acme/webshop")
    check(page, live_server, "edit project roles, with Until", found)
    if SHOTS:
        dialog(page).screenshot(path=f"{SHOTS}/edit-dialog.png")
    dialog(page).get_by_role("button", name="Save").click()
    expect_dialog_closed(page)

    binding = RoleBinding.objects.get(group=group, project=demo.webshop)
    assert (binding.role, binding.role_after) == (MAINTAINER, "")
    assert abs(binding.until - (timezone.now() + datetime.timedelta(days=1))) < datetime.timedelta(minutes=1)
    project_cell = group_row.locator("td").nth(PROJECT_COL)
    expect(project_cell).to_contain_text("Maintainer until")
    expect(project_cell).to_contain_text(
        "hours) · then no role"
    )  # "(in 23 hours)": a day, less the seconds gone
    expect(junior_row.locator("td").nth(PROJECT_COL)).to_contain_text(
        "Maintainer (via Acme Developers) until"
    )
    expect(group_row.get_by_role("link", name="Extend the project role of Acme Developers")).to_be_visible()
    assert AccessResolver(junior).role_on(demo.webshop) == MAINTAINER
    check(page, live_server, "Project IAM with a time-limited role", found)
    _shoot(page, "project-iam-until")

    open_dialog(
        group_row.get_by_role("link", name="Extend the project role of Acme Developers"), "Extend a role"
    )
    check(page, live_server, "extend (dialog)", found)
    page.keyboard.press("Escape")
    open_dialog(
        group_row.get_by_role("link", name="End now: the project role of Acme Developers"), "End a role now"
    )
    check(page, live_server, "end now (dialog)", found)
    page.keyboard.press("Escape")
    assert found == {}

    with time_machine.travel(binding.until + datetime.timedelta(minutes=1)):
        sign_in(page, live_server, "owner@acme.test")  # sessions last 8 hours: a day later, sign in again
        page.goto(url(PROJECT_IAM))
        expect(group_row.locator("td").nth(PROJECT_COL)).not_to_contain_text("Maintainer")
        expect(
            group_row.get_by_role("link", name="Extend the project role of Acme Developers")
        ).to_have_count(0)
        junior_project = junior_row.locator("td").nth(PROJECT_COL)
        expect(junior_project).to_have_text("Developer")
        assert AccessResolver(junior).role_on(demo.webshop) == DEVELOPER
        _shoot(page, "project-iam-after")
