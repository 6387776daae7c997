"""Reads of role bindings and of the IAM tables (company and project).

Each table page costs a fixed number of queries whatever the number of rows: one limited query per
identity kind shown (merged by keyset, see `iam_portal.pagination`), the counts, and for Project IAM one
query for the roles of the page's subjects on the project and its environments.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db.models import (
    CharField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Greatest, Lower, NullIf
from django.urls import reverse
from django.utils import timezone

from iam_portal.access import catalogue
from iam_portal.access.catalogue import COMPANY_OWNER, Level
from iam_portal.access.models import RoleBinding, effective_rank_expression, effective_role_expression
from iam_portal.access.resolver import ROOT_SA_PATH, SUPERUSER_PATH, AccessResolver, Grant, subject_q
from iam_portal.access.subjects import (
    GROUP,
    KIND_BY_ORDER,
    KIND_LABELS,
    KINDS,
    SERVICE_ACCOUNT,
    USER,
    Resource,
    Subject,
    binding_lookup,
    company_subject_count,
    company_user_q,
    company_users,
    kind_of,
    search_q,
    subject_name,
    table_users,
    with_company_role,
)
from iam_portal.audit.models import Action, AuditEvent, Outcome
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from iam_portal.orgs.models import Company, Environment, Project
from iam_portal.pagination import Page, sort_key, sorted_page, table_sorts

SORTS = table_sorts(
    name=["sort_name", "kind_order", "pk"], role=["-effective_rank", "sort_name", "kind_order", "pk"]
)
PROJECT_SORTS = {"name": SORTS["name"], "-name": SORTS["-name"]}
_PROJECT_VIEW_ROLES = catalogue.roles_granting("console.company.project.view")


# -- bindings -------------------------------------------------------------------------------------


def binding_role(subject: Subject, resource: Resource) -> str | None:
    """The subject's own role on exactly this resource (not inherited), or None."""
    return (
        RoleBinding.objects.filter(**binding_lookup(subject, resource)).values_list("role", flat=True).first()
    )


def binding_of(subject: Subject, resource: Resource) -> RoleBinding | None:
    """The subject's own binding on exactly this resource (with its end, if it has one), or None."""
    return RoleBinding.objects.filter(**binding_lookup(subject, resource)).first()


def company_binding(company: Company, pk) -> RoleBinding | None:
    """One binding on the company, one of its projects or environments, by id (None: not one of them)."""
    return (
        company_bindings_q(company)
        .select_related(
            "user", "group", "service_account", "company", "project__company", "environment__project__company"
        )
        .filter(pk=pk)
        .first()
    )


def bindings_of(subject: Subject) -> list[RoleBinding]:
    """Every role the subject holds, with its resource loaded: company first, then projects, environments."""
    bindings = RoleBinding.objects.filter(**{kind_of(subject).field: subject}).select_related(
        "company", "project__company", "environment__project__company"
    )
    return sorted(bindings, key=lambda b: (list(Level).index(b.level), b.resource.path))


def company_bindings(subject: Subject, company: Company) -> QuerySet[RoleBinding]:
    """Every binding of the subject on the company, its projects and their environments."""
    return company_bindings_q(company).filter(**{kind_of(subject).field: subject})


def company_bindings_q(company: Company) -> QuerySet[RoleBinding]:
    """Every binding on the company, its projects and their environments."""
    return RoleBinding.objects.filter(
        Q(company=company) | Q(project__company=company) | Q(environment__project__company=company)
    )


def company_bindings_listed(subject: Subject, company: Company) -> list[RoleBinding]:
    """The same, loaded for a "what this removes" list."""
    return list(
        company_bindings(subject, company).select_related(
            "company", "project__company", "environment__project__company"
        )
    )


