"""The ID token check on its own, with tokens signed here: what the end-to-end tests cannot make a real
provider send (tokens that are expired, for another client, unsigned, or signed with a shared secret)."""

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from iam_portal.signin.provider.oidc import SignInError, id_token_verify

ISSUER = "https://sso.example.com/realms/acme"
CLIENT = "iam-portal"
NONCE = "n-0123456789"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
JWK = {
    **jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True),
    "kid": "k1",
    "use": "sig",
    "alg": "RS256",
}
JWKS = {"keys": [JWK]}


def token(*, key=KEY, algorithm="RS256", kid="k1", **overrides) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "u1",
        "aud": CLIENT,
        "iat": now,
        "exp": now + 300,
        "nonce": NONCE,
        **overrides,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid} if kid else None)


def verify(raw: str, **overrides) -> dict:
    return id_token_verify(
        raw,
        **{
            "jwks": JWKS,
            "issuer": ISSUER,
            "client_id": CLIENT,
            "nonce": NONCE,
            "algorithms": ["RS256"],
            **overrides,
        },
    )


def test_a_good_token_gives_its_claims():
    assert verify(token())["sub"] == "u1"


def test_several_audiences_need_azp_naming_this_client():
    assert verify(token(aud=[CLIENT, "other"], azp=CLIENT))["sub"] == "u1"
    with pytest.raises(SignInError) as error:
        verify(token(aud=[CLIENT, "other"]))
    assert error.value.code == "wrong_audience"


OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"iss": "https://evil.example.com"}, "wrong_issuer"),
        ({"aud": "someone-else"}, "wrong_audience"),
        ({"exp": -600}, "expired"),  # seconds from now
        ({"iat": 3600}, "expired"),
        ({"nonce": "another"}, "replayed_nonce"),
        ({"nonce": None}, "replayed_nonce"),
        ({"exp": None}, "bad_token"),
        ({"kid": "unknown"}, "bad_signature"),
        ({"key": OTHER_KEY}, "bad_signature"),
        ({"key": "a-shared-secret-long-enough-for-hs256!", "algorithm": "HS256"}, "bad_signature"),
        ({"key": None, "algorithm": "none"}, "bad_signature"),
    ],
)
def test_untrustworthy_tokens_are_refused(claims, code):
    now = int(time.time())
    claims = {k: now + v if k in ("exp", "iat") and v is not None else v for k, v in claims.items()}
    with pytest.raises(SignInError) as error:
        verify(token(**claims))
    assert error.value.code == code


def test_a_token_that_is_no_jwt_is_refused():
    with pytest.raises(SignInError) as error:
        verify("not.a.jwt")
    assert error.value.code == "bad_token"


def test_the_nonce_of_this_sign_in_is_required():
    with pytest.raises(SignInError) as error:
        verify(token(), nonce="")
    assert error.value.code == "replayed_nonce"


def test_only_the_algorithms_the_provider_announces_are_accepted():
    with pytest.raises(SignInError) as error:
        verify(token(), algorithms=["ES256"])
    assert error.value.code == "bad_signature"


def test_a_jwks_without_usable_keys_is_refused():
    with pytest.raises(SignInError) as error:
        verify(token(), jwks={"keys": [{"kty": "unknown"}]})
    assert error.value.code == "bad_signature"
