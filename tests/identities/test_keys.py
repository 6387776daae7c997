"""parse_public_key: every accepted shape gives the same normalised JWK; every refusal is a clear ValueError."""

import base64
import datetime
import hashlib
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from iam_portal.identities.keys import jwk_thumbprint, parse_public_key
from iam_portal.orgs.management.commands.seed_demo import DEMO_JWK
from tests.helpers import public_pem, rsa_private_key

# RFC 7638 §3.1 example key and its thumbprint.
RFC7638_N = (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiF"
    "V4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7"
    "d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF4"
    "4-csFCur-kEgU8awapJzKnqDKgw"
)
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def b64url_uint(value: int) -> str:
    return (
        base64.urlsafe_b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()
    )


@pytest.fixture(scope="module")
def rsa_key():
    return rsa_private_key()


@pytest.fixture(scope="module")
def expected(rsa_key):
    numbers = rsa_key.public_key().public_numbers()
    n, e = b64url_uint(numbers.n), b64url_uint(numbers.e)
    canonical = json.dumps({"e": e, "kty": "RSA", "n": n}, separators=(",", ":"))
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
    return {"kty": "RSA", "n": n, "e": e, "use": "sig", "alg": "RS256", "kid": kid}


def pkcs1_pem(key) -> str:
    return (
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1).decode()
    )


def certificate_pem(key) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "iam-portal-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_rfc7638_thumbprint_example():
    assert jwk_thumbprint({"kty": "RSA", "n": RFC7638_N, "e": "AQAB"}) == RFC7638_THUMBPRINT
    jwk, kid = parse_public_key(json.dumps({"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "RS256"}))
    assert kid == RFC7638_THUMBPRINT == jwk["kid"]


@pytest.mark.parametrize("shape", ["spki", "pkcs1", "certificate"])
def test_pem_shapes_give_the_same_jwk_with_a_thumbprint_kid(rsa_key, expected, shape):
    text = {"spki": public_pem, "pkcs1": pkcs1_pem, "certificate": certificate_pem}[shape](rsa_key)
    jwk, kid = parse_public_key(text)
    assert jwk == expected
    assert kid == expected["kid"]
    assert set(jwk) == {"kty", "n", "e", "use", "alg", "kid"}


def test_pem_with_surrounding_whitespace_and_text(rsa_key, expected):
    jwk, _ = parse_public_key("\n\n  my key:\n" + public_pem(rsa_key) + "\n\n")
    assert jwk == expected


def test_jwk_keeps_its_kid(rsa_key, expected):
    given = {"kty": "RSA", "n": expected["n"], "e": expected["e"], "kid": "my-key-2026", "use": "sig"}
    jwk, kid = parse_public_key(json.dumps(given))
    assert kid == "my-key-2026"
    assert jwk == {**expected, "kid": "my-key-2026"}


def test_jwk_without_kid_gets_the_thumbprint(expected):
    jwk, kid = parse_public_key(json.dumps({"kty": "RSA", "n": expected["n"], "e": expected["e"]}))
    assert kid == expected["kid"]
    assert jwk == expected


def test_jwk_thumbprint_equals_pem_thumbprint(rsa_key):
    from_pem, _ = parse_public_key(public_pem(rsa_key))
    from_jwk, _ = parse_public_key(json.dumps({"kty": "RSA", "n": from_pem["n"], "e": from_pem["e"]}))
    assert from_jwk["kid"] == from_pem["kid"]


def test_single_key_jwk_set_is_accepted(expected):
    jwks = {"keys": [{"kty": "RSA", "n": expected["n"], "e": expected["e"], "kid": "k1"}]}
    jwk, kid = parse_public_key(json.dumps(jwks))
    assert kid == "k1"
    assert jwk["n"] == expected["n"]


def test_demo_jwk_is_accepted():
    jwk, kid = parse_public_key(json.dumps(DEMO_JWK))
    assert kid == DEMO_JWK["kid"]
    assert jwk == DEMO_JWK


def test_extra_jwk_members_are_dropped(expected):
    given = {"kty": "RSA", "n": expected["n"], "e": expected["e"], "x5t": "abc", "key_ops": ["verify"]}
    jwk, _ = parse_public_key(json.dumps(given))
    assert set(jwk) == {"kty", "n", "e", "use", "alg", "kid"}


# --- Refusals ------------------------------------------------------------------------------------


def refused(text: str) -> str:
    with pytest.raises(ValueError) as info:
        parse_public_key(text)
    return str(info.value)


@pytest.mark.parametrize(
    "private_format",
    [serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL],
)
def test_private_pem_is_refused(rsa_key, private_format):
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM, private_format, serialization.NoEncryption()
    ).decode()
    assert refused(pem) == "This is a private key; paste the public key only."


def test_public_and_private_pasted_together_is_refused(rsa_key):
    private = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    assert "private key" in refused(public_pem(rsa_key) + private)


def test_encrypted_private_pem_is_refused(rsa_key):
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    ).decode()
    assert "private key" in refused(pem)


def test_private_jwk_is_refused(rsa_key, expected):
    d = b64url_uint(rsa_key.private_numbers().d)
    assert refused(json.dumps({**expected, "d": d})) == "This is a private key; paste the public key only."


def test_small_rsa_key_is_refused():
    small = rsa_private_key(key_size=1024)
    message = refused(public_pem(small))
    assert "1024 bits" in message and "2048" in message
    numbers = small.public_key().public_numbers()
    jwk = {"kty": "RSA", "n": b64url_uint(numbers.n), "e": b64url_uint(numbers.e)}
    assert "1024 bits" in refused(json.dumps(jwk))


def test_ec_pem_is_refused():
    key = ec.generate_private_key(ec.SECP256R1())
    assert "Only RSA keys are supported" in refused(public_pem(key))


def test_ed25519_pem_is_refused():
    key = ed25519.Ed25519PrivateKey.generate()
    assert "Only RSA keys are supported" in refused(public_pem(key))


def test_ec_jwk_is_refused():
    jwk = {"kty": "EC", "crv": "P-256", "x": "abc", "y": "def"}
    assert "Only RSA keys are supported" in refused(json.dumps(jwk))


@pytest.mark.parametrize("missing", ["n", "e"])
def test_jwk_missing_n_or_e_is_refused(expected, missing):
    jwk = {"kty": "RSA", "n": expected["n"], "e": expected["e"]}
    del jwk[missing]
    assert f"missing '{missing}'" in refused(json.dumps(jwk))


def test_jwk_with_bad_base64_is_refused(expected):
    assert "base64url" in refused(json.dumps({"kty": "RSA", "n": "not base64!", "e": "AQAB"}))
    assert "base64url" in refused(json.dumps({"kty": "RSA", "n": expected["n"], "e": 65537}))


def test_encryption_key_is_refused(expected):
    assert "use=sig" in refused(json.dumps({"kty": "RSA", "n": expected["n"], "e": "AQAB", "use": "enc"}))


@pytest.mark.parametrize("kid", ["", 42, "x" * 201])
def test_bad_kid_is_refused(expected, kid):
    assert "kid" in refused(json.dumps({"kty": "RSA", "n": expected["n"], "e": "AQAB", "kid": kid}))


def test_jwk_set_with_several_keys_is_refused(expected):
    key = {"kty": "RSA", "n": expected["n"], "e": "AQAB"}
    assert "exactly one key" in refused(json.dumps({"keys": [key, key]}))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "Paste a public key"),
        ("   \n ", "Paste a public key"),
        ('{"kty": "RSA", "n": ', "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ("hello", "Not a key we can read"),
        ("ssh-rsa AAAAB3NzaC1yc2E comment", "OpenSSH keys are not accepted"),
        ("-----BEGIN PUBLIC KEY-----\nnot-base64\n-----END PUBLIC KEY-----", "could not be read"),
        ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "could not be read"),
        ("-----BEGIN FOO-----\nAAAA\n-----END FOO-----", "not a public key"),
    ],
)
def test_malformed_input_is_refused_with_a_message(text, fragment):
    assert fragment in refused(text)


