"""Fixtures for the machine API tests: RSA keys, the portal's signing key, service accounts with known
credentials, and a client that speaks to the API the way miactl does (helpers in tests/helpers.py)."""

from __future__ import annotations

import json
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from iam_portal.access.models import RoleBinding
from iam_portal.identities.keys import parse_public_key
from iam_portal.identities.models import ServiceAccount, hash_secret
from iam_portal.orgs.models import Company
from tests.helpers import Api, Credentials, private_pem, public_jwk, rsa_private_key


@pytest.fixture(scope="session")
def keys():
    """Four RSA keys, generated once: keys[0] signs the portal's tokens, the others belong to clients."""
    return [rsa_private_key() for _ in range(4)]


@pytest.fixture(autouse=True)
def portal_signing_key(settings, keys):
    """The portal signs with a fixed test key, never with a file written by the suite."""
    settings.SIGNING_KEY = private_pem(keys[0])
    settings.SIGNING_KEY_PREVIOUS = ""


@pytest.fixture
def make_account(demo, keys):
    """make_account("maintainer") → Credentials of a new basic service account of Acme with that company role.
    make_account(role, jwt=True) uses keys[1] (kid "miactl"); company= and name= choose otherwise; role
    None gives no binding at all."""
    counter = iter(range(1, 10_000))

    def make(
        role: str | None = "company-owner",
        *,
        jwt: bool = False,
        company: Company | None = None,
        name: str = "",
        key: rsa.RSAPrivateKey | None = None,
    ) -> Credentials:
        company = company or demo.acme
        name = name or f"{role or 'norole'}-bot-{next(counter)}"
        if jwt:
            key = key or keys[1]
            jwk, kid = parse_public_key(json.dumps(public_jwk(key)))
            account = ServiceAccount.objects.create(
                company=company,
                name=name,
                auth_method=ServiceAccount.AuthMethod.PRIVATE_KEY_JWT,
                public_key=jwk,
                key_id=kid,
            )
            credentials = Credentials(account, key=key)
        else:
            secret = f"secret-{uuid.uuid4().hex}"
            account = ServiceAccount.objects.create(
                company=company, name=name, secret_hash=hash_secret(secret)
            )
            credentials = Credentials(account, secret=secret)
        if role:
            RoleBinding.objects.create(role=role, service_account=account, company=company)
        return credentials

    return make


@pytest.fixture
def api(db):
    return Api()


@pytest.fixture
def owner_token(api, make_account):
    """A token of a Company Owner-level service account of Acme."""
    return api.token(make_account("company-owner", name="owner-bot"))
