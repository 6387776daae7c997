"""POST /api/m2m/oauth/token: both client authentication methods, every refusal, throttling, and the
tokens themselves (claims, signature, JWKS, metadata)."""

import base64
import datetime
import time
from urllib.parse import quote_plus

import jwt
import pytest
from django.utils import timezone

from iam_portal.api import throttle
from iam_portal.api.models import FailedAuthCounter, UsedAssertion
from iam_portal.identities.models import ServiceAccount, hash_secret
from tests.helpers import (
    ASSERTION_TYPE,
    FORM,
    TOKEN_URL,
    assertion,
    assertion_form,
    basic_header,
    public_jwk,
    rsa_private_key,
)

pytestmark = pytest.mark.django_db


def oauth_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == code
    assert body["error_description"] and body["message"] == body["error_description"]
    assert body["statusCode"] == status
    assert response["Cache-Control"] == "no-store"
    return body


def post_basic(api, client_id, secret, body="grant_type=client_credentials", **headers):
    return api.client.post(
        TOKEN_URL, body, content_type=FORM, HTTP_AUTHORIZATION=basic_header(client_id, secret), **headers
    )


def post_assertion(api, signed, client_id=None, **headers):
    return api.client.post(TOKEN_URL, assertion_form(signed, client_id), content_type=FORM, **headers)


# -- success ----------------------------------------------------------------------------------------


def test_client_secret_basic_issues_a_bearer_token(api, make_account):
    bot = make_account("maintainer")
    response = post_basic(api, bot.client_id, bot.secret)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Type"] == "application/json"


def test_the_token_is_an_rs256_jwt_verifiable_with_the_published_keys(api, make_account):
    bot = make_account("maintainer")
    before = int(time.time())
    token = post_basic(api, bot.client_id, bot.secret).json()["access_token"]
    jwks = api.client.get("/.well-known/jwks.json").json()
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    (published,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    key = jwt.PyJWK(published).key
    claims = jwt.decode(
        token, key, algorithms=["RS256"], audience="iam-portal-api", issuer="http://testserver"
    )
    assert claims["sub"] == claims["client_id"] == bot.client_id
    assert claims["company"] == "acme"
    assert before <= claims["iat"] <= int(time.time())
    assert claims["exp"] == claims["iat"] + 3600
    assert len(claims["jti"]) == 32
    assert claims["cred"]


def test_go_oauth2_form_urlencodes_the_basic_credentials(api, make_account):
    """RFC 6749 §2.3.1: a secret with reserved characters arrives form-urlencoded inside the base64."""
    bot = make_account("reporter")
    bot.account.secret_hash = hash_secret("a b+c%d:e/f")
    bot.account.save()
    encoded = "Basic " + base64.b64encode(f"{bot.client_id}:{quote_plus('a b+c%d:e/f')}".encode()).decode()
    response = api.client.post(
        TOKEN_URL, "grant_type=client_credentials", content_type=FORM, HTTP_AUTHORIZATION=encoded
    )
    assert response.status_code == 200, response.content


def test_plain_basic_credentials_work_too(api, make_account):
    bot = make_account("reporter")
    encoded = "Basic " + base64.b64encode(f"{bot.client_id}:{bot.secret}".encode()).decode()
    response = api.client.post(
        TOKEN_URL, "grant_type=client_credentials", content_type=FORM, HTTP_AUTHORIZATION=encoded
    )
    assert response.status_code == 200


def test_private_key_jwt_issues_a_token_like_miactl_asks(api, make_account):
    bot = make_account("reporter", jwt=True)
    response = post_assertion(api, assertion(bot), bot.client_id)
    assert response.status_code == 200, response.content
    assert response.json()["token_type"] == "Bearer"
    assert UsedAssertion.objects.filter(client_id=bot.client_id).count() == 1


def test_private_key_jwt_without_client_id_reads_the_issuer(api, make_account):
    bot = make_account("reporter", jwt=True)
    assert post_assertion(api, assertion(bot)).status_code == 200


def test_the_endpoint_url_is_accepted_as_audience(api, make_account):
    bot = make_account("reporter", jwt=True)
    signed = assertion(bot, aud=["http://testserver/api/m2m/oauth/token"])
    assert post_assertion(api, signed, bot.client_id).status_code == 200


def test_a_4096_bit_key_like_miactl_generates(api, make_account):
    bot = make_account("reporter", jwt=True, key=rsa_private_key(4096))
    assert post_assertion(api, assertion(bot), bot.client_id).status_code == 200


@pytest.mark.parametrize("jwt_method", [False, True])
def test_issuance_sets_the_last_login(api, make_account, jwt_method):
    bot = make_account("reporter", jwt=jwt_method)
    assert bot.account.last_login is None
    before = timezone.now()
    api.token(bot)
    bot.account.refresh_from_db()
    assert before <= bot.account.last_login <= timezone.now()


# -- client_secret_basic refusals ---------------------------------------------------------------------


def test_wrong_secret_is_401_invalid_client(api, make_account):
    bot = make_account("reporter")
    body = oauth_error(post_basic(api, bot.client_id, bot.secret + "x"), 401, "invalid_client")
    assert "wrong credentials" in body["error_description"]


def test_unknown_client_is_401_and_says_the_same_as_a_wrong_secret(api, make_account):
    bot = make_account("reporter")
    unknown = oauth_error(post_basic(api, "0" * 32, "whatever"), 401, "invalid_client")
    wrong = oauth_error(post_basic(api, bot.client_id, "whatever"), 401, "invalid_client")
    assert unknown["error_description"] == wrong["error_description"]


def test_a_deleted_account_gets_no_token(api, make_account):
    bot = make_account("reporter")
    bot.account.delete()
    oauth_error(post_basic(api, bot.client_id, bot.secret), 401, "invalid_client")


def test_a_jwt_account_cannot_use_basic(api, make_account):
    bot = make_account("reporter", jwt=True)
    oauth_error(post_basic(api, bot.client_id, ""), 401, "invalid_client")


def test_a_basic_account_cannot_use_an_assertion(api, make_account, keys):
    bot = make_account("reporter")
    bot.key = keys[1]
    oauth_error(post_assertion(api, assertion(bot, _kid="miactl"), bot.client_id), 401, "invalid_client")


def test_a_failed_request_changes_no_last_login(api, make_account):
    bot = make_account("reporter")
    post_basic(api, bot.client_id, "nope")
    bot.account.refresh_from_db()
    assert bot.account.last_login is None


# -- malformed requests (400) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        ("", FORM, "invalid_request"),
        ("grant_type=password", FORM, "unsupported_grant_type"),
        ('{"grant_type": "client_credentials"}', "application/json", "invalid_request"),
        ("grant_type=client_credentials&grant_type=\x00", "text/plain", "invalid_request"),
    ],
)
def test_malformed_requests_are_400(api, make_account, body, content_type, code):
    bot = make_account("reporter")
    response = api.client.post(
        TOKEN_URL, body, content_type=content_type, HTTP_AUTHORIZATION=basic_header(bot.client_id, bot.secret)
    )
    oauth_error(response, 400, code)


