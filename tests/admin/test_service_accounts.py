"""Service accounts in the admin: the client secret is shown once, keys are parsed, root keys only on root SAs."""

import base64
import hashlib
import json
import logging

import pytest

from iam_portal.identities.models import ServiceAccount
from iam_portal.orgs.management.commands.seed_demo import DEMO_JWK
from tests.helpers import admin_url, form_data, no_inline_rows, public_pem, rsa_private_key


def add(admin_client, **fields):
    data = {
        "company": "",
        "name": "robot",
        "auth_method": "client_secret_basic",
        **no_inline_rows("role_bindings"),
    }
    data.update(fields)
    return admin_client.post(admin_url(ServiceAccount, "add"), data)


def add_jwt(admin_client, demo, name, public_key_text):
    """Add a Private Key JWT account of Acme."""
    return add(
        admin_client,
        company=demo.acme.pk,
        name=name,
        auth_method="private_key_jwt",
        public_key_text=public_key_text,
    )


@pytest.fixture(scope="module")
def key_and_pem():
    key = rsa_private_key()
    return key, public_pem(key)


def test_client_secret_is_shown_once_and_only_its_hash_is_stored(admin_client, demo, caplog):
    caplog.set_level(logging.DEBUG)
    response = add(admin_client, company=demo.acme.pk, name="billing-sync")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    (credential,) = response.context["credentials"]
    secret = credential["secret"]
    account = ServiceAccount.objects.get(company=demo.acme, name="billing-sync")
    assert credential["account"] == account
    html = response.content.decode()
    assert html.count(secret) == 1
    assert account.client_id in html
    assert len(secret) >= 43

    assert account.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert account.check_secret(secret)
    assert account.public_key is None and account.key_id == ""
    assert account.created_by.email == "admin@acme.test"
    assert secret not in json.dumps(list(ServiceAccount.objects.filter(pk=account.pk).values()), default=str)

    # Never again: not on the change page, the list, or the next page (no message, cookie or session).
    for url in (admin_url(ServiceAccount, "change", account.pk), admin_url(ServiceAccount)):
        page = admin_client.get(url)
        assert page.status_code == 200
        assert secret not in page.content.decode()
        assert account.secret_hash not in page.content.decode()
    assert secret not in str(admin_client.cookies)
    assert secret not in str(dict(admin_client.session))
    assert all(secret not in record.getMessage() for record in caplog.records)


def test_root_service_account_with_root_keys(admin_client, demo):
    response = add(
        admin_client,
        name="console-bot",
        root_permissions=["console.root.view", "console.root.company.create"],
    )
    assert response.status_code == 200
    account = ServiceAccount.objects.get(company=None, name="console-bot")
    assert account.is_root
    assert account.root_permissions == ["console.root.company.create", "console.root.view"]
    page = admin_client.get(admin_url(ServiceAccount, "change", account.pk))
    assert 'name="root_permissions"' in page.content.decode()
    assert page.context["inline_admin_formsets"] == []  # root SAs hold keys, not roles


def test_company_service_account_cannot_hold_root_keys(admin_client, demo):
    response = add(admin_client, company=demo.acme.pk, name="sneaky", root_permissions=["console.root.view"])
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "cannot hold root permissions" in " ".join(errors["root_permissions"])
    assert not ServiceAccount.objects.filter(name="sneaky").exists()


def test_private_key_jwt_with_pem_stores_the_jwk_and_kid(admin_client, demo, key_and_pem):
    key, pem = key_and_pem
    response = add_jwt(admin_client, demo, "jwt-robot", pem)
    assert response.status_code == 302
    account = ServiceAccount.objects.get(name="jwt-robot")
    numbers = key.public_key().public_numbers()
    assert account.public_key["kty"] == "RSA"
    assert account.public_key["alg"] == "RS256" and account.public_key["use"] == "sig"
    assert int.from_bytes(base64.urlsafe_b64decode(account.public_key["n"] + "=="), "big") == numbers.n
    assert account.key_id == account.public_key["kid"] and len(account.key_id) == 43
    assert account.secret_hash == ""
    page = admin_client.get(admin_url(ServiceAccount, "change", account.pk))
    assert account.key_id in page.content.decode()


