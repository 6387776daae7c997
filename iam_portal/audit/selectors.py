"""Reads of the audit log: events by filter for the pages, the CSV and the API, and the chain check.

Every read is scoped to one company's chain (`company_id`) and ordered newest first by id. Within a chain
id, seq and occurred_at grow together (`services.event_record`), so a date range is turned into an id
range with two probes of `audit_time_idx`, and each filter walks its own index backwards from a cursor
(keyset pagination: page 1,000 costs what page 1 costs).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from iam_portal.audit.models import Action, ActorKind, AuditEvent
from iam_portal.audit.services import GENESIS, event_digest
from iam_portal.identities.models import Group, ServiceAccount, User
from iam_portal.orgs.models import Company
from iam_portal.pagination import Page, paginate

# -- who: "user:12", "group:3", "service-account:7", and the actors that are not accounts ---------------

IDENTITY_KINDS = ("user", "group", "service-account")
NON_ACCOUNT_ACTORS = (ActorKind.COMMAND, ActorKind.IDENTITY_PROVIDER, ActorKind.ANONYMOUS)
_TOKEN = re.compile(r"^(user|group|service-account|command|identity-provider|anonymous)(?::(\d{1,18}))?$")


@dataclass(frozen=True)
class Who:
    """An identity (kind and id) as filters name it; actors that are not accounts have no id."""

    kind: str
    id: int | None = None

    @property
    def token(self) -> str:
        return self.kind if self.id is None else f"{self.kind}:{self.id}"

    @classmethod
    def parse(cls, token: str) -> Who | None:
        """ "user:12" → Who("user", 12); "command" → Who("command"); None for anything else."""
        match = _TOKEN.match(token or "")
        if match is None:
            return None
        kind, number = match.group(1), match.group(2)
        if (kind in IDENTITY_KINDS) != (number is not None):
            return None
        return cls(kind, int(number) if number is not None else None)

    def actor_q(self) -> Q:
        if self.id is None:
            return Q(actor_kind=self.kind, actor_id__isnull=True)
        kinds = [ActorKind.USER, ActorKind.SUPERUSER] if self.kind == "user" else [self.kind]
        # actor_id first, so that audit_actor_idx serves it; the kind only tells ids of two tables apart.
        return Q(actor_id=self.id, actor_kind__in=kinds)

    def subject_q(self) -> Q:
        if self.id is None:
            return Q(pk__in=[])
        return Q(subject_kind=self.kind, subject_id=self.id)


@dataclass(frozen=True)
class AuditFilter:
    """What the pages, the CSV and the API may narrow the log to. Dates: `start` inclusive, `end`
    exclusive (aware datetimes)."""

    start: datetime.datetime | None = None
    end: datetime.datetime | None = None
    actor: Who | None = None
    subject: Who | None = None
    identity: Who | None = None  # subject or actor: one identity's history
    action: str = ""
    project_id: int | None = None
    outcome: str = ""
    nothing: bool = False  # a filter that matches nothing (e.g. an unknown name)


def who_named(company_id: int, text: str) -> Who | None:
    """The identity a filter names: a token ("user:12", from links), an email, or the exact name of one
    of the company's groups or service accounts, or of exactly one user. None when nothing fits."""
    text = text.strip()
    if (who := Who.parse(text)) is not None:
        return who
    if "@" in text:
        pk = User.objects.filter(email__iexact=text).values_list("pk", flat=True).first()
        return Who("user", pk) if pk else None
    for kind, model in (("group", Group), ("service-account", ServiceAccount)):
        pk = (
            model.objects.filter(company_id=company_id, name__iexact=text)
            .values_list("pk", flat=True)
            .first()
        )
        if pk:
            return Who(kind, pk)
    users = list(User.objects.filter(full_name__iexact=text).values_list("pk", flat=True)[:2])
    return Who("user", users[0]) if len(users) == 1 else None


def who_name(company_id: int, who: Who) -> str:
    """How to call an identity in a heading: its name now, or as this company's log last knew it. An
    identity this company's log never mentions keeps its token (nothing leaks from other companies)."""
    events = AuditEvent.objects.filter(company_id=company_id)
    known = (
        events.filter(who.subject_q()).order_by("-id").values_list("subject_name", flat=True).first()
        or events.filter(who.actor_q()).order_by("-id").values_list("actor_name", flat=True).first()
    )
    if not known:
        return who.token
    if who.kind == "user":
        live = User.objects.filter(pk=who.id).first()
        return live.display_name if live else known
    model = {"group": Group, "service-account": ServiceAccount}.get(who.kind)
    live = model.objects.filter(pk=who.id, company_id=company_id).first() if model else None
    return live.name if live else known


# -- the events of a filter -------------------------------------------------------------------------


