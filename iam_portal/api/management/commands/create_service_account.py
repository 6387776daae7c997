"""Create a company service account from the command line (bootstrap for automation).

    manage.py create_service_account --company C --name N --role R
        [--auth-method client_secret_basic|private_key_jwt --public-key FILE] [--json]

Prints the client id and, for client_secret_basic, the secret: this once, it is never readable again.
`--json` prints {"clientId": …, "clientSecret": …} (clientSecret null and keyId set for private_key_jwt).
Bad input prints one `error: …` line on stderr and exits with status 2. The command runs as the operator
(SYSTEM): the portal's services apply every other rule.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandParser
from django.views.decorators.debug import sensitive_variables

from iam_portal.access import catalogue
from iam_portal.access.catalogue import Level
from iam_portal.access.resolver import SYSTEM
from iam_portal.access.services import ActionRefused
from iam_portal.commands import bad_input
from iam_portal.identities.models import ServiceAccount
from iam_portal.identities.services import service_account_create
from iam_portal.orgs.models import Company


class BadInput(Exception):
    pass


class Command(BaseCommand):
    help = "Create a company service account and print its client id (and, once, its client secret)."

    def create_parser(self, prog_name, subcommand, **kwargs) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.epilog = "Exit status: 0 created, 2 bad input (one `error: …` line on stderr)."
        return parser

    def add_arguments(self, parser):
        parser.add_argument("--company", required=True, help="the company slug")
        parser.add_argument("--name", required=True, help="the service account's name, unique in the company")
        parser.add_argument("--role", required=True, help=f"company role: {', '.join(catalogue.ROLE_IDS)}")
        parser.add_argument(
            "--auth-method",
            default=ServiceAccount.AuthMethod.CLIENT_SECRET_BASIC,
            help="client_secret_basic (default) or private_key_jwt",
        )
        parser.add_argument("--public-key", help="private_key_jwt: file with the RSA public key (PEM or JWK)")
        parser.add_argument("--json", action="store_true", help="print the credentials as JSON")

    @sensitive_variables("created")
    def handle(self, *args, **options):
        try:
            created = self._create(options)
        except (BadInput, ActionRefused, PermissionDenied) as error:
            bad_input(self, str(error))
        account = created.account
        if options["json"]:
            payload = {"clientId": account.client_id, "clientSecret": created.client_secret}
            if created.client_secret is None:
                payload["keyId"] = account.key_id
            self.stdout.write(json.dumps(payload))
            return
        self.stdout.write(f"Service account {account.name} created in {account.company.slug}.")
        self.stdout.write(f"Client ID: {account.client_id}")
        if created.client_secret is not None:
            self.stdout.write(f"Client Secret: {created.client_secret}")
            self.stdout.write("Save the secret now: it is not stored and cannot be shown again.")
        else:
            self.stdout.write(f"Key ID: {account.key_id}")

    def _create(self, options):
        company = Company.objects.filter(slug=options["company"]).first()
        if company is None:
            raise BadInput(f"unknown company {options['company']!r}")
        role = options["role"]
        if not catalogue.is_role_valid_for(role, Level.COMPANY):
            raise BadInput(f"invalid role {role!r}: use one of {', '.join(catalogue.ROLE_IDS)}")
        method = options["auth_method"]
        if method not in ServiceAccount.AuthMethod.values:
            raise BadInput(f"invalid --auth-method {method!r}: use client_secret_basic or private_key_jwt")
        public_key = ""
        if method == ServiceAccount.AuthMethod.PRIVATE_KEY_JWT:
            if not options["public_key"]:
                raise BadInput("private_key_jwt needs --public-key FILE")
            try:
                public_key = Path(options["public_key"]).read_text()
            except (OSError, UnicodeDecodeError) as exc:
                raise BadInput(f"cannot read {options['public_key']}: {exc}") from None
        elif options["public_key"]:
            raise BadInput("--public-key is only for --auth-method private_key_jwt")
        if not options["name"].strip():
            raise BadInput("--name must not be blank")
        return service_account_create(
            actor=SYSTEM,
            company=company,
            name=options["name"],
            role=role,
            auth_method=method,
            public_key=public_key,
        )
