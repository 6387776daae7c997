"""Signing in, in a real browser: the whole OpenID Connect redirect flow against the test provider
(tests/oidc) and back, sign-out at both ends, two-factor sign-in, and the sign-in pages' accessibility
(axe-core), narrow screens and no JavaScript."""

import json
import re
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from playwright.sync_api import Page, expect

from iam_portal.identities.models import GroupMembership
from tests.helpers import provider_settings
from tests.oidc import server as oidc

AXE = oidc.HERE / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def browser_oidc(live_server):
    provider = oidc.start(portal_url=live_server.url, provider_ids=["test"], accounts={})
    yield provider
    provider.stop()


@pytest.fixture
def sso(settings, browser_oidc, demo):
    settings.OIDC_PROVIDERS = provider_settings(
        issuer=browser_oidc.issuer,
        group_sync={"claim": "groups", "groups": {"developers": "acme/Acme Developers"}},
    )
    browser_oidc.set_mode("normal")
    browser_oidc.set_account(
        "olivia", email="owner@acme.test", email_verified=True, name="Olivia", groups=["developers"]
    )
    return browser_oidc


def provider_sign_in(page: Page, live_server, sub: str) -> None:
    """From the portal's sign-in page, through the provider's, as `sub`."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("button", name="Sign in with Test IdP").click()
    page.get_by_label("Username").fill(sub)
    page.get_by_role("button", name="Sign in").click()


def test_the_whole_redirect_flow_signs_in_and_out_at_both_ends(page: Page, live_server, sso):
    page.goto(f"{live_server.url}/companies/acme/iam/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    page.get_by_role("button", name="Sign in with Test IdP").click()

    expect(page).to_have_url(re.compile(rf"^{re.escape(sso.issuer)}/interaction/"))
    page.get_by_label("Username").fill("olivia")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{live_server.url}/companies/acme/iam/")
    expect(page.locator(".whoami")).to_have_text("Olivia Owner")
    expect(page.get_by_role("status").filter(has_text="added to Acme Developers")).to_be_visible()
    assert GroupMembership.objects.filter(
        user__email="owner@acme.test", group__name="Acme Developers"
    ).exists()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(sso.issuer)}/session/end"))
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")

    # Both sessions are over: signing in again meets the provider's form again.
    page.get_by_role("button", name="Sign in with Test IdP").click()
    expect(page.get_by_label("Username")).to_be_visible()


def test_a_refused_sign_in_explains_why(page: Page, live_server, sso):
    sso.set_account("stranger", email="stranger@elsewhere.test", email_verified=True, groups=[])
    provider_sign_in(page, live_server, "stranger")
    expect(page.get_by_role("heading", name="Sign-in refused")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("No portal account uses stranger@elsewhere.test")
    page.get_by_role("link", name="Back to sign-in").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")


def test_two_factor_sign_in_in_the_browser(page: Page, live_server, demo):
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    Authenticator.objects.create(
        user=demo.user("owner"), type=Authenticator.Type.TOTP, data={"secret": secret}
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill(demo.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Two-factor authentication")).to_be_visible()
    page.get_by_label("Code").fill(format_hotp_value(hotp_value(secret, int(time.time()) // 30)))
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".whoami")).to_have_text("Olivia Owner")


def test_the_password_form_works_without_javascript(nojs_page: Page, live_server, sso, demo):
    nojs_page.goto(f"{live_server.url}/accounts/login/")
    nojs_page.get_by_label("Email").fill("owner@acme.test")
    nojs_page.get_by_label("Password").fill(demo.password)
    nojs_page.get_by_role("button", name="Sign in", exact=True).click()
    expect(nojs_page).to_have_url(f"{live_server.url}/companies/acme/")


def test_the_provider_button_works_without_javascript(nojs_page: Page, live_server, sso):
    nojs_page.goto(f"{live_server.url}/accounts/login/")
    nojs_page.get_by_role("button", name="Sign in with Test IdP").click()
    nojs_page.get_by_label("Username").fill("olivia")
    nojs_page.get_by_role("button", name="Sign in").click()
    expect(nojs_page).to_have_url(f"{live_server.url}/companies/acme/")


def axe_violations(page: Page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]]} for v in result["violations"]]


@pytest.mark.parametrize("password_signin", ["everyone", "superusers"])
@pytest.mark.parametrize("width", [1280, 390])
def test_sign_in_page_is_accessible_and_fits_a_phone(
    new_context, live_server, sso, settings, password_signin, width
):
    if not AXE.exists():
        pytest.skip("axe-core is installed by `npm ci --prefix tests/oidc`")
    settings.PASSWORD_SIGNIN = password_signin
    # Playwright injects axe-core as an inline script, which the portal's CSP rightly forbids.
    page = new_context(bypass_csp=True).new_page()
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(f"{live_server.url}/accounts/login/")
    if password_signin == "superusers":
        page.get_by_text("Sign in with a password (Console super users)").click()
    page.get_by_label("Email").fill("someone@acme.test")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in", exact=True).click()  # the page with its error is checked too
    expect(page.get_by_role("alert")).to_contain_text("not correct")

    assert axe_violations(page) == [], json.dumps(axe_violations(page), indent=1)
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_the_other_sign_in_pages_are_accessible(new_context, live_server, sso, demo):
    """The refusal page, the two-factor pages and the lockout page, each checked by axe-core."""
    if not AXE.exists():
        pytest.skip("axe-core is installed by `npm ci --prefix tests/oidc`")
    page = new_context(bypass_csp=True).new_page()
    checked = {}

    sso.set_account("stranger", email="stranger@elsewhere.test", email_verified=True, groups=[])
    provider_sign_in(page, live_server, "stranger")
    expect(page.get_by_role("heading", name="Sign-in refused")).to_be_visible()
    checked["refused"] = axe_violations(page)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill(demo.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.goto(f"{live_server.url}/accounts/2fa/")
    expect(page.get_by_role("heading", name="Two-factor authentication")).to_be_visible()
    checked["two-factor overview"] = axe_violations(page)
    page.get_by_role("link", name="Set up an authenticator app").click()
    page.get_by_label("Password").fill(demo.password)  # allauth asks for the password again first
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Set up an authenticator app")).to_be_visible()
    checked["set up"] = axe_violations(page)
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code").fill(format_hotp_value(hotp_value(secret, int(time.time()) // 30)))
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()
    checked["recovery codes"] = axe_violations(page)
    page.get_by_role("button", name="Sign out").click()

    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill(demo.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".field.has-error")).to_be_visible()
    checked["code, wrong"] = axe_violations(page)

    page = new_context(bypass_csp=True).new_page()  # a browser without that pending sign-in
    page.goto(f"{live_server.url}/accounts/login/")
    for attempt in range(5):
        page.get_by_label("Email").fill("senior@acme.test")
        page.get_by_label("Password").fill(f"guess-{attempt}")
        page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Too many failed sign-ins")).to_be_visible()
    checked["locked out"] = axe_violations(page)

    assert checked == {name: [] for name in checked}, json.dumps(checked, indent=1)
