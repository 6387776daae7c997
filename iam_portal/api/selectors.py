"""Reads of the machine API, in the shapes of spec §6.3. Each list costs a fixed number of queries
whatever the company's size (pinned by tests): the rows of each identity kind, then one query per kind of
related data (groups of the users, members of the groups, roles on the asked projects).

Lists are built as plain dicts and serialised once: at 10k identities, validating every item through a
schema would cost more than reading it.
"""

from __future__ import annotations

import datetime
import math
import re
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from iam_portal.access import catalogue, selectors
from iam_portal.access.models import RoleBinding, effective_role_expression
from iam_portal.access.subjects import GROUP, SERVICE_ACCOUNT, USER, company_users, with_company_role
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from iam_portal.orgs.models import Company, Environment, Project

# identityType values of the API (miactl sends `serviceaccount`, Mia's MCP server `serviceAccount`).
IDENTITY_TYPES = {"user": USER, "group": GROUP, "serviceaccount": SERVICE_ACCOUNT}
API_TYPE = {USER: "user", GROUP: "group", SERVICE_ACCOUNT: "serviceaccount"}
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
CLIENT_ID = re.compile(r"^[A-Za-z0-9._~-]{1,64}$")
DATABASE_ID = re.compile(r"^[1-9][0-9]{0,17}$")  # fits a bigint


