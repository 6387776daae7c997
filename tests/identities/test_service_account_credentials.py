"""Rotating a service account's client secret and replacing its public key: from the portal, the admin
and the machine API's point of view (old credentials and their tokens stop working), with audit events."""

import json

from iam_portal.audit.models import Action, AuditEvent
from iam_portal.identities.models import ServiceAccount
from tests.helpers import (
    HX,
    TOKEN_URL,
    admin_url,
    assert_company_matrix,
    assert_form_refused,
    basic_header,
    public_jwk,
    public_pem,
    rsa_private_key,
)


def credentials_url(account) -> str:
    return f"/companies/acme/service-accounts/{account.pk}/credentials/"


def test_the_rotate_dialog_says_what_stops_working(demo, login):
    html = login("owner").get(credentials_url(demo.reader), headers=HX).content.decode()
    assert "Generate a new client secret for <strong>metrics-reader</strong>" in html
    assert "every token issued with it" in html


def test_rotating_the_secret_shows_the_new_one_once_and_the_old_one_stops_working(demo, login, client):
    account = demo.reader
    old_hash = account.secret_hash
    owner_name = demo.user("owner").display_name
    response = login("owner").post(credentials_url(account), headers=HX)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert (
        json.loads(response["HX-Trigger"])["showMessage"]["text"] == "New client secret for metrics-reader."
    )
    account.refresh_from_db()
    assert account.secret_hash != old_hash
    secret = response.context["client_secret"]
    assert account.check_secret(secret) and secret in response.content.decode()
    event = AuditEvent.objects.get(action=Action.SECRET_ROTATED)
    assert (event.subject_name, event.actor_name, event.source) == ("metrics-reader", owner_name, "portal")
    assert secret not in json.dumps([event.before, event.after, event.message])
    # The new secret gets a token; a wrong one does not.
    ok = client.post(
        TOKEN_URL,
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_header(account.client_id, secret),
    )
    assert ok.status_code == 200
    assert AuditEvent.objects.filter(action=Action.TOKEN_ISSUED, subject_id=account.pk).count() == 1


def test_replacing_the_public_key(demo, login):
    account = demo.deployer
    key = rsa_private_key()
    response = login("owner").post(credentials_url(account), {"public_key": public_pem(key)}, headers=HX)
    assert response.status_code == 200
    account.refresh_from_db()
    new_jwk = public_jwk(key)
    assert account.public_key["n"] == new_jwk["n"]
    event = AuditEvent.objects.get(action=Action.KEY_REPLACED)
    assert event.after == {"key_id": account.key_id} and event.before["key_id"] != account.key_id


def test_a_bad_key_is_a_field_error_and_nothing_changes(demo, login):
    assert_form_refused(
        login("owner"), credentials_url(demo.deployer), {"public_key": "not a key"}, "public key", **HX
    )
    assert not AuditEvent.objects.filter(action=Action.KEY_REPLACED).exists()


def test_only_company_managers_may_change_credentials(demo, persona):
    assert_company_matrix(persona, "get", credentials_url(demo.reader), status=200)
    assert_company_matrix(
        persona,
        "post",
        credentials_url(demo.reader),
        status=200,
        check=lambda: AuditEvent.objects.filter(action=Action.SECRET_ROTATED).exists(),
    )


def test_another_companys_account_is_404(demo, login):
    globex_account = ServiceAccount.objects.create(company=demo.globex, name="globex-bot")
    assert login("owner").get(credentials_url(globex_account)).status_code == 404


def test_the_admin_action_rotates_through_the_service(demo, login):
    client = login("admin@acme.test")
    old_hash = demo.reader.secret_hash
    response = client.post(
        admin_url(ServiceAccount),
        {"action": "generate_new_secret", "_selected_action": [demo.reader.pk, demo.deployer.pk]},
    )
    assert response.status_code == 200
    demo.reader.refresh_from_db()
    assert demo.reader.secret_hash != old_hash
    event = AuditEvent.objects.get(action=Action.SECRET_ROTATED, outcome="success")
    assert (event.subject_name, event.source) == ("metrics-reader", "admin")
    refused = AuditEvent.objects.get(action=Action.SECRET_ROTATED, outcome="refused")
    assert refused.subject_name == "ci-deployer" and "replace its public key" in refused.message
    assert "ci-deployer" in response.content.decode()  # skipped: it signs with a key
