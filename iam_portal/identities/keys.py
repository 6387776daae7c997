"""Reading the RSA public key of a `private_key_jwt` service account.

People paste a key in one of the shapes their tools produce: a JWK (JSON, optionally a one-key JWK Set),
a PEM public key (SubjectPublicKeyInfo "PUBLIC KEY" or PKCS#1 "RSA PUBLIC KEY"), or a PEM X.509
certificate. Every shape becomes the same normalised JWK; the key id is kept when the JWK carries one,
otherwise it is the RFC 7638 thumbprint of the key, so the same key always gets the same id.

Every refusal is a `ValueError` whose message can be shown to the person as is.
"""

import base64
import binascii
import hashlib
import json
import re
import unicodedata

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

MIN_RSA_BITS = 2048
MAX_RSA_BITS = 8192  # larger keys buy no security and make every signature check slow
MAX_KEY_TEXT = 20000  # an 8,192-bit key as a certificate fits in a few thousand characters
MAX_KID_LENGTH = 200  # ServiceAccount.key_id max_length

PRIVATE_KEY_MESSAGE = "This is a private key; paste the public key only."

# Members that only a private JWK has (RFC 7518 §6.3.2; "k" is a symmetric key).
_PRIVATE_JWK_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_PEM_LABEL = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")
_PRIVATE_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_CERTIFICATE_LABELS = ("CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE")


def parse_public_key(text: str) -> tuple[dict, str]:
    """Return (jwk, kid) for a pasted RSA public key (JWK JSON, PEM public key or PEM certificate).

    The JWK has exactly the members kty, n, e, use ("sig"), alg ("RS256") and kid.
    """
    text = (text or "").strip()
    if not text:
        raise ValueError("Paste a public key: a JWK (JSON) or a PEM block.")
    if len(text) > MAX_KEY_TEXT:
        raise ValueError(
            f"The key is longer than {MAX_KEY_TEXT:,} characters; paste one RSA public key of at most "
            f"{MAX_RSA_BITS:,} bits."
        )
    if text.startswith(("{", "[")):
        n, e, kid = _read_jwk(text)
    elif "-----BEGIN" in text:
        n, e = _read_pem(text)
        kid = None
    elif text.startswith(("ssh-rsa ", "ssh-ed25519 ", "ecdsa-sha2-")):
        raise ValueError(
            "OpenSSH keys are not accepted; convert it with `ssh-keygen -e -m PKCS8 -f key.pub` "
            "and paste the PEM."
        )
    else:
        raise ValueError(
            "Not a key we can read. Paste a JWK (JSON starting with {) or a PEM block starting with "
            "-----BEGIN PUBLIC KEY-----."
        )

    n_b64, e_b64 = _b64url_uint(n), _b64url_uint(e)
    if kid is None:
        kid = jwk_thumbprint({"kty": "RSA", "n": n_b64, "e": e_b64})
    jwk = {"kty": "RSA", "n": n_b64, "e": e_b64, "use": "sig", "alg": "RS256", "kid": kid}
    return jwk, kid


def jwk_thumbprint(jwk: dict) -> str:
    """RFC 7638 thumbprint of an RSA JWK: base64url(SHA-256(canonical JSON of e, kty, n))."""
    canonical = json.dumps(
        {"e": jwk["e"], "kty": jwk["kty"], "n": jwk["n"]}, separators=(",", ":"), sort_keys=True
    )
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def _read_jwk(text: str) -> tuple[int, int, str | None]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"The key is not valid JSON ({exc.msg} at line {exc.lineno}).") from None
    except RecursionError:
        raise ValueError("The key is not a JWK: its JSON is nested far too deeply.") from None
    if isinstance(data, dict) and "keys" in data:
        keys = data["keys"]
        if not isinstance(keys, list) or len(keys) != 1:
            raise ValueError("The JWK Set must contain exactly one key; paste the one to use.")
        data = keys[0]
    if not isinstance(data, dict):
        raise ValueError("A JWK is a JSON object with the members kty, n and e.")
    if any(member in data for member in _PRIVATE_JWK_MEMBERS):
        raise ValueError(PRIVATE_KEY_MESSAGE)
    kty = data.get("kty")
    if kty != "RSA":
        raise ValueError(f"Only RSA keys are supported; this JWK has kty={kty!r}.")
    if data.get("use") not in (None, "sig"):
        raise ValueError(f"The key is meant for use={data['use']!r}; a signing key (use=sig) is needed.")
    missing = [member for member in ("n", "e") if not data.get(member)]
    if missing:
        raise ValueError(f"The JWK is missing {' and '.join(repr(m) for m in missing)}.")
    n = _b64url_to_int(data["n"], "n")
    e = _b64url_to_int(data["e"], "e")
    _check_size(n)
    try:
        rsa.RSAPublicNumbers(e, n).public_key()
    except ValueError:
        raise ValueError("The JWK's n and e do not form a valid RSA public key.") from None
    kid = data.get("kid")
    if kid is not None:
        if not isinstance(kid, str) or not kid.strip():
            raise ValueError("The JWK's kid must be a non-empty string (or leave it out to derive one).")
        kid = kid.strip()
        if any(unicodedata.category(c).startswith("C") for c in kid):
            raise ValueError("The JWK's kid contains control or invisible characters; use plain text.")
        if len(kid) > MAX_KID_LENGTH:
            raise ValueError(f"The JWK's kid is longer than {MAX_KID_LENGTH} characters.")
    return n, e, kid


def _read_pem(text: str) -> tuple[int, int]:
    match = _PEM_LABEL.search(text)
    label = match.group(1) if match else ""
    if _PRIVATE_PEM.search(text):
        raise ValueError(PRIVATE_KEY_MESSAGE)
    if label not in _CERTIFICATE_LABELS and label not in ("PUBLIC KEY", "RSA PUBLIC KEY"):
        raise ValueError(
            f"A PEM block labelled {label or 'nothing'!r} is not a public key; paste a PUBLIC KEY, "
            "RSA PUBLIC KEY or CERTIFICATE block."
        )
    data = text[match.start() :].encode()
    try:
        if label in _CERTIFICATE_LABELS:
            key = x509.load_pem_x509_certificate(data).public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError(
            "The PEM block could not be read; check that it was copied whole, "
            "including the BEGIN and END lines."
        ) from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError(f"Only RSA keys are supported; this is {_key_kind(key)}.")
    numbers = key.public_numbers()
    _check_size(numbers.n)
    return numbers.n, numbers.e


def _check_size(n: int) -> None:
    bits = n.bit_length()
    if bits < MIN_RSA_BITS:
        raise ValueError(f"The key has {bits} bits; use an RSA key of at least {MIN_RSA_BITS} bits.")
    if bits > MAX_RSA_BITS:
        raise ValueError(f"The key has {bits:,} bits; use an RSA key of at most {MAX_RSA_BITS:,} bits.")


def _key_kind(key) -> str:
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"an elliptic-curve key ({key.curve.name})"
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return "an EdDSA key"
    if isinstance(key, dsa.DSAPublicKey):
        return "a DSA key"
    return f"a {type(key).__name__}"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_uint(value: int) -> str:
    return _b64url(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def _b64url_to_int(value, member: str) -> int:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]+={0,2}", value):
        raise ValueError(f"The JWK member {member!r} is not base64url text.")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ValueError(f"The JWK member {member!r} is not base64url text.") from None
    return int.from_bytes(raw, "big")
