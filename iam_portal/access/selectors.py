"""Reads for the IAM tables: every identity of a company with its company role, paged by keyset.

Each table page costs a fixed number of queries whatever the number of rows: one limited query per
identity kind shown, and one count per kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    ExpressionWrapper,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower, NullIf

from iam_portal.access import catalogue
from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from iam_portal.orgs.models import Company
from iam_portal.pagination import Page, paginate, sort_key

USER, GROUP, SERVICE_ACCOUNT = "user", "group", "service-account"
KINDS = {USER: "User", GROUP: "Group", SERVICE_ACCOUNT: "Service account"}
_KIND_ORDER = {USER: 0, GROUP: 1, SERVICE_ACCOUNT: 2}
SORTS = {
    "name": ["sort_name", "kind_order", "pk"],
    "-name": ["-sort_name", "-kind_order", "-pk"],
    "role": ["-role_rank", "sort_name", "kind_order", "pk"],
    "-role": ["role_rank", "-sort_name", "-kind_order", "-pk"],
}


def role_rank_expression(field: str) -> Case:
    return Case(
        *[When(**{field: role.id}, then=Value(role.rank)) for role in catalogue.ROLES.values()],
        default=Value(0),
        output_field=IntegerField(),
    )


def with_company_role(qs: QuerySet, company: Company) -> QuerySet:
    """The direct company role as a LEFT JOIN on the one binding per (subject, company)."""
    return qs.annotate(
        company_binding=FilteredRelation("role_bindings", condition=Q(role_bindings__company=company)),
        company_role=F("company_binding__role"),
    )


def company_users(company: Company) -> QuerySet[User]:
    """Users with access to the company: a direct company role, or membership of one of its groups.

    The membership test is a scalar subquery on purpose: it is probed only for the rows an index walk
    visits, where EXISTS would make PostgreSQL hash every membership of the company on each request.
    """
    first_membership = GroupMembership.objects.filter(user_id=OuterRef("pk"), group__company=company).values(
        "pk"
    )[:1]
    return (
        with_company_role(User.objects.all(), company)
        .annotate(company_membership=Subquery(first_membership))
        .filter(Q(company_role__isnull=False) | Q(company_membership__isnull=False))
    )


def _annotate(qs: QuerySet, kind: str, name_expression) -> QuerySet:
    return qs.annotate(
        sort_name=sort_key(Lower(name_expression)),
        kind_order=Value(_KIND_ORDER[kind], output_field=IntegerField()),
        role_rank=role_rank_expression("company_role"),
    )


def identity_querysets(company: Company, *, kind: str | None = None, search: str = "") -> dict[str, QuerySet]:
    """One queryset per identity kind, annotated for sorting and with the direct company role."""
    search = search.strip()
    result: dict[str, QuerySet] = {}
    if kind in (None, USER):
        users = company_users(company).annotate(
            display=Coalesce(NullIf("full_name", Value("")), "email", output_field=CharField()),
            in_groups=ExpressionWrapper(Q(company_membership__isnull=False), output_field=BooleanField()),
        )
        if search:
            users = users.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
        result[USER] = _annotate(users, USER, "display")
    if kind in (None, GROUP):
        groups = with_company_role(Group.objects.filter(company=company), company).annotate(
            display=Coalesce("name", Value("")),
        )
        if search:
            groups = groups.filter(name__icontains=search)
        result[GROUP] = _annotate(groups, GROUP, "name")
    if kind in (None, SERVICE_ACCOUNT):
        accounts = with_company_role(ServiceAccount.objects.filter(company=company), company).annotate(
            display=Coalesce("name", Value("")),
        )
        if search:
            accounts = accounts.filter(Q(name__icontains=search) | Q(client_id__icontains=search))
        result[SERVICE_ACCOUNT] = _annotate(accounts, SERVICE_ACCOUNT, "name")
    return result


@dataclass
class IdentityRow:
    kind: str
    obj: User | Group | ServiceAccount
    company_role: str | None

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def role_label(self) -> str:
        return catalogue.role_label(self.company_role)


def company_identity_page(
    company: Company,
    *,
    kind: str | None = None,
    search: str = "",
    sort: str = "name",
    after: str | None = None,
    before: str | None = None,
    size: int = 50,
) -> Page:
    querysets = identity_querysets(company, kind=kind, search=search)
    page = paginate(
        list(querysets.values()), SORTS.get(sort, SORTS["name"]), after=after, before=before, size=size
    )
    kinds = {0: USER, 1: GROUP, 2: SERVICE_ACCOUNT}
    page.rows = [IdentityRow(kinds[row.kind_order], row, row.company_role) for row in page.rows]
    return page


def company_user_count(company: Company, *, search: str = "") -> int:
    """How many users have access, counted from the company's side (its bindings and its groups' members),
    so the cost follows the company's size rather than the number of accounts in the Console."""
    direct = RoleBinding.objects.filter(company=company, user__isnull=False).values("user_id")
    via_groups = GroupMembership.objects.filter(group__company=company).values("user_id")
    users = User.objects.filter(Q(pk__in=direct) | Q(pk__in=via_groups))
    search = search.strip()
    if search:
        users = users.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
    return users.count()


def identity_counts(company: Company, *, search: str = "") -> dict[str, int]:
    """How many users, groups and service accounts match, and in all."""
    search = search.strip()
    groups = Group.objects.filter(company=company)
    accounts = ServiceAccount.objects.filter(company=company)
    if search:
        groups = groups.filter(name__icontains=search)
        accounts = accounts.filter(Q(name__icontains=search) | Q(client_id__icontains=search))
    counts = {
        "users": company_user_count(company, search=search),
        "groups": groups.count(),
        "service_accounts": accounts.count(),
    }
    counts["total"] = sum(counts.values())
    return counts
