"""Client authentication at the token endpoint: `client_secret_basic` and `private_key_jwt`.

client_secret_basic (RFC 6749 §2.3.1): `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))`,
which is what Go's oauth2 package sends; a plain `id:secret` decodes the same way.

private_key_jwt (RFC 7523): `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`
and a `client_assertion` signed RS256 with the account's key: header `kid` = the account's key id;
iss = sub = the client id; aud = `console-client-credentials` or this endpoint's absolute URL; exp required
and at most an hour ahead; jti used once (the database refuses a second use until the assertion expires).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
from dataclasses import dataclass
from urllib.parse import unquote_plus

import jwt
from django.db import IntegrityError, transaction
from django.utils import timezone
from jwt.algorithms import RSAAlgorithm

from iam_portal.api.models import UsedAssertion
from iam_portal.identities.models import ServiceAccount

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_AUDIENCE = "console-client-credentials"
TOKEN_PATH = "/api/m2m/oauth/token"
MAX_ASSERTION_LIFETIME = 3600  # seconds between now and the assertion's exp
CLOCK_SKEW = 60  # seconds
CLIENT_ID_SHAPE = re.compile(r"^[A-Za-z0-9._~-]{1,64}$")
AUTH_FAILED = "Client authentication failed: unknown client or wrong credentials."


class OAuthError(Exception):
    """An RFC 6749 §5.2 error: HTTP status, error code and a description for people."""

    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


class ClientAuthFailed(OAuthError):
    """The credentials were read but do not authenticate a client (401, counted by the throttle)."""

    def __init__(self, description: str = AUTH_FAILED):
        super().__init__(401, "invalid_client", description)


@dataclass(frozen=True)
class ClientCredentials:
    method: str  # a ServiceAccount.AuthMethod value
    client_id: str | None  # as claimed, before authentication; None when unreadable
    secret: str = ""
    assertion: str = ""


def read_client_credentials(request) -> ClientCredentials:
    """What the client presented, or OAuthError for a request that presents no usable method."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    basic = scheme.lower() == "basic"
    assertion_type = request.POST.get("client_assertion_type")
    if basic and (assertion_type or request.POST.get("client_assertion")):
        raise OAuthError(400, "invalid_request", "Use one client authentication method, not two.")
    if basic:
        return _basic_credentials(value.strip())
    if assertion_type is not None or "client_assertion" in request.POST:
        return _assertion_credentials(request, assertion_type)
    if "client_secret" in request.POST:
        raise OAuthError(
            401,
            "invalid_client",
            "Send the client secret with HTTP Basic authentication (client_secret_basic).",
        )
    raise OAuthError(
        401,
        "invalid_client",
        "Client authentication is required: HTTP Basic (client_secret_basic) or a client assertion "
        "(private_key_jwt).",
    )


def _basic_credentials(encoded: str) -> ClientCredentials:
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise OAuthError(
            400, "invalid_request", "The Basic credentials are not base64 of id:secret."
        ) from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise OAuthError(400, "invalid_request", "The Basic credentials are not base64 of id:secret.")
    return ClientCredentials(
        ServiceAccount.AuthMethod.CLIENT_SECRET_BASIC,
        _plausible(unquote_plus(client_id)),
        unquote_plus(secret),
    )


def _assertion_credentials(request, assertion_type: str | None) -> ClientCredentials:
    if assertion_type != ASSERTION_TYPE:
        raise OAuthError(400, "invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}.")
    assertion = request.POST.get("client_assertion", "")
    if not assertion:
        raise OAuthError(400, "invalid_request", "client_assertion is missing.")
    client_id = request.POST.get("client_id")
    if client_id is None:
        try:
            client_id = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            client_id = None
    return ClientCredentials(
        ServiceAccount.AuthMethod.PRIVATE_KEY_JWT,
        _plausible(client_id) if isinstance(client_id, str) else None,
        assertion=assertion,
    )


def _plausible(client_id: str) -> str | None:
    """The claimed id if it could be a client id (and so be looked up and counted), else None."""
    return client_id if CLIENT_ID_SHAPE.match(client_id) else None


def authenticate_client(request, credentials: ClientCredentials) -> ServiceAccount:
    """The authenticated service account, or ClientAuthFailed."""
    account = None
    if credentials.client_id:
        account = (
            ServiceAccount.objects.select_related("company").filter(client_id=credentials.client_id).first()
        )
    if account is None or account.auth_method != credentials.method:
        raise ClientAuthFailed()
    if credentials.method == ServiceAccount.AuthMethod.CLIENT_SECRET_BASIC:
        if not account.check_secret(credentials.secret):
            raise ClientAuthFailed()
        return account
    _verify_assertion(request, account, credentials.assertion)
    return account


def _verify_assertion(request, account: ServiceAccount, assertion: str) -> None:
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        raise ClientAuthFailed("The client assertion is not a signed JWT.") from None
    if header.get("alg") != "RS256" or header.get("kid") != account.key_id:
        raise ClientAuthFailed("The client assertion must be signed RS256 with the account's key (kid).")
    now = timezone.now()
    try:
        public_key = RSAAlgorithm.from_jwk(account.public_key)
        claims = jwt.decode(
            assertion,
            public_key,
            algorithms=["RS256"],
            audience=[ASSERTION_AUDIENCE, request.build_absolute_uri(TOKEN_PATH)],
            leeway=CLOCK_SKEW,
            options={"require": ["iss", "sub", "aud", "exp", "jti"]},
        )
    except jwt.InvalidSignatureError:
        raise ClientAuthFailed("The client assertion's signature does not match the account's key.") from None
    except jwt.ExpiredSignatureError:
        raise ClientAuthFailed("The client assertion has expired.") from None
    except jwt.InvalidAudienceError:
        raise ClientAuthFailed(f"The client assertion's aud must be {ASSERTION_AUDIENCE}.") from None
    except jwt.MissingRequiredClaimError as exc:
        raise ClientAuthFailed(f"The client assertion has no {exc.claim} claim.") from None
    except (jwt.PyJWTError, ValueError, TypeError):
        raise ClientAuthFailed("The client assertion is not valid.") from None
    if claims["iss"] != account.client_id or claims["sub"] != account.client_id:
        raise ClientAuthFailed("The client assertion's iss and sub must both be the client id.")
    expires = claims["exp"]
    if expires > now.timestamp() + MAX_ASSERTION_LIFETIME + CLOCK_SKEW:
        raise ClientAuthFailed("The client assertion's exp is more than an hour ahead.")
    jti = claims["jti"]
    if not isinstance(jti, str) or not 1 <= len(jti) <= 255 or "\x00" in jti:
        raise ClientAuthFailed("The client assertion's jti must be a string of 1 to 255 characters.")
    _use_once(account, jti, datetime.datetime.fromtimestamp(expires, tz=datetime.UTC), now)


def _use_once(account: ServiceAccount, jti: str, expires_at: datetime.datetime, now) -> None:
    """Record the jti; a second use fails on the unique constraint, whichever worker sees it."""
    try:
        with transaction.atomic():
            UsedAssertion.objects.create(client_id=account.client_id, jti=jti, expires_at=expires_at)
    except IntegrityError:
        raise ClientAuthFailed("This client assertion (jti) was already used; sign a new one.") from None
    # An expired assertion is refused by its exp, so its jti need not be kept any longer.
    UsedAssertion.objects.filter(expires_at__lt=now - datetime.timedelta(seconds=CLOCK_SKEW)).delete()
