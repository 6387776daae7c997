"""OpenID Connect sign-in against a real provider on loopback (tests/oidc): linking, JIT, refusals, the
provider's answers that must not be trusted, and sign-out. Every refusal is checked to change nothing."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import GroupMembership, User
from tests.helpers import PORTAL, sso_sign_in
from tests.oidc.server import CLIENT_ID

VERIFIED = {"email_verified": True, "groups": []}


def snapshot():
    """Every row a sign-in could create or change."""
    return (
        sorted(User.objects.values_list("email", "is_active", "password")),
        sorted(SocialAccount.objects.values_list("provider", "uid", "user__email")),
        sorted(GroupMembership.objects.values_list("group_id", "user_id")),
        RoleBinding.objects.count(),
    )


def signed_in_email(client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id).email if user_id else None


def assert_refused(client, response, status: int, message: str, before) -> None:
    """Refused with `status` and a page that says `message`; nobody signed in, nothing changed."""
    assert response.status_code == status
    assert message in response.content.decode()
    assert signed_in_email(client) is None
    assert snapshot() == before


# -- linking and JIT ----------------------------------------------------------------------------------


def test_sign_in_links_the_existing_account_with_the_same_verified_email(sso, client, demo):
    provider = sso()
    provider.set_account("olivia", email="Owner@Acme.test", name="Olivia Owner", **VERIFIED)
    users_before = User.objects.count()

    response = sso_sign_in(client, provider, "olivia", next_url="/companies/acme/iam/")

    assert response.status_code == 302
    assert response["Location"] == "/companies/acme/iam/"
    assert signed_in_email(client) == "owner@acme.test"
    link = SocialAccount.objects.get()
    assert (link.provider, link.uid, link.user.email) == ("test", "olivia", "owner@acme.test")
    assert User.objects.count() == users_before
    assert client.get("/companies/acme/iam/").status_code == 200


def test_a_linked_account_signs_in_by_subject_even_after_the_email_changed(sso, client, demo):
    provider = sso()
    provider.set_account("olivia", email="owner@acme.test", **VERIFIED)
    sso_sign_in(client, provider, "olivia")
    client.post("/accounts/logout/")
    provider.set_account("olivia", email="olivia@new-domain.test", **VERIFIED)

    response = sso_sign_in(client, provider, "olivia")

    assert response.status_code == 302
    assert signed_in_email(client) == "owner@acme.test"
    assert SocialAccount.objects.count() == 1


def test_unverified_email_is_refused_and_nothing_is_created(sso, client, demo):
    provider = sso()
    provider.set_account("mallory", email="owner@acme.test", email_verified=False, groups=[])
    before = snapshot()

    response = sso_sign_in(client, provider, "mallory")

    assert response.status_code == 403
    html = response.content.decode()
    assert "Test IdP has not confirmed that owner@acme.test is your address" in html
    assert 'role="alert"' in html
    assert signed_in_email(client) is None
    assert snapshot() == before


def test_unknown_account_is_refused_when_jit_is_off(sso, client, demo):
    provider = sso()
    provider.set_account("newcomer", email="newcomer@acme.test", **VERIFIED)
    before = snapshot()

    response = sso_sign_in(client, provider, "newcomer")

    assert_refused(client, response, 403, "No portal account uses newcomer@acme.test", before)


def test_jit_creates_an_account_that_has_no_access_until_added_to_a_company(sso, client, demo):
    provider = sso(jit=True)
    provider.set_account("newcomer", email="NewComer@acme.test", name="Nina Newcomer", **VERIFIED)

    response = sso_sign_in(client, provider, "newcomer")

    assert response.status_code == 302
    user = User.objects.get(email="newcomer@acme.test")
    assert signed_in_email(client) == "newcomer@acme.test"
    assert user.full_name == "Nina Newcomer"
    assert not user.has_usable_password() and not user.is_staff and not user.is_superuser
    assert SocialAccount.objects.get(user=user).uid == "newcomer"
    assert not RoleBinding.objects.filter(user=user).exists()
    assert not GroupMembership.objects.filter(user=user).exists()
    html = client.get("/", follow=True).content.decode()
    assert "You have no access to any company yet." in html
    assert client.get("/companies/acme/").status_code == 404


def test_jit_still_refuses_an_unverified_email(sso, client, demo):
    provider = sso(jit=True)
    provider.set_account("newcomer", email="newcomer@acme.test", email_verified=False, groups=[])
    before = snapshot()

    assert sso_sign_in(client, provider, "newcomer").status_code == 403
    assert snapshot() == before


def test_inactive_account_is_refused_and_not_linked(sso, client, demo):
    provider = sso()
    User.objects.filter(email="owner@acme.test").update(is_active=False)
    provider.set_account("olivia", email="owner@acme.test", **VERIFIED)
    before = snapshot()

    response = sso_sign_in(client, provider, "olivia")

    assert_refused(client, response, 403, "The portal account owner@acme.test is deactivated", before)


def test_an_account_deactivated_after_linking_is_refused(sso, client, demo):
    provider = sso()
    provider.set_account("olivia", email="owner@acme.test", **VERIFIED)
    sso_sign_in(client, provider, "olivia")
    client.post("/accounts/logout/")
    User.objects.filter(email="owner@acme.test").update(is_active=False)

    response = sso_sign_in(client, provider, "olivia")

    assert response.status_code == 403
    assert signed_in_email(client) is None


# -- what the portal asks for, and answers it must not trust ----------------------------------------------


def test_the_authorization_request_carries_pkce_state_and_nonce(sso, client, demo):
    sso()
    response = client.post("/accounts/oidc/test/login/?scope=admin&auth_params=nonce%3Dmine")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [f"{PORTAL}/accounts/oidc/test/login/callback/"]
    assert set(query["scope"][0].split()) == {
        "openid",
        "email",
        "profile",
        "groups",
    }  # not widened by the URL
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert len(query["state"][0]) >= 16
    assert len(query["nonce"][0]) >= 32 and query["nonce"] != ["mine"]


def test_the_provider_button_needs_the_csrf_token(sso, demo):
    response = Client(enforce_csrf_checks=True).post("/accounts/oidc/test/login/")
    assert response.status_code == 403


def test_next_never_leads_off_site(sso, client, demo):
    provider = sso()
    provider.set_account("olivia", email="owner@acme.test", **VERIFIED)
    response = sso_sign_in(client, provider, "olivia", next_url="https://evil.example/")
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_odd_claims_are_refused_not_crashed_on(sso, client, demo):
    provider = sso(jit=True)
    provider.set_account("odd", email=["owner@acme.test"], email_verified="yes please", name=["x"], groups=[])
    before = snapshot()
    response = sso_sign_in(client, provider, "odd")
    assert_refused(client, response, 403, "did not send your email address", before)


def test_a_get_on_the_provider_button_only_asks_for_confirmation(sso, client, demo):
    """Sign-in starts with a POST (CSRF-protected); a link cannot start it behind someone's back."""
    sso()
    response = client.get("/accounts/oidc/test/login/")
    assert response.status_code == 200
    assert "Continue" in response.content.decode()