def test_truncated_pem_is_refused(rsa_key):
    pem = public_pem(rsa_key)
    lines = pem.splitlines()
    truncated = "\n".join(lines[:3] + lines[-1:])
    assert "could not be read" in refused(truncated)


def test_keys_above_8192_bits_are_refused_before_any_work():
    n = ((1 << 1_080_000) | 1).to_bytes(135_001, "big")
    jwk = json.dumps({"kty": "RSA", "n": base64.urlsafe_b64encode(n).decode().rstrip("="), "e": "AQAB"})
    with pytest.raises(ValueError, match="characters"):
        parse_public_key(jwk)
    n = ((1 << 8200) | 1).to_bytes(1026, "big")
    jwk = json.dumps({"kty": "RSA", "n": base64.urlsafe_b64encode(n).decode().rstrip("="), "e": "AQAB"})
    with pytest.raises(ValueError, match="at most 8,192 bits"):
        parse_public_key(jwk)


def test_deeply_nested_json_is_a_clear_refusal():
    with pytest.raises(ValueError, match="nested far too deeply"):
        parse_public_key("[" * 9000 + "]" * 9000)


@pytest.mark.parametrize("kid", ["a\x00b", "a\u202eb", "a\u200bb"])
def test_a_kid_with_control_or_invisible_characters_is_refused(expected, kid):
    jwk = {**expected, "kid": kid}
    with pytest.raises(ValueError, match="control or invisible"):
        parse_public_key(json.dumps(jwk))
