"""Fixtures of the identities tests."""

import pytest

from iam_portal.access.catalogue import COMPANY_OWNER, MAINTAINER
from iam_portal.access.resolver import AccessResolver


@pytest.fixture
def owner_client(login):
    """The test client signed in as Acme's owner, owner@acme.test."""
    return login("owner")


@pytest.fixture
def lower_actor(persona, login, monkeypatch):
    """The test client signed in as someone who may manage Acme's identities but whose own role there is
    only Maintainer.

    Every real company manager is Company Owner, a root binder or a super user, and all of them may grant
    every company role, so the escalation guard is reached by lowering the role the resolver reports."""
    actor = persona("company", COMPANY_OWNER)
    role_on = AccessResolver.role_on
    monkeypatch.setattr(
        AccessResolver,
        "role_on",
        lambda self, obj: MAINTAINER if self.identity == actor else role_on(self, obj),
    )
    return login(actor)
