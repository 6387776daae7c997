"""OIDC_PROVIDERS from the environment: what is accepted, and the messages that stop a bad configuration."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from iam_portal.settings import env_secret
from iam_portal.signin.config import oidc_providers_from_env

KEYCLOAK = {
    "id": "keycloak",
    "name": "Keycloak",
    "issuer": "https://sso.example.com/realms/acme",
    "client_id": "iam-portal",
    "group_sync": {
        "claim": "groups",
        "groups": {"/acme/developers": "acme/Acme Developers", "/acme/all": ["acme/A", "acme/B"]},
    },
}


def parse(entries, secrets=None):
    secrets = {"OIDC_KEYCLOAK_CLIENT_SECRET": "s3cret"} if secrets is None else secrets
    return oidc_providers_from_env(json.dumps(entries), lambda name: secrets.get(name, ""))


def test_a_full_entry_gets_every_key():
    [provider] = parse([KEYCLOAK])
    assert provider == {
        "id": "keycloak",
        "name": "Keycloak",
        "issuer": "https://sso.example.com/realms/acme",
        "client_id": "iam-portal",
        "client_secret": "s3cret",
        "scopes": ["openid", "email", "profile"],
        "jit": False,
        "userinfo": True,
        "logout": True,
        "group_sync": {
            "claim": "groups",
            "groups": {"/acme/developers": ["acme/Acme Developers"], "/acme/all": ["acme/A", "acme/B"]},
        },
    }


def test_several_providers_and_openid_is_always_asked():
    second = {
        "id": "corp-ad",
        "issuer": "https://login.example.com/v2.0",
        "client_id": "x",
        "scopes": ["email"],
    }
    providers = parse(
        [KEYCLOAK, second], {"OIDC_KEYCLOAK_CLIENT_SECRET": "a", "OIDC_CORP_AD_CLIENT_SECRET": "b"}
    )
    assert [p["id"] for p in providers] == ["keycloak", "corp-ad"]
    assert providers[1]["scopes"] == ["openid", "email"] and providers[1]["name"] == "corp-ad"
    assert providers[1]["client_secret"] == "b"


def test_empty_means_no_provider():
    assert oidc_providers_from_env("", lambda name: "") == []
    assert oidc_providers_from_env("  ", lambda name: "") == []


def test_the_secret_can_come_from_a_file(tmp_path, monkeypatch):
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file\n")
    monkeypatch.setenv("OIDC_KEYCLOAK_CLIENT_SECRET_FILE", str(secret_file))
    [provider] = oidc_providers_from_env(json.dumps(KEYCLOAK), env_secret)
    assert provider["client_secret"] == "from-a-file"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "OIDC_PROVIDERS is not valid JSON"),
        ('"keycloak"', "must be a JSON list of objects"),
        (json.dumps([{**KEYCLOAK, "id": "Key Cloak"}]), '"id" must be 1-40 lower-case letters'),
        (
            json.dumps([{**KEYCLOAK, "issuer": "sso.example.com"}]),
            '"issuer" must be the provider\'s issuer URL',
        ),
        (json.dumps([{**KEYCLOAK, "client_id": ""}]), '"client_id" is required'),
        (json.dumps([{**KEYCLOAK, "client_secret": "inline"}]), "unknown key(s) client_secret"),
        (json.dumps([{**KEYCLOAK, "jit": "yes"}]), '"jit" must be true or false'),
        (json.dumps([{**KEYCLOAK, "scopes": "openid email"}]), '"scopes" must be a list'),
        (json.dumps([KEYCLOAK, KEYCLOAK]), "two providers share an id"),
        (
            json.dumps([{**KEYCLOAK, "group_sync": {"groups": {"x": "no-slash"}}}]),
            'is not "<company>/<group>"',
        ),
        (json.dumps([{**KEYCLOAK, "group_sync": {"claim": "groups"}}]), '"group_sync.groups" must map'),
        (json.dumps([{**KEYCLOAK, "id": "oidc"}]), "reserved"),
    ],
)
def test_mistakes_stop_the_start_with_a_message(raw, message):
    with pytest.raises(ImproperlyConfigured) as error:
        oidc_providers_from_env(raw, lambda name: "s3cret")
    assert message in str(error.value)


def test_a_missing_secret_names_the_variables_to_set():
    with pytest.raises(ImproperlyConfigured) as error:
        parse([KEYCLOAK], secrets={})
    assert "set OIDC_KEYCLOAK_CLIENT_SECRET or OIDC_KEYCLOAK_CLIENT_SECRET_FILE" in str(error.value)
