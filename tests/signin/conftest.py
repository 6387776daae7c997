"""Fixtures for the sign-in tests: a real OpenID provider (tests/oidc) and the portal configured for it."""

import pytest

from tests.helpers import PORTAL, provider_settings
from tests.oidc import server as oidc


@pytest.fixture(scope="session")
def oidc_server():
    provider = oidc.start(portal_url=PORTAL, provider_ids=["test"], accounts={})
    yield provider
    provider.stop()


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
