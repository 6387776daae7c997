"""The audit log at scale: `seed_scale --audit-events N` writes a company's chain in bulk, and the `audit`
scenario of `python -m bench run` measures its pages, filters, deep pages and CSV export.

Seeded events look like a busy company's year: role changes on the company, its projects and their
environments, memberships, users and groups coming and going, a few service accounts, about 2% refused
attempts; actors are mostly the owner and a pool of project administrators. They are dated evenly over
`--audit-days` up to now, numbered and hashed in chain order (services.event_digest), so `audit_verify`
holds on them, and written with COPY on PostgreSQL (bulk_create elsewhere).
"""

from __future__ import annotations

import random
import time
import tracemalloc
import urllib.parse
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.bulk import write_rows
from bench.loops import follow_next, run_alternating
from bench.stats import Result
from iam_portal.access import selectors
from iam_portal.access.catalogue import DEVELOPER, GUEST, MAINTAINER, PROJECT_ADMIN, REPORTER
from iam_portal.access.resolver import SYSTEM
from iam_portal.access.services import company_role_set
from iam_portal.audit.models import Action, AuditEvent, Outcome, Source
from iam_portal.audit.services import GENESIS, event_digest

BATCH = 10_000
PROGRESS_EVERY = 100_000
ROLES = [GUEST, REPORTER, DEVELOPER, MAINTAINER, PROJECT_ADMIN]
ENV_ROLES = [REPORTER, MAINTAINER]
ACTIONS = [
    (Action.ROLE_CHANGED, 30),
    (Action.ROLE_GRANTED, 22),
    (Action.ROLE_REMOVED, 10),
    (Action.MEMBER_ADDED, 14),
    (Action.MEMBER_REMOVED, 7),
    (Action.USER_ADDED, 7),
    (Action.USER_REMOVED, 3),
    (Action.DIRECT_ACCESS_REMOVED, 1),
    (Action.GROUP_CREATED, 2),
    (Action.GROUP_RENAMED, 1),
    (Action.GROUP_DELETED, 1),
    (Action.SERVICE_ACCOUNT_CREATED, 1),
    (Action.SERVICE_ACCOUNT_DELETED, 1),
]
REFUSED_SHARE = 0.02


# -- seeding ----------------------------------------------------------------------------------------


