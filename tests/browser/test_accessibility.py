"""axe-core on every page and every dialog of the portal, signed in, at 1366 and 390 px: no violation.

axe-core comes from npm (tests/browser/package.json, installed by `npm ci` in dev.py and .ci/run). The
pages forbid inline script (CSP), so the test serves axe from the live server's own origin through a
Playwright route: the CSP the tests see is the production one, relaxed in nothing.
"""

import pytest
from playwright.sync_api import Page, expect

from tests.helpers import PORTAL_DIALOGS, PORTAL_PAGES, dialog, portal_url, sign_in
from tests.oidc import server as oidc

AXE = oidc.HERE / "node_modules" / "axe-core" / "axe.min.js"  # the npm test tools live in tests/oidc
AXE_PATH = "/__browser-tests__/axe.min.js"  # answered by the route below, never by the portal
OWNER, READER, SUPERUSER = "owner@acme.test", "designer1@acme.test", "admin@acme.test"


def check(page: Page, live_server, where: str, found: dict) -> None:
    """Run axe-core on the page as it is now; note its violations under `where`."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci --prefix tests/browser` (dev.py test does it)")
    page.route(f"{live_server.url}{AXE_PATH}", lambda route: route.fulfill(path=AXE))
    page.add_script_tag(url=f"{live_server.url}{AXE_PATH}")
    violations = page.evaluate(
        """() => axe.run(document, {resultTypes: ["violations"]}).then((result) => result.violations.map(
            (v) => v.id + " (" + v.impact + "): " + v.nodes.map((n) => n.target.join(" ")).join(", ")))"""
    )
    if violations:
        found[where] = violations


def open_as_dialog(page: Page, url: str) -> None:
    """Load a dialog into the page's <dialog>, as its links do (hx-get, hx-target="#dialog")."""
    page.evaluate("(url) => htmx.ajax('GET', url, {target: '#dialog'})", url)
    expect(dialog(page).locator("h2#dialog-title")).to_be_visible()


@pytest.mark.parametrize("width", [1366, 390])
def test_every_page_and_dialog_passes_axe(page, live_server, url, demo, width):
    page.set_viewport_size({"width": width, "height": 800})
    found: dict[str, list[str]] = {}
    page.goto(url("/accounts/login/"))
    check(page, live_server, "sign in", found)

    sign_in(page, live_server, OWNER)
    for name, template in PORTAL_PAGES.items():
        page.goto(url(portal_url(demo, template)))
        check(page, live_server, name, found)

    for name, template in PORTAL_DIALOGS.items():
        page.goto(url(portal_url(demo, template)))
        check(page, live_server, f"{name} (full page)", found)
    page.goto(url("/companies/acme/iam/"))
    for name, template in PORTAL_DIALOGS.items():
        open_as_dialog(page, portal_url(demo, template))
        check(page, live_server, f"{name} (dialog)", found)
        page.keyboard.press("Escape")
        expect(dialog(page)).not_to_be_visible()

    # A dialog showing its errors, and one showing a result (the secret of a new service account).
    open_as_dialog(page, "/companies/acme/users/add/")
    dialog(page).get_by_label("Email").fill("nobody@acme.test")
    dialog(page).get_by_role("button", name="Add user").click()
    expect(dialog(page).locator(".error")).to_be_visible()
    check(page, live_server, "add user, with an error (dialog)", found)
    page.keyboard.press("Escape")
    open_as_dialog(page, "/companies/acme/service-accounts/add/")
    dialog(page).get_by_label("Name").fill("axe-checker")
    dialog(page).get_by_role("button", name="Add service account").click()
    expect(dialog(page).get_by_role("heading", name="Service account created")).to_be_visible()
    check(page, live_server, "service account created (dialog)", found)

    # What others see: a read-only Project IAM, and the list of companies of a super user.
    page.context.clear_cookies()
    sign_in(page, live_server, READER)
    for name in ("project overview", "Project IAM"):
        page.goto(url(PORTAL_PAGES[name]))
        check(page, live_server, f"{name}, read-only", found)
    page.context.clear_cookies()
    sign_in(page, live_server, SUPERUSER)
    page.goto(url("/"))
    expect(page.get_by_role("heading", name="Companies")).to_be_visible()
    check(page, live_server, "companies", found)

    assert found == {}
