"""No input gets a 5xx: malformed JSON, wrong types, nested and overlong values, NUL bytes anywhere
(PostgreSQL refuses them in text), on every endpoint. Every error keeps the API's shape."""

import base64

import pytest

from tests.helpers import FORM, TOKEN_URL, api_body_endpoints, assertion_form, basic_header, error, snapshot

pytestmark = pytest.mark.django_db

ACME = "/api/companies/acme"
NUL = "%00"

HOSTILE_BODIES = [
    "",
    "{",
    "null",
    "[]",
    "[" * 5000 + "]" * 5000,
    '{"a":' * 3000 + "1" + "}" * 3000,
    '"\\u0000"',
    "\x00",
    "\xff\xfe",
    '{"role": null, "projectsRole": null}',
    '{"role": {"x": 1}, "name": [], "email": 1e400, "emails": "x", "memberIds": {"a": 1}}',
    '{"name": "\\u0000", "role": "\\u0000", "email": "\\u0000", "tokenEndpointAuthMethod": "\\u0000"}',
    '{"projectsRole": [{"projectId": "\\u0000", "role": "\\u0000", "environmentsRole": [{"envId": "\\u0000", "role": ""}]}]}',
    '{"identity": "\\u0000", "resource": "\\u0000", "permission": "\\u0000"}',
    '{"emails": ["' + "a" * 100_000 + '@x.test"], "memberIds": ["' + "9" * 50 + '"]}',
    '{"name": "' + "n" * 100_000 + '", "tokenEndpointAuthMethod": "private_key_jwt", "role": 7, '
    '"publicKey": {"kty": "RSA", "n": "\\u0000", "e": "AQAB"}}',
    '{"name": "x", "tokenEndpointAuthMethod": "private_key_jwt", "role": "gues", "publicKey": "-----BEGIN '
    'PUBLIC KEY-----\\u0000-----END PUBLIC KEY-----"}',
]


def test_hostile_bodies(api, demo, owner_token):
    before = snapshot()
    for method, path in api_body_endpoints(demo, demo.reader):
        for body in HOSTILE_BODIES:
            response = api.call(method, path, body.encode("utf-8", "surrogateescape"), token=owner_token)
            assert 400 <= response.status_code < 500, (method, path, body[:60], response.content[:200])
            error(response)
    assert snapshot() == before


HOSTILE_SEGMENTS = [
    NUL,
    "a%00b",
    "x" * 5000,
    "%C3%A9",
    "..",
    "%2F",
    "-1",
    "1e9",
    "9" * 40,
    "%F0%9F%92%A5",
    " ",
]


@pytest.mark.parametrize("segment", HOSTILE_SEGMENTS)
def test_hostile_path_segments(api, demo, owner_token, segment):
    before = snapshot()
    paths = [
        ("GET", f"/api/companies/{segment}/identities"),
        ("GET", f"/api/companies/{segment}/users"),
        ("PATCH", f"{ACME}/users/{segment}"),
        ("DELETE", f"{ACME}/users/{segment}"),
        ("PATCH", f"{ACME}/groups/{segment}"),
        ("DELETE", f"{ACME}/groups/{segment}"),
        ("POST", f"{ACME}/groups/{segment}/members"),
        ("DELETE", f"{ACME}/groups/{segment}/members"),
        ("PATCH", f"{ACME}/service-accounts/{segment}"),
        ("DELETE", f"{ACME}/service-accounts/{segment}"),
    ]
    for method, path in paths:
        response = api.call(
            method, path, {"role": "guest", "emails": ["pm@acme.test"], "memberIds": ["1"]}, token=owner_token
        )
        assert 400 <= response.status_code < 500, (method, path, response.content[:200])
        error(response)
    assert snapshot() == before


@pytest.mark.parametrize(
    "query",
    [
        f"identityType={NUL}",
        f"projectIds={NUL}",
        f"projectIds=webshop&identityType=user{NUL}",
        f"page={NUL}",
        "projectIds=" + "p" * 10_000,
        "identityType=" + "u" * 10_000,
        f"per_page=1&page={'9' * 40}",
    ],
)
def test_hostile_query_strings(api, demo, owner_token, query):
    response = api.get(f"{ACME}/identities?{query}", token=owner_token)
    assert response.status_code < 500, response.content[:200]
    if response.status_code >= 400:
        error(response)


def test_hostile_delete_flags(api, demo, owner_token):
    for flag in (NUL, "x" * 5000, "%FF"):
        response = api.delete(
            f"{ACME}/users/{demo.user('junior1').pk}?removeFromGroups={flag}", token=owner_token
        )
        assert error(response)["statusCode"] == 400


@pytest.mark.parametrize(
    "body",
    [
        f"grant_type=client_credentials&client_id={NUL}&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3A"
        f"client-assertion-type%3Ajwt-bearer&client_assertion={NUL}",
        "grant_type=" + NUL,
        "grant_type=client_credentials&" + "x=1&" * 2000,
        "%%%",
        "grant_type=client_credentials&client_id=" + "c" * 100_000,
    ],
)
def test_hostile_token_requests(api, body):
    response = api.client.post(TOKEN_URL, body, content_type=FORM)
    assert 400 <= response.status_code < 500, response.content[:200]
    assert response.json()["statusCode"] == response.status_code


@pytest.mark.parametrize(
    "header",
    [
        basic_header("\x00", "\x00"),
        basic_header("a" * 10_000, "b"),
        basic_header("client\x00", "x"),
        "Basic " + base64.b64encode("é:è".encode()).decode(),
        "Basic",
        "Basic " + "A" * 100_000,
    ],
)
def test_hostile_basic_headers(api, header):
    response = api.client.post(
        TOKEN_URL, "grant_type=client_credentials", content_type=FORM, HTTP_AUTHORIZATION=header
    )
    assert 400 <= response.status_code < 500
    assert response.json()["statusCode"] == response.status_code


def test_an_assertion_whose_issuer_has_a_nul(api):
    import jwt

    from tests.helpers import rsa_private_key

    signed = jwt.encode({"iss": "a\x00b", "sub": "x"}, rsa_private_key(), algorithm="RS256")
    response = api.client.post(TOKEN_URL, assertion_form(signed), content_type=FORM)
    assert response.status_code == 401


def test_an_oversized_body_is_413(api, demo, owner_token, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post(f"{ACME}/users", {"email": "x" * 2000, "role": "guest"}, token=owner_token)
    assert error(response)["statusCode"] == 413
