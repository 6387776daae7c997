"""Check the audit log's hash chains: every company's, or one.

    manage.py audit_verify [--company SLUG]

Prints one line per chain: its events and head digest (note it somewhere else: a later run that shows an
earlier head means events were cut off the end), or the first link that does not hold and why. Exit
status 0 when every chain holds, 1 when one does not, 2 for bad input (an unknown company).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from iam_portal.audit.selectors import chain_company, chain_verify, chains
from iam_portal.commands import bad_input
from iam_portal.orgs.models import Company

EXIT_BROKEN = 1


class Command(BaseCommand):
    help = "Check the audit log's hash chains (all companies, or --company SLUG)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--company",
            metavar="SLUG",
            help="Only this company's chain (its slug; the chain number for a deleted company; 0: the Console).",
        )

    def handle(self, *args, **options):
        wanted = options["company"]
        if wanted is None:
            todo = chains()
        else:
            chain = Company.objects.filter(slug=wanted).values_list("pk", flat=True).first()
            if chain is None and wanted.isdigit() and int(wanted) in chains():
                chain = int(wanted)
            if chain is None:
                bad_input(self, f"no company {wanted!r} (nor a chain of that number)")
            todo = [chain]
        broken = 0
        for chain in todo:
            name, slug = chain_company(chain)
            label = f"{name} ({slug}, chain {chain})" if slug else f"{name} (chain {chain})"
            report = chain_verify(chain)
            if report.ok:
                span = (
                    f"#{report.first_seq} to #{report.first_seq + report.events - 1}"
                    if report.events
                    else "none"
                )
                self.stdout.write(
                    f"ok      {label}: {report.events} events ({span}), head {report.head[:16] or '-'}"
                )
            else:
                broken += 1
                self.stdout.write(f"BROKEN  {label}: first broken link #{report.broken_at}: {report.problem}")
        if not todo:
            self.stdout.write("The audit log is empty.")
        if broken:
            self.stderr.write(f"{broken} of {len(todo)} chains are broken.")
            raise SystemExit(EXIT_BROKEN)
        self.stdout.write(self.style.SUCCESS(f"All {len(todo)} chains hold."))
