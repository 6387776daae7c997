"""OpenID Connect providers from the environment.

`settings.py` calls `oidc_providers_from_env` at start-up, so this module imports nothing from Django but
its exception: a bad value stops the portal with a message that names the variable and the mistake.

OIDC_PROVIDERS is a JSON list (one object is accepted too), for example::

    [{"id": "keycloak", "name": "Keycloak", "issuer": "https://sso.example.com/realms/acme",
      "client_id": "iam-portal", "scopes": ["openid", "email", "profile"], "jit": false,
      "group_sync": {"claim": "groups", "groups": {"/acme/developers": "acme/Acme Developers"}}}]

The client secret never sits in that JSON: it comes from OIDC_<ID>_CLIENT_SECRET or from the file named
by OIDC_<ID>_CLIENT_SECRET_FILE (ID upper-cased, dashes as underscores).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

PROVIDER_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
# "<company slug>/<group name>": the slug has no slash, the name is everything after the first one.
GROUP_TARGET = re.compile(r"([-a-zA-Z0-9_]+)/(\S.*)")
DEFAULT_SCOPES = ["openid", "email", "profile"]
RESERVED_IDS = {"oidc", "openid_connect"}  # allauth's own provider names
KNOWN_KEYS = {"id", "name", "issuer", "client_id", "scopes", "jit", "group_sync", "userinfo", "logout"}


def secret_variable(provider_id: str) -> str:
    return f"OIDC_{provider_id.upper().replace('-', '_')}_CLIENT_SECRET"


def oidc_providers_from_env(raw: str, read_secret: Callable[[str], str]) -> list[dict]:
    """The providers described by `raw` (the OIDC_PROVIDERS value), each a plain dict with every key set."""
    if not raw.strip():
        return []
    try:
        entries = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"OIDC_PROVIDERS is not valid JSON: {exc}") from None
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ImproperlyConfigured("OIDC_PROVIDERS must be a JSON list of objects, one per provider.")
    providers = [_provider(entry, index, read_secret) for index, entry in enumerate(entries)]
    ids = [p["id"] for p in providers]
    if len(set(ids)) != len(ids):
        raise ImproperlyConfigured(f"OIDC_PROVIDERS: two providers share an id ({', '.join(ids)}).")
    return providers


def _provider(entry: dict, index: int, read_secret: Callable[[str], str]) -> dict:
    where = f"OIDC_PROVIDERS[{index}]"

    def fail(message: str):
        raise ImproperlyConfigured(f"{where}: {message}")

    unknown = sorted(set(entry) - KNOWN_KEYS)
    if unknown:
        fail(f"unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(KNOWN_KEYS))}.")
    provider_id = entry.get("id")
    if not isinstance(provider_id, str) or not PROVIDER_ID.fullmatch(provider_id):
        fail('"id" must be 1-40 lower-case letters, digits or dashes (it appears in the redirect URI).')
    if provider_id in RESERVED_IDS:
        fail(f'"id" {provider_id!r} is reserved; choose another, e.g. the provider\'s name.')
    where = f"OIDC_PROVIDERS[{index}] ({provider_id})"
    issuer = entry.get("issuer")
    if (
        not isinstance(issuer, str)
        or urlsplit(issuer).scheme not in {"http", "https"}
        or not urlsplit(issuer).netloc
    ):
        fail('"issuer" must be the provider\'s issuer URL, e.g. https://sso.example.com/realms/acme.')
    client_id = entry.get("client_id")
    if not isinstance(client_id, str) or not client_id.strip():
        fail('"client_id" is required.')
    secret = read_secret(secret_variable(provider_id))
    if not secret:
        fail(f"no client secret: set {secret_variable(provider_id)} or {secret_variable(provider_id)}_FILE.")
    scopes = entry.get("scopes", DEFAULT_SCOPES)
    if not isinstance(scopes, list) or not all(isinstance(s, str) and s and " " not in s for s in scopes):
        fail('"scopes" must be a list of scope names.')
    if "openid" not in scopes:
        scopes = ["openid", *scopes]
    name = entry.get("name", provider_id)
    if not isinstance(name, str) or not name.strip():
        fail('"name" must be a non-empty text (it is shown on the button "Sign in with <name>").')
    flags = {}
    for key, default in (("jit", False), ("userinfo", True), ("logout", True)):
        flags[key] = entry.get(key, default)
        if not isinstance(flags[key], bool):
            fail(f'"{key}" must be true or false.')
    return {
        "id": provider_id,
        "name": name.strip(),
        "issuer": issuer,
        "client_id": client_id.strip(),
        "client_secret": secret,
        "scopes": scopes,
        **flags,
        "group_sync": _group_sync(entry.get("group_sync"), fail),
    }


def _group_sync(value, fail) -> dict | None:
    """{"claim": "groups", "groups": {claim value: "company/group" or a list of them}} → targets as lists."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"claim", "groups"}:
        fail(
            '"group_sync" must be {"claim": "<claim name>", "groups": {"<claim value>": "<company>/<group>"}}.'
        )
    claim = value.get("claim", "groups")
    if not isinstance(claim, str) or not claim:
        fail('"group_sync.claim" must name the claim that lists the groups, e.g. "groups".')
    mapping = value.get("groups")
    if not isinstance(mapping, dict) or not mapping:
        fail('"group_sync.groups" must map claim values to portal groups ("<company>/<group>").')
    groups: dict[str, list[str]] = {}
    for claim_value, targets in mapping.items():
        targets = [targets] if isinstance(targets, str) else targets
        if not isinstance(targets, list) or not targets:
            fail(f'"group_sync.groups"[{claim_value!r}] must be "<company>/<group>" or a list of them.')
        for target in targets:
            if not isinstance(target, str) or not GROUP_TARGET.fullmatch(target.strip()):
                fail(f'"group_sync.groups"[{claim_value!r}]: {target!r} is not "<company>/<group>".')
        groups[claim_value] = [t.strip() for t in targets]
    return {"claim": claim, "groups": groups}
