"""The audit log in a real browser: the owner changes a role, then finds the change in the audit log with
the filters and opens its details; without JavaScript the filters still work as a plain form."""

import re

from playwright.sync_api import Page, expect

from iam_portal.access.resolver import SYSTEM
from iam_portal.access.services import company_role_set
from iam_portal.audit.models import AuditEvent
from tests.helpers import expect_dialog_closed, open_dialog, sign_in, submit_company_role

OWNER = "owner@acme.test"
SENTENCE = "Olivia Owner changed Jun One's role on Acme from Guest to Developer"


def change_jun_ones_role(page: Page, url, demo) -> None:
    page.goto(url("/companies/acme/iam/"))
    row = page.locator(f"#identity-user-{demo.user('junior1').pk}")
    open_dialog(row.get_by_role("link", name="Edit"), "Edit company role")
    submit_company_role(page, "Developer", "Save")
    expect_dialog_closed(page)


def test_owner_finds_a_role_change_in_the_audit_log_and_opens_its_details(signed_in, url, demo):
    page = signed_in(OWNER)
    change_jun_ones_role(page, url, demo)
    # Noise the filters must leave out: another change, by the command line.
    company_role_set(actor=SYSTEM, company=demo.acme, subject=demo.user("senior"), role="reporter")

    page.get_by_role("navigation", name="Acme").get_by_role("link", name="Audit log").click()
    expect(page).to_have_url(url("/companies/acme/audit-log/"))
    table = page.locator("#audit-table")
    expect(table.locator("tbody > tr")).to_have_count(2)

    filters = page.get_by_role("search", name="Filter the audit log")
    filters.get_by_label("Action").select_option(label="Role changed")
    filters.get_by_label("Subject").fill("junior1@acme.test")
    filters.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"subject=junior1%40acme\.test"))
    rows = table.locator("tbody > tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(SENTENCE)
    expect(table).to_contain_text("1 event matching these filters")

    event = AuditEvent.objects.get(subject_name="Jun One")
    details = open_dialog(
        rows.first.get_by_role("link", name=f"Details of event #{event.seq}"), f"Event #{event.seq}"
    )
    changes = details.get_by_role("table", name="Before and after")
    expect(changes.get_by_role("row", name="Role Guest Developer")).to_be_visible()
    expect(details).to_contain_text("Portal")
    expect(details).to_contain_text(event.request_id)
    expect(details).to_contain_text(event.digest)
    details.get_by_role("link", name="Done").click()
    expect(details).not_to_be_visible()

    # The filtered view is a link: reloading it shows the same.
    page.reload()
    expect(page.locator("#audit-table tbody > tr")).to_have_count(1)
    expect(page.get_by_label("Subject")).to_have_value("junior1@acme.test")


def test_filters_work_without_javascript(nojs_page, live_server, url, demo):
    company_role_set(actor=SYSTEM, company=demo.acme, subject=demo.user("junior1"), role="developer")
    company_role_set(actor=SYSTEM, company=demo.acme, subject=demo.user("senior"), role="reporter")
    page = sign_in(nojs_page, live_server, OWNER)
    page.goto(url("/companies/acme/audit-log/"))
    page.get_by_label("Subject").fill("Jun One")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#audit-table tbody > tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(
        "The command line changed Jun One's role on Acme from Guest to Developer"
    )
    rows.first.get_by_role("link", name="Details").click()
    expect(page.get_by_role("heading", name="Event #1")).to_be_visible()
    expect(page.get_by_role("table", name="Before and after")).to_be_visible()
    page.get_by_role("link", name="Done").click()
    # Back to the page the dialog was opened from, filters kept (issue 9 #10).
    expect(page).to_have_url(re.compile(r"/companies/acme/audit-log/\?.*subject=Jun\+One"))


def test_history_of_an_identity_from_its_row(signed_in, url, demo):
    page = signed_in(OWNER)
    change_jun_ones_role(page, url, demo)
    page.goto(url("/companies/acme/users/"))
    page.get_by_role("link", name="History of Jun One").click()
    expect(page.get_by_role("heading", name="History of Jun One")).to_be_visible()
    expect(page.locator("#audit-table tbody > tr")).to_have_count(1)
    expect(page.locator("#audit-table")).to_contain_text(SENTENCE)
