"""Tidy the time-limited roles that have ended.

    manage.py expire_grants [--batch 500]

The resolver already ignores an ended grant at read time, so access is right without this command; it turns
each ended grant into the role it returns to (or deletes it), runs the access-loss cascade when a user's
last company role goes, and records each as "ended" in the audit log (actor: the command line). Idempotent
and safe to run every minute from cron or a Kubernetes CronJob, even when runs overlap: one transaction per
batch, and on PostgreSQL each run skips the rows another one holds. Prints how many grants it tidied.
Bad input: an `error: …` line on stderr and exit status 2.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from iam_portal.access.resolver import SYSTEM
from iam_portal.access.services import grants_expire
from iam_portal.audit.models import Source
from iam_portal.audit.services import audit_context
from iam_portal.commands import bad_input


class Command(BaseCommand):
    help = "Turn ended time-limited roles into the role they return to (or remove them), on record."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=500, help="Grants per transaction (default 500).")

    def handle(self, *args, **options):
        batch = options["batch"]
        if not 1 <= batch <= 10_000:
            bad_input(self, "--batch takes a number from 1 to 10000")
        total = 0
        with audit_context(source=Source.COMMAND):
            while True:
                done = grants_expire(actor=SYSTEM, limit=batch)
                total += done
                if done < batch:
                    break
        self.stdout.write(f"{total} ended grant{'s' if total != 1 else ''} tidied.")