def test_an_unknown_provider_is_404(sso, client, demo):
    sso()
    assert client.post("/accounts/oidc/nope/login/").status_code == 404
    assert client.get("/accounts/oidc/nope/login/callback/?code=x&state=y").status_code == 404


def test_a_discovery_document_naming_another_issuer_is_refused(sso, client, demo):
    provider = sso()
    # The same provider reached under another name: its discovery document names 127.0.0.1, not localhost.
    sso(issuer=provider.issuer.replace("127.0.0.1", "localhost"))
    response = client.post("/accounts/oidc/test/login/")
    assert response.status_code == 400
    assert "unexpected issuer" in response.content.decode()


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        # The token endpoint answers with a token issued by another issuer (a mix-up).
        ("wrong-issuer", "unexpected issuer"),
        # The published keys are not the ones the ID token is signed with.
        ("wrong-key", "not signed with its published keys"),
        # The ID token carries the nonce of the previous sign-in, not of this one.
        ("replay-nonce", "belongs to another sign-in attempt"),
    ],
)
def test_an_id_token_the_portal_cannot_trust_is_refused(sso, client, demo, mode, message):
    provider = sso()
    provider.set_account("olivia", email="owner@acme.test", **VERIFIED)
    assert sso_sign_in(client, provider, "olivia").status_code == 302  # the provider works, and saw a nonce
    client.post("/accounts/logout/")
    provider.set_mode(mode)
    before = snapshot()

    response = sso_sign_in(client, provider, "olivia")

    assert_refused(client, response, 400, message, before)


def test_a_replayed_callback_is_refused(sso, client, demo):
    provider = sso()
    provider.set_account("olivia", email="owner@acme.test", **VERIFIED)
    start = client.post("/accounts/oidc/test/login/")
    callback = provider.authorize(start["Location"], "olivia")
    assert client.get(callback).status_code == 302
    client.post("/accounts/logout/")

    response = client.get(callback)

    assert response.status_code == 400
    assert "unknown or was already used" in response.content.decode()
    assert signed_in_email(client) is None


