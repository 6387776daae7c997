"""TOTP second factor with recovery codes (django-allauth's mfa): enrolment, sign-in with a code, the setting
that requires it for staff and super users (the admin included), and the admin's "who has enrolled"."""

import re
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from iam_portal.identities.models import User
from tests.helpers import HX, sso_sign_in

ACTIVATE = "/accounts/2fa/totp/activate/"
AUTHENTICATE = "/accounts/2fa/authenticate/"


def code_for(secret: str) -> str:
    # The portal remembers used codes (in the shared cache) so a code works once: forget them between steps.
    cache.clear()
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def password_sign_in(client, email: str, password: str, next_url: str = ""):
    return client.post(
        f"/accounts/login/{'?next=' + next_url if next_url else ''}",
        {"username": email, "password": password},
    )


def enrol(client, password: str) -> str:
    """Sets up an authenticator app for the signed-in user, the way a person does; returns its secret."""
    page = client.get(ACTIVATE)
    if page.status_code == 302:  # allauth asks for the password again before changing how one signs in
        assert page["Location"].startswith("/accounts/reauthenticate/")
        assert client.post(page["Location"], {"password": password}).status_code == 302
        page = client.get(ACTIVATE)
    assert page.status_code == 200
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.content.decode()).group(1)
    response = client.post(ACTIVATE, {"code": code_for(secret)})
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == "/accounts/2fa/recovery-codes/"
    return secret


def signed_in_email(client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id).email if user_id else None


def test_a_user_enrols_and_sees_the_recovery_codes_once(client, demo):
    password_sign_in(client, "owner@acme.test", demo.password)
    enrol(client, demo.password)

    owner = demo.user("owner")
    assert set(Authenticator.objects.filter(user=owner).values_list("type", flat=True)) == {
        "totp",
        "recovery_codes",
    }
    first = client.get("/accounts/2fa/recovery-codes/").content.decode()
    codes = RecoveryCodes(Authenticator.objects.get(user=owner, type="recovery_codes")).get_unused_codes()
    assert len(codes) == 10 and all(f"<code>{c}</code>" in first for c in codes)
    assert "shown only this once" in first
    second = client.get("/accounts/2fa/recovery-codes/").content.decode()
    assert not any(c in second for c in codes)
    index = client.get("/accounts/2fa/").content.decode()
    assert "10 of your recovery codes are unused" in index
    assert "Turn off" in index
    # In the portal's one date format (orgs/templatetags/ui.py `when`).
    assert re.search(
        r"Set up <time datetime=\"[^\"]+\">\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}</time>\.", index
    )


