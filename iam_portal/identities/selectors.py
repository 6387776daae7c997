"""Reads for the Users, Groups and Service accounts pages (fixed query count per page)."""

from __future__ import annotations

import datetime
from typing import NamedTuple

from django.db.models import (
    CharField,
    Count,
    Exists,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Lower, NullIf
from django.shortcuts import get_object_or_404

from iam_portal.access import catalogue
from iam_portal.access.models import RoleBinding
from iam_portal.access.selectors import project_bindings_of_users
from iam_portal.access.subjects import (
    GROUP,
    SERVICE_ACCOUNT,
    USER,
    search_q,
    table_users,
    with_company_role,
)
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from iam_portal.orgs.models import Company
from iam_portal.pagination import Page, sort_key, sorted_page, table_sorts

NEVER = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)

# The orders of the people and identity tables' columns (ascending; `table_sorts` adds the reverse).
BY_NAME, BY_EMAIL, BY_LAST_LOGIN = ["sort_name", "pk"], ["email", "pk"], ["seen", "pk"]
BY_ROLE = ["-role_rank", "sort_name", "pk"]  # highest role first
USER_SORTS = table_sorts(name=BY_NAME, email=BY_EMAIL, last_login=BY_LAST_LOGIN, role=BY_ROLE)


def _person_rows(users: QuerySet[User], search: str) -> QuerySet[User]:
    """Users annotated for the people tables (Users, group members): name sort key and last login."""
    return users.filter(search_q(USER, search)).annotate(
        sort_name=sort_key(
            Lower(Coalesce(NullIf("full_name", Value("")), "email", output_field=CharField()))
        ),
        seen=Coalesce("last_login", Value(NEVER)),
    )


def company_member(company: Company, email: str) -> User | None:
    """The active account with this email when it already has a company role of its own in the company."""
    return (
        User.objects.filter(email__iexact=email.strip(), is_active=True)
        .filter(Exists(RoleBinding.objects.filter(company=company, user_id=OuterRef("pk"))))
        .first()
    )


def user_rows(company: Company, *, search: str = "", sort: str = "name") -> QuerySet:
    return _person_rows(table_users(company, sort=sort), search)


class GroupTag(NamedTuple):
    """A group a user belongs to, as the Users table shows it."""

    group_id: int
    name: str


def company_user_page(company: Company, *, search: str = "", **order) -> Page:
    page = sorted_page(
        user_rows(company, search=search, sort=order.get("sort") or "name"), USER_SORTS, **order
    )
    # One query for the groups of every user on the page, as plain rows (no model instances to build).
    groups = {row.pk: [] for row in page.rows}
    memberships = (
        GroupMembership.objects.filter(group__company=company, user_id__in=list(groups))
        .values_list("user_id", "group_id", "group__name")
        .order_by("group__name")
    )
    for user_id, group_id, name in memberships:
        groups[user_id].append(GroupTag(group_id, name))
    for row in page.rows:
        row.company_memberships = groups[row.pk]
    return page


def group_rows(company: Company, *, search: str = "") -> QuerySet[Group]:
    # Members counted per row (a GROUP BY would aggregate every membership of the company first).
    member_count = (
        GroupMembership.objects.filter(group=OuterRef("pk"))
        .order_by()
        .values("group")
        .annotate(n=Count("pk"))
    )
    groups = with_company_role(Group.objects.filter(company=company), company).annotate(
        sort_name=Lower("name"),
        member_count=Coalesce(Subquery(member_count.values("n")), 0),
    )
    return groups.filter(search_q(GROUP, search))


def service_account_rows(company: Company, *, search: str = "") -> QuerySet[ServiceAccount]:
    accounts = with_company_role(ServiceAccount.objects.filter(company=company), company).annotate(
        sort_name=Lower("name"),
        seen=Coalesce("last_login", Value(NEVER)),
    )
    return accounts.filter(search_q(SERVICE_ACCOUNT, search))


# -- groups page and group detail ------------------------------------------------------------------

GROUP_SORTS = table_sorts(name=BY_NAME, role=BY_ROLE)

MEMBER_SORTS = table_sorts(name=BY_NAME, email=BY_EMAIL, last_login=BY_LAST_LOGIN)

SERVICE_ACCOUNT_SORTS = table_sorts(name=BY_NAME, role=BY_ROLE, last_login=BY_LAST_LOGIN)


def company_group_page(company: Company, *, search: str = "", **order) -> Page:
    return sorted_page(group_rows(company, search=search), GROUP_SORTS, **order)


def group_summary(company: Company, pk: int) -> Group | None:
    """One group of the company with its company role and member count (one query), or None."""
    return group_rows(company).filter(pk=pk).first()


def member_rows(group: Group, *, search: str = "") -> QuerySet:
    return _person_rows(User.objects.filter(memberships__group=group), search)


def group_member_page(group: Group, *, search: str = "", **order) -> Page:
    return sorted_page(member_rows(group, search=search), MEMBER_SORTS, **order)


def access_left_without(group: Group, user: User) -> dict:
    """What keeps `user` in the group's company once they leave `group`: their own company role and the
    company's other groups they belong to. Both empty means they lose access to the company, and with it
    their roles on its projects and environments (`lost_roles`)."""
    left = {
        "direct_role": catalogue.role_label(
            RoleBinding.objects.filter(company_id=group.company_id, user=user)
            .values_list("role", flat=True)
            .first()
        ),
        "other_groups": list(
            Group.objects.filter(company_id=group.company_id, memberships__user=user)
            .exclude(pk=group.pk)
            .order_by("name")
            .values_list("name", flat=True)
        ),
    }
    losing = not left["direct_role"] and not left["other_groups"]
    left["lost_roles"] = project_bindings_of_users(group.company, [user]) if losing else []
    return left


def group_member(group: Group, pk: int) -> User:
    """A member of the group (404 otherwise)."""
    return get_object_or_404(User, pk=pk, memberships__group=group)


def group_deletion_losses(group: Group, *, shown: int) -> dict:
    """What deleting the group takes away: how many members it has, and the members (the first `shown`, and
    how many more) for whom it is the only way into the company."""
    losing = members_losing_access(group).order_by("email")
    listed = list(losing[:shown])
    losing_count = losing.count()
    return {
        "losing": listed,
        "losing_count": losing_count,
        "losing_more": losing_count - len(listed),
        "member_count": group.memberships.count(),
        # Their roles on the company's projects and environments go with their access (of those listed).
        "lost_roles": project_bindings_of_users(group.company, listed),
    }


def members_losing_access(group: Group) -> QuerySet[User]:
    """Members whose only access to the company is this group: no company role of their own and no
    other group of the company."""
    return (
        User.objects.filter(memberships__group=group)
        .exclude(Exists(RoleBinding.objects.filter(company_id=group.company_id, user_id=OuterRef("pk"))))
        .exclude(
            Exists(
                GroupMembership.objects.filter(
                    user_id=OuterRef("pk"), group__company_id=group.company_id
                ).exclude(group_id=group.pk)
            )
        )
    )


# -- service accounts page -------------------------------------------------------------------------


def company_service_account_page(company: Company, *, search: str = "", **order) -> Page:
    return sorted_page(
        service_account_rows(company, search=search).defer("public_key"), SERVICE_ACCOUNT_SORTS, **order
    )