def _id_range(company_id: int, start, end) -> Q | None:
    """The ids of a company's events between two times, as an id range (None: no event in it)."""
    events = AuditEvent.objects.filter(company_id=company_id)
    condition = Q()
    # Each end of the window: the first event at or after `start`, the last one before `end`.
    for time, within, order, ids in (
        (start, "occurred_at__gte", ("occurred_at", "id"), "id__gte"),
        (end, "occurred_at__lt", ("-occurred_at", "-id"), "id__lte"),
    ):
        if time is None:
            continue
        edge = events.filter(**{within: time}).order_by(*order).values_list("id", flat=True).first()
        if edge is None:
            return None
        condition &= Q(**{ids: edge})
    return condition


def audit_querysets(company_id: int, f: AuditFilter) -> list[QuerySet[AuditEvent]]:
    """The filter as querysets whose union is the answer, each one served by one index: one queryset, or
    two for an identity's history (as subject; as actor but not subject), merged by the pager."""
    if f.nothing:
        return [AuditEvent.objects.none()]
    condition = Q(company_id=company_id)
    if f.start is not None or f.end is not None:
        ids = _id_range(company_id, f.start, f.end)
        if ids is None:
            return [AuditEvent.objects.none()]
        condition &= ids
    if f.actor is not None:
        condition &= f.actor.actor_q()
    if f.subject is not None:
        condition &= f.subject.subject_q()
    if f.action:
        condition &= Q(action=f.action)
    if f.project_id is not None:
        condition &= Q(project_id=f.project_id)
    if f.outcome:
        condition &= Q(outcome=f.outcome)
    events = AuditEvent.objects.filter(condition)
    if f.identity is None:
        return [events]
    as_subject = f.identity.subject_q()
    return [events.filter(as_subject), events.filter(f.identity.actor_q()).exclude(as_subject)]


def audit_page(
    company_id: int, f: AuditFilter, *, after: str | None = None, before: str | None = None, size: int = 50
) -> Page:
    """One page of events, newest first, found by the id of the row before it (never an OFFSET)."""
    return paginate(audit_querysets(company_id, f), ["-id"], after=after, before=before, size=size)


def scoped_event(company_id: int, pk: int, *, project_id: int | None = None) -> AuditEvent | None:
    """One event of a company's log (of one project's, with project_id); None when it is not there."""
    events = AuditEvent.objects.filter(company_id=company_id, pk=pk)
    if project_id is not None:
        events = events.filter(project_id=project_id)
    return events.first()


COUNT_CAP = 1000


