"""Reading the identity and resource names that people and machines type.

IDENTITY is a user's email (any case), a service account's client id, `group:<company>/<group name>` or
`sa:<company>/<service account name>` (names in any case).
RESOURCE is `<company>`, `<company>/<project>` or `<company>/<project>/<env_id>`.

Used by `manage.py explain` and by the machine API's decision endpoint, so both read the same strings
the same way. Every refusal is a `BadInput` (malformed text) or its subclass `UnknownName` (well formed,
but nothing has that name), whose message can be shown as is.
"""

from __future__ import annotations

import re

from iam_portal.access import catalogue
from iam_portal.access.resolver import Identity
from iam_portal.identities.models import Group, ServiceAccount, User
from iam_portal.orgs.models import Company, Environment, Project

GROUP_PREFIX = "group:"
SERVICE_ACCOUNT_PREFIX = "sa:"
_KEY_SHAPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


class BadInput(Exception):
    """Text that cannot name anything (malformed)."""


class UnknownName(BadInput):
    """Well-formed text that names nothing that exists."""


def _printable(text: str, what: str) -> str:
    # PostgreSQL refuses NUL in text parameters; such input can never name anything.
    if "\x00" in text:
        raise BadInput(f"malformed {what}: it contains a NUL character")
    return text


def _named_in_company(text: str, prefix: str, model, what: str):
    """`<prefix><company>/<name>`: a group or service account by its name in a company."""
    company_slug, sep, name = text[len(prefix) :].partition("/")
    if not sep or not company_slug or not name:
        raise BadInput(f"malformed {what} identity {text!r}: use {prefix}<company>/<{what} name>")
    found = model.objects.filter(company__slug=company_slug, name__iexact=name).first()
    if found is None:
        raise UnknownName(f"unknown {what} {name!r} in company {company_slug!r}")
    return found


def find_identity(text: str) -> Identity:
    _printable(text, "identity")
    if text.startswith(GROUP_PREFIX):
        return _named_in_company(text, GROUP_PREFIX, Group, "group")
    if text.startswith(SERVICE_ACCOUNT_PREFIX):
        return _named_in_company(text, SERVICE_ACCOUNT_PREFIX, ServiceAccount, "service account")
    if not text:
        raise BadInput("empty identity")
    user = User.objects.filter(email__iexact=text).first()
    if user is not None:
        return user
    service_account = ServiceAccount.objects.filter(client_id=text).first()
    if service_account is not None:
        return service_account
    raise UnknownName(f"unknown identity {text!r}: not a user's email nor a service account's client id")


def _split_resource(text: str) -> list[str]:
    """The parts of a resource name (1 to 3), or BadInput."""
    parts = _printable(text, "resource").split("/")
    if not 1 <= len(parts) <= 3 or not all(parts):
        raise BadInput(
            f"malformed resource {text!r}: use <company>, <company>/<project> or <company>/<project>/<env>"
        )
    return parts


def find_resource(text: str) -> Company | Project | Environment:
    parts = _split_resource(text)
    if len(parts) == 1:
        resource = Company.objects.filter(slug=parts[0]).first()
    elif len(parts) == 2:
        resource = (
            Project.objects.select_related("company").filter(company__slug=parts[0], slug=parts[1]).first()
        )
    else:
        resource = (
            Environment.objects.select_related("project__company")
            .filter(project__company__slug=parts[0], project__slug=parts[1], env_id=parts[2])
            .first()
        )
    if resource is None:
        raise UnknownName(f"unknown resource {text!r}")
    return resource


def check_key(key: str) -> str:
    if not _KEY_SHAPE.match(key):
        raise BadInput(f"malformed permission key {key!r}")
    if not catalogue.is_valid_key(key):
        raise BadInput(f"unknown permission key {key!r}")
    return key