def company_owners(
    company: Company,
    *,
    without_direct_role_of: User | None = None,
    without_group: Group | None = None,
    without_membership: tuple[Group, User] | None = None,
) -> QuerySet[User]:
    """Active users who are Company Owner for good: directly, or through one of the company's groups.

    Ownership that a time-limited grant gives (Company Owner until Friday) does not count: a company must
    never be left without an owner by a deadline (the last-owner rule reads this). To ask what a change
    would do, it can leave out one user's own company role, one group's company role or one membership
    (group, user)."""
    lasting = Q(role=COMPANY_OWNER, until__isnull=True) | Q(role_after=COMPANY_OWNER)
    direct = RoleBinding.objects.filter(lasting, company=company, user_id=OuterRef("pk"))
    owner_groups = RoleBinding.objects.filter(lasting, company=company, group_id=OuterRef("group_id"))
    memberships = GroupMembership.objects.filter(user_id=OuterRef("pk"))
    if without_direct_role_of is not None:
        direct = direct.exclude(user_id=without_direct_role_of.pk)
    if without_group is not None:
        owner_groups = owner_groups.exclude(group_id=without_group.pk)
    if without_membership is not None:
        group, user = without_membership
        memberships = memberships.exclude(group_id=group.pk, user_id=user.pk)
    return User.objects.filter(is_active=True).filter(
        Exists(direct) | Exists(memberships.filter(Exists(owner_groups)))
    )


def users_without_company_access(company: Company, users) -> list[User]:
    """Those of `users` with neither a company role of their own nor a group of the company."""
    users = list(users)
    ids = [u.pk for u in users]
    still_in = set(
        RoleBinding.objects.filter(company=company, user_id__in=ids).values_list("user_id", flat=True)
    ) | set(
        GroupMembership.objects.filter(group__company=company, user_id__in=ids).values_list(
            "user_id", flat=True
        )
    )
    return [u for u in users if u.pk not in still_in]


def project_bindings_of_users(company: Company, users) -> list[RoleBinding]:
    """The roles of `users` on the company's projects and environments, with user and resource loaded."""
    bindings = (
        RoleBinding.objects.filter(user__in=list(users))
        .filter(Q(project__company=company) | Q(environment__project__company=company))
        .select_related("user", "project__company", "environment__project__company")
    )
    return sorted(bindings, key=lambda b: (b.user.email, b.resource.path))


def user_groups_in(company: Company, user: User) -> list[Group]:
    return list(Group.objects.filter(company=company, memberships__user=user).order_by("name"))


def user_in_company_groups(company: Company, user: User) -> bool:
    return GroupMembership.objects.filter(user=user, group__company=company).exists()


# -- what a change would do: asked by the dialogs before it (the services still decide) -----------------


def company_keeps_an_owner(company: Company, *, without_user: User | None = None, **without) -> bool:
    """Whether the company would still have an effective Company Owner without `without_user` altogether,
    or without what `company_owners` can leave out; true too when it has no owner to lose, as the services'
    OwnerGuard refuses only a change that takes away the last one."""
    if not company_owners(company).exists():
        return True
    left = company_owners(company, **without)
    if without_user is not None:
        left = left.exclude(pk=without_user.pk)
    return left.exists()


def company_roles_leaving_no_owner(company: Company, subject: Subject) -> list[str]:
    """The company roles that, given to `subject`, would leave the company without a Company Owner: all but
    Company Owner when the subject's role there is what makes its last owner; none otherwise."""
    if isinstance(subject, ServiceAccount):
        return []
    without = (
        {"without_group": subject} if isinstance(subject, Group) else {"without_direct_role_of": subject}
    )
    if company_keeps_an_owner(company, **without):
        return []
    return [role for role in catalogue.ROLES_BY_LEVEL[Level.COMPANY] if role != COMPANY_OWNER]


def _source_of_mine(access: AccessResolver, subject: Subject):
    """A test telling which of the signed-in person's grants come from `subject`, when the subject is that
    person (their own roles) or a group of theirs; None when a change to the subject does not touch them."""
    if isinstance(subject, Group):
        return lambda grant: grant.group_name == subject.name
    if isinstance(subject, User) and getattr(access.identity, "pk", None) == subject.pk:
        return lambda grant: grant.group_name is None
    return None