class EventSeeder:
    """Writes `count` events of one company's chain; the company has none yet (seed_scale made it)."""

    def __init__(self, seeder, count: int, days: int):
        self.s, self.count, self.days = seeder, count, days
        self.rng = random.Random(seeder.o["seed"] + 1)  # noqa: S311 (test data)
        self.actions = [a for a, _ in ACTIONS]
        self.weights = [w for _, w in ACTIONS]
        members = seeder.members
        self.admins = members[: max(1, min(200, len(members)))]
        self.env_names = {
            env.pk: (f"{env.project.name} / {env.name}", f"{env.project.path}/{env.env_id}")
            for env in seeder.environments
        }

    def run(self, out) -> str:
        started = time.perf_counter()
        end = timezone.now()
        start = end - timedelta(days=self.days)
        step = (end - start) / max(1, self.count)
        prev, written = GENESIS, 0
        while written < self.count:
            size = min(BATCH, self.count - written)
            batch = []
            for i in range(written, written + size):
                event = self.event(start + step * i, i + 1, prev)
                event.digest = event_digest(event)
                prev = event.digest
                batch.append(event)
            write_rows(AuditEvent, batch)
            written += size
            if written % PROGRESS_EVERY == 0 or written == self.count:
                rate = written / (time.perf_counter() - started)
                out.write(f"  audit events: {written:,}/{self.count:,} ({rate:,.0f} per second)")
        return f"{self.count:,} audit events over {self.days} days"

    def actor(self):
        r = self.rng.random()
        if r < 0.35:
            return "user", self.s.owner.pk, self.s.owner.full_name
        if r < 0.85:
            user = self.rng.choice(self.admins)
            return "user", user.pk, user.full_name
        if r < 0.95 and self.s.accounts:
            account = self.rng.choice(self.s.accounts)
            return "service-account", account.pk, account.name
        return "command", None, "Command line"

    def event(self, moment, seq: int, prev: str) -> AuditEvent:
        rng, s = self.rng, self.s
        action = rng.choices(self.actions, weights=self.weights)[0]
        refused = rng.random() < REFUSED_SHARE
        actor_kind, actor_id, actor_name = self.actor()
        level, path, name, project_id = "company", s.company.slug, s.company.name, None
        before = after = None
        subject_kind, subject = "user", rng.choice(s.members)
        if action.startswith("role."):
            pool = rng.random()
            if pool < 0.15 and s.groups:
                subject_kind, subject = "group", rng.choice(s.groups)
            elif pool < 0.2 and s.accounts:
                subject_kind, subject = "service-account", rng.choice(s.accounts)
            where = rng.random()
            roles = ROLES
            if where < 0.4:
                project = rng.choice(s.projects)
                level, path, name, project_id = (
                    "project",
                    f"{s.company.slug}/{project.slug}",
                    project.name,
                    project.pk,
                )
            elif where < 0.7:
                env = rng.choice(s.environments)
                name, path = self.env_names[env.pk]
                level, project_id, roles = "environment", env.project_id, ENV_ROLES
            old, new = rng.sample(roles, 2)
            before = None if action == Action.ROLE_GRANTED else {"role": old}
            after = None if action == Action.ROLE_REMOVED else {"role": new}
        elif action.startswith("group.") and s.groups:
            subject_kind, subject = "group", rng.choice(s.groups)
            if action == Action.GROUP_RENAMED:
                before, after = {"name": f"{subject.name}-old"}, {"name": subject.name}
            elif action == Action.GROUP_CREATED:
                after = {"name": subject.name, "role": rng.choice(ROLES), "members": []}
        elif action.startswith("member.") and s.groups:
            side = {"group": rng.choice(s.groups).name}
            before, after = (None, side) if action == Action.MEMBER_ADDED else (side, None)
        elif action.startswith("service_account.") and s.accounts:
            subject_kind, subject = "service-account", rng.choice(s.accounts)
            after = {"name": subject.name, "role": rng.choice(ROLES)}
        elif action == Action.USER_ADDED:
            after = {"role": rng.choice(ROLES)}
        subject_name = subject.full_name if subject_kind == "user" else subject.name
        return AuditEvent(
            company_id=s.company.pk,
            seq=seq,
            prev_digest=prev,
            occurred_at=moment,
            actor_kind=actor_kind,
            actor_id=actor_id,
            actor_name=actor_name,
            action=action,
            outcome=Outcome.REFUSED if refused else Outcome.SUCCESS,
            message="You can only grant or change roles up to your own." if refused else "",
            company_name=s.company.name,
            resource_level=level,
            resource_path=path,
            resource_name=name,
            project_id=project_id,
            subject_kind=subject_kind,
            subject_id=subject.pk,
            subject_name=subject_name,
            before=before,
            after=after,
            source=Source.COMMAND
            if actor_kind == "command"
            else rng.choice([Source.PORTAL, Source.PORTAL, Source.API]),
            request_id=f"{rng.getrandbits(64):016x}",
            client_ip=f"10.0.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            user_agent="Mozilla/5.0 (X11; Linux x86_64) bench",
        )


