"""Bearer authentication on every /api path: 401 (never 403, never a CSRF page) for a missing, invalid or
expired token, and revocation at once when the account is deleted or its credentials change."""

import datetime

import jwt
import pytest
from django.test import RequestFactory
from django.utils import timezone

from iam_portal.api import signing, tokens
from iam_portal.identities.models import User, hash_secret
from tests.helpers import api_body_endpoints, error, private_pem, public_jwk

pytestmark = pytest.mark.django_db

ACME = "/api/companies/acme"


def endpoints(demo, bot) -> list[tuple[str, str]]:
    user, group = demo.user("junior1").pk, demo.developers.pk
    return [
        ("GET", f"{ACME}/identities"),
        ("GET", f"{ACME}/identities?projectIds=webshop"),
        ("GET", f"{ACME}/users"),
        ("GET", f"{ACME}/groups"),
        ("GET", f"{ACME}/service-accounts"),
        *api_body_endpoints(demo, bot),
        ("DELETE", f"{ACME}/users/{user}?removeFromGroups=true"),
        ("DELETE", f"{ACME}/groups/{group}"),
        ("DELETE", f"{ACME}/service-accounts/{bot.client_id}"),
        ("GET", "/api/me"),
        # Paths and methods that do not exist are 401 first too.
        ("GET", "/api/nothing-here"),
        ("PUT", f"{ACME}/users"),
        ("GET", f"{ACME}/identities/"),
        ("POST", "/api/companies/globex/users"),
        ("GET", "/api/"),
        ("HEAD", "/api/me"),
    ]


def expired_token(account) -> str:
    request = RequestFactory().get("/")
    return tokens.access_token_issue(request, account, now=timezone.now() - datetime.timedelta(hours=2))


@pytest.fixture
def bad_tokens(make_account, keys):
    bot = make_account("company-owner")
    request = RequestFactory().get("/")
    valid = tokens.access_token_issue(request, bot.account)
    claims = jwt.decode(valid, options={"verify_signature": False})
    header = jwt.get_unverified_header(valid)
    return {
        "none": None,
        "empty": "",
        "garbage": "not-a-token",
        "expired": expired_token(bot.account),
        "foreign key": jwt.encode(claims, keys[2], algorithm="RS256", headers={"kid": header["kid"]}),
        "unknown kid": jwt.encode(claims, keys[2], algorithm="RS256", headers={"kid": "other"}),
        "other issuer": jwt.encode(
            {**claims, "iss": "https://elsewhere"}, keys[0], algorithm="RS256", headers={"kid": header["kid"]}
        ),
        "other audience": jwt.encode(
            {**claims, "aud": "console"}, keys[0], algorithm="RS256", headers={"kid": header["kid"]}
        ),
        "no cred": jwt.encode(
            {k: v for k, v in claims.items() if k != "cred"},
            keys[0],
            algorithm="RS256",
            headers={"kid": header["kid"]},
        ),
        "assertion as token": jwt.encode(
            {**claims, "aud": "console-client-credentials"},
            keys[1],
            algorithm="RS256",
            headers={"kid": "miactl"},
        ),
        "nul": "a\x00b",
        "huge": "x" * 100_000,
    }


@pytest.mark.parametrize(
    "kind",
    [
        "none",
        "empty",
        "garbage",
        "expired",
        "foreign key",
        "unknown kid",
        "other issuer",
        "other audience",
        "no cred",
        "assertion as token",
        "nul",
        "huge",
    ],
)
def test_every_path_answers_401_without_a_valid_token(api, demo, make_account, bad_tokens, kind):
    bot = make_account("company-owner")
    token = bad_tokens[kind]
    from tests.helpers import snapshot

    before = snapshot()
    for method, path in endpoints(demo, bot):
        headers = {}
        if token is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        response = api.call(method, path, {"memberIds": ["1"]}, **headers)
        assert response.status_code == 401, (method, path, response.content)
        if method != "HEAD":
            error(response)
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert snapshot() == before


def test_an_expired_token_says_so(api, make_account):
    bot = make_account("company-owner")
    body = error(api.get("/api/me", token=expired_token(bot.account)))
    assert "expired" in body["message"]


def test_other_schemes_are_401(api, make_account):
    bot = make_account("company-owner")
    response = api.get("/api/me", HTTP_AUTHORIZATION=f"Basic {bot.secret}")
    assert response.status_code == 401


def test_a_browser_session_is_not_a_credential(api, demo):
    api.client.force_login(User.objects.get(email="owner@acme.test"))
    response = api.get(f"{ACME}/users")
    assert response.status_code == 401
    response = api.post(f"{ACME}/users", {"email": "designer1@acme.test", "role": "guest"})
    assert response.status_code == 401  # and not a CSRF page


