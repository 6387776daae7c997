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

from iam_portal.access.resolver import SystemActor
from iam_portal.audit.models import ActorKind, AuditEvent, Outcome, Source
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


_DEFAULT = AuditContext()
_context: ContextVar[AuditContext] = ContextVar("audit_context", default=_DEFAULT)


@contextmanager
def audit_context(**values):
    """Within the block, events record these (source, request_id, client_ip, user_agent)."""
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
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x41554454, chain % 2**31])


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

    `resource` is the company, project or environment acted on (default: the company)."""
    resource = resource if resource is not None else company
    if company is None and resource is not None:
        company = resource.company
    actor_kind, actor_id, actor_name = actor_snapshot(actor)
    subject_kind, subject_id, subject_name = subject_snapshot(subject)
    context = _context.get()
    chain = company.pk if company is not None else CONSOLE_CHAIN
    project = (
        resource.ancestor(Level.PROJECT) if resource is not None and resource.level != Level.COMPANY else None
    )
    with transaction.atomic():
        _lock_chain(chain)
        last = (
            AuditEvent.objects.filter(company_id=chain).order_by("-seq").values_list("seq", "digest").first()
        )
        seq, prev_digest = (last[0] + 1, last[1]) if last else (1, GENESIS)
        event = AuditEvent(
            company_id=chain,
            seq=seq,
            prev_digest=prev_digest,
            occurred_at=timezone.now(),
            actor_kind=actor_kind,
            actor_id=actor_id,
            actor_name=actor_name[:254],
            action=action,
            outcome=outcome,
            message=message,
            company_name=company.name if company is not None else "",
            resource_level=resource.level.value if resource is not None else "",
            resource_path=resource.path if resource is not None else "",
            resource_name=resource.name if resource is not None else "",
            project_id=project.pk if project is not None else None,
            subject_kind=subject_kind,
            subject_id=subject_id,
            subject_name=subject_name[:254],
            before=before,
            after=after,
            source=context.source,
            request_id=context.request_id,
            client_ip=context.client_ip,
            user_agent=context.user_agent,
        )
        event.digest = event_digest(event)
        event.save(force_insert=True)
    return event