@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!not-base64",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
    ],
)
def test_unreadable_basic_credentials_are_400(api, header):
    response = api.client.post(
        TOKEN_URL, "grant_type=client_credentials", content_type=FORM, HTTP_AUTHORIZATION=header
    )
    oauth_error(response, 400, "invalid_request")


def test_no_client_authentication_is_401(api):
    oauth_error(
        api.client.post(TOKEN_URL, "grant_type=client_credentials", content_type=FORM), 401, "invalid_client"
    )


def test_a_secret_in_the_body_is_refused(api, make_account):
    bot = make_account("reporter")
    body = f"grant_type=client_credentials&client_id={bot.client_id}&client_secret={bot.secret}"
    oauth_error(api.client.post(TOKEN_URL, body, content_type=FORM), 401, "invalid_client")


def test_two_methods_at_once_are_400(api, make_account):
    bot = make_account("reporter", jwt=True)
    response = api.client.post(
        TOKEN_URL,
        assertion_form(assertion(bot), bot.client_id),
        content_type=FORM,
        HTTP_AUTHORIZATION=basic_header(bot.client_id, "x"),
    )
    oauth_error(response, 400, "invalid_request")


def test_wrong_assertion_type_is_400(api, make_account):
    bot = make_account("reporter", jwt=True)
    body = assertion_form(assertion(bot), bot.client_id).replace(quote_plus(ASSERTION_TYPE), "saml")
    oauth_error(api.client.post(TOKEN_URL, body, content_type=FORM), 400, "invalid_request")


def test_get_is_405_in_the_api_shape(api):
    response = api.client.get(TOKEN_URL)
    assert response.status_code == 405
    assert response.json() == {"statusCode": 405, "message": "GET is not allowed here; use POST."}


