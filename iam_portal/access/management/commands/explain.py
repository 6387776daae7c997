"""Explain an identity's effective permissions on a company, project or environment.

    manage.py explain IDENTITY RESOURCE [PERMISSION] [--json]

IDENTITY is a user's email (any case), a service account's client id, or `group:<company>/<group name>`.
RESOURCE is `<company>`, `<company>/<project>` or `<company>/<project>/<env_id>`.

With PERMISSION the first line is `yes` or `no`, followed by the paths that grant it; the exit status is
0 for yes and 1 for no. Without it, every effective key is listed with its paths. Bad input prints an
`error: ...` line on stderr and exits with status 2.
"""

from __future__ import annotations

import json
import re

from django.core.management.base import BaseCommand

from iam_portal.access import catalogue
from iam_portal.access.resolver import AccessResolver, Identity
from iam_portal.identities.models import Group, ServiceAccount, User
from iam_portal.orgs.models import Company, Environment, Project

EXIT_YES = 0
EXIT_NO = 1
EXIT_ERROR = 2

GROUP_PREFIX = "group:"
_KEY_SHAPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


class BadInput(Exception):
    """Input the command cannot answer for: reported on stderr with exit status 2."""


def find_identity(text: str) -> Identity:
    if text.startswith(GROUP_PREFIX):
        company_slug, sep, name = text[len(GROUP_PREFIX) :].partition("/")
        if not sep or not company_slug or not name:
            raise BadInput(f"malformed group identity {text!r}: use group:<company>/<group name>")
        group = Group.objects.filter(company__slug=company_slug, name__iexact=name).first()
        if group is None:
            raise BadInput(f"unknown group {name!r} in company {company_slug!r}")
        return group
    if not text:
        raise BadInput("empty identity")
    user = User.objects.filter(email__iexact=text).first()
    if user is not None:
        return user
    service_account = ServiceAccount.objects.filter(client_id=text).first()
    if service_account is not None:
        return service_account
    raise BadInput(f"unknown identity {text!r}: not a user's email nor a service account's client id")


def find_resource(text: str) -> Company | Project | Environment:
    parts = text.split("/")
    if not 1 <= len(parts) <= 3 or not all(parts):
        raise BadInput(
            f"malformed resource {text!r}: use <company>, <company>/<project> or <company>/<project>/<env>"
        )
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
        raise BadInput(f"unknown resource {text!r}")
    return resource


def check_key(key: str) -> str:
    if not _KEY_SHAPE.match(key):
        raise BadInput(f"malformed permission key {key!r}")
    if not catalogue.is_valid_key(key):
        raise BadInput(f"unknown permission key {key!r}")
    return key


class Command(BaseCommand):
    help = "Explain which permission keys an identity holds on a resource, and the paths that grant them."

    def add_arguments(self, parser):
        parser.add_argument(
            "identity", help="user email, service account client id, or group:<company>/<group name>"
        )
        parser.add_argument("resource", help="<company>, <company>/<project> or <company>/<project>/<env_id>")
        parser.add_argument(
            "permission", nargs="?", help="a permission key; omit to list every effective key"
        )
        parser.add_argument("--json", action="store_true", help="print the answer as JSON")

    def handle(self, *args, **options):
        identity_text: str = options["identity"]
        resource_text: str = options["resource"]
        key: str | None = options["permission"]
        try:
            identity = find_identity(identity_text)
            resource = find_resource(resource_text)
            if key is not None:
                check_key(key)
        except BadInput as error:
            # Plain text even on a terminal, so the line always starts with "error: ".
            self.stderr.write(f"error: {error}", style_func=lambda text: text)
            raise SystemExit(EXIT_ERROR) from None

        permissions = AccessResolver(identity).permissions(resource)

        if key is None:
            if options["json"]:
                self._write_json(identity_text, resource_text, permissions)
            else:
                for name in sorted(permissions):
                    self.stdout.write(f"{name}\t{'; '.join(permissions[name])}")
            return

        granted = key in permissions
        if options["json"]:
            self._write_json(
                identity_text,
                resource_text,
                {key: permissions[key]} if granted else {},
                granted=granted,
            )
        else:
            self.stdout.write("yes" if granted else "no")
            for path in permissions.get(key, []):
                self.stdout.write(f"  {path}")
        if not granted:
            raise SystemExit(EXIT_NO)

    def _write_json(self, identity: str, resource: str, permissions: dict[str, list[str]], **extra):
        payload = {
            "identity": identity,
            "resource": resource,
            "permissions": {name: list(paths) for name, paths in sorted(permissions.items())},
            **extra,
        }
        self.stdout.write(json.dumps(payload, indent=2))
