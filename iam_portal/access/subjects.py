"""The subjects of role bindings — users, groups and service accounts — in one vocabulary.

Their ids in URLs and forms (`user`, `group`, `service-account`), their labels, the RoleBinding field that
points at each, and which of them belong to a company: users through a company role of their own or one of
the company's groups; groups and service accounts through their `company`. Code asks here instead of
testing types.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.db.models import (
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from iam_portal.access.counts import kept_user_count, kept_user_count_hint
from iam_portal.access.models import (
    RoleBinding,
    effective_rank_expression,
    effective_role_expression,
    in_effect_q,
    running_expression,
)
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from iam_portal.orgs.models import Company, Environment, Project

Subject = User | Group | ServiceAccount
Resource = Company | Project | Environment

USER, GROUP, SERVICE_ACCOUNT = "user", "group", "service-account"


@dataclass(frozen=True)
class Kind:
    id: str  # in URLs, forms and the type filter
    label: str
    model: type[models.Model]
    field: str  # the RoleBinding foreign key that points at this kind
    order: int  # place in the tables that merge the three kinds
    search_fields: tuple[str, ...]  # what the tables' search box matches (substring, any case)


KINDS: dict[str, Kind] = {
    kind.id: kind
    for kind in (
        Kind(USER, "User", User, "user", 0, ("full_name", "email")),
        Kind(GROUP, "Group", Group, "group", 1, ("name",)),
        Kind(SERVICE_ACCOUNT, "Service account", ServiceAccount, "service_account", 2, ("name", "client_id")),
    )
}
KIND_LABELS: dict[str, str] = {kind.id: kind.label for kind in KINDS.values()}
KIND_BY_ORDER: dict[int, str] = {kind.order: kind.id for kind in KINDS.values()}
KIND_BY_FIELD: dict[str, Kind] = {kind.field: kind for kind in KINDS.values()}


def kind_of(subject: Subject) -> Kind:
    for kind in KINDS.values():
        if isinstance(subject, kind.model):  # isinstance, not type(): request.user is a lazy proxy
            return kind
    raise TypeError(f"Not a subject: {subject!r}")


def binding_lookup(subject: Subject, resource: Resource) -> dict:
    """The RoleBinding filter for the one binding of `subject` on `resource`."""
    return {kind_of(subject).field: subject, resource.level.value: resource}


def search_q(kind: str, text: str) -> Q:
    """The tables' search: any of the kind's search fields contains the text (no filter when it is blank)."""
    text = text.strip()
    if not text:
        return Q()
    condition = Q()
    for name in KINDS[kind].search_fields:
        condition |= Q(**{f"{name}__icontains": text})
    return condition


def subject_name(subject: Subject) -> str:
    """How people recognise the subject: a user's name (or email), a group's or service account's name."""
    return subject.display_name if isinstance(subject, User) else subject.name


# -- which subjects belong to a company ---------------------------------------------------------------


def with_company_role(qs: QuerySet, company: Company) -> QuerySet:
    """Annotates `company_role`, the subject's direct company role in effect now (a LEFT JOIN on its one
    binding there), its `role_rank` for sorting, and for a time-limited role `company_until` and
    `company_then` (the role after it) and the binding's id `company_binding_pk` (for Extend / End now)."""
    now = timezone.now()
    via = "company_binding__"
    return qs.annotate(
        company_binding=FilteredRelation("role_bindings", condition=Q(role_bindings__company=company)),
        company_role=effective_role_expression(now, via),
        company_until=running_expression("until", now, via),
        company_then=running_expression("role_after", now, via),
        company_binding_pk=F("company_binding__pk"),
        role_rank=effective_rank_expression(now, via),
    )


