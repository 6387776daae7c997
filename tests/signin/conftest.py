"""Fixtures for the sign-in tests: a real OpenID provider (tests/oidc) and the portal configured for it."""

import json

import pytest

from iam_portal.signin.config import oidc_providers_from_env
from tests.oidc import server as oidc

PORTAL = "http://testserver"  # the Django test client's host: the redirect URIs registered at the provider


@pytest.fixture(scope="session")
def oidc_server():
    provider = oidc.start(portal_url=PORTAL, provider_ids=["test"], accounts={})
    yield provider
    provider.stop()


def provider_settings(**overrides) -> list[dict]:
    """settings.OIDC_PROVIDERS as the environment would give it (through the real parser)."""
    entry = {
        "id": "test",
        "name": "Test IdP",
        "client_id": oidc.CLIENT_ID,
        "scopes": ["openid", "email", "profile", "groups"],
        **overrides,
    }
    return oidc_providers_from_env(json.dumps([entry]), lambda name: oidc.CLIENT_SECRET)


@pytest.fixture
def sso(settings, oidc_server, demo):
    """sso(**overrides) configures the portal for the test provider (id "test") and returns the server."""

    def configure(**overrides):
        settings.OIDC_PROVIDERS = provider_settings(**{"issuer": oidc_server.issuer, **overrides})
        oidc_server.set_mode("normal")
        return oidc_server

    configure()
    yield configure
    oidc_server.set_mode("normal")


def sso_sign_in(client, provider, sub: str, *, next_url: str | None = None, provider_id: str = "test"):
    """The whole redirect flow: the portal's button, the provider's sign-in page as `sub`, and the callback.
    Returns the portal's answer to the callback."""
    start = client.post(f"/accounts/oidc/{provider_id}/login/", {"next": next_url} if next_url else {})
    assert start.status_code == 302, start.content.decode()[:2000]
    callback = provider.authorize(start["Location"], sub)
    assert callback.startswith(f"{PORTAL}/accounts/oidc/{provider_id}/login/callback/"), callback
    return client.get(callback)
