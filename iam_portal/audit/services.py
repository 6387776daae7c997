"""Writing the audit log: one event per change, in the transaction of the change; refusals on their own.

Who and from where come from a context (`audit_context`): the middleware sets it for every request
(portal or admin), the machine API for its calls, and a management command runs with the default
(source "command"). Services only say what changed: `event_record(actor=…, action=…, …)`.

Each company's events form a hash chain (company 0 holds the Console's own events, such as sign-ins):
event N stores the digest of event N-1 and the digest of its own content and that previous digest, so an
edited, deleted or reordered event breaks the chain (`selectors.chain_verify`, `manage.py audit_verify`).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace

from django.db import connection, transaction
from django.utils import timezone

from iam_portal.access.resolver import SYSTEM, SystemActor
from iam_portal.audit.models import Action, ActorKind, AuditEvent, Outcome, Source
from iam_portal.identities.models import Group, ServiceAccount, User
from iam_portal.orgs.models import Level

GENESIS = "0" * 64
CONSOLE_CHAIN = 0

# The fields a digest covers, in the stored form they are read back in.
DIGEST_FIELDS = (
    "company_id",
    "seq",
    "actor_kind",
    "actor_id",
    "actor_name",
    "action",
    "outcome",
    "message",
    "company_name",
    "resource_level",
    "resource_path",
    "resource_name",
    "project_id",
    "subject_kind",
    "subject_id",
    "subject_name",
    "before",
    "after",
    "source",
    "request_id",
    "client_ip",
    "user_agent",
)


# -- where a change comes from --------------------------------------------------------------------


@dataclass(frozen=True)
class AuditContext:
    source: str = Source.COMMAND
    request_id: str = ""
    client_ip: str = ""
    user_agent: str = ""
    # A dry run (a preview of a change) is rolled back: nothing it did or was refused goes on record.
    dry_run: bool = False


_DEFAULT = AuditContext()
_context: ContextVar[AuditContext] = ContextVar("audit_context", default=_DEFAULT)


@contextmanager
def audit_context(**values):
    """Within the block, events record these (source, request_id, client_ip, user_agent); dry_run=True
    marks a change that will be rolled back, whose refusals are not recorded either."""
    token = _context.set(replace(_context.get(), **values))
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> AuditContext:
    return _context.get()


# -- snapshots ------------------------------------------------------------------------------------


def actor_snapshot(actor) -> tuple[str, int | None, str]:
    """(kind, id, name) of whoever acts; the name is kept so the event outlives the account."""
    if actor is None or getattr(actor, "is_anonymous", False):
        return ActorKind.ANONYMOUS, None, "Anonymous"
    if isinstance(actor, SystemActor):
        return actor.kind, None, actor.display_name
    if isinstance(actor, ServiceAccount):
        return ActorKind.SERVICE_ACCOUNT, actor.pk, actor.name
    kind = ActorKind.SUPERUSER if actor.is_superuser else ActorKind.USER
    return kind, actor.pk, actor.display_name


def subject_snapshot(subject) -> tuple[str, int | None, str]:
    if subject is None:
        return "", None, ""
    if isinstance(subject, User):
        return "user", subject.pk, subject.display_name
    if isinstance(subject, Group):
        return "group", subject.pk, subject.name
    if isinstance(subject, ServiceAccount):
        return "service-account", subject.pk, subject.name
    raise TypeError(f"Not a subject: {subject!r}")


# -- the chain ------------------------------------------------------------------------------------


def _plain(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    return value


def event_digest(event: AuditEvent) -> str:
    content = {name: _plain(getattr(event, name)) for name in DIGEST_FIELDS}
    content["occurred_at"] = _plain(event.occurred_at)
    payload = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((event.prev_digest + payload).encode()).hexdigest()


def _lock_chain(chain: int) -> None:
    """One writer per chain at a time, until the transaction ends (SQLite already has one writer)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [CHAIN_LOCK, chain % 2**31])


CHAIN_LOCK = 0x41554454  # "AUDT": the advisory-lock namespace of the chains


def clean_text(value, limit: int | None = None) -> str:
    """Text as an event keeps it: PostgreSQL refuses NUL characters, and columns have a length."""
    text = str(value).replace("\x00", "")
    return text[:limit] if limit else text