# -- private_key_jwt refusals ---------------------------------------------------------------------------


def test_a_replayed_assertion_is_refused(api, make_account):
    bot = make_account("reporter", jwt=True)
    signed = assertion(bot)
    assert post_assertion(api, signed, bot.client_id).status_code == 200
    body = oauth_error(post_assertion(api, signed, bot.client_id), 401, "invalid_client")
    assert "already used" in body["error_description"]


def test_the_jti_is_single_use_in_the_database(make_account):
    """The unique constraint is what stops two workers from both accepting one replay."""
    from django.db import IntegrityError, transaction

    expires = timezone.now() + datetime.timedelta(hours=1)
    UsedAssertion.objects.create(client_id="c", jti="j", expires_at=expires)
    with pytest.raises(IntegrityError), transaction.atomic():
        UsedAssertion.objects.create(client_id="c", jti="j", expires_at=expires)


def test_used_assertions_are_forgotten_once_expired(api, make_account):
    bot = make_account("reporter", jwt=True)
    UsedAssertion.objects.create(
        client_id=bot.client_id, jti="old", expires_at=timezone.now() - datetime.timedelta(hours=2)
    )
    api.token(bot)
    assert list(UsedAssertion.objects.values_list("jti", flat=True)) != ["old"]
    assert not UsedAssertion.objects.filter(jti="old").exists()


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
        ({"exp": int(time.time()) + 2 * 3600}, "more than an hour"),
        ({"exp": None}, "exp"),
        ({"jti": None}, "jti"),
        ({"aud": "someone-else"}, "aud"),
        ({"aud": None}, "aud"),
        ({"iss": "another-client"}, "iss and sub"),
        ({"sub": "another-client"}, "iss and sub"),
        ({"iat": int(time.time()) + 3600}, "not valid"),
        ({"jti": "x" * 256}, "jti"),
    ],
)
def test_bad_claims_are_refused(api, make_account, overrides, words):
    bot = make_account("reporter", jwt=True)
    body = oauth_error(post_assertion(api, assertion(bot, **overrides), bot.client_id), 401, "invalid_client")
    assert words in body["error_description"]
    assert not UsedAssertion.objects.exists()


def test_a_small_clock_skew_is_tolerated(api, make_account):
    bot = make_account("reporter", jwt=True)
    now = int(time.time())
    signed = assertion(bot, iat=now + 30, exp=now + 3600 + 30)
    assert post_assertion(api, signed, bot.client_id).status_code == 200


def test_wrong_kid_is_refused(api, make_account):
    bot = make_account("reporter", jwt=True)
    oauth_error(post_assertion(api, assertion(bot, _kid="another-kid"), bot.client_id), 401, "invalid_client")


def test_an_assertion_signed_by_a_foreign_key_is_refused(api, make_account, keys):
    bot = make_account("reporter", jwt=True)
    body = oauth_error(
        post_assertion(api, assertion(bot, _key=keys[2]), bot.client_id), 401, "invalid_client"
    )
    assert "signature" in body["error_description"]


def test_an_assertion_of_another_account_is_refused(api, make_account, keys):
    """Another account's key and kid, with this account's client id."""
    bot = make_account("reporter", jwt=True)
    other = make_account("reporter", jwt=True, key=keys[2])
    signed = assertion(other)
    oauth_error(post_assertion(api, signed, bot.client_id), 401, "invalid_client")


@pytest.mark.parametrize("alg", ["HS256", "none"])
def test_other_algorithms_are_refused(api, make_account, alg):
    bot = make_account("reporter", jwt=True)
    claims = jwt.decode(assertion(bot), options={"verify_signature": False})
    if alg == "none":
        signed = jwt.encode(claims, None, algorithm="none", headers={"kid": "miactl"})
    else:
        # The classic confusion: public key material used as an HMAC secret.
        signed = jwt.encode(claims, bot.account.public_key["n"], algorithm="HS256", headers={"kid": "miactl"})
    oauth_error(post_assertion(api, signed, bot.client_id), 401, "invalid_client")


@pytest.mark.parametrize("garbage", ["not-a-jwt", "a.b.c", "\x00" * 10, "é" * 5000])
def test_garbage_assertions_are_refused(api, make_account, garbage):
    bot = make_account("reporter", jwt=True)
    oauth_error(post_assertion(api, garbage, bot.client_id), 401, "invalid_client")
    oauth_error(post_assertion(api, garbage), 401, "invalid_client")