def test_a_callback_from_another_browser_session_is_refused(sso, client, demo):
    """Login CSRF: an attacker's own code and state, delivered to a victim's browser, sign nobody in."""
    provider = sso()
    provider.set_account("mallory", email="designer2@acme.test", **VERIFIED)
    attacker = client.__class__()
    start = attacker.post("/accounts/oidc/test/login/")
    callback = provider.authorize(start["Location"], "mallory")

    response = client.get(callback)

    assert response.status_code == 400
    assert signed_in_email(client) is None
    assert not SocialAccount.objects.exists()


def test_cancelling_at_the_provider_says_so(sso, client, demo):
    sso()
    start = client.post("/accounts/oidc/test/login/")
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    response = client.get(
        f"/accounts/oidc/test/login/callback/?error=access_denied&state={state}", follow=True
    )
    assert response.redirect_chain[-1][0] == "/accounts/3rdparty/login/cancelled/"
    assert "Sign-in cancelled" in response.content.decode()
    assert signed_in_email(client) is None


def test_an_unreachable_provider_gets_a_clear_page(settings, client, demo):
    from tests.helpers import provider_settings

    settings.OIDC_PROVIDERS = provider_settings(issuer="http://127.0.0.1:9")  # discard port: nothing listens
    response = client.post("/accounts/oidc/test/login/")
    assert response.status_code == 502
    assert "could not reach Test IdP" in response.content.decode()


# -- the sign-in page and sign-out ----------------------------------------------------------------------


def test_the_sign_in_page_offers_each_provider_as_a_post_button(sso, client, demo):
    sso()
    html = client.get("/accounts/login/?next=/companies/acme/").content.decode()
    assert '<form method="post" action="/accounts/oidc/test/login/?next=%2Fcompanies%2Facme%2F">' in html
    assert "Sign in with Test IdP</button>" in html
    assert 'name="password"' in html  # passwords still work (PASSWORD_SIGNIN=everyone)


def test_without_providers_the_sign_in_page_is_the_password_form(settings, client, db):
    settings.OIDC_PROVIDERS = []
    html = client.get("/accounts/login/").content.decode()
    assert "Sign in with" not in html
    assert 'name="username"' in html and 'name="password"' in html


def test_sign_out_also_ends_the_provider_session(sso, client, demo):
    provider = sso()
    provider.set_account("olivia", email="owner@acme.test", **VERIFIED)
    browser = requests.Session()
    start = client.post("/accounts/oidc/test/login/")
    id_token_callback = provider.authorize(start["Location"], "olivia", browser=browser)
    client.get(id_token_callback)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    end_session = response["Location"]
    assert end_session.startswith(f"{provider.issuer}/session/end?")
    query = parse_qs(urlsplit(end_session).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["post_logout_redirect_uri"] == [f"{PORTAL}/accounts/login/"]
    assert query["id_token_hint"][0].count(".") == 2
    assert signed_in_email(client) is None
    # At the provider: confirm, and come back to the portal's sign-in page.
    page = browser.get(end_session, timeout=10)
    assert page.status_code == 200 and "Yes, sign me out" in page.text
    form = page.text.split("<form", 1)[1]
    action = form.split('action="', 1)[1].split('"', 1)[0]
    fields = {
        chunk.split('name="', 1)[1].split('"', 1)[0]: chunk.split('value="', 1)[1].split('"', 1)[0]
        for chunk in form.split("<input")[1:]
    }
    done = browser.post(
        requests.compat.urljoin(end_session, action), data={**fields, "logout": "yes"}, allow_redirects=False
    )
    assert done.status_code in (302, 303)
    assert done.headers["Location"] == f"{PORTAL}/accounts/login/"
    # The provider session is gone: the next sign-in meets the provider's sign-in form again.
    step = browser.get(
        client.post("/accounts/oidc/test/login/")["Location"], allow_redirects=False, timeout=10
    )
    page = browser.get(requests.compat.urljoin(end_session, step.headers["Location"]), timeout=10)
    assert 'name="login"' in page.text


def test_sign_out_after_a_password_sign_in_goes_to_the_sign_in_page(sso, client, demo):
    sso()
    client.post("/accounts/login/", {"username": "owner@acme.test", "password": demo.password})
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"


def test_provider_logout_can_be_turned_off(sso, client, demo):
    provider = sso(logout=False)
    provider.set_account("olivia", email="owner@acme.test", **VERIFIED)
    sso_sign_in(client, provider, "olivia")
    response = client.post("/accounts/logout/")
    assert response["Location"] == "/accounts/login/"
