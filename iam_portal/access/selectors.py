"""Reads for the IAM tables: every identity of a company with its company role, paged by keyset.

Each table page costs a fixed number of queries whatever the number of rows: one limited query per
identity kind shown, and one count per kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import (
    Case,
    CharField,
    Exists,
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
from iam_portal.pagination import Page, paginate

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


def _company_role(company: Company, subject_field: str) -> Subquery:
    return Subquery(
        RoleBinding.objects.filter(company=company, **{subject_field: OuterRef("pk")}).values("role")[:1],
        output_field=CharField(),
    )


def company_users(company: Company) -> QuerySet[User]:
    """Users with access to the company: a direct company role, or membership of one of its groups."""
    return User.objects.filter(
        Exists(RoleBinding.objects.filter(company=company, user_id=OuterRef("pk")))
        | Exists(GroupMembership.objects.filter(user_id=OuterRef("pk"), group__company=company))
    )


def _annotate(qs: QuerySet, kind: str, name_expression) -> QuerySet:
    return qs.annotate(
        sort_name=Lower(name_expression),
        kind_order=Value(_KIND_ORDER[kind], output_field=IntegerField()),
        role_rank=role_rank_expression("company_role"),
    )


def identity_querysets(company: Company, *, kind: str | None = None, search: str = "") -> dict[str, QuerySet]:
    """One queryset per identity kind, annotated for sorting and with the direct company role."""
    search = search.strip()
    result: dict[str, QuerySet] = {}
    if kind in (None, USER):
        users = company_users(company).annotate(
            company_role=_company_role(company, "user_id"),
            display=Coalesce(NullIf("full_name", Value("")), "email", output_field=CharField()),
            in_groups=Exists(GroupMembership.objects.filter(user_id=OuterRef("pk"), group__company=company)),
        )
        if search:
            users = users.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
        result[USER] = _annotate(users, USER, "display")
    if kind in (None, GROUP):
        groups = Group.objects.filter(company=company).annotate(
            company_role=_company_role(company, "group_id"),
            display=Coalesce("name", Value("")),
        )
        if search:
            groups = groups.filter(name__icontains=search)
        result[GROUP] = _annotate(groups, GROUP, "name")
    if kind in (None, SERVICE_ACCOUNT):
        accounts = ServiceAccount.objects.filter(company=company).annotate(
            company_role=_company_role(company, "service_account_id"),
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


def identity_counts(company: Company, *, search: str = "") -> dict[str, int]:
    """How many users, groups and service accounts match: {"users": …, "groups": …, "service_accounts": …}."""
    querysets = identity_querysets(company, search=search)
    names = {USER: "users", GROUP: "groups", SERVICE_ACCOUNT: "service_accounts"}
    return {names[kind]: qs.order_by().values("pk").count() for kind, qs in querysets.items()}