def roles_taking_away(
    access: AccessResolver, capability: str, subject: Subject, obj: Resource, roles
) -> list[str | None]:
    """Those of `roles` (None: no role) that, as the role of `subject` on `obj` itself, would take
    `capability` there from the signed-in person (`access`): they are the subject, or in the subject
    group. Empty when the change cannot touch them."""
    from_subject = _source_of_mine(access, subject)
    if from_subject is None:
        return []
    grants = access.grants(obj)
    if not access.can_with(capability, grants):
        return []
    if isinstance(subject, Group) and not any(from_subject(grant) for grant in grants):
        return []  # not a member, or the group gives nothing here yet: a role for it only adds
    kept = [grant for grant in grants if not (from_subject(grant) and grant.level == obj.level)]
    group_name = subject.name if isinstance(subject, Group) else None
    return [
        role
        for role in roles
        if not access.can_with(capability, kept + ([Grant(role, obj.level, group_name, obj)] if role else []))
    ]


def takes_away(access: AccessResolver, capability: str, subject: Subject, obj: Resource) -> bool:
    """Whether losing every role `subject` gives the signed-in person on `obj` and above would take
    `capability` there from them: their own roles removed, or the subject group left or deleted."""
    from_subject = _source_of_mine(access, subject)
    if from_subject is None:
        return False
    grants = access.grants(obj)
    kept = [grant for grant in grants if not from_subject(grant)]
    return access.can_with(capability, grants) and not access.can_with(capability, kept)


# -- the identity tables --------------------------------------------------------------------------


_USER_DISPLAY = Coalesce(NullIf("full_name", Value("")), "email", output_field=CharField())  # as shown


def identity_querysets(
    company: Company,
    *,
    kind: str | None = None,
    search: str = "",
    sort: str = "name",
    users_from_company_side: bool | None = None,
) -> dict[str, QuerySet]:
    """One queryset per identity kind shown, annotated for the merged keyset sort (`sort_name`, `kind_order`),
    with the direct company role (`company_role`, `role_rank`) and a `display` name."""
    # How to read the company's users: `table_users` chooses for a table page; callers that read them all
    # (the API's lists) or narrow them otherwise (Project IAM for viewers) say so.
    users = (
        table_users(company, sort=sort)
        if users_from_company_side is None
        else company_users(company, from_company_side=users_from_company_side)
    )
    querysets = {
        USER: (users.annotate(display=_USER_DISPLAY), "display"),
        GROUP: (with_company_role(Group.objects.filter(company=company), company), "name"),
        SERVICE_ACCOUNT: (with_company_role(ServiceAccount.objects.filter(company=company), company), "name"),
    }
    result = {}
    for kind_id, (queryset, name) in querysets.items():
        if kind not in (None, kind_id):
            continue
        if name != "display":
            queryset = queryset.annotate(display=Coalesce(name, Value("")))
        if search.strip():
            queryset = queryset.filter(search_q(kind_id, search))
        result[kind_id] = queryset.annotate(
            sort_name=sort_key(Lower(name)),
            kind_order=Value(KINDS[kind_id].order, output_field=IntegerField()),
        )
    return result


@dataclass(frozen=True)
class RoleSource:
    """One way a company role reaches a user: their own (direct) role, or one of the company's groups they
    belong to (`role` is None for a group without a company role)."""

    role: str | None
    group_name: str | None = None


@dataclass
class _Row:
    """What a row of an IAM table knows of its identity: the kind, the object and its company role."""

    kind: str
    obj: User | Group | ServiceAccount
    company_role: str | None

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass
class IdentityRow(_Row):
    """One row of the company IAM table: the effective company role (the highest of the identity's own and,
    for a user, of their groups) and where it comes from."""

    sources: list[RoleSource] = field(default_factory=list)

    @property
    def until(self) -> datetime.datetime | None:
        """The end of the role shown, when it is the identity's own time-limited company role."""
        return self.obj.company_until if self.obj.company_role == self.company_role else None

    @property
    def source_words(self) -> list[str]:
        """Where the role comes from, the sources that give it first: "direct", "via Acme Developers", then
        the lower ones with their role ("direct: Guest")."""
        words = []
        for source in sorted(self.sources, key=lambda s: s.role != self.company_role):
            name = f"via {source.group_name}" if source.group_name else "direct"
            if source.role is None:
                words.append(f"{name}: no role")
            elif source.role != self.company_role:
                words.append(f"{name}: {catalogue.role_label(source.role)}")
            else:
                words.append(name)
        return words


