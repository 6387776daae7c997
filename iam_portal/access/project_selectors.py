"""Reads for the Project IAM page: every identity of the company with its project and environment roles.

A page costs a fixed number of queries whatever the number of identities and environments: the page rows
(one limited query per identity kind, from `selectors.identity_querysets`), the company groups the page's
users belong to, one query for every binding of the page's subjects (and those groups) on the project,
its environments and the groups' company roles, and the environments once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from iam_portal.access import catalogue, selectors
from iam_portal.access.catalogue import Level
from iam_portal.access.models import RoleBinding
from iam_portal.access.resolver import Grant, subject_q
from iam_portal.access.selectors import GROUP, KINDS, SERVICE_ACCOUNT, USER
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from iam_portal.orgs.models import Environment, Project
from iam_portal.pagination import Page, paginate

SORTS = {"name": selectors.SORTS["name"], "-name": selectors.SORTS["-name"]}
_SUBJECT_FIELD = {USER: "user_id", GROUP: "group_id", SERVICE_ACCOUNT: "service_account_id"}
_PROJECT_VIEW_ROLES = catalogue.roles_granting("console.company.project.view")


@dataclass(frozen=True)
class InheritedRole:
    """A role that reaches the identity from elsewhere: its company role, or a role of one of its groups."""

    role: str
    group_name: str | None = None

    @property
    def label(self) -> str:
        return catalogue.role_label(self.role)

    @property
    def source(self) -> str:
        return f"via {self.group_name}" if self.group_name else "company"


@dataclass
class EnvironmentCell:
    environment: Environment
    role: str | None = None
    via_groups: list[InheritedRole] = field(default_factory=list)

    @property
    def label(self) -> str:
        return catalogue.role_label(self.role)


@dataclass
class ProjectIdentityRow:
    kind: str
    obj: User | Group | ServiceAccount
    company_role: str | None
    group_company_roles: list[InheritedRole] = field(default_factory=list)
    project_role: str | None = None
    project_via_groups: list[InheritedRole] = field(default_factory=list)
    environments: list[EnvironmentCell] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def company_role_label(self) -> str:
        return catalogue.role_label(self.company_role)

    @property
    def project_role_label(self) -> str:
        return catalogue.role_label(self.project_role)

    @property
    def has_access(self) -> bool:
        """Whether any role reaches the project: a company role that shows every project, or any project
        or environment role (own or through a group)."""
        company_roles = {self.company_role, *(r.role for r in self.group_company_roles)}
        if company_roles & _PROJECT_VIEW_ROLES:
            return True
        if self.project_role or self.project_via_groups:
            return True
        return any(cell.role or cell.via_groups for cell in self.environments)


def project_environments(project: Project) -> list[Environment]:
    return list(
        Environment.objects.filter(project=project)
        .select_related("project__company")
        .order_by("position", "env_id")
    )


def project_identity_page(
    project: Project,
    environments: list[Environment],
    *,
    kind: str | None = None,
    search: str = "",
    sort: str = "name",
    after: str | None = None,
    before: str | None = None,
    size: int = 50,
) -> Page:
    """One page of the company's identities, each with its roles on the project and on `environments`."""
    company = project.company
    querysets = selectors.identity_querysets(company, kind=kind, search=search)
    page = paginate(
        list(querysets.values()), SORTS.get(sort, SORTS["name"]), after=after, before=before, size=size
    )
    kinds = {0: USER, 1: GROUP, 2: SERVICE_ACCOUNT}
    rows = [ProjectIdentityRow(kinds[row.kind_order], row, row.company_role) for row in page.rows]
    _attach_roles(project, environments, rows)
    page.rows = rows
    return page


