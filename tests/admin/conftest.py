"""Fixtures of the admin tests."""

import pytest


@pytest.fixture
def admin_client(demo, login):
    """The test client signed in as the demo's super user, admin@acme.test."""
    return login("admin@acme.test")