_ROLE_BY_RANK = {role.rank: role.id for role in catalogue.ROLES.values()}


def company_identity_page(company: Company, *, kind: str | None = None, search: str = "", **order) -> Page:
    """One page of the company IAM table (`order`: sort, after, before, size as for `sorted_page`). Users are
    sorted by their effective company role, computed in SQL (`effective_rank`); one more query names the
    groups it comes from."""
    querysets = identity_querysets(company, kind=kind, search=search, sort=order.get("sort") or "name")
    now = timezone.now()
    for kind_id, queryset in querysets.items():
        if kind_id == USER:
            # From the user's memberships to their groups' bindings, probing indexes per row: a join through
            # the group table lets PostgreSQL scan every group binding of the company for each user.
            their_groups = GroupMembership.objects.filter(user_id=OuterRef(OuterRef("pk"))).values("group_id")
            groups_rank = RoleBinding.objects.filter(company=company, group_id__in=their_groups).annotate(
                rank_now=effective_rank_expression(now)
            )
            best = Coalesce(Subquery(groups_rank.order_by("-rank_now").values("rank_now")[:1]), 0)
            querysets[kind_id] = queryset.annotate(effective_rank=Greatest("role_rank", best))
        else:
            querysets[kind_id] = queryset.annotate(effective_rank=F("role_rank"))
    page = sorted_page(list(querysets.values()), SORTS, **order)
    rows = [
        IdentityRow(KIND_BY_ORDER[row.kind_order], row, _ROLE_BY_RANK.get(row.effective_rank))
        for row in page.rows
    ]
    _attach_company_role_sources(company, rows)
    page.rows = rows
    return page


def _attach_company_role_sources(company: Company, rows: list[IdentityRow]) -> None:
    users = {row.obj.pk: row for row in rows if row.kind == USER}
    for row in users.values():
        if row.obj.company_role:
            row.sources.append(RoleSource(row.obj.company_role))
    if not users:
        return
    group_role = (
        RoleBinding.objects.filter(company=company, group_id=OuterRef("group_id"))
        .annotate(role_now=effective_role_expression(timezone.now()))
        .values("role_now")[:1]
    )
    memberships = (
        GroupMembership.objects.filter(user_id__in=users, group__company=company)
        .annotate(group_role=Subquery(group_role))
        .values_list("user_id", "group__name", "group_role")
        .order_by("group__name")
    )
    for user_id, group_name, role in memberships:
        users[user_id].sources.append(RoleSource(role, group_name))


def identity_counts(company: Company, *, kind: str | None = None, search: str = "") -> dict[str, int]:
    """How many users, groups and service accounts match, and in all (the total follows the type filter)."""
    counts = {
        name: company_subject_count(company, kind_id, search=search) for kind_id, name in _COUNT_NAMES.items()
    }
    counts["total"] = counts[_COUNT_NAMES[kind]] if kind in _COUNT_NAMES else sum(counts.values())
    return counts


_COUNT_NAMES = {USER: "users", GROUP: "groups", SERVICE_ACCOUNT: "service_accounts"}


# -- the project IAM table ------------------------------------------------------------------------


@dataclass(frozen=True)
class InheritedRole:
    """A role that reaches the identity from elsewhere: its company role, or a role of one of its groups."""

    role: str
    group_name: str | None = None
    until: datetime.datetime | None = None  # a time-limited role: when it ends, and the role after it
    then: str = ""

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
    until: datetime.datetime | None = None
    then: str = ""
    binding_pk: int | None = None

    @property
    def no_role_label(self) -> str:
        return f"No role on {self.environment.name}"