def test_no_csrf_token_is_needed_with_a_bearer(api, demo, owner_token):
    api.client.cookies["csrftoken"] = "x" * 32
    response = api.post(
        f"{ACME}/groups", {"name": "csrf-free", "role": "guest", "members": []}, token=owner_token
    )
    assert response.status_code == 200, response.content


# -- revocation ---------------------------------------------------------------------------------------


def test_a_deleted_account_s_token_stops_at_once(api, make_account):
    bot = make_account("company-owner")
    token = api.token(bot)
    assert api.get("/api/me", token=token).status_code == 200
    bot.account.delete()
    body = error(api.get("/api/me", token=token))
    assert body["statusCode"] == 401
    assert "no longer exists" in body["message"]


def test_a_new_secret_revokes_the_tokens_at_once(api, make_account):
    bot = make_account("company-owner")
    token = api.token(bot)
    bot.account.secret_hash = hash_secret("rotated")
    bot.account.save(update_fields=["secret_hash"])
    assert error(api.get(f"{ACME}/users", token=token))["statusCode"] == 401
    bot.secret = "rotated"
    assert api.get(f"{ACME}/users", token=api.token(bot)).status_code == 200


def test_a_replaced_key_revokes_the_tokens_at_once(api, make_account, keys):
    bot = make_account("company-owner", jwt=True)
    token = api.token(bot)
    jwk = {**public_jwk(keys[2]), "alg": "RS256"}
    bot.account.public_key = jwk
    bot.account.save(update_fields=["public_key"])
    body = error(api.get("/api/me", token=token))
    assert "credentials changed" in body["message"]
    bot.key = keys[2]
    assert api.get("/api/me", token=api.token(bot)).status_code == 200


def test_a_deleted_account_through_the_api_loses_its_token(api, make_account, owner_token):
    bot = make_account("reporter")
    token = api.token(bot)
    assert api.delete(f"{ACME}/service-accounts/{bot.client_id}", token=owner_token).status_code == 200
    assert api.get("/api/me", token=token).status_code == 401


def test_a_role_change_applies_to_the_next_request(api, make_account, owner_token):
    bot = make_account("company-owner")
    token = api.token(bot)
    assert api.get(f"{ACME}/users", token=token).status_code == 200
    response = api.patch(f"{ACME}/service-accounts/{bot.client_id}", {"role": "reporter"}, token=owner_token)
    assert response.status_code == 200
    assert api.get(f"{ACME}/users", token=token).status_code == 403


# -- signing keys -----------------------------------------------------------------------------------------


def test_tokens_of_the_previous_key_still_work_after_a_rotation(api, make_account, settings, keys):
    bot = make_account("company-owner")
    old_token = api.token(bot)
    settings.SIGNING_KEY, settings.SIGNING_KEY_PREVIOUS = private_pem(keys[3]), private_pem(keys[0])
    assert api.get("/api/me", token=old_token).status_code == 200
    new_token = api.token(bot)
    assert jwt.get_unverified_header(new_token)["kid"] == signing.current_key().kid
    jwks = api.client.get("/.well-known/jwks.json").json()["keys"]
    assert [k["kid"] for k in jwks] == [
        signing.current_key().kid,
        jwt.get_unverified_header(old_token)["kid"],
    ]
    settings.SIGNING_KEY_PREVIOUS = ""  # the rotation is over: old tokens stop
    assert api.get("/api/me", token=old_token).status_code == 401
    assert api.get("/api/me", token=new_token).status_code == 200


def test_a_local_key_is_generated_once_when_none_is_configured(settings, tmp_path):
    settings.SIGNING_KEY = ""
    settings.SIGNING_KEY_LOCAL_PATH = tmp_path / "keys" / "signing-key.pem"
    first = signing.current_key()
    assert settings.SIGNING_KEY_LOCAL_PATH.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    signing._local_key_pem.cache_clear()
    assert signing.current_key().kid == first.kid  # read back from the file, not generated again
    assert [p.name for p in (tmp_path / "keys").iterdir()] == ["signing-key.pem"]


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("not a pem", "not an unencrypted RSA private key"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "not an unencrypted RSA private key"),
    ],
)
def test_a_bad_configured_key_stops_the_start_up(settings, value, words):
    from django.core.exceptions import ImproperlyConfigured

    settings.SIGNING_KEY = value
    with pytest.raises(ImproperlyConfigured, match=words):
        signing.validate_configured_keys()


def test_a_small_key_is_refused(settings):
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.core.exceptions import ImproperlyConfigured

    settings.SIGNING_KEY = private_pem(rsa.generate_private_key(public_exponent=65537, key_size=1024))
    with pytest.raises(ImproperlyConfigured, match="1024 bits"):
        signing.validate_configured_keys()


def test_deploy_check_warns_without_a_configured_key(settings):
    from iam_portal.api.checks import signing_key_configured

    assert signing_key_configured(None) == []
    settings.SIGNING_KEY = ""
    (warning,) = signing_key_configured(None)
    assert warning.id == "api.W001"
