"""Reads for the Users, Groups and Service accounts pages (fixed query count per page)."""

from __future__ import annotations

import datetime

from django.db.models import (
    CharField,
    Count,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce, Lower, NullIf

from iam_portal.access.models import RoleBinding
from iam_portal.access.selectors import company_users, role_rank_expression
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount
from iam_portal.orgs.models import Company
from iam_portal.pagination import Page, paginate

NEVER = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)

USER_SORTS = {
    "name": ["sort_name", "pk"],
    "-name": ["-sort_name", "-pk"],
    "email": ["email", "pk"],
    "-email": ["-email", "-pk"],
    "last_login": ["seen", "pk"],
    "-last_login": ["-seen", "-pk"],
    "role": ["-role_rank", "sort_name", "pk"],
    "-role": ["role_rank", "-sort_name", "-pk"],
}


def company_role_subquery(company: Company, subject_field: str) -> Subquery:
    return Subquery(
        RoleBinding.objects.filter(company=company, **{subject_field: OuterRef("pk")}).values("role")[:1],
        output_field=CharField(),
    )


def user_rows(company: Company, *, search: str = "") -> QuerySet:
    users = company_users(company).annotate(
        company_role=company_role_subquery(company, "user_id"),
        sort_name=Lower(Coalesce(NullIf("full_name", Value("")), "email", output_field=CharField())),
        seen=Coalesce("last_login", Value(NEVER)),
    )
    users = users.annotate(role_rank=role_rank_expression("company_role"))
    search = search.strip()
    if search:
        users = users.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
    return users


def company_user_page(
    company: Company, *, search: str = "", sort: str = "name", after=None, before=None, size: int = 50
) -> Page:
    page = paginate(
        user_rows(company, search=search),
        USER_SORTS.get(sort, USER_SORTS["name"]),
        after=after,
        before=before,
        size=size,
    )
    memberships = (
        GroupMembership.objects.filter(group__company=company).select_related("group").order_by("group__name")
    )
    # One query for the groups of every user on the page.
    prefetch_related_objects(
        page.rows, Prefetch("memberships", queryset=memberships, to_attr="company_memberships")
    )
    return page


def group_rows(company: Company, *, search: str = "") -> QuerySet[Group]:
    groups = Group.objects.filter(company=company).annotate(
        company_role=company_role_subquery(company, "group_id"),
        sort_name=Lower("name"),
        member_count=Count("memberships"),
    )
    groups = groups.annotate(role_rank=role_rank_expression("company_role"))
    search = search.strip()
    if search:
        groups = groups.filter(name__icontains=search)
    return groups


def service_account_rows(company: Company, *, search: str = "") -> QuerySet[ServiceAccount]:
    accounts = ServiceAccount.objects.filter(company=company).annotate(
        company_role=company_role_subquery(company, "service_account_id"),
        sort_name=Lower("name"),
        seen=Coalesce("last_login", Value(NEVER)),
    )
    accounts = accounts.annotate(role_rank=role_rank_expression("company_role"))
    search = search.strip()
    if search:
        accounts = accounts.filter(Q(name__icontains=search) | Q(client_id__icontains=search))
    return accounts