@dataclass
class ProjectIdentityRow(_Row):
    group_company_roles: list[InheritedRole] = field(default_factory=list)
    project_role: str | None = None
    project_via_groups: list[InheritedRole] = field(default_factory=list)
    environments: list[EnvironmentCell] = field(default_factory=list)
    project_until: datetime.datetime | None = None  # the project role's end, the role after it, its id
    project_then: str = ""
    project_binding_pk: int | None = None

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
    members_only: bool = False,
    kind: str | None = None,
    search: str = "",
    **order,
) -> Page:
    """One page of the company's identities, each with its roles on the project and on `environments`.

    With members_only (for viewers who may not manage the project's identities), only the identities that
    have access to the project, found by the names shown (see `project_identity_querysets`)."""
    querysets = project_identity_querysets(
        project, environments, members_only=members_only, kind=kind, search=search
    )
    page = sorted_page(list(querysets.values()), PROJECT_SORTS, **order)
    rows = [ProjectIdentityRow(KIND_BY_ORDER[row.kind_order], row, row.company_role) for row in page.rows]
    _attach_project_roles(project, environments, rows)
    page.rows = rows
    return page


def project_identity_querysets(
    project: Project,
    environments: list[Environment],
    *,
    members_only: bool,
    kind: str | None = None,
    search: str = "",
) -> dict[str, QuerySet]:
    """The Project IAM table's querysets: the whole company directory, or with members_only the identities
    that reach the project (`_reaching`), searched by the name the table shows, never by email or client id."""
    if not members_only:
        return identity_querysets(project.company, kind=kind, search=search)
    querysets = identity_querysets(project.company, kind=kind, users_from_company_side=False)
    for kind_id, queryset in querysets.items():
        queryset = queryset.filter(_reaching(project, environments, kind_id))
        if search.strip():
            queryset = queryset.filter(display__icontains=search.strip())
        querysets[kind_id] = queryset
    return querysets


def _reaching(project: Project, environments: list[Environment], kind: str) -> Q:
    """The identities of `kind` that reach the project: through a company role that shows every project, or
    a role of their own or of one of their groups on the project or on one of `environments` (those the
    viewer sees) — the test of `ProjectIdentityRow.has_access`. Found from the project's side (its bindings,
    their groups' members), so that it costs what the project's bindings cost, not the company's size."""
    bindings = RoleBinding.objects.filter(
        Q(company_id=project.company_id, role__in=_PROJECT_VIEW_ROLES)
        | Q(project_id=project.pk)
        | Q(environment_id__in=[environment.pk for environment in environments])
    )
    field = f"{KINDS[kind].field}_id"
    reached = Q(pk__in=bindings.filter(**{f"{field}__isnull": False}).values(field))
    if kind == USER:
        groups = bindings.filter(group_id__isnull=False).values("group_id")
        reached |= Q(pk__in=GroupMembership.objects.filter(group_id__in=groups).values("user_id"))
    return reached


def project_identity_counts(
    project: Project, environments: list[Environment], *, members_only: bool, kind=None, search: str = ""
) -> dict[str, int]:
    """The counts of the Project IAM table: those of the company directory (`identity_counts`), or with
    members_only those of the identities that reach the project (users counted from the company's side, as
    `company_user_count` does)."""
    if not members_only:
        return identity_counts(project.company, kind=kind, search=search)
    counts = dict.fromkeys(_COUNT_NAMES.values(), 0)
    for kind_id in KINDS if kind is None else [kind]:
        if kind_id == USER:
            members = User.objects.filter(company_user_q(project.company))
            members = members.annotate(display=_USER_DISPLAY)
        else:
            members = KINDS[kind_id].model.objects.filter(company=project.company).annotate(display=F("name"))
        members = members.filter(_reaching(project, environments, kind_id))
        if search.strip():
            members = members.filter(display__icontains=search.strip())
        counts[_COUNT_NAMES[kind_id]] = members.count()
    counts["total"] = sum(counts.values())
    return counts


class _BindingRow(NamedTuple):
    """A binding as the Project IAM table reads it: a plain row, not a model instance (a page reads hundreds)."""

    pk: int
    role: str
    until: datetime.datetime | None
    role_after: str
    user_id: int | None
    group_id: int | None
    service_account_id: int | None
    company_id: int | None
    project_id: int | None
    environment_id: int | None

    role_at = RoleBinding.role_at  # the same rule