def delete_chain(company_id: int) -> int:
    """Delete a company's events (seed_scale --replace), through the prune's bypass on PostgreSQL."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('iam.audit_prune', 'on', true)")
    return AuditEvent.objects.filter(company_id=company_id)._raw_delete(AuditEvent.objects.db)


# -- the benchmark scenario -------------------------------------------------------------------------

CSV_ROWS = 100_000


def audit_log(b) -> None:
    """The audit log pages at the seeded size: every single filter, a deep page, the project log, the
    CSV of about CSV_ROWS events, and what writing an event costs a change."""
    c = b.company
    events = AuditEvent.objects.filter(company_id=c.pk)
    total = events.count()
    b.audit = None
    b.section(f"Audit log of {c.slug} ({total:,} events, one client, unloaded)")
    if not total:
        b.notes.append("No audit events (seed_scale --audit-events 1000000): audit scenarios skipped.")
        b.out.write("skipped: no events")
        return
    log = f"/companies/{c.slug}/audit-log/"
    first, last = events.order_by("id").first(), events.order_by("-id").first()
    member = events.filter(actor_kind="user").exclude(actor_id=b.owner.pk).order_by("-id").first()
    subject = events.filter(subject_kind="user").order_by("id").first()
    project = (
        events.filter(project_id__isnull=False).order_by("-id").values_list("project_id", flat=True).first()
    )
    span = last.occurred_at - first.occurred_at
    week_start = (first.occurred_at + span * 0.4).date()
    filters = {
        "no filter": {},
        "actor = owner": {"actor": b.owner.email},
        "actor = one admin": {"actor": f"user:{member.actor_id}"} if member else {},
        "subject = one user": {"subject": f"user:{subject.subject_id}"},
        "action = role.changed": {"action": Action.ROLE_CHANGED},
        "action = group.deleted": {"action": Action.GROUP_DELETED},
        "project": {"project": project} if project else {},
        "outcome = refused": {"outcome": Outcome.REFUSED},
        "one week, 40% back": {"from": week_start, "to": week_start + timedelta(days=6)},
        "identity = one user": {"identity": f"user:{subject.subject_id}"},
    }
    b.header()
    results = {}
    for label, query in filters.items():
        path = log + (f"?{urllib.parse.urlencode(query)}" if query else "")
        results[label] = b.measure(f"Audit · {label} (partial)", path, HX)
    b.measure("Audit · full page", log)
    # Page 1 and the deep page request by request in turn, so that both see the same moment of the machine.
    deep, hops = follow_next(b.client, log, b.o["deep"], HX)
    first_page, deep_result = run_alternating(
        [
            ("Audit · page 1 (partial, alternating)", b.client, log, HX),
            (f"Audit · page {hops + 1} (partial, alternating)", b.client, deep, HX),
        ],
        b.limits,
    )
    b.record(first_page, path=log, headers=HX)
    b.record(deep_result, path=deep, headers=HX)
    deep_result.note = f"{hops} x Next"
    project_slug = c.projects.filter(pk=project).values_list("slug", flat=True).first()
    if project_slug:
        b.measure(
            "Audit · project log (partial)", f"/companies/{c.slug}/projects/{project_slug}/audit-log/", HX
        )
    csv = _csv(b, log, events, total)
    b.audit = {
        "filters": results,
        "first": first_page,
        "deep": deep_result,
        "csv": csv,
        "event_statements": _event_cost(b),
        "total": total,
    }


HX = {"HX-Request": "true"}


def _csv(b, log: str, events, total: int) -> dict:
    """A date range of about CSV_ROWS events, exported: over HTTP (time to first byte, total) and in this
    process under tracemalloc (the most memory Python held while streaming it)."""
    rows = min(CSV_ROWS, total)
    ordered = events.order_by("id").values_list("occurred_at", flat=True)
    start, end = ordered[total - rows], ordered[total - 1]
    query = urllib.parse.urlencode({"from": start.date(), "to": end.date()})
    path = f"{log}export.csv?{query}"
    stream = b.client.stream(path)
    tracemalloc.start()
    counted = b.counter.stream(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    lines = counted.lines - 1
    result = Result(
        f"Audit · CSV of {lines:,} events",
        note=f"first byte {stream.first_byte * 1000:.0f} ms, first row {stream.first_row * 1000:.0f} ms",
    )
    result.latencies.append(stream.elapsed)
    result.wall = stream.elapsed
    result.size = stream.size
    b.record(result)
    b.out.write(
        f"  CSV: {lines:,} rows, {stream.size / 1e6:.1f} MB; first byte after {stream.first_byte * 1000:.0f} ms, "
        f"first row after {stream.first_row * 1000:.0f} ms, "
        f"all after {stream.elapsed:.2f} s ({lines / stream.elapsed:,.0f} rows/s); Python memory while "
        f"streaming it in process: peak {peak / 1e6:.1f} MB (tracemalloc)"
    )
    return {
        "rows": lines,
        "first_byte_ms": stream.first_byte * 1000,
        "first_row_ms": stream.first_row * 1000,
        "total_s": stream.elapsed,
        "peak_mb": peak / 1e6,
    }


def _event_cost(b) -> dict:
    """What a role change spends on its event: one INSERT, plus reading the chain's head (and, on
    PostgreSQL, taking its lock). Two changes (a role and back), two events."""
    target = b.edit_targets[0]
    current = selectors.binding_role(target, b.company)
    other = REPORTER if current != REPORTER else GUEST
    with CaptureQueriesContext(connection) as queries:
        for role in (other, current):
            company_role_set(actor=SYSTEM, company=b.company, subject=target, role=role)
    audit = [
        q["sql"]
        for q in queries.captured_queries
        if "audit_auditevent" in q["sql"] or "pg_advisory" in q["sql"]
    ]
    inserts = sum(sql.startswith("INSERT") for sql in audit) / 2
    others = len(audit) / 2 - inserts
    b.out.write(f"  writing an event: {inserts:g} INSERT and {others:g} other statements per change")
    return {"inserts": inserts, "statements": len(audit) / 2}
