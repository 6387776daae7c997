"""The keys that sign the machine API's access tokens (RS256), and their public JWK Set.

The current key comes from the SIGNING_KEY / SIGNING_KEY_FILE setting (an RSA private key in PEM). Without
one, a key is generated once under SIGNING_KEY_LOCAL_PATH and reused by every process of the machine, which
suits a laptop and the tests; production sets the file (`check --deploy` warns otherwise).

Rotation: put the old key in SIGNING_KEY_PREVIOUS_FILE (private or public PEM, several blocks allowed) and
the new one in SIGNING_KEY_FILE, restart. Tokens signed by the old key keep working until they expire (an
hour) because its public half stays published and accepted; then drop SIGNING_KEY_PREVIOUS_FILE.

Keys are read from the settings, so a process keeps its parsed keys for its lifetime: rotating means
restarting the workers, like any other setting.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from jwt.algorithms import RSAAlgorithm

from iam_portal.identities.keys import MIN_RSA_BITS, jwk_thumbprint

ALGORITHM = "RS256"
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.DOTALL)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    public_key: rsa.RSAPublicKey
    private_key: rsa.RSAPrivateKey | None = None  # None for a previous key known by its public half only

    @property
    def jwk(self) -> dict:
        jwk = RSAAlgorithm.to_jwk(self.public_key, as_dict=True)
        return {"kty": "RSA", "use": "sig", "alg": ALGORITHM, "kid": self.kid, "n": jwk["n"], "e": jwk["e"]}


def _kid(public_key: rsa.RSAPublicKey) -> str:
    jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
    return jwk_thumbprint(jwk)


def _check_rsa(key, where: str) -> None:
    if not isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        raise ImproperlyConfigured(f"{where} must be an RSA key.")
    if key.key_size < MIN_RSA_BITS:
        raise ImproperlyConfigured(f"{where} has {key.key_size} bits; use at least {MIN_RSA_BITS}.")


def _private_key(pem: str, where: str) -> SigningKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ImproperlyConfigured(
            f"{where} is not an unencrypted RSA private key in PEM (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)."
        ) from None
    _check_rsa(key, where)
    return SigningKey(_kid(key.public_key()), key.public_key(), key)


def _previous_keys(text: str) -> list[SigningKey]:
    keys = []
    for block in _PEM_BLOCK.finditer(text):
        pem, label = block.group(0), block.group(1)
        if "PRIVATE" in label:
            key = _private_key(pem, "SIGNING_KEY_PREVIOUS")
            keys.append(SigningKey(key.kid, key.public_key))
            continue
        try:
            public = serialization.load_pem_public_key(pem.encode())
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise ImproperlyConfigured(
                f"SIGNING_KEY_PREVIOUS holds a {label} block that cannot be read."
            ) from None
        _check_rsa(public, "SIGNING_KEY_PREVIOUS")
        keys.append(SigningKey(_kid(public), public))
    if text.strip() and not keys:
        raise ImproperlyConfigured("SIGNING_KEY_PREVIOUS holds no PEM block.")
    return keys


@functools.lru_cache(maxsize=4)
def _keys(current_pem: str, previous_pem: str) -> tuple[SigningKey, dict[str, SigningKey]]:
    current = _private_key(current_pem, "SIGNING_KEY")
    by_kid = {key.kid: key for key in _previous_keys(previous_pem)}
    by_kid[current.kid] = current
    return current, by_kid


@functools.lru_cache(maxsize=4)
def _local_key_pem(path: Path) -> str:
    """The generated key of this machine: created once, atomically, so concurrent workers agree on it."""
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".signing-key-")
            with os.fdopen(fd, "wb") as file:
                file.write(pem)
            try:
                os.link(temporary, path)  # fails if another process won the race: then use its key
            except FileExistsError:
                pass
            finally:
                os.unlink(temporary)
        except OSError as exc:
            raise ImproperlyConfigured(
                f"SIGNING_KEY_FILE is not set and a local key cannot be written to {path}: {exc}"
            ) from None
    return path.read_text()


def _configured() -> tuple[SigningKey, dict[str, SigningKey]]:
    current_pem = settings.SIGNING_KEY or _local_key_pem(Path(settings.SIGNING_KEY_LOCAL_PATH))
    return _keys(current_pem, settings.SIGNING_KEY_PREVIOUS or "")


def current_key() -> SigningKey:
    """The key new tokens are signed with."""
    return _configured()[0]


def verification_key(kid: str) -> SigningKey | None:
    """The key a token names in its header, if it is the current or a previous one."""
    return _configured()[1].get(kid)


def jwks() -> dict:
    """The public JWK Set: the current key first, then the previous ones."""
    current, by_kid = _configured()
    return {"keys": [current.jwk] + [key.jwk for kid, key in by_kid.items() if kid != current.kid]}


def validate_configured_keys() -> None:
    """Parse the configured keys now (at start-up); the generated local key is left for its first use."""
    if settings.SIGNING_KEY:
        _keys(settings.SIGNING_KEY, settings.SIGNING_KEY_PREVIOUS or "")
    elif settings.SIGNING_KEY_PREVIOUS:
        _previous_keys(settings.SIGNING_KEY_PREVIOUS)