def _attach_project_roles(
    project: Project, environments: list[Environment], rows: list[ProjectIdentityRow]
) -> None:
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
        subjects |= Q(**{f"{KINDS[kind].field}_id__in": pks})
    if member_groups:
        subjects |= Q(group_id__in=member_groups)
    here = Q(project_id=project.pk) | Q(environment__project_id=project.pk)
    bindings = RoleBinding.objects.filter(subjects).filter(
        here | Q(company_id=project.company_id, group_id__in=member_groups)
    )

    # (subject kind, pk) → {"company": role, "project": role, env pk: role}, the roles in effect now; a
    # time-limited one also as ends[(subject, resource)] = (until, role after, binding id).
    held: dict[tuple[str, int], dict] = defaultdict(dict)
    ends: dict[tuple, tuple] = {}
    now = timezone.now()
    for binding in map(_BindingRow._make, bindings.order_by().values_list(*_BindingRow._fields)):
        user_id, group_id = binding.user_id, binding.group_id
        subject = (
            (USER, user_id)
            if user_id
            else (GROUP, group_id)
            if group_id
            else (SERVICE_ACCOUNT, binding.service_account_id)
        )
        resource = (
            "company" if binding.company_id else "project" if binding.project_id else binding.environment_id
        )
        if role_now := binding.role_at(now):
            held[subject][resource] = role_now
        if binding.until is not None and binding.until > now:
            ends[(subject, resource)] = (binding.until, binding.role_after, binding.pk)

    def inherited(group_id: int, group_name: str, resource) -> InheritedRole:
        until, then, _ = ends.get(((GROUP, group_id), resource), (None, "", None))
        return InheritedRole(held[(GROUP, group_id)][resource], group_name, until, then)

    for row in rows:
        subject = (row.kind, row.obj.pk)
        own = held.get(subject, {})
        row.project_role = own.get("project")
        row.project_until, row.project_then, row.project_binding_pk = ends.get(
            (subject, "project"), (None, "", None)
        )
        row.environments = [
            EnvironmentCell(env, own.get(env.pk), [], *ends.get((subject, env.pk), (None, "", None)))
            for env in environments
        ]
        if row.kind != USER:
            continue
        for group_id, group_name in sorted(groups_of_user.get(row.obj.pk, []), key=lambda g: g[1].lower()):
            group_roles = held.get((GROUP, group_id), {})
            if group_roles.get("company"):
                row.group_company_roles.append(inherited(group_id, group_name, "company"))
            if group_roles.get("project"):
                row.project_via_groups.append(inherited(group_id, group_name, "project"))
            for cell in row.environments:
                if group_roles.get(cell.environment.pk):
                    cell.via_groups.append(inherited(group_id, group_name, cell.environment.pk))


def project_own_roles(subject: Subject, project: Project) -> dict:
    """The subject's own roles here, as they are now: {"project": role, env pk: role}."""
    roles = {}
    for role, project_id, environment_id in (
        RoleBinding.objects.filter(**{kind_of(subject).field: subject})
        .filter(Q(project_id=project.pk) | Q(environment__project_id=project.pk))
        .annotate(role_now=effective_role_expression(timezone.now()))
        .values_list("role_now", "project_id", "environment_id")
    ):
        if role:
            roles["project" if project_id else environment_id] = role
    return roles


def roles_adding_nothing(access: AccessResolver, inherited: list[Grant], level: Level) -> list[str]:
    """The roles that, bound at `level`, would give the identity (`access`) no capability its `inherited`
    grants do not already give: choosing them changes nothing, as the dialog says before saving."""
    return [
        role
        for role in catalogue.ROLES_BY_LEVEL[level]
        if all(
            access.can_with(capability.name, inherited)
            for capability in catalogue.role_capabilities(role, level)
        )
    ]


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


def my_environment_roles(access, project: Project, environments: list) -> dict[int, str | None]:
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


# -- one identity's access everywhere in its company (the access page) ------------------------------


