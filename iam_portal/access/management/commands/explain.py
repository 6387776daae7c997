"""Explain an identity's effective permissions on a company, project or environment.

    manage.py explain IDENTITY RESOURCE [PERMISSION] [--json]

IDENTITY is a user's email (any case), a service account's client id or `sa:<company>/<name>`, or
`group:<company>/<group name>`.
RESOURCE is `<company>`, `<company>/<project>` or `<company>/<project>/<env_id>`.

With PERMISSION the first line is `yes` or `no`, followed by the paths that grant it; the exit status is
0 for yes and 1 for no. Without it, every effective key is listed with its paths. Bad input prints an
`error: ...` line on stderr and exits with status 2.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from iam_portal.access.lookups import BadInput, check_key, find_identity, find_resource
from iam_portal.access.resolver import AccessResolver
from iam_portal.commands import bad_input

EXIT_NO = 1


class Command(BaseCommand):
    help = "Explain which permission keys an identity holds on a resource, and the paths that grant them."

    def add_arguments(self, parser):
        parser.add_argument(
            "identity",
            help="user email, service account client id or sa:<company>/<name>, or group:<company>/<group name>",
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
            bad_input(self, str(error))

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
