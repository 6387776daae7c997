"""Password reset is offered only when mail is configured (EMAIL_HOST); then the whole flow works. And the
sign-in settings that stop the start when they are wrong."""

import re
import subprocess
import sys

import pytest
from django.core import mail as django_mail

RESET = "/accounts/password/reset/"


def test_without_mail_the_reset_pages_are_not_offered(client, db, settings):
    assert settings.PASSWORD_RESET_ENABLED is False
    assert "Forgot your password?" not in client.get("/accounts/login/").content.decode()
    assert client.get(RESET).status_code == 404
    assert client.post(RESET, {"email": "owner@acme.test"}).status_code == 404
    assert client.get("/accounts/password/reset/done/").status_code == 404
    assert client.get("/accounts/password_reset/").status_code == 404  # Django's old address is gone too


@pytest.fixture
def mail(settings):
    """Mail configured; Django's test outbox (locmem backend) collects what would be sent."""
    settings.PASSWORD_RESET_ENABLED = True
    settings.DEFAULT_FROM_EMAIL = "IAM Portal <iam@example.test>"
    django_mail.outbox = []
    return django_mail.outbox


def test_with_mail_a_person_resets_the_password_from_the_link(mail, client, demo):
    assert (
        '<a class="reset-link" href="/accounts/password/reset/">'
        in client.get("/accounts/login/").content.decode()
    )

    response = client.post(RESET, {"email": "Owner@Acme.test"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"
    assert len(django_mail.outbox) == 1
    message = django_mail.outbox[0]
    assert message.to == ["owner@acme.test"] and message.from_email == "IAM Portal <iam@example.test>"
    assert message.subject.startswith("[IAM Portal] ")
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", message.body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200 and "Choose a new password" in form.content.decode()
    action = form.redirect_chain[-1][0] if form.redirect_chain else link
    done = client.post(action, {"password1": "a-brand-new-passphrase", "password2": "a-brand-new-passphrase"})
    assert done.status_code == 302
    assert done["Location"] == "/accounts/password/reset/key/done/"

    assert (
        client.post(
            "/accounts/login/", {"username": "owner@acme.test", "password": demo.password}
        ).status_code
        == 200
    )
    response = client.post(
        "/accounts/login/", {"username": "owner@acme.test", "password": "a-brand-new-passphrase"}
    )
    assert response.status_code == 302
    # The link works once.
    assert "This link no longer works" in client.get(action, follow=True).content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_mail(mail, client, db):
    response = client.post(RESET, {"email": "nobody@acme.test"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"
    assert django_mail.outbox == []


def _settings_error(**env) -> str:
    """Imports the settings in a fresh interpreter with `env`; returns the error, or "" when they load."""
    result = subprocess.run(
        [sys.executable, "-c", "import iam_portal.settings"],
        env={"PATH": "/usr/bin:/bin", "SECRET_KEY": "x" * 60, **env},
        capture_output=True,
        text=True,
    )
    return result.stderr.strip().splitlines()[-1] if result.returncode else ""


def test_mail_settings_are_checked_at_start_up():
    assert "set DEFAULT_FROM_EMAIL too" in _settings_error(EMAIL_HOST="smtp.example.test")
    assert "exclude each other" in _settings_error(
        EMAIL_HOST="smtp.example.test",
        DEFAULT_FROM_EMAIL="iam@example.test",
        EMAIL_USE_TLS="true",
        EMAIL_USE_SSL="true",
    )
    assert _settings_error(EMAIL_HOST="smtp.example.test", DEFAULT_FROM_EMAIL="iam@example.test") == ""


def test_sign_in_settings_are_checked_at_start_up():
    assert "use everyone or superusers" in _settings_error(PASSWORD_SIGNIN="nobody")
    assert "must be at least 1" in _settings_error(LOCKOUT_FAILURES="0")
    assert "must be at least 1" in _settings_error(LOCKOUT_MINUTES="0")
    assert "OIDC_PROVIDERS is not valid JSON" in _settings_error(OIDC_PROVIDERS="[")
