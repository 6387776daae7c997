"""Helpers for the machine API tests: RSA keys, service accounts with known credentials, client assertions,
tokens, and a client that speaks to the API the way miactl does (JSON, Bearer, `client-key: miactl`)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass
from urllib.parse import quote_plus

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client
from jwt.algorithms import RSAAlgorithm

from iam_portal.access.models import RoleBinding
from iam_portal.identities.keys import parse_public_key
from iam_portal.identities.models import ServiceAccount, hash_secret
from iam_portal.orgs.models import Company

TOKEN_URL = "/api/m2m/oauth/token"
FORM = "application/x-www-form-urlencoded"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def new_rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def public_jwk(key: rsa.RSAPrivateKey, kid: str = "miactl") -> dict:
    """The JWK miactl uploads (note its `alg`, spelled RSA256)."""
    jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {"kty": "RSA", "use": "sig", "alg": "RSA256", "kid": kid, "n": jwk["n"], "e": jwk["e"]}


@pytest.fixture(scope="session")
def keys():
    """Four RSA keys, generated once: keys[0] signs the portal's tokens, the others belong to clients."""
    return [new_rsa_key() for _ in range(4)]


@pytest.fixture(autouse=True)
def portal_signing_key(settings, keys):
    """The portal signs with a fixed test key, never with a file written by the suite."""
    settings.SIGNING_KEY = private_pem(keys[0])
    settings.SIGNING_KEY_PREVIOUS = ""


@dataclass
class Credentials:
    account: ServiceAccount
    secret: str = ""
    key: rsa.RSAPrivateKey | None = None

    @property
    def client_id(self) -> str:
        return self.account.client_id


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


def basic_header(client_id: str, secret: str) -> str:
    """What Go's oauth2 sends with AuthStyleInHeader: each part form-urlencoded, then base64."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return "Basic " + base64.b64encode(raw.encode()).decode()


def assertion(credentials: Credentials, **overrides) -> str:
    """A client assertion as miactl signs it (iat 10 s in the past, exp an hour after); overrides change
    claims (None removes one), and `_kid`, `_key`, `_alg` the header and the signing key."""
    now = int(time.time()) - 10
    claims = {
        "iss": credentials.client_id,
        "sub": credentials.client_id,
        "aud": "console-client-credentials",
        "jti": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 3600,
    }
    kid = overrides.pop("_kid", credentials.account.key_id)
    key = overrides.pop("_key", credentials.key)
    for name, value in overrides.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid, "typ": "JWT"})


def assertion_form(signed: str, client_id: str | None = None) -> str:
    fields = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed,
        "token_endpoint_auth_method": "private_key_jwt",
    }
    if client_id is not None:
        fields["client_id"] = client_id
    return "&".join(f"{k}={quote_plus(v)}" for k, v in fields.items())


class Api:
    """A test client for the API: JSON bodies, Bearer tokens, miactl's headers."""

    def __init__(self):
        self.client = Client(enforce_csrf_checks=True)

    def token_response(self, credentials: Credentials, **headers):
        if credentials.account.auth_method == ServiceAccount.AuthMethod.PRIVATE_KEY_JWT:
            body = assertion_form(assertion(credentials), credentials.client_id)
            return self.client.post(TOKEN_URL, body, content_type=FORM, **headers)
        return self.client.post(
            TOKEN_URL,
            "grant_type=client_credentials",
            content_type=FORM,
            HTTP_AUTHORIZATION=basic_header(credentials.client_id, credentials.secret),
            **headers,
        )

    def token(self, credentials: Credentials) -> str:
        response = self.token_response(credentials)
        assert response.status_code == 200, response.content
        return response.json()["access_token"]

    def call(self, method: str, path: str, body=None, *, token: str | None = None, **extra):
        headers = {"HTTP_CLIENT_KEY": "miactl", "HTTP_ACCEPT": "application/json, */*"}
        if token is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        headers.update(extra)
        if method in ("GET", "HEAD"):
            return getattr(self.client, method.lower())(path, **headers)
        data = body if isinstance(body, str | bytes) else (json.dumps(body) if body is not None else "")
        return getattr(self.client, method.lower())(path, data, content_type="application/json", **headers)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, body, **kw)

    def delete(self, path, body=None, **kw):
        return self.call("DELETE", path, body, **kw)


@pytest.fixture
def api(db):
    return Api()


@pytest.fixture
def owner_token(api, make_account):
    """A token of a Company Owner-level service account of Acme."""
    return api.token(make_account("company-owner", name="owner-bot"))


def error(response) -> dict:
    """The error body, after checking its shape: {"statusCode": <the status>, "message": "<non-empty>"}."""
    body = response.json()
    assert set(body) == {"statusCode", "message"}, body
    assert body["statusCode"] == response.status_code
    assert isinstance(body["message"], str) and body["message"].strip()
    return body