def test_a_replaced_key_refuses_assertions_of_the_old_one(api, make_account, keys):
    bot = make_account("reporter", jwt=True)
    jwk = public_jwk(keys[2], kid="miactl")
    jwk["alg"] = "RS256"
    bot.account.public_key = jwk
    bot.account.save()
    oauth_error(post_assertion(api, assertion(bot), bot.client_id), 401, "invalid_client")


# -- throttling -----------------------------------------------------------------------------------------


def test_failures_for_one_client_id_are_throttled(api, make_account):
    bot = make_account("reporter")
    for _ in range(throttle.CLIENT_LIMIT):
        oauth_error(post_basic(api, bot.client_id, "wrong"), 401, "invalid_client")
    response = post_basic(api, bot.client_id, bot.secret)  # even the right secret waits
    body = oauth_error(response, 429, "temporarily_unavailable")
    retry = int(response["Retry-After"])
    assert 0 < retry <= throttle.WINDOW.total_seconds()
    assert f"{retry} seconds" in body["error_description"]
    # Another client from the same address is not throttled yet.
    other = make_account("reporter")
    assert post_basic(api, other.client_id, other.secret).status_code == 200


def test_failures_from_one_address_are_throttled(api, make_account):
    for n in range(throttle.ADDRESS_LIMIT):
        oauth_error(post_basic(api, f"unknown-{n}", "x"), 401, "invalid_client")
    bot = make_account("reporter")
    response = post_basic(api, bot.client_id, bot.secret)
    oauth_error(response, 429, "temporarily_unavailable")
    assert int(response["Retry-After"]) > 0
    assert post_basic(api, bot.client_id, bot.secret, REMOTE_ADDR="10.1.2.3").status_code == 200


def test_the_window_ends(api, make_account):
    bot = make_account("reporter")
    for _ in range(throttle.CLIENT_LIMIT):
        post_basic(api, bot.client_id, "wrong")
    assert post_basic(api, bot.client_id, bot.secret).status_code == 429
    FailedAuthCounter.objects.update(
        window_start=timezone.now() - throttle.WINDOW - datetime.timedelta(seconds=1)
    )
    assert post_basic(api, bot.client_id, bot.secret).status_code == 200


def test_counts_live_in_the_database(api, make_account):
    """Every worker reads the same rows: the count is what another process would see."""
    bot = make_account("reporter")
    for _ in range(3):
        post_basic(api, bot.client_id, "wrong")
    assert FailedAuthCounter.objects.get(key=f"client:{bot.client_id}").failures == 3
    assert FailedAuthCounter.objects.get(key="addr:127.0.0.1").failures == 3
    assert post_basic(api, bot.client_id, bot.secret).status_code == 200
    assert FailedAuthCounter.objects.get(key=f"client:{bot.client_id}").failures == 3


def test_assertion_failures_count_too(api, make_account, keys):
    bot = make_account("reporter", jwt=True)
    for _ in range(throttle.CLIENT_LIMIT):
        post_assertion(api, assertion(bot, _key=keys[2]), bot.client_id)
    oauth_error(post_assertion(api, assertion(bot), bot.client_id), 429, "temporarily_unavailable")


def test_behind_the_proxy_the_last_forwarded_address_counts(api, settings):
    settings.API_CLIENT_ADDRESS_FROM_PROXY = True
    post_basic(api, "someone", "x", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.9")
    assert FailedAuthCounter.objects.filter(key="addr:203.0.113.9").exists()


# -- metadata and keys ------------------------------------------------------------------------------------


def test_jwks_publishes_the_signing_key(api):
    response = api.client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    (key,) = response.json()["keys"]
    assert set(key) == {"kty", "use", "alg", "kid", "n", "e"}
    assert (key["kty"], key["use"], key["alg"]) == ("RSA", "sig", "RS256")


def test_authorization_server_metadata(api):
    response = api.client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    assert response.json() == {
        "issuer": "http://testserver",
        "token_endpoint": "http://testserver/api/m2m/oauth/token",
        "jwks_uri": "http://testserver/.well-known/jwks.json",
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "service_documentation": "http://testserver/api/docs",
    }


def test_the_secret_is_not_stored_in_clear(make_account):
    bot = make_account("reporter")
    assert bot.secret not in str(ServiceAccount.objects.filter(pk=bot.account.pk).values().first())
