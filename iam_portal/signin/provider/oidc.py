"""OpenID Connect for allauth, made strict.

allauth's own `openid_connect` provider trusts the issuer its discovery document names, skips the ID token
signature when the token came straight from the token endpoint, and sends no nonce. This provider, one per
entry of settings.OIDC_PROVIDERS, instead:

- refuses a discovery document whose issuer is not the configured one (OpenID Connect Discovery §4.3);
- always uses PKCE (S256) and a fresh `nonce`, kept with the `state` in the session;
- verifies every ID token with PyJWT against the provider's JWKS: signature (asymmetric algorithms only),
  issuer, audience/azp, expiry, issued-at, and the nonce of this very sign-in;
- takes user info only for the same subject.

Any failure raises SignInError, whose code says why (refusals.py has the words).
"""

from __future__ import annotations

import secrets

import jwt
import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.utils import generate_code_challenge
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from allauth.utils import build_absolute_uri
from django.urls import reverse

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
CLOCK_LEEWAY_SECONDS = 60


class SignInError(OAuth2Error):
    """The provider's answer was refused; `code` is a key of refusals.REASONS, `detail` is for the log."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def fetch_json(url: str, **kwargs) -> dict:
    try:
        with get_adapter().get_requests_session() as session:
            response = session.get(url, **kwargs)
            response.raise_for_status()
            data = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise SignInError("provider_unreachable", f"{url}: {exc}") from None
    if not isinstance(data, dict):
        raise SignInError("provider_unreachable", f"{url} did not answer with a JSON object")
    return data


def id_token_verify(raw: str, *, jwks: dict, issuer: str, client_id: str, nonce: str, algorithms) -> dict:
    """The claims of `raw`, or SignInError. `algorithms` are those the provider announces; only asymmetric
    ones are accepted (a shared-secret or "none" token would prove nothing)."""
    allowed = [a for a in (algorithms or ["RS256"]) if a in ALGORITHMS]
    try:
        header = jwt.get_unverified_header(raw)
    except jwt.PyJWTError as exc:
        raise SignInError("bad_token", f"unreadable ID token: {exc}") from None
    if header.get("alg") not in allowed:
        raise SignInError("bad_signature", f"algorithm {header.get('alg')!r} is not one of {allowed}")
    key = _signing_key(jwks, header.get("kid"), header["alg"])
    try:
        claims = jwt.decode(
            raw,
            key=key,
            algorithms=allowed,
            audience=client_id,
            issuer=issuer,
            leeway=CLOCK_LEEWAY_SECONDS,
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
    except jwt.InvalidIssuerError as exc:
        raise SignInError("wrong_issuer", f"ID token: {exc}") from None
    except jwt.InvalidAudienceError as exc:
        raise SignInError("wrong_audience", str(exc)) from None
    except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError, jwt.InvalidIssuedAtError) as exc:
        raise SignInError("expired", str(exc)) from None
    except jwt.InvalidSignatureError as exc:
        raise SignInError("bad_signature", str(exc)) from None
    except jwt.PyJWTError as exc:
        raise SignInError("bad_token", str(exc)) from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise SignInError("wrong_audience", f"several audiences and azp={claims.get('azp')!r}")
    if (
        not nonce
        or not isinstance(claims.get("nonce"), str)
        or not secrets.compare_digest(claims["nonce"], nonce)
    ):
        raise SignInError("replayed_nonce", "the ID token's nonce is not the one sent with this sign-in")
    return claims


def _signing_key(jwks: dict, kid: str | None, alg: str):
    try:
        keys = [k for k in jwt.PyJWKSet.from_dict(jwks).keys if k.public_key_use in (None, "sig")]
    except (jwt.PyJWKSetError, jwt.InvalidKeyError, TypeError, KeyError) as exc:
        raise SignInError("bad_signature", f"the provider's JWKS has no usable key: {exc}") from None
    if kid is not None:
        keys = [k for k in keys if k.key_id == kid]
    else:
        keys = [k for k in keys if k.algorithm_name in (None, alg)]
    if len(keys) != 1:
        raise SignInError("bad_signature", f"no single published key for kid={kid!r}")
    return keys[0].key


class PortalOIDCAdapter(OpenIDConnectOAuth2Adapter):
    """One sign-in's conversation with the provider. The callback view sets `state`: the session data
    stashed when the sign-in started (PKCE verifier, nonce, next URL)."""

    state: dict | None = None

    @property
    def config(self) -> dict:
        return self.get_provider().app.settings

    @property
    def openid_config(self) -> dict:
        if not hasattr(self, "_openid_config"):
            document = fetch_json(discovery_url(self.config["issuer"]))
            if document.get("issuer") != self.config["issuer"]:
                raise SignInError(
                    "wrong_issuer",
                    f"discovery names issuer {document.get('issuer')!r}, configured {self.config['issuer']!r}",
                )
            for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(document.get(key), str):
                    raise SignInError("provider_unreachable", f"discovery document lacks {key}")
            self._openid_config = document
        return self._openid_config

    def get_callback_url(self, request, app):
        path = reverse("oidc_callback", kwargs={"provider_id": self.provider_id})
        return build_absolute_uri(request, path)

    def complete_login(self, request, app, token, **kwargs):
        raw = kwargs["response"].get("id_token")
        if not isinstance(raw, str) or not raw:
            raise SignInError("bad_token", "the token endpoint sent no ID token")
        state = self.state if self.state is not None else {}
        claims = id_token_verify(
            raw,
            jwks=fetch_json(self.openid_config["jwks_uri"]),
            issuer=self.config["issuer"],
            client_id=app.client_id,
            nonce=state.get("nonce", ""),
            algorithms=self.openid_config.get("id_token_signing_alg_values_supported"),
        )
        profile = dict(claims)
        if self.config["userinfo"] and self.openid_config.get("userinfo_endpoint"):
            info = fetch_json(self.profile_url, headers={"Authorization": f"Bearer {token.token}"})
            if info.get("sub") != claims["sub"]:
                raise SignInError("bad_token", "user info describes another subject than the ID token")
            profile = {**info, **claims}  # the signed claims win
        # Kept for RP-initiated logout (views.logout) once the sign-in completes.
        state["id_token_hint"] = raw
        state["end_session_endpoint"] = self.openid_config.get("end_session_endpoint") or ""
        return self.get_provider().sociallogin_from_response(
            request, {"id_token": claims, "userinfo": profile}
        )


class PortalOIDCProvider(OpenIDConnectProvider):
    id = "oidc"
    name = "OpenID Connect"
    package = "iam_portal.signin.provider"
    oauth2_adapter_class = PortalOIDCAdapter

    @property
    def server_url(self) -> str:
        return discovery_url(self.app.settings["issuer"])

    def get_scope(self):
        return list(self.app.settings["scopes"])

    def get_scope_from_request(self, request):
        return self.get_scope()  # never widened from the query string

    def get_auth_params_from_request(self, request, action):
        return {}  # ditto: the nonce and PKCE parameters are ours alone

    def get_pkce_params(self) -> dict:
        return generate_code_challenge()

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        nonce = secrets.token_urlsafe(32)
        auth_params = {**(kwargs.pop("auth_params", None) or {}), "nonce": nonce}
        try:
            return super().redirect(
                request, process, next_url, data, auth_params=auth_params, nonce=nonce, **kwargs
            )
        except OAuth2Error as exc:  # discovery failed before the redirect could be built
            return render_authentication_error(request, self, exception=exc)