def _keys_shown(level: Level) -> frozenset[str]:
    """The keys a row of the access page lists on demand: those granted at its level, and those that
    answer the capabilities it shows (a company key that deploys to every environment, for one)."""
    keys = {p.key for p in catalogue.PERMISSIONS if p.level == level}
    for _, capabilities in catalogue.capability_groups(level):
        for capability in capabilities:
            keys |= catalogue.capability_keys(capability)
    return frozenset(keys)


KEYS_SHOWN = {level: _keys_shown(level) for level in Level}


@dataclass
class ResourceAccess:
    """One row of the access page: what reaches the identity on one resource, and what it allows there."""

    resource: Company | Project | Environment
    role: str | None  # the highest role reaching it (any level, any group)
    grants: tuple[Grant, ...]  # every path, top level first
    root_path: str  # SUPERUSER_PATH / ROOT_SA_PATH when the Console root gives something here, else ""
    allows: list[tuple[str, list[str]]]  # capability labels under their heading (catalogue.capability_groups)
    keys: list[str]
    environments: list[ResourceAccess] = field(default_factory=list)

    @property
    def reached(self) -> bool:
        """Something holds on the resource itself: a capability about it, or a role bound right there."""
        own_heading = catalogue.ALLOWS_HEADINGS[(self.resource.level, self.resource.level)]
        return any(heading == own_heading for heading, _ in self.allows) or any(
            not grant.inherited for grant in self.grants
        )


def _resource_access(access: AccessResolver, obj) -> ResourceAccess:
    permissions = access.permissions(obj)
    allows = []
    for heading, capabilities in catalogue.capability_groups(obj.level):
        labels = [cap.label for cap in capabilities if access.can(cap.name, obj)]
        if labels:
            allows.append((heading, labels))
    roots = {path for paths in permissions.values() for path in paths} & {SUPERUSER_PATH, ROOT_SA_PATH}
    return ResourceAccess(
        resource=obj,
        role=access.role_on(obj),
        grants=access.grants(obj),
        root_path=next(iter(sorted(roots)), ""),
        allows=allows,
        keys=[key for key in permissions if key in KEYS_SHOWN[obj.level]],
    )


@dataclass
class IdentityAccess:
    company: ResourceAccess
    projects: list[ResourceAccess]  # those it reaches, each with the environments it reaches
    resources: list  # every resource of the company, for the "why" question


def identity_access(access: AccessResolver, company: Company) -> IdentityAccess:
    """The identity's access on the company and on every project and environment of it that it reaches,
    every answer from the resolver: three queries in all (`AccessResolver.grants_everywhere`)."""
    everywhere = access.grants_everywhere(company)
    projects: list[ResourceAccess] = []
    for obj in everywhere:
        if obj.level == Level.PROJECT:
            projects.append(_resource_access(access, obj))
        elif obj.level == Level.ENVIRONMENT:
            row = _resource_access(access, obj)
            if row.reached:
                projects[-1].environments.append(row)
    return IdentityAccess(
        company=_resource_access(access, company),
        projects=[row for row in projects if row.reached or row.environments],
        resources=list(everywhere),
    )


# -- "why can they …?" ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Removal:
    """A change that would take one path away, through the portal's usual dialog."""

    label: str
    url: str  # "" when the person asking may not make that change
    still: tuple[Grant, ...]  # the paths that would still grant it afterwards
    still_root: str = ""  # …or the Console root, which no dialog of the company changes

    @property
    def still_granted(self) -> bool:
        return bool(self.still or self.still_root)


@dataclass(frozen=True)
class WhyPath:
    grant: Grant
    removals: tuple[Removal, ...]


@dataclass(frozen=True)
class WhyAnswer:
    question: str  # the capability's label, or the key
    resource: Company | Project | Environment
    granted: bool
    paths: tuple[WhyPath, ...]
    root_path: str
    would_grant: tuple[tuple[str, Level], ...]  # for a "no": the smallest role per level that would give it