def audit_count(company_id: int, f: AuditFilter, *, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """(how many events match, whether there are more than `cap`): counting a million rows on every page
    would cost more than the page itself, and "more than 1,000" says enough."""
    total = sum(qs[: cap + 1].count() for qs in audit_querysets(company_id, f))
    return min(total, cap), total > cap


def audit_batches(company_id: int, f: AuditFilter, *, batch: int = 2000) -> Iterator[AuditEvent]:
    """Every matching event, newest first, read `batch` rows at a time by id (each batch one indexed,
    limited query): memory stays flat at any size, no cursor or transaction stays open between batches,
    and events written meanwhile (newer ids) do not slip in."""
    querysets, last_id = audit_querysets(company_id, f), None
    while True:
        rows = []
        for qs in querysets:
            if last_id is not None:
                qs = qs.filter(id__lt=last_id)
            rows.extend(qs.order_by("-id")[:batch])
        rows.sort(key=lambda e: e.id, reverse=True)
        rows = rows[:batch]
        yield from rows
        if len(rows) < batch:
            return
        last_id = rows[-1].id


# -- the machine API (GET /api/tenants/{companyId}/audit-logs) ----------------------------------------

MAX_PER_PAGE = 200


@dataclass(frozen=True)
class EventWindow:
    events: list[AuditEvent]
    total: int
    page: int
    per_page: int


def company_events_between(
    company_id: int, *, start_ms: int | None, end_ms: int | None, page: int = 1, per_page: int = 50
) -> EventWindow:
    """The API's page of a company's events between two unix-millisecond times (`from` inclusive, `to`
    exclusive; either may be missing), newest first, with the total. `page` starts at 1; `per_page` is
    kept between 1 and MAX_PER_PAGE. The API keeps the spec's page/per_page (an OFFSET); deep pages cost
    more there than on the portal's pages."""
    page, per_page = max(1, page), min(max(1, per_page), MAX_PER_PAGE)
    f = AuditFilter(start=_from_ms(start_ms), end=_from_ms(end_ms))
    (events,) = audit_querysets(company_id, f)
    offset = (page - 1) * per_page
    return EventWindow(
        list(events.order_by("-id")[offset : offset + per_page]), events.count(), page, per_page
    )


def _from_ms(value: int | None) -> datetime.datetime | None:
    if value is None:
        return None
    try:
        return datetime.datetime.fromtimestamp(value / 1000, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        # Outside what a datetime holds: clamp to the first or last representable moment.
        return (
            datetime.datetime.min.replace(tzinfo=datetime.UTC)
            if value < 0
            else datetime.datetime.max.replace(tzinfo=datetime.UTC)
        )


# -- the chain --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    company_id: int
    events: int
    first_seq: int | None
    broken_at: int | None = None  # the seq of the first event that does not fit
    problem: str = ""
    head: str = ""  # the digest of the last event: note it elsewhere to notice a cut-off tail later

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def chain_verify(company_id: int, *, batch: int = 5000) -> ChainReport:
    """Walk one company's chain in order and name the first link that does not hold.

    A chain may start after 1 when `audit_prune` deleted its oldest events: it recorded that in the chain
    (an `audit.pruned` event naming the first kept event and the digest before it), and the chain must
    start exactly there. After that, every event must follow the one before it (no gap in `seq`), name
    its digest as previous, and hash to its own stored digest."""
    events = AuditEvent.objects.filter(company_id=company_id).order_by("seq")
    count, first_seq, previous = 0, None, None
    for event in events.iterator(chunk_size=batch):
        count += 1
        if previous is None:
            first_seq = event.seq
            problem = _start_problem(company_id, event)
            if problem:
                return ChainReport(company_id, count, first_seq, event.seq, problem)
        else:
            if event.seq != previous.seq + 1:
                return ChainReport(
                    company_id,
                    count,
                    first_seq,
                    event.seq,
                    f"events #{previous.seq + 1} to #{event.seq - 1} are missing (deleted)",
                )
            if event.prev_digest != previous.digest:
                return ChainReport(
                    company_id,
                    count,
                    first_seq,
                    event.seq,
                    "it does not follow the event before it (reordered or replaced)",
                )
        if event_digest(event) != event.digest:
            return ChainReport(
                company_id, count, first_seq, event.seq, "its content was changed after it was written"
            )
        previous = event
    return ChainReport(company_id, count, first_seq, head=previous.digest if previous else "")


def _start_problem(company_id: int, first: AuditEvent) -> str:
    """Why the chain may not start with `first` ("" when it may)."""
    if first.seq == 1:
        return "" if first.prev_digest == GENESIS else "the first event does not start the chain"
    pruned = (
        AuditEvent.objects.filter(company_id=company_id, action=Action.AUDIT_PRUNED, outcome="success")
        .order_by("-id")
        .first()
    )
    kept_from = (pruned.after or {}).get("kept_from") if pruned and isinstance(pruned.after, dict) else None
    if not isinstance(kept_from, int):
        return f"events #1 to #{first.seq - 1} are missing, and no prune of the log is recorded"
    if first.seq > kept_from:
        return f"events #{kept_from} to #{first.seq - 1} are missing (deleted outside audit_prune)"
    if first.seq == kept_from and first.prev_digest != pruned.after.get("anchor"):
        return "it does not follow the last event the prune deleted (replaced)"
    return ""  # first.seq < kept_from: a prune was interrupted; running it again completes it


def chains() -> list[int]:
    return sorted(AuditEvent.objects.order_by().values_list("company_id", flat=True).distinct())


def chain_company(chain: int) -> tuple[str, str]:
    """(name, slug) of the company a chain belongs to, from the live company or, once it is deleted, from
    the chain's last event; ("Console", "") for chain 0."""
    if chain == 0:
        return "Console", ""
    company = Company.objects.filter(pk=chain).values_list("name", "slug").first()
    if company:
        return company
    last = (
        AuditEvent.objects.filter(company_id=chain)
        .order_by("-seq")
        .values_list("company_name", "resource_path")
        .first()
    )
    return (last[0], last[1].split("/")[0]) if last else (f"company #{chain}", "")


def prunable(chain: int, cutoff: datetime.datetime) -> tuple[int, int, str] | None:
    """What `audit_prune` may delete from a chain: (first seq, first seq kept, digest before the first
    kept) for the events older than `cutoff`, a prefix of the chain; None when there are none. When every
    event is older, the chain continues from the prune's own event, so the last one goes too."""
    events = AuditEvent.objects.filter(company_id=chain)
    first = events.order_by("seq").values_list("seq", "occurred_at").first()
    if first is None or first[1] >= cutoff:
        return None
    kept = (
        events.filter(occurred_at__gte=cutoff).order_by("occurred_at", "id").values_list("seq", flat=True)
    ).first()
    if kept is None:
        head = events.order_by("-seq").values_list("seq", "digest").first()
        return first[0], head[0] + 1, head[1]
    anchor = events.filter(seq=kept).values_list("prev_digest", flat=True).first()
    return first[0], kept, anchor