def clean_json(value):
    """before/after as stored: JSON types only, no NUL characters (jsonb refuses \\u0000)."""
    if isinstance(value, dict):
        return {clean_text(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return clean_text(value)


def resource_snapshot(resource) -> tuple[str, str, str, int | None]:
    """(level, path, name, project id) of a company, project or environment; an environment is named with
    its project ("Webshop / Production") so that the sentence needs nothing else."""
    if resource is None:
        return "", "", "", None
    name = resource.name
    if resource.level == Level.ENVIRONMENT:
        name = f"{resource.project.name} / {resource.name}"
    project = resource.ancestor(Level.PROJECT) if resource.level != Level.COMPANY else None
    return resource.level.value, resource.path, name, project.pk if project is not None else None


def event_record(
    *,
    actor,
    action: str,
    company=None,
    resource=None,
    subject=None,
    before: dict | None = None,
    after: dict | None = None,
    outcome: str = Outcome.SUCCESS,
    message: str = "",
) -> AuditEvent:
    """Append one event to its company's chain, in the current transaction (or its own one).

    `resource` is the company, project or environment acted on (default: the company). Costs three
    statements, one of them the INSERT: the chain's lock, its last event, the event."""
    resource = resource if resource is not None else company
    if company is None and resource is not None:
        company = resource.company
    actor_kind, actor_id, actor_name = actor_snapshot(actor)
    subject_kind, subject_id, subject_name = subject_snapshot(subject)
    level, path, resource_name, project_id = resource_snapshot(resource)
    context = _context.get()
    chain = company.pk if company is not None else CONSOLE_CHAIN
    # No savepoint: the event belongs to the enclosing change and fails with it.
    with transaction.atomic(savepoint=False):
        _lock_chain(chain)
        last = (
            AuditEvent.objects.filter(company_id=chain)
            .order_by("-seq")
            .values_list("seq", "digest", "occurred_at")
            .first()
        )
        seq, prev_digest = (last[0] + 1, last[1]) if last else (1, GENESIS)
        # Never earlier than the event before it, even if the clock steps back: within a chain, time
        # grows with seq and id, which the pages rely on to turn a date range into an id range.
        occurred_at = max(timezone.now(), last[2]) if last else timezone.now()
        event = AuditEvent(
            company_id=chain,
            seq=seq,
            prev_digest=prev_digest,
            occurred_at=occurred_at,
            actor_kind=actor_kind,
            actor_id=actor_id,
            actor_name=clean_text(actor_name, 254),
            action=action,
            outcome=outcome,
            message=clean_text(message, 2000),
            company_name=clean_text(company.name, 200) if company is not None else "",
            resource_level=level,
            resource_path=clean_text(path, 200),
            resource_name=clean_text(resource_name, 200),
            project_id=project_id,
            subject_kind=subject_kind,
            subject_id=subject_id,
            subject_name=clean_text(subject_name, 254),
            before=clean_json(before),
            after=clean_json(after),
            source=context.source,
            request_id=clean_text(context.request_id, 64),
            client_ip=clean_text(context.client_ip, 45),
            user_agent=clean_text(context.user_agent, 300),
        )
        event.digest = event_digest(event)
        event.save(force_insert=True)
    return event


# -- retention --------------------------------------------------------------------------------------


def events_prune(
    *,
    chain: int,
    company,
    first: int,
    kept_from: int,
    anchor: str,
    cutoff,
    batch: int = 10_000,
    progress=None,
) -> int:
    """Delete events first … kept_from-1 of one chain (a prefix: see selectors.prunable), `batch` at a
    time, each batch its own transaction; progress(deleted so far) after each. Returns how many went.

    The prune is recorded first, in the chain itself: which event the chain now starts at and the digest
    before it, so `audit_verify` still checks the chain from there and notices events deleted any other
    way. On PostgreSQL each batch lifts the append-only trigger for its own transaction only
    (`SET LOCAL iam.audit_prune`, migration 0002). `company` is a Company, or a stand-in
    `Company(pk=…, name=…, slug=…)` for a deleted one, or None for the Console's chain."""
    with transaction.atomic():
        event_record(
            actor=SYSTEM,
            action=Action.AUDIT_PRUNED,
            company=company,
            after={
                "deleted": kept_from - first,
                "cutoff": cutoff.astimezone(datetime.UTC).isoformat(timespec="seconds"),
                "kept_from": kept_from,
                "anchor": anchor,
            },
        )
    deleted = 0
    for low in range(first, kept_from, batch):
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('iam.audit_prune', 'on', true)")
            count, _ = AuditEvent.objects.filter(
                company_id=chain, seq__gte=low, seq__lt=min(low + batch, kept_from)
            ).delete()
        deleted += count
        if progress is not None:
            progress(deleted)
    return deleted