def why_answer(
    access: AccessResolver,
    viewer: AccessResolver,
    subject: Subject,
    *,
    permission: str,
    resource: Company | Project | Environment,
) -> WhyAnswer:
    """Does the identity of `access` hold `permission` (a capability name or a permission key) on
    `resource`, through which paths, and what would remove each: the resolver's answer, with links to the
    dialogs that `viewer` (the person asking) may open."""
    capability = catalogue.CAPABILITIES.get(permission)
    keys = catalogue.capability_keys(capability) if capability else frozenset({permission})
    held = access.permissions(resource)
    granting = access.granting(keys, resource)
    roots = {path for key in keys for path in held.get(key, ())} & {SUPERUSER_PATH, ROOT_SA_PATH}
    root_path = next(iter(sorted(roots)), "")
    paths = tuple(
        WhyPath(grant, _removals(grant, granting, root_path, viewer, subject)) for grant in granting
    )
    granted = bool(keys & access.keys(resource))
    return WhyAnswer(
        question=capability.label if capability else permission,
        resource=resource,
        granted=granted,
        paths=paths,
        root_path=root_path,
        would_grant=() if granted else _smallest_roles_granting(keys, resource.level),
    )


def _smallest_roles_granting(keys: frozenset[str], down_to: Level) -> tuple[tuple[str, Level], ...]:
    """For each level from the company down to `down_to`, the smallest role that gives one of `keys` when
    bound there (levels where none does are left out)."""
    levels = list(Level)[: list(Level).index(down_to) + 1]
    found = []
    for level in levels:
        role = next((r for r in catalogue.ROLES_BY_LEVEL[level] if keys & catalogue.keys_for(r, level)), None)
        if role is not None:
            found.append((role, level))
    return tuple(found)


def _removals(grant: Grant, granting: list[Grant], root_path: str, viewer, subject) -> tuple[Removal, ...]:
    """What takes `grant` away: changing the binding it comes from (the subject's own, or its group's for
    every member), or, for a group's grant to a user, removing the user from that group."""
    company = grant.target.company
    name = subject_name(subject)
    without = tuple(other for other in granting if other is not grant)
    manages_company = viewer.can("company.identities.manage", company)
    holder_kind, holder_pk, holder_name = (
        (GROUP, grant.group_id, grant.group_name)
        if grant.group_id is not None
        else (kind_of(subject).id, subject.pk, name)
    )
    if grant.level == Level.COMPANY:
        edit = Removal(
            f"Edit company role of {holder_name}",
            reverse("company_role_edit", args=[company.slug, holder_kind, holder_pk])
            if manages_company
            else "",
            without,
            root_path,
        )
    else:
        project = grant.resource.ancestor(Level.PROJECT)
        edit = Removal(
            f"Edit project roles of {holder_name} on {project.name}",
            reverse("project_role_edit", args=[company.slug, project.slug, holder_kind, holder_pk])
            if viewer.can("project.identities.manage", project)
            else "",
            without,
            root_path,
        )
    if grant.group_id is None:
        return (edit,)
    leave = Removal(
        f"Remove {name} from {grant.group_name}",
        reverse("group_remove_member", args=[company.slug, grant.group_id, subject.pk])
        if manages_company
        else "",
        tuple(other for other in granting if other.group_id != grant.group_id),
        root_path,
    )
    return (leave, edit)


# -- what the access page says of each kind of identity -------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """A service account's credentials: how it signs in, and how old they are."""

    created_at: datetime.datetime
    changed_at: datetime.datetime | None  # the last rotation of its secret or replacement of its key
    changed_by: str

    @property
    def since(self) -> datetime.datetime:
        return self.changed_at or self.created_at


def service_account_credentials(account: ServiceAccount) -> Credentials:
    """When the account's credentials were set: the last rotation or key replacement in the audit log
    (one indexed query), else its creation."""
    last = (
        AuditEvent.objects.filter(
            company_id=account.company_id,
            subject_kind=SERVICE_ACCOUNT,
            subject_id=account.pk,
            action__in=[Action.SECRET_ROTATED, Action.KEY_REPLACED],
            outcome=Outcome.SUCCESS,
        )
        .order_by("-id")
        .values_list("occurred_at", "actor_name")
        .first()
    )
    return Credentials(account.created_at, *(last or (None, "")))
