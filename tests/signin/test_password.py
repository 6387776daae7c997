"""Password sign-in: turned off for everyone but super users (break-glass), brute-force lockout shared by
every worker (django-axes, in the database), and the admin's sign-in address that is no way around either."""

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command

from iam_portal.identities.models import User

LOGIN = "/accounts/login/"


def sign_in(client, email: str, password: str):
    return client.post(LOGIN, {"username": email, "password": password})


def fail(client, email: str, times: int) -> None:
    for attempt in range(times):
        sign_in(client, email, f"guess-{attempt}")


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def assert_signs_in(client, email: str, password: str) -> None:
    assert sign_in(client, email, password).status_code == 302
    assert signed_in(client)


# -- password sign-in off -------------------------------------------------------------------------------


@pytest.fixture
def passwords_for_superusers_only(settings, sso):
    sso()
    settings.PASSWORD_SIGNIN = "superusers"


def test_with_password_sign_in_off_a_member_is_refused_with_a_clear_message(
    passwords_for_superusers_only, client, demo
):
    response = sign_in(client, "owner@acme.test", demo.password)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Password sign-in is turned off for your account" in html
    assert 'role="alert"' in html and '<details class="password-signin" open>' in html
    assert not signed_in(client)


def test_with_password_sign_in_off_a_wrong_password_gets_the_usual_answer(
    passwords_for_superusers_only, client, demo
):
    html = sign_in(client, "owner@acme.test", "wrong").content.decode()
    assert "Password sign-in is turned off" not in html
    assert "The email address and/or password you specified are not correct." in html


def test_with_password_sign_in_off_a_super_user_still_signs_in(passwords_for_superusers_only, client, demo):
    response = client.post(
        f"{LOGIN}?next=/admin/", {"username": "admin@acme.test", "password": demo.password}
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_with_password_sign_in_off_the_password_form_is_folded_away(
    passwords_for_superusers_only, client, db
):
    html = client.get(LOGIN).content.decode()
    assert "Sign in with Test IdP</button>" in html
    assert '<details class="password-signin">' in html
    assert "Sign in with a password (Console super users)" in html


def test_staff_who_are_not_super_users_are_refused_too(passwords_for_superusers_only, client, demo):
    User.objects.filter(email="senior@acme.test").update(is_staff=True)
    sign_in(client, "senior@acme.test", demo.password)
    assert not signed_in(client)


# -- lockout --------------------------------------------------------------------------------------------


def test_repeated_wrong_passwords_lock_the_account_even_for_the_right_one(settings, client, demo):
    assert settings.AXES_FAILURE_LIMIT == 5
    for attempt in range(4):
        response = sign_in(client, "owner@acme.test", f"guess-{attempt}")
        assert response.status_code == 200
    response = sign_in(client, "OWNER@acme.test", "guess-5")  # any spelling counts for the same account

    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed sign-ins" in html
    assert "password sign-in is locked for 15 minutes" in html
    assert "manage.py axes_reset_username" in html

    response = sign_in(client, "owner@acme.test", demo.password)
    assert response.status_code == 429
    assert not signed_in(client)
    assert AccessAttempt.objects.get().username == "owner@acme.test"


def test_a_locked_account_does_not_lock_others(settings, client, demo):
    fail(client, "owner@acme.test", 5)
    assert_signs_in(client, "senior@acme.test", demo.password)


def test_the_unlock_command_lets_the_account_sign_in_again(client, demo):
    fail(client, "owner@acme.test", 5)
    assert sign_in(client, "owner@acme.test", demo.password).status_code == 429

    call_command("axes_reset_username", "owner@acme.test", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert_signs_in(client, "owner@acme.test", demo.password)


def test_a_successful_sign_in_resets_the_count(client, demo):
    fail(client, "owner@acme.test", 4)
    assert sign_in(client, "owner@acme.test", demo.password).status_code == 302
    client.post("/accounts/logout/")
    for attempt in range(4):
        assert sign_in(client, "owner@acme.test", f"again-{attempt}").status_code == 200
    assert sign_in(client, "owner@acme.test", demo.password).status_code == 302


def test_unknown_accounts_are_counted_like_known_ones(client, db):
    for attempt in range(4):
        assert sign_in(client, "nobody@acme.test", f"guess-{attempt}").status_code == 200
    assert sign_in(client, "nobody@acme.test", "guess").status_code == 429


# -- the admin's sign-in address ------------------------------------------------------------------------


def test_the_admin_login_address_checks_no_password(client, demo):
    """POSTing credentials to /admin/login/ signs nobody in: it only points to the portal's sign-in."""
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "admin@acme.test", "password": demo.password}
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"
    assert not signed_in(client)


def test_super_users_are_locked_out_like_everyone(client, demo):
    fail(client, "admin@acme.test", 5)
    response = client.post(
        "/accounts/login/?next=/admin/", {"username": "admin@acme.test", "password": demo.password}
    )
    assert response.status_code == 429
    assert client.get("/admin/").status_code == 302


def test_the_admin_login_address_refuses_to_send_people_elsewhere(client, db):
    response = client.get("/admin/login/?next=https://evil.example/")
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"


def test_sign_in_outcomes_are_recorded_without_secrets(client, demo, caplog):
    caplog.set_level("INFO", logger="iam_portal.signin")
    sign_in(client, "owner@acme.test", "not-the-password")
    sign_in(client, "owner@acme.test", demo.password)
    lines = [r.getMessage() for r in caplog.records if r.name == "iam_portal.signin"]
    assert lines == [
        "sign-in refused: owner@acme.test by password from 127.0.0.1: wrong_password",
        "sign-in succeeded: owner@acme.test by password from 127.0.0.1",
    ]
    assert "not-the-password" not in caplog.text and demo.password not in caplog.text


def test_sign_ins_are_recorded_in_the_console_chain_of_the_audit_log(demo, client):
    """Issue 11: sign-in succeeded and failed, with the account, never the password."""
    from iam_portal.audit.models import Action, AuditEvent

    client.post("/accounts/login/", {"username": "senior@acme.test", "password": "wrong-password"})
    client.post("/accounts/login/", {"username": "senior@acme.test", "password": demo.password})
    failed = AuditEvent.objects.get(action=Action.SIGNIN_FAILED)
    succeeded = AuditEvent.objects.get(action=Action.SIGNIN_SUCCEEDED)
    assert (failed.company_id, failed.outcome, failed.subject_id) == (0, "refused", demo.user("senior").pk)
    assert succeeded.actor_id == demo.user("senior").pk and succeeded.after == {"method": "password"}
    assert "wrong-password" not in str(failed.after) + failed.message