def rfc3339(moment: datetime.datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _roles(role: str | None) -> list[str]:
    return [role] if role else []


def _until(moment: datetime.datetime | None) -> str | None:
    """When a time-limited role ends (RFC 3339), None for a lasting one."""
    return rfc3339(moment) if moment else None


# -- pages -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageRequest:
    """`page` (zero-based, as Mia's clients send it) and `per_page`; None when the list is not paginated."""

    page: int
    per_page: int

    def cut(self, items: list) -> tuple[list, dict[str, str]]:
        start = self.page * self.per_page
        headers = {
            "x-total-items": str(len(items)),
            "x-total-pages": str(math.ceil(len(items) / self.per_page)),
        }
        return items[start : start + self.per_page], headers


# -- one object of the company -------------------------------------------------------------------------


def company_by_slug(slug: str) -> Company | None:
    return Company.objects.filter(slug=slug).first() if SLUG.match(slug) else None


def company_user(company: Company, user_id: str) -> User | None:
    """A user with access to the company (a direct role or a group), by the userId of the lists."""
    if not DATABASE_ID.match(user_id):
        return None
    return company_users(company).filter(pk=int(user_id)).first()


def company_group(company: Company, group_id: str) -> Group | None:
    if not DATABASE_ID.match(group_id):
        return None
    return Group.objects.select_related("company").filter(company=company, pk=int(group_id)).first()


def company_service_account(company: Company, client_id: str) -> ServiceAccount | None:
    if not CLIENT_ID.match(client_id):
        return None
    return (
        ServiceAccount.objects.select_related("company").filter(company=company, client_id=client_id).first()
    )


def company_users_by_id(company: Company, user_ids: list[str]) -> tuple[list[User], list[str]]:
    """The company users among `user_ids` (one query), and the ids that are not one."""
    wanted = {int(i) for i in user_ids if DATABASE_ID.match(i)}
    found = {user.pk: user for user in company_users(company).filter(pk__in=wanted)}
    missing = [i for i in user_ids if not DATABASE_ID.match(i) or int(i) not in found]
    return [found[int(i)] for i in dict.fromkeys(user_ids) if i not in missing], missing


def company_projects(company: Company, slugs: list[str]) -> tuple[dict[str, Project], list[str]]:
    """The company's projects among `slugs` (one query), and the slugs that name none."""
    valid = [slug for slug in slugs if SLUG.match(slug)]
    found = {
        p.slug: p for p in Project.objects.select_related("company").filter(company=company, slug__in=valid)
    }
    return found, [slug for slug in slugs if slug not in found]


def project_environments(projects: list[Project]) -> dict[tuple[int, str], Environment]:
    """Every environment of `projects`, by (project pk, env_id): one query."""
    return {
        (env.project_id, env.env_id): env
        for env in Environment.objects.select_related("project__company").filter(project__in=projects)
    }


# -- GET identities -------------------------------------------------------------------------------------


def company_identities(
    company: Company,
    *,
    kinds: list[str],
    projects: list[Project],
    with_access_only: bool = False,
) -> list[dict]:
    """IAMIdentity items: users, then groups, then service accounts, each sorted by name.

    With `projects`, each item's `projects` holds its own roles on them and their environments; with
    `with_access_only`, only identities that reach one of them (by any role of their own or of a group)
    are listed, which is what those who may view a project but not manage its identities see.
    """
    querysets = selectors.identity_querysets(company, users_from_company_side=True)  # every user is listed
    fields = {
        USER: ("pk", "display", "company_role", "company_until"),
        GROUP: ("pk", "name", "company_role", "company_until"),
        SERVICE_ACCOUNT: ("pk", "name", "company_role", "company_until", "client_id"),
    }
    rows: list[tuple] = []
    for kind in (USER, GROUP, SERVICE_ACCOUNT):
        if kind not in kinds:
            continue
        for values in querysets[kind].order_by("sort_name", "pk").values_list(*fields[kind]):
            pk, name, role, until = values[:4]
            identity_id = values[4] if kind == SERVICE_ACCOUNT else str(pk)
            rows.append((kind, pk, name, role, until, identity_id))

    held = _project_roles(company, projects, with_groups=with_access_only) if projects else None
    items = []
    for kind, pk, name, role, until, identity_id in rows:
        entries = []
        if held is not None:
            own = held.roles.get((kind, pk), {})
            entries = [
                _project_entry(project, own.get(project.pk)) for project in projects if project.pk in own
            ]
            if with_access_only and not held.reaches(kind, pk, role):
                continue
        items.append(
            {
                "identityId": identity_id,
                "name": name,
                "identityType": API_TYPE[kind],
                "companyRoles": _roles(role),
                "until": _until(until),
                "projects": entries,
            }
        )
    return items


def _project_entry(project: Project, roles: dict) -> dict:
    environments = sorted(value for key, value in roles.items() if key not in ("project", "until"))
    return {
        "_id": project.slug,
        "roles": _roles(roles.get("project")),
        "until": _until(roles.get("until")),
        "environments": [
            {"envId": env_id, "roles": [role], "until": _until(until)} for env_id, role, until in environments
        ],
    }


@dataclass
class _HeldRoles:
    # (kind, pk) → {project pk → {"project": role, "until": its end, env pk: (env_id, role, its end)}}, the
    # roles in effect now
    roles: dict
    groups_of_user: dict  # user pk → [group pk]
    group_company_roles: dict  # group pk → role

    def _reaches_projects(self, kind: str, pk: int) -> bool:
        return bool(self.roles.get((kind, pk)))

    def reaches(self, kind: str, pk: int, company_role: str | None) -> bool:
        """Whether any role reaches one of the projects: a company role that shows every project, or a
        project or environment role, its own or one of its groups'."""
        view_roles = catalogue.roles_granting("console.company.project.view")
        if company_role in view_roles or self._reaches_projects(kind, pk):
            return True
        if kind != USER:
            return False
        return any(
            self.group_company_roles.get(group) in view_roles or self._reaches_projects(GROUP, group)
            for group in self.groups_of_user.get(pk, ())
        )


def _project_roles(company: Company, projects: list[Project], *, with_groups: bool) -> _HeldRoles:
    """Every binding on the projects and their environments (one query), plus, for the access filter,
    the company's memberships and group company roles (two more)."""
    roles: dict = defaultdict(lambda: defaultdict(dict))
    here = Q(project__in=projects) | Q(environment__project__in=projects)
    now = timezone.now()
    for binding in RoleBinding.objects.filter(here).select_related("environment").order_by():
        role = binding.role_at(now)
        if role is None:
            continue
        until = binding.until if binding.until is not None and binding.until > now else None
        subject = (
            (USER, binding.user_id)
            if binding.user_id
            else (GROUP, binding.group_id)
            if binding.group_id
            else (SERVICE_ACCOUNT, binding.service_account_id)
        )
        if binding.project_id:
            roles[subject][binding.project_id] |= {"project": role, "until": until}
        else:
            environment = binding.environment
            roles[subject][environment.project_id][environment.pk] = (environment.env_id, role, until)
    groups_of_user: dict = defaultdict(list)
    group_company_roles: dict = {}
    if with_groups:
        for user_id, group_id in GroupMembership.objects.filter(group__company=company).values_list(
            "user_id", "group_id"
        ):
            groups_of_user[user_id].append(group_id)
        group_company_roles = dict(
            RoleBinding.objects.filter(company=company, group__isnull=False)
            .annotate(role_now=effective_role_expression(timezone.now()))
            .values_list("group_id", "role_now")
        )
    return _HeldRoles(roles, groups_of_user, group_company_roles)


# -- GET users, groups, service-accounts ----------------------------------------------------------------


def _group_roles(company: Company) -> dict[int, tuple[str, str, str | None]]:
    """group pk → (name, company role or "", its end) for every group of the company: one query."""
    return {
        pk: (name, role or "", _until(until))
        for pk, name, role, until in with_company_role(
            Group.objects.filter(company=company), company
        ).values_list("pk", "name", "company_role", "company_until")
    }


def company_user_identities(company: Company) -> list[dict]:
    """UserIdentity items sorted by name: three queries (users, the company's groups, memberships)."""
    users = list(
        selectors.identity_querysets(company, kind=USER, users_from_company_side=True)[USER]
        .order_by("sort_name", "pk")
        .values_list("pk", "email", "full_name", "display", "company_role", "company_until", "last_login")
    )
    groups = _group_roles(company)
    # Each group's item is built once and shared by its members; memberships come out in name order.
    group_items = {
        pk: {"_id": str(pk), "name": name, "role": role, "roleId": role, "until": until}
        for pk, (name, role, until) in groups.items()
    }
    rank = {pk: n for n, pk in enumerate(sorted(groups, key=lambda g: (groups[g][0].lower(), g)))}
    memberships = (
        GroupMembership.objects.filter(group__company=company).values_list("user_id", "group_id").order_by()
    )
    groups_of_user: dict[int, list[dict]] = defaultdict(list)
    for user_id, group_id in sorted(memberships, key=lambda m: rank[m[1]]):
        groups_of_user[user_id].append(group_items[group_id])
    return [
        {
            "userId": str(pk),
            "email": email,
            "fullname": full_name,
            "name": display,
            "companyRoles": _roles(role),
            "until": _until(until),
            "lastLogin": rfc3339(last_login),
            "groups": groups_of_user.get(pk, []),
        }
        for pk, email, full_name, display, role, until, last_login in users
    ]


def company_group_identities(company: Company) -> list[dict]:
    """GroupIdentity items sorted by name, members sorted by name: two queries."""
    groups = _group_roles(company)
    members: dict[int, list[dict]] = defaultdict(list)
    for group_id, user_id, email, full_name in (
        GroupMembership.objects.filter(group__company=company)
        .values_list("group_id", "user_id", "user__email", "user__full_name")
        .order_by()
    ):
        members[group_id].append(
            {"userId": str(user_id), "email": email, "fullname": full_name, "name": full_name or email}
        )
    items = []
    for pk, (name, role, until) in sorted(groups.items(), key=lambda g: (g[1][0].lower(), g[0])):
        items.append(
            {
                "_id": str(pk),
                "name": name,
                "role": role,
                "roleId": role,
                "until": until,
                "members": sorted(members.get(pk, []), key=lambda m: (m["name"].lower(), m["userId"])),
            }
        )
    return items


def company_service_account_identities(company: Company) -> list[dict]:
    """ServiceAccountIdentity items sorted by name: one query."""
    accounts = (
        with_company_role(ServiceAccount.objects.filter(company=company), company)
        .order_by("name", "pk")
        .values_list("client_id", "name", "auth_method", "company_role", "company_until", "last_login")
    )
    return [
        {
            "clientId": client_id,
            "name": name,
            "authMethod": auth_method,
            "companyRoles": _roles(role),
            "until": _until(until),
            "lastLogin": rfc3339(last_login),
        }
        for client_id, name, auth_method, role, until, last_login in accounts
    ]