def company_users(company: Company, *, from_company_side: bool = False) -> QuerySet[User]:
    """Users with access to the company: a direct company role, or membership of one of its groups.

    By default the membership test is a scalar subquery, probed only for the rows an index walk visits (where
    EXISTS would make PostgreSQL hash every membership of the company on each request): cheap when the
    company's users are a large share of the Console's accounts. `from_company_side` finds them from the
    company's bindings and groups instead (a UNION), which costs the company's size rather than the
    Console's: for a small company among many accounts. `table_users` chooses.
    """
    users = with_company_role(User.objects.all(), company)
    if from_company_side:
        direct, via_groups = _company_user_ids(company)
        return users.filter(pk__in=direct.union(via_groups))
    first_membership = GroupMembership.objects.filter(user_id=OuterRef("pk"), group__company=company).values(
        "pk"
    )[:1]
    return users.annotate(company_membership=Subquery(first_membership)).filter(
        Q(company_role__isnull=False) | Q(company_membership__isnull=False)
    )


# Up to this many users a company's tables read its users from its own side (`company_users`). An index walk
# over the Console's accounts meets a company's users at the company's share of them: a ten-user company in
# a Console of 123,000 accounts read them all for one page (0.6 s); from its side it reads ten. Past a few
# thousand users the walk finds a page within a few hundred accounts, while the UNION would grow with the
# company.
SMALL_COMPANY_USERS = 5_000


def table_users(company: Company, *, sort: str = "name") -> QuerySet[User]:
    """The company's users for one of its tables, read the cheaper way for its size. (`sort` is there to choose
    by too: sorting by role reads every user of the company whichever way; from its side measured slower for a
    company that is most of the Console (1.9 s against 1.3 s at 100k), faster for one that is a small share.)"""
    size = kept_user_count_hint(company)  # the last count kept, current or not: it only chooses the way
    return company_users(company, from_company_side=size is not None and size <= SMALL_COMPANY_USERS)


def company_user_q(company: Company) -> Q:
    """The users with access to the company, found from its side (its bindings and its groups' members), so
    that counting them costs what the company's size costs rather than the number of accounts in the Console."""
    direct, via_groups = _company_user_ids(company)
    return Q(pk__in=direct) | Q(pk__in=via_groups)


def _company_user_ids(company: Company) -> tuple[QuerySet, QuerySet]:
    """The ids of the users with a direct company role, and of the members of the company's groups."""
    in_effect = in_effect_q(timezone.now())  # an ended grant not yet tidied gives no access
    direct = RoleBinding.objects.filter(in_effect, company=company, user__isnull=False).values("user_id")
    return direct, GroupMembership.objects.filter(group__company=company).values("user_id")


def company_user_count(company: Company, *, search: str = "") -> int:
    """How many users have access and match the search.

    Without a search the number is kept between requests (`access.counts`); when it is not current the
    users are counted from the company's side, as the distinct ids of a UNION: the form
    `id IN (…) OR id IN (…)` (`company_user_q`) stops hashing its subqueries once the company's memberships
    outgrow work_mem and then took minutes at 100k users. A search narrows the accounts first (a trigram
    index on PostgreSQL) and each match is then probed like a table row (`company_users`).
    """
    if search.strip():
        return table_users(company).filter(search_q(USER, search)).count()

    def count() -> int:
        direct, via_groups = _company_user_ids(company)
        return direct.union(via_groups).count()

    return kept_user_count(company, count)


def company_subject_count(company: Company, kind: str, *, search: str = "") -> int:
    """How many subjects of one kind belong to the company and match the search: counted on the bare table
    (the page's annotations would add a join per row to a count)."""
    if kind == USER:
        return company_user_count(company, search=search)
    return KINDS[kind].model.objects.filter(company=company).filter(search_q(kind, search)).count()


def company_subjects(company: Company, kind: str) -> QuerySet:
    """Every subject of one kind that belongs to the company."""
    if kind == USER:
        return company_users(company)
    return KINDS[kind].model.objects.filter(company=company)


def company_subject(company: Company, kind: str, pk) -> Subject:
    """The subject of a URL or form, looked up inside the company: 404 for an unknown kind, an unknown id
    or one that belongs to another company."""
    if kind not in KINDS:
        raise Http404("No such kind of identity.")
    subject = get_object_or_404(company_subjects(company, kind), pk=pk)
    if kind != USER:
        subject.company = company  # found inside it: spare the services a query for it
    return subject
