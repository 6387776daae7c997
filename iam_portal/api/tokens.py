"""Access tokens of the machine API: RS256 JWTs the portal signs for a service account.

Claims: iss (this portal's origin), sub and client_id (the client id), aud, iat, exp (an hour), jti, company
(the company slug; null for a root account) and cred, a digest of the account's current credentials. Each
API request loads the account again and compares that digest, so a token stops working at once when its
account is deleted, its secret is replaced or its public key changes, not only when it expires.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import uuid

import jwt
from django.utils import timezone

from iam_portal.api import signing
from iam_portal.identities.models import ServiceAccount

ACCESS_TOKEN_LIFETIME = 3600  # seconds, the `expires_in` of the token response
AUDIENCE = "iam-portal-api"
LEEWAY = 30  # seconds of clock difference tolerated between the portal's machines
REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "jti", "cred"]


class InvalidToken(Exception):
    """The bearer token does not authenticate anyone; the message says why, for the 401 body."""


def issuer(request) -> str:
    """This portal's origin as the client sees it (scheme and host), e.g. https://iam.example.com."""
    return request.build_absolute_uri("/").rstrip("/")


def credentials_digest(account: ServiceAccount) -> str:
    """Changes whenever the account's credentials change (method, secret, public key or key id)."""
    material = json.dumps(
        [account.auth_method, account.secret_hash, account.public_key, account.key_id], sort_keys=True
    )
    digest = hashlib.sha256(material.encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def access_token_issue(request, account: ServiceAccount, *, now: datetime.datetime | None = None) -> str:
    now = now or timezone.now()
    issued_at = int(now.timestamp())
    claims = {
        "iss": issuer(request),
        "sub": account.client_id,
        "client_id": account.client_id,
        "aud": AUDIENCE,
        "iat": issued_at,
        "exp": issued_at + ACCESS_TOKEN_LIFETIME,
        "jti": uuid.uuid4().hex,
        "company": account.company.slug if account.company_id else None,
        "cred": credentials_digest(account),
    }
    key = signing.current_key()
    return jwt.encode(claims, key.private_key, algorithm=signing.ALGORITHM, headers={"kid": key.kid})


def account_for_token(request, token: str) -> ServiceAccount:
    """The service account a bearer token stands for, checked against the database now."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidToken("The bearer token is not a JWT issued by this portal.") from None
    key = signing.verification_key(header.get("kid")) if isinstance(header.get("kid"), str) else None
    if key is None:
        raise InvalidToken("The bearer token was not signed by a key of this portal.")
    try:
        claims = jwt.decode(
            token,
            key.public_key,
            algorithms=[signing.ALGORITHM],
            audience=AUDIENCE,
            issuer=issuer(request),
            leeway=LEEWAY,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("The access token has expired; ask /api/m2m/oauth/token for a new one.") from None
    except jwt.PyJWTError:
        raise InvalidToken("The bearer token is not a valid access token of this portal.") from None
    client_id = claims["sub"]
    account = (
        ServiceAccount.objects.select_related("company").filter(client_id=client_id).first()
        if isinstance(client_id, str) and len(client_id) <= 64 and "\x00" not in client_id
        else None
    )
    if account is None:
        raise InvalidToken("The service account of this token no longer exists.")
    company = account.company.slug if account.company_id else None
    if claims.get("company") != company or claims["cred"] != credentials_digest(account):
        raise InvalidToken("The service account's credentials changed since this token was issued.")
    return account
