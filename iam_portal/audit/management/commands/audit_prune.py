"""Delete audit events older than the retention period, keeping every chain verifiable.

    manage.py audit_prune [--older-than 180d] [--batch 10000] [--dry-run]

--older-than takes days (`180d`) or hours (`36h`); the default is AUDIT_RETENTION_DAYS days (setting,
180). Only the oldest events of each company's chain go (a prefix): the prune is recorded in the chain,
naming the event it now starts at, so `audit_verify` still checks it from there. Deletes in batches, one
transaction each, with a progress line per batch; --dry-run only says what would go. Exit status 2 for
bad input.
"""

from __future__ import annotations

import datetime
import re

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from iam_portal.audit.selectors import chain_company, chains, prunable
from iam_portal.audit.services import events_prune
from iam_portal.commands import bad_input
from iam_portal.orgs.models import Company

MAX_AGE = datetime.timedelta(days=36_500)
_AGE = re.compile(r"^(\d{1,6})([dh])$")


def parse_age(text: str) -> datetime.timedelta:
    """ "180d" → 180 days, "36h" → 36 hours; ValueError for anything else or for zero."""
    match = _AGE.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an age: write days as 180d or hours as 36h")
    number, unit = int(match.group(1)), match.group(2)
    if number == 0:
        raise ValueError("an age of zero would delete the whole log")
    age = datetime.timedelta(days=number) if unit == "d" else datetime.timedelta(hours=number)
    if age > MAX_AGE:
        raise ValueError(f"{text!r} is more than {MAX_AGE.days} days")
    return age


class Command(BaseCommand):
    help = "Delete audit events older than --older-than (default: AUDIT_RETENTION_DAYS days)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            default=f"{settings.AUDIT_RETENTION_DAYS}d",
            help="Age of the events to delete: 180d (days) or 36h (hours). Default: AUDIT_RETENTION_DAYS.",
        )
        parser.add_argument(
            "--batch", type=int, default=10_000, help="Events per transaction (default 10000)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Only say what would be deleted.")

    def handle(self, *args, **options):
        try:
            age = parse_age(options["older_than"])
        except ValueError as error:
            bad_input(self, f"--older-than: {error}")
        if options["batch"] < 1:
            bad_input(self, "--batch must be at least 1")
        cutoff = timezone.now() - age
        self.stdout.write(
            f"Deleting audit events older than {cutoff:%Y-%m-%d %H:%M} UTC ({options['older_than']})."
        )
        total = 0
        for chain in chains():
            span = prunable(chain, cutoff)
            if span is None:
                continue
            first, kept_from, anchor = span
            name, slug = chain_company(chain)
            count = kept_from - first
            label = f"{name} (chain {chain})"
            if options["dry_run"]:
                self.stdout.write(f"{label}: would delete {count} events (#{first} to #{kept_from - 1})")
                total += count
                continue
            self.stdout.write(f"{label}: deleting {count} events (#{first} to #{kept_from - 1}) …")
            company = None
            if chain:
                company = Company.objects.filter(pk=chain).first() or Company(pk=chain, name=name, slug=slug)
            total += events_prune(
                chain=chain,
                company=company,
                first=first,
                kept_from=kept_from,
                anchor=anchor,
                cutoff=cutoff,
                batch=options["batch"],
                progress=lambda done, count=count: self.stdout.write(f"  {done}/{count}"),
            )
        verb = "Would delete" if options["dry_run"] else "Deleted"
        self.stdout.write(self.style.SUCCESS(f"{verb} {total} events."))