def test_a_wrong_code_does_not_enrol(client, demo):
    password_sign_in(client, "owner@acme.test", demo.password)
    enrol_page = client.get(ACTIVATE)
    if enrol_page.status_code == 302:
        client.post(enrol_page["Location"], {"password": demo.password})
    response = client.post(ACTIVATE, {"code": "000000"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-invalid="true"' in html and 'id="id_code_error"' in html
    assert not Authenticator.objects.exists()


def test_after_enrolment_sign_in_asks_for_a_code(client, demo):
    password_sign_in(client, "owner@acme.test", demo.password)
    secret = enrol(client, demo.password)
    client.post("/accounts/logout/")

    response = password_sign_in(client, "owner@acme.test", demo.password, next_url="/companies/acme/iam/")
    assert response.status_code == 302
    assert response["Location"] == AUTHENTICATE
    assert signed_in_email(client) is None
    page = client.get(AUTHENTICATE).content.decode()
    assert '<label for="id_code">' in page and 'autocomplete="one-time-code"' in page

    wrong = client.post(AUTHENTICATE, {"code": "123456"})
    assert wrong.status_code == 200 and signed_in_email(client) is None
    right = client.post(AUTHENTICATE, {"code": code_for(secret)})
    assert right.status_code == 302
    assert right["Location"] == "/companies/acme/iam/"
    assert signed_in_email(client) == "owner@acme.test"


def test_a_recovery_code_works_once(client, demo):
    password_sign_in(client, "owner@acme.test", demo.password)
    enrol(client, demo.password)
    client.post("/accounts/logout/")
    code = RecoveryCodes(Authenticator.objects.get(type="recovery_codes")).get_unused_codes()[0]

    password_sign_in(client, "owner@acme.test", demo.password)
    assert client.post(AUTHENTICATE, {"code": code}).status_code == 302
    assert signed_in_email(client) == "owner@acme.test"
    client.post("/accounts/logout/")

    password_sign_in(client, "owner@acme.test", demo.password)
    assert client.post(AUTHENTICATE, {"code": code}).status_code == 200
    assert signed_in_email(client) is None


def test_cancelling_the_code_step_signs_nobody_in(client, demo):
    password_sign_in(client, "owner@acme.test", demo.password)
    enrol(client, demo.password)
    client.post("/accounts/logout/")
    password_sign_in(client, "owner@acme.test", demo.password)
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get(AUTHENTICATE).status_code == 302  # no sign-in pending any more
    assert signed_in_email(client) is None


def test_a_provider_sign_in_also_asks_an_enrolled_user_for_the_code(sso, client, demo):
    password_sign_in(client, "owner@acme.test", demo.password)
    secret = enrol(client, demo.password)
    client.post("/accounts/logout/")
    provider = sso(group_sync={"claim": "groups", "groups": {"devs": "acme/Acme Developers"}})
    provider.set_account("olivia", email="owner@acme.test", email_verified=True, groups=["devs"])

    response = sso_sign_in(client, provider, "olivia")

    assert response.status_code == 302 and response["Location"] == AUTHENTICATE
    assert signed_in_email(client) is None
    assert not demo.developers.memberships.filter(
        user__email="owner@acme.test"
    ).exists()  # not before the code
    assert client.post(AUTHENTICATE, {"code": code_for(secret)}).status_code == 302
    assert signed_in_email(client) == "owner@acme.test"
    assert demo.developers.memberships.filter(user__email="owner@acme.test").exists()


# -- required for staff ---------------------------------------------------------------------------------


@pytest.fixture
def required(settings):
    settings.TWO_FACTOR_REQUIRED_FOR_STAFF = True


@pytest.mark.parametrize(
    "path", ["/", "/companies/acme/", "/admin/", "/admin/identities/user/", "/accounts/2fa/"]
)
def test_required_staff_must_enrol_before_any_page_the_admin_included(required, client, demo, path):
    password_sign_in(client, "admin@acme.test", demo.password)
    response = client.get(path)
    if path == "/accounts/2fa/":
        assert response.status_code == 200
        assert "Staff and super users must use two-factor authentication." in response.content.decode()
    else:
        assert response.status_code == 302
        assert response["Location"] == ACTIVATE


def test_required_staff_htmx_requests_are_sent_to_the_set_up_page(required, client, demo):
    password_sign_in(client, "admin@acme.test", demo.password)
    response = client.get("/companies/acme/iam/", headers=HX)
    assert response.status_code == 204
    assert response["HX-Redirect"] == ACTIVATE


def test_required_staff_can_work_once_enrolled_and_cannot_turn_it_off(required, client, demo):
    password_sign_in(client, "admin@acme.test", demo.password)
    secret = enrol(client, demo.password)
    assert client.get("/admin/").status_code == 200

    response = client.post("/accounts/2fa/totp/deactivate/")
    if response.status_code == 302 and "reauthenticate" in response["Location"]:
        client.post(response["Location"], {"code": code_for(secret)})
        response = client.post("/accounts/2fa/totp/deactivate/")
    assert response.status_code == 200
    assert "Staff accounts must keep two-factor authentication" in response.content.decode()
    assert Authenticator.objects.filter(user__email="admin@acme.test", type="totp").exists()


def test_required_does_not_touch_members_who_are_not_staff(required, client, demo):
    password_sign_in(client, "owner@acme.test", demo.password)
    assert client.get("/companies/acme/").status_code == 200


def test_required_staff_signing_in_through_the_provider_rely_on_its_second_factor(
    required, sso, client, demo
):
    provider = sso()
    provider.set_account("ada", email="admin@acme.test", email_verified=True, groups=[])
    sso_sign_in(client, provider, "ada")
    assert client.get("/admin/").status_code == 200


def test_not_required_by_default(client, demo, settings):
    assert settings.TWO_FACTOR_REQUIRED_FOR_STAFF is False
    password_sign_in(client, "admin@acme.test", demo.password)
    assert client.get("/admin/").status_code == 200


# -- the admin shows who has enrolled -------------------------------------------------------------------


def test_the_admin_user_list_shows_who_has_enrolled(client, demo):
    owner = demo.user("owner")
    Authenticator.objects.create(user=owner, type=Authenticator.Type.TOTP, data={"secret": "x"})
    client.force_login(demo.user("admin@acme.test"))

    html = client.get("/admin/identities/user/").content.decode()
    assert "Two-factor" in html
    owner_row = html.split(f'href="/admin/identities/user/{owner.pk}/change/"', 1)[1].split("</tr>", 1)[0]
    assert 'alt="True"' in owner_row
    enrolled = client.get("/admin/identities/user/?two_factor=yes").content.decode()
    assert "owner@acme.test" in enrolled and "senior@acme.test" not in enrolled
    not_enrolled = client.get("/admin/identities/user/?two_factor=no").content.decode()
    assert "owner@acme.test" not in not_enrolled and "senior@acme.test" in not_enrolled


def test_the_user_list_costs_the_same_queries_for_more_enrolled_users(client, demo):
    client.force_login(demo.user("admin@acme.test"))
    client.get("/admin/identities/user/")
    with CaptureQueriesContext(connection) as before:
        client.get("/admin/identities/user/")
    for user in User.objects.all():
        Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    with CaptureQueriesContext(connection) as after:
        client.get("/admin/identities/user/")
    assert len(after) == len(before)


def test_the_authenticator_admin_never_shows_the_secret(client, demo):
    owner = demo.user("owner")
    authenticator = Authenticator.objects.create(user=owner, type="totp", data={"secret": "SECRETSECRET"})
    client.force_login(demo.user("admin@acme.test"))
    html = client.get(f"/admin/mfa/authenticator/{authenticator.pk}/change/").content.decode()
    assert "SECRETSECRET" not in html
    assert (
        client.post(f"/admin/mfa/authenticator/{authenticator.pk}/delete/", {"post": "yes"}).status_code
        == 302
    )
    assert not Authenticator.objects.exists()