def _attach_roles(project: Project, environments: list[Environment], rows: list[ProjectIdentityRow]) -> None:
    if not rows:
        return
    ids: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        ids[row.kind].add(row.obj.pk)

    # The company groups of the page's users: their roles flow to the users.
    groups_of_user: dict[int, list[tuple[int, str]]] = defaultdict(list)
    if ids[USER]:
        for user_id, group_id, group_name in GroupMembership.objects.filter(
            user_id__in=ids[USER], group__company_id=project.company_id
        ).values_list("user_id", "group_id", "group__name"):
            groups_of_user[user_id].append((group_id, group_name))
    member_groups = {group_id for memberships in groups_of_user.values() for group_id, _ in memberships}

    subjects = Q(pk__in=[])
    for kind, pks in ids.items():
        subjects |= Q(**{f"{_SUBJECT_FIELD[kind]}__in": pks})
    if member_groups:
        subjects |= Q(group_id__in=member_groups)
    here = Q(project_id=project.pk) | Q(environment__project_id=project.pk)
    bindings = RoleBinding.objects.filter(subjects).filter(
        here | Q(company_id=project.company_id, group_id__in=member_groups)
    )

    # (subject kind, pk) → {"company": role, "project": role, env pk: role}
    held: dict[tuple[str, int], dict] = defaultdict(dict)
    for role, user_id, group_id, account_id, company_id, project_id, environment_id in bindings.values_list(
        "role", "user_id", "group_id", "service_account_id", "company_id", "project_id", "environment_id"
    ).order_by():
        subject = (
            (USER, user_id) if user_id else (GROUP, group_id) if group_id else (SERVICE_ACCOUNT, account_id)
        )
        resource = "company" if company_id else "project" if project_id else environment_id
        held[subject][resource] = role

    for row in rows:
        own = held.get((row.kind, row.obj.pk), {})
        row.project_role = own.get("project")
        row.environments = [EnvironmentCell(env, own.get(env.pk)) for env in environments]
        if row.kind != USER:
            continue
        for group_id, group_name in sorted(groups_of_user.get(row.obj.pk, []), key=lambda g: g[1].lower()):
            group_roles = held.get((GROUP, group_id), {})
            if group_roles.get("company"):
                row.group_company_roles.append(InheritedRole(group_roles["company"], group_name))
            if group_roles.get("project"):
                row.project_via_groups.append(InheritedRole(group_roles["project"], group_name))
            for cell in row.environments:
                if group_roles.get(cell.environment.pk):
                    cell.via_groups.append(InheritedRole(group_roles[cell.environment.pk], group_name))


def identity_count(project: Project, *, kind: str | None = None, search: str = "") -> dict[str, int]:
    """How many identities match, per kind and in all: {"users": …, "groups": …, "service_accounts": …,
    "total": …} (the total follows the type filter)."""
    counts = selectors.identity_counts(project.company, search=search)
    names = {USER: "users", GROUP: "groups", SERVICE_ACCOUNT: "service_accounts"}
    if kind in names:
        counts["total"] = counts[names[kind]]
    return counts


# -- one identity -------------------------------------------------------------------------------------


def project_subject(project: Project, kind: str, pk: int) -> User | Group | ServiceAccount | None:
    """The identity of the URL, looked up inside the project's company (None when it is not there)."""
    company = project.company
    if kind == USER:
        return selectors.company_users(company).filter(pk=pk).first()
    if kind == GROUP:
        return Group.objects.filter(company=company, pk=pk).first()
    if kind == SERVICE_ACCOUNT:
        return ServiceAccount.objects.filter(company=company, pk=pk).first()
    return None


def own_roles(subject, kind: str, project: Project) -> dict:
    """The subject's own roles here: {"project": role, env pk: role}."""
    roles = {}
    for role, project_id, environment_id in (
        RoleBinding.objects.filter(**{_SUBJECT_FIELD[kind]: subject.pk})
        .filter(Q(project_id=project.pk) | Q(environment__project_id=project.pk))
        .values_list("role", "project_id", "environment_id")
    ):
        roles["project" if project_id else environment_id] = role
    return roles


def inherited_capabilities(grants: tuple[Grant, ...]) -> list[str]:
    """What the company-level roles among `grants` allow on the project and its environments, in words."""
    keys: set[str] = set()
    for grant in grants:
        if grant.level == Level.COMPANY:
            keys |= catalogue.keys_for(grant.role, Level.COMPANY)
    phrases: dict[tuple[str, ...], str] = {}
    for capability in catalogue.CAPABILITIES.values():
        if capability.target in (Level.PROJECT, Level.ENVIRONMENT) and keys & set(capability.company_keys):
            phrases.setdefault(capability.company_keys, capability.label[0].lower() + capability.label[1:])
    return list(phrases.values())


def my_environment_roles(access, project: Project, environments: QuerySet | list) -> dict[int, str | None]:
    """The viewer's highest role on each environment, from the project grants and one query for the
    environment bindings."""
    environments = list(environments)
    if access.is_superuser:
        return {env.pk: catalogue.COMPANY_OWNER for env in environments}
    base = access.role_on(project)
    result = dict.fromkeys((env.pk for env in environments), base)
    if access.identity is None or not environments:
        return result
    for environment_id, role in RoleBinding.objects.filter(
        subject_q(access.identity), environment__project_id=project.pk
    ).values_list("environment_id", "role"):
        if environment_id in result and catalogue.role_rank(role) > catalogue.role_rank(
            result[environment_id]
        ):
            result[environment_id] = role
    return result