def test_private_key_jwt_with_jwk_keeps_its_kid(admin_client, demo):
    jwk = {**DEMO_JWK, "kid": "my-kid"}
    response = add(
        admin_client, name="jwk-bot", auth_method="private_key_jwt", public_key_text=json.dumps(jwk)
    )
    assert response.status_code == 302
    account = ServiceAccount.objects.get(name="jwk-bot")
    assert account.key_id == "my-kid" and account.public_key == jwk


@pytest.mark.parametrize(
    ("key_text", "message"),
    [
        ("-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----", "could not be read"),
        ('{"kty": "RSA", "e": "AQAB"}', "missing 'n'"),
        ("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----", "This is a private key"),
        ("", "needs the account"),
    ],
)
def test_bad_public_key_is_a_form_error_and_creates_nothing(admin_client, demo, key_text, message):
    response = add_jwt(admin_client, demo, "bad-key", key_text)
    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors["public_key_text"])
    assert not ServiceAccount.objects.filter(name="bad-key").exists()


def test_public_key_with_client_secret_basic_is_refused(admin_client, demo, key_and_pem):
    response = add(admin_client, name="confused", public_key_text=key_and_pem[1])
    assert response.status_code == 200
    assert "Only Private Key JWT" in " ".join(response.context["adminform"].form.errors["public_key_text"])
    assert not ServiceAccount.objects.filter(name="confused").exists()


def test_duplicate_name_in_company_is_a_form_error(admin_client, demo):
    response = add(admin_client, company=demo.acme.pk, name="CI-Deployer")
    assert response.status_code == 200
    assert "already has a service account" in " ".join(response.context["adminform"].form.errors["name"])
    assert ServiceAccount.objects.filter(name__iexact="ci-deployer").count() == 1
    # The same name is fine in another company or at the root.
    assert add(admin_client, company=demo.globex.pk, name="ci-deployer").status_code == 200
    assert add(admin_client, name="ci-deployer").status_code == 200
    assert add(admin_client, name="CI-deployer").status_code == 200  # re-rendered with an error
    assert ServiceAccount.objects.filter(company=None, name__iexact="ci-deployer").count() == 1


def test_replace_the_public_key_on_change(admin_client, demo, key_and_pem):
    deployer = demo.deployer
    page = admin_client.get(admin_url(ServiceAccount, "change", deployer.pk))
    data = form_data(page)
    data["public_key_text"] = key_and_pem[1]
    response = admin_client.post(admin_url(ServiceAccount, "change", deployer.pk), data)
    assert response.status_code == 302
    deployer.refresh_from_db()
    assert deployer.key_id != "acme-deployer-2026"
    assert deployer.key_id == deployer.public_key["kid"]

    # An empty textarea keeps the current key.
    data = form_data(admin_client.get(admin_url(ServiceAccount, "change", deployer.pk)))
    data["name"] = "ci-deployer-2"
    assert admin_client.post(admin_url(ServiceAccount, "change", deployer.pk), data).status_code == 302
    kid = deployer.key_id
    deployer.refresh_from_db()
    assert deployer.name == "ci-deployer-2" and deployer.key_id == kid


def test_generate_new_secret_action_shows_it_once(admin_client, demo):
    reader = demo.reader
    old_hash = reader.secret_hash
    response = admin_client.post(
        admin_url(ServiceAccount),
        {"action": "generate_new_secret", "_selected_action": [reader.pk, demo.deployer.pk]},
    )
    assert response.status_code == 200
    (credential,) = response.context["credentials"]
    reader.refresh_from_db()
    assert reader.secret_hash != old_hash
    assert reader.check_secret(credential["secret"])
    assert not reader.check_secret("demo-metrics-reader-secret")
    assert response.content.decode().count(credential["secret"]) == 1
    assert "Skipped" in response.content.decode() and "ci-deployer" in response.content.decode()
