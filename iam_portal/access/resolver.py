"""The permission resolver: the one place that answers "may this identity do that here?".

An identity (user, group or service account) holds the union of the keys granted by every binding of
its own, and of every group it belongs to, on the target resource or any of its ancestors
(company → project → environment). Each key keeps the name of the level it was granted at; capabilities
(`catalogue.CAPABILITIES`) read the keys of every level.

One indexed SQL query answers one (identity, target) pair. Answers are memoised on the resolver, which
lives for one request only: a revoked role stops working on the very next request.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from functools import cached_property

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from iam_portal.access import catalogue
from iam_portal.access.catalogue import Level
from iam_portal.access.models import RoleBinding, effective_role_q, in_effect_q
from iam_portal.access.subjects import kind_of
from iam_portal.dates import moment
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from iam_portal.orgs.models import Company, Environment, Project

SUPERUSER_PATH = "Console super user"
ROOT_SA_PATH = "Console root permission"
_LEVELS_UP_TO = {
    Level.COMPANY: (Level.COMPANY,),
    Level.PROJECT: (Level.COMPANY, Level.PROJECT),
    Level.ENVIRONMENT: (Level.COMPANY, Level.PROJECT, Level.ENVIRONMENT),
}


@dataclass(frozen=True)
class Target:
    """A company, project or environment, reduced to the ids the resolver needs."""

    obj: Company | Project | Environment
    level: Level
    company_id: int
    project_id: int | None = None
    environment_id: int | None = None

    @property
    def key(self) -> tuple[Level, int]:
        return (self.level, self.obj.pk)


def target_of(obj: Company | Project | Environment) -> Target:
    """Environments should come with `select_related("project")` so this costs no query."""
    project = obj.ancestor(Level.PROJECT) if obj.level != Level.COMPANY else None
    environment = obj if obj.level == Level.ENVIRONMENT else None
    return Target(
        obj,
        obj.level,
        obj.company_id,
        project.pk if project else None,
        environment.pk if environment else None,
    )


@dataclass(frozen=True)
class Grant:
    """One binding that reaches the target: which role, bound at which level, and whether through a group."""

    role: str
    level: Level
    group_name: str | None
    target: Company | Project | Environment  # the resource asked about; the binding sits on it or above
    until: datetime.datetime | None = None  # a time-limited grant: when it ends
    group_id: int | None = None  # with group_name: the group a user holds it through

    @property
    def resource(self) -> Company | Project | Environment:
        return self.target.ancestor(self.level)

    @property
    def inherited(self) -> bool:
        """Bound above the resource asked about (on its company or its project)."""
        return self.level != self.target.level

    def describe(self, *, by_name: bool = False) -> str:
        """'Developer on company acme (via group "Acme Developers")': the resource's path, the id the CLI and
        the API use; by_name gives its name instead, for the sentences of the portal ("on company Acme")."""
        source = f'via group "{self.group_name}"' if self.group_name is not None else "direct"
        if self.until is not None:
            until = (
                moment(self.until) if by_name else f"{self.until.astimezone(datetime.UTC):%Y-%m-%d %H:%M} UTC"
            )
            source += f", until {until}"
        resource = self.resource.name if by_name else self.resource.path
        return f"{catalogue.role_label(self.role)} on {self.level} {resource} ({source})"

    @property
    def sentence(self) -> str:
        """`describe(by_name=True)`, for templates."""
        return self.describe(by_name=True)


Identity = User | Group | ServiceAccount


@dataclass(frozen=True)
class _Held:
    """One binding as the role it gives now, before it is handed down to the resources below it."""

    role: str
    level: Level
    resource_id: int
    until: datetime.datetime | None
    group_id: int | None
    group_name: str | None


@functools.lru_cache(maxsize=4096)
def _role_and_keys(pairs: tuple[tuple[str, Level], ...]) -> tuple[str | None, frozenset[str]]:
    """The highest of the roles (role, level where bound) and the keys they grant together: the rule of
    `role_on` and `keys`. A function of the catalogue only, so its answers never go stale."""
    best, keys = None, frozenset()
    for role, level in pairs:
        if catalogue.role_rank(role) > catalogue.role_rank(best):
            best = role
        keys |= catalogue.keys_for(role, level)
    return best, keys


def _in_order(grants) -> tuple[Grant, ...]:
    """Grants from the top level down, the highest role first at each level."""
    return tuple(sorted(grants, key=lambda g: (list(Level).index(g.level), -catalogue.role_rank(g.role))))


class SystemActor:
    """An actor that is not an account: the operator at the command line (`manage.py` commands, SYSTEM) or
    the identity provider syncing group memberships (IDENTITY_PROVIDER). It holds every root key, like a
    super user, so only the rules that protect everyone (the last owner) apply to it.

    Services take an `actor`: a signed-in User, a ServiceAccount calling the machine API, or one of these."""

    pk = None
    is_active = True
    is_superuser = True

    def __init__(self, kind: str, display_name: str):
        self.kind, self.display_name = kind, display_name

    def __repr__(self) -> str:
        return f"SystemActor({self.kind!r})"


SYSTEM = SystemActor("command", "Command line")
IDENTITY_PROVIDER = SystemActor("identity-provider", "Identity provider")
Actor = User | ServiceAccount | SystemActor


def user_or_none(actor) -> User | None:
    """The value for `created_by`/`added_by` columns, which only point at users."""
    return actor if isinstance(actor, User) else None


def subject_q(identity: Identity) -> Q:
    """A filter on RoleBinding for the identity's bindings, including those of the groups a user belongs to."""
    if not getattr(identity, "pk", None):
        return Q(pk__in=[])
    own = Q(**{f"{kind_of(identity).field}_id": identity.pk})
    if not isinstance(identity, User):
        return own
    return own | Q(group_id__in=GroupMembership.objects.filter(user_id=identity.pk).values("group_id"))


def _resource_q(target: Target) -> Q:
    q = Q(company_id=target.company_id)
    if target.project_id:
        q |= Q(project_id=target.project_id)
    if target.environment_id:
        q |= Q(environment_id=target.environment_id)
    return q


class AccessResolver:
    """Answers access questions for one identity, memoising per target for the life of the object."""

    def __init__(self, identity: Identity | SystemActor | None, *, now: datetime.datetime | None = None):
        self.identity = identity
        # One moment per resolver (per request): every answer reads time-limited grants at the same time.
        self.now = now or timezone.now()
        self._grants: dict[tuple[Level, int], tuple[Grant, ...]] = {}
        self._company_access: dict[int, bool] = {}
        self._keys: dict[tuple[Level, int], frozenset[str]] = {}

    # -- who is asking ---------------------------------------------------------------------------

    @cached_property
    def is_superuser(self) -> bool:
        identity = self.identity
        if isinstance(identity, SystemActor):
            return True
        return bool(isinstance(identity, User) and identity.is_active and identity.is_superuser)

    @cached_property
    def root_keys(self) -> frozenset[str]:
        if self.is_superuser:
            return frozenset(catalogue.ROOT_PERMISSIONS)
        identity = self.identity
        if isinstance(identity, ServiceAccount) and identity.is_root:
            return frozenset(k for k in identity.root_permissions if k in catalogue.ROOT_PERMISSIONS)
        if isinstance(identity, User) and identity.is_active and identity.is_staff:
            return frozenset(k for k in identity.root_permissions if k in catalogue.ROOT_PERMISSIONS)
        return frozenset()

    @cached_property
    def sees_everything(self) -> bool:
        """Super users and holders of console.root.view see every company, project and environment."""
        return self.is_superuser or "console.root.view" in self.root_keys

    @cached_property
    def _is_active(self) -> bool:
        identity = self.identity
        if identity is None:
            return False
        if isinstance(identity, User):
            return identity.is_authenticated and identity.is_active
        return bool(identity.pk)

    # -- raw grants --------------------------------------------------------------------------------

    def grants(self, obj: Company | Project | Environment) -> tuple[Grant, ...]:
        """Every binding of the identity (and its groups) on the target and its ancestors: one query."""
        target = target_of(obj)
        if target.key not in self._grants:
            self._grants[target.key] = self._load_grants(target) if self._is_active else ()
        return self._grants[target.key]

    def _load_grants(self, target: Target) -> tuple[Grant, ...]:
        identity = self.identity
        if isinstance(identity, User):
            rows = _user_grant_rows(identity.pk, target)
        else:
            rows = _grant_rows(RoleBinding.objects.filter(subject_q(identity), _resource_q(target)))
        return _in_order(
            Grant(row.role, row.level, row.group_name, target.obj, row.until, row.group_id)
            for row in self._in_effect(rows)
        )

    def _in_effect(self, rows) -> list[_Held]:
        """The binding rows (role, until, role_after, company_id, project_id, environment_id, group_id,
        group_name) as the roles they give at `now`: a time-limited grant that has ended gives the role it
        was raised from, or nothing."""
        held = []
        # A group's own bindings are direct for the group itself; "via group" only describes a member.
        own_group = isinstance(self.identity, Group)
        for role, until, role_after, company_id, project_id, environment_id, group_id, group_name in rows:
            until = _aware(until)
            if until is not None and until <= self.now:
                role, until = role_after or None, None
                if role is None:
                    continue
            if own_group:
                group_id = group_name = None
            level = Level.COMPANY if company_id else Level.PROJECT if project_id else Level.ENVIRONMENT
            held.append(
                _Held(role, level, company_id or project_id or environment_id, until, group_id, group_name)
            )
        return held

    def grants_everywhere(self, company: Company) -> dict[Company | Project | Environment, tuple[Grant, ...]]:
        """The grants of the identity (and its groups) on the company and on each of its projects and
        environments, each with those from above: three queries (projects, environments, bindings) however
        many there are. Later questions about any of them (`permissions`, `can`, `role_on`) are answered
        from memory. Ordered: the company, then each project (by name) followed by its environments."""
        tree = company_tree(company)
        if not self._is_active:
            rows = []
        elif isinstance(self.identity, User):
            rows = _user_grant_rows(self.identity.pk, target_of(company), whole_company=True)
        else:
            rows = _grant_rows(
                RoleBinding.objects.filter(subject_q(self.identity)).filter(
                    Q(company=company)
                    | Q(project__company=company)
                    | Q(environment__project__company=company)
                )
            )
        return self._hand_down(tree, rows)

    def _hand_down(self, tree: list, rows) -> dict[Company | Project | Environment, tuple[Grant, ...]]:
        """Each binding row read once, then handed down the company's `tree` (`company_tree`): a company
        grant reaches every project and environment. Remembered for later questions."""
        held: dict[tuple[Level, int], list[_Held]] = {}
        for row in self._in_effect(rows):
            held.setdefault((row.level, row.resource_id), []).append(row)

        def reaching(obj, *resources) -> tuple[Grant, ...]:
            return _in_order(
                Grant(row.role, row.level, row.group_name, obj, row.until, row.group_id)
                for resource in resources
                for row in held.get((resource.level, resource.pk), ())
            )

        company = tree[0]
        result = {}
        for obj in tree:
            above = (company, obj.ancestor(Level.PROJECT)) if obj.level == Level.ENVIRONMENT else (company,)
            result[obj] = reaching(obj, *dict.fromkeys((*above, obj)))
        for obj, grants in result.items():
            self._grants[target_of(obj).key] = grants
        return result

    def _held_down(self, tree: list, rows) -> dict[tuple[Level, int], Held]:
        """`_hand_down`, reduced to what `role_on` and `keys` answer on each resource of `tree`, without
        making the grants: resources reached by the same (role, level) pairs share one answer."""
        pairs: dict[tuple[Level, int], tuple] = {}
        for row in self._in_effect(rows):
            key = (row.level, row.resource_id)
            pairs[key] = (*pairs.get(key, ()), (row.role, row.level))
        company = tree[0]
        above = pairs.get((Level.COMPANY, company.pk), ())
        held, project_pairs, answers = {}, {}, {}
        for obj in tree:
            key = (obj.level, obj.pk)
            if obj.level == Level.PROJECT:
                project_pairs[obj.pk] = reaching = above + pairs.get(key, ())
            elif obj.level == Level.ENVIRONMENT:
                reaching = project_pairs[obj.project_id] + pairs.get(key, ())
            else:
                reaching = above
            if self.is_superuser:  # every key, each at its own level: rare enough to ask the long way
                held[key] = Held(catalogue.COMPANY_OWNER, self.keys(obj))
            elif reaching in answers:
                held[key] = answers[reaching]
            else:
                role, keys = _role_and_keys(reaching)
                held[key] = answers[reaching] = Held(role, self.root_keys | keys)
        return held

    # -- keys ------------------------------------------------------------------------------------

    def permissions(self, obj: Company | Project | Environment) -> dict[str, list[str]]:
        """Effective keys on the target, each with the path(s) that grant it."""
        target = target_of(obj)
        paths: dict[str, list[str]] = {}
        if self.is_superuser:
            for level in _LEVELS_UP_TO[target.level]:
                for permission in catalogue.PERMISSIONS:
                    if permission.level == level:
                        paths.setdefault(permission.key, []).append(SUPERUSER_PATH)
            for key in catalogue.ROOT_PERMISSIONS:
                paths.setdefault(key, []).append(SUPERUSER_PATH)
            return dict(sorted(paths.items()))
        for key in self.root_keys:
            paths.setdefault(key, []).append(ROOT_SA_PATH)
        for grant in self.grants(obj):
            for key in catalogue.keys_for(grant.role, grant.level):
                paths.setdefault(key, []).append(grant.describe())
        return dict(sorted(paths.items()))

    def granting(self, keys, obj) -> list[Grant]:
        """The grants that give any of `keys` on the target (the paths `permissions` describes), in the
        order of `grants`. Root paths (a super user, root keys) are not grants: see `permissions`."""
        keys = frozenset(keys)
        return [grant for grant in self.grants(obj) if keys & catalogue.keys_for(grant.role, grant.level)]

    def keys(self, obj) -> frozenset[str]:
        """The keys of `permissions`, without describing their paths (the what-if asks it of every
        resource of a company, for every identity a change touches)."""
        target = target_of(obj)
        if target.key not in self._keys:
            if self.is_superuser:
                self._keys[target.key] = frozenset(self.permissions(obj))
            else:
                keys = _role_and_keys(tuple((g.role, g.level) for g in self.grants(obj)))[1]
                self._keys[target.key] = self.root_keys | keys
        return self._keys[target.key]

    def has(self, key: str, obj) -> bool:
        return key in self.keys(obj)

    def can(self, capability: str, obj) -> bool:
        return self.is_superuser or self.can_with(capability, self.grants(obj))

    def can_with(self, capability: str, grants) -> bool:
        """Whether the identity could do `capability` if `grants` were its grants on the target (its root
        keys and super user status as they are): `can`, and the dialogs' "what would this change do"
        (a role replaced, a group left) asked before the change."""
        if self.is_superuser:
            return True
        keys = set(self.root_keys)
        for grant in grants:
            keys |= catalogue.keys_for(grant.role, grant.level)
        return not keys.isdisjoint(catalogue.capability_keys(catalogue.CAPABILITIES[capability]))

    def role_on(self, obj) -> str | None:
        """The highest role reaching the target (through any level or group); super users rank above all."""
        if self.is_superuser:
            return catalogue.COMPANY_OWNER
        return _role_and_keys(tuple((g.role, g.level) for g in self.grants(obj)))[0]

    # -- company access and lists ----------------------------------------------------------------

    def has_company_access(self, company: Company) -> bool:
        """Direct company binding, or membership of one of its groups (or root visibility)."""
        if self.sees_everything:
            return True
        if company.pk not in self._company_access:
            access = any(g.level == Level.COMPANY for g in self.grants(company))
            if not access and isinstance(self.identity, User) and self._is_active:
                access = GroupMembership.objects.filter(
                    user_id=self.identity.pk, group__company=company
                ).exists()
            self._company_access[company.pk] = access
        return self._company_access[company.pk]

    def companies(self) -> QuerySet[Company]:
        companies = Company.objects.all()
        if self.sees_everything:
            return companies
        if not self._is_active:
            return companies.none()
        if isinstance(self.identity, User):
            return companies.filter(
                Exists(
                    RoleBinding.objects.filter(
                        in_effect_q(self.now), user_id=self.identity.pk, company=OuterRef("pk")
                    )
                )
                | Exists(
                    GroupMembership.objects.filter(user_id=self.identity.pk, group__company=OuterRef("pk"))
                )
            )
        return companies.filter(
            Exists(
                RoleBinding.objects.filter(
                    subject_q(self.identity), in_effect_q(self.now), company=OuterRef("pk")
                )
            )
        )

    def visible_projects(self, company: Company) -> QuerySet[Project]:
        """The company's projects the identity may view: one query."""
        projects = Project.objects.filter(company=company)
        if self.sees_everything:
            return projects
        if not self._is_active:
            return projects.none()
        company_roles = catalogue.roles_granting("console.company.project.view")
        project_roles = catalogue.roles_granting("console.project.view")
        mine = RoleBinding.objects.filter(subject_q(self.identity))
        return projects.filter(
            Exists(mine.filter(effective_role_q(company_roles, self.now), company_id=company.pk))
            | Exists(mine.filter(effective_role_q(project_roles, self.now), project_id=OuterRef("pk")))
        )

    def visible_environments(self, project: Project) -> QuerySet[Environment]:
        """The project's environments the identity may view: one query."""
        environments = Environment.objects.filter(project=project).select_related("project__company")
        if self.sees_everything:
            return environments
        if not self._is_active:
            return environments.none()
        mine = RoleBinding.objects.filter(subject_q(self.identity))
        return environments.filter(
            Exists(
                mine.filter(
                    effective_role_q(
                        catalogue.roles_granting("console.company.project.environment.view"), self.now
                    ),
                    company_id=project.company_id,
                )
            )
            | Exists(
                mine.filter(
                    effective_role_q(catalogue.roles_granting("console.project.environment.view"), self.now),
                    project_id=project.pk,
                )
            )
            | Exists(
                mine.filter(
                    effective_role_q(catalogue.roles_granting("console.environment.view"), self.now),
                    environment_id=OuterRef("pk"),
                )
            )
        )


def company_tree(company: Company) -> list[Company | Project | Environment]:
    """The company, then each of its projects (by name) followed by its environments, each knowing its
    parents without a query: two queries."""
    projects = list(Project.objects.filter(company=company).order_by("name", "slug"))
    environments: dict[int, list[Environment]] = {project.pk: [] for project in projects}
    for project in projects:
        project.company = company
    by_id = {project.pk: project for project in projects}
    for environment in Environment.objects.filter(project__company=company).order_by("position", "env_id"):
        environment.project = by_id[environment.project_id]
        environments[environment.project_id].append(environment)
    tree: list = [company]
    for project in projects:
        tree += [project, *environments[project.pk]]
    return tree


@dataclass(frozen=True)
class Held:
    """What one identity holds on one resource: its highest role and its keys (`role_on`, `keys`)."""

    role: str | None
    keys: frozenset[str]


def held_everywhere(
    identities, company: Company, *, now: datetime.datetime | None = None
) -> tuple[list[Company | Project | Environment], dict[tuple[str, int], tuple[bool, dict]]]:
    """The company's tree (`company_tree`) and, per identity (keyed `(kind id, pk)`), whether it reaches the
    company and what it holds on each resource of the tree ({(level, pk): Held}): the answers of `role_on`,
    `keys` and `has_company_access`, for any number of identities in four queries (projects, environments,
    memberships, bindings). Resources reached by the same roles share one answer, so a group of hundreds
    costs little more than its bindings."""
    now = now or timezone.now()
    tree = company_tree(company)
    ids: dict[type, set[int]] = {User: set(), Group: set(), ServiceAccount: set()}
    for identity in identities:
        ids[type(identity)].add(identity.pk)
    memberships: dict[int, list[tuple[int, str]]] = {}
    for user_id, group_id, group_name in GroupMembership.objects.filter(
        user_id__in=ids[User], group__company=company
    ).values_list("user_id", "group_id", "group__name"):
        memberships.setdefault(user_id, []).append((group_id, group_name))
    group_ids = ids[Group] | {group_id for pairs in memberships.values() for group_id, _ in pairs}
    by_subject: dict[tuple[str, int], list[tuple]] = {}
    for *row, user_id, group_id, account_id in (
        RoleBinding.objects.filter(
            Q(user_id__in=ids[User])
            | Q(group_id__in=group_ids)
            | Q(service_account_id__in=ids[ServiceAccount])
        )
        .filter(Q(company=company) | Q(project__company=company) | Q(environment__project__company=company))
        .values_list(
            "role",
            "until",
            "role_after",
            "company_id",
            "project_id",
            "environment_id",
            "user_id",
            "group_id",
            "service_account_id",
        )
        .order_by()
    ):
        subject = ("user", user_id) if user_id else ("group", group_id) if group_id else ("sa", account_id)
        by_subject.setdefault(subject, []).append(tuple(row))

    found = {}
    for identity in identities:
        access = AccessResolver(identity, now=now)
        kind = "user" if isinstance(identity, User) else "group" if isinstance(identity, Group) else "sa"
        rows = [(*row, None, None) for row in by_subject.get((kind, identity.pk), ())]
        for group_id, group_name in memberships.get(identity.pk, ()) if kind == "user" else ():
            rows += [(*row, group_id, group_name) for row in by_subject.get(("group", group_id), ())]
        held = access._held_down(tree, rows if access._is_active else [])
        member = kind == "user" and identity.pk in memberships
        reaches = access.sees_everything or (
            access._is_active and (member or held[(Level.COMPANY, company.pk)].role is not None)
        )
        found[(kind_of(identity).id, identity.pk)] = (reaches, held)
    return tree, found


# The hottest query of the portal (every page asks it), written out once: two index-driven halves, the
# user's own bindings and those reached through group memberships. An OR of both would make PostgreSQL
# hash every membership row; building the statement through the ORM costs more than running it.
_USER_GRANTS_SQL = """
    SELECT b.role, b.until, b.role_after, b.company_id, b.project_id, b.environment_id, NULL, NULL
      FROM {binding} b
     WHERE b.user_id = %(user)s
       AND {resources}
    UNION ALL
    SELECT b.role, b.until, b.role_after, b.company_id, b.project_id, b.environment_id, g.id, g.name
      FROM {membership} m
      JOIN {binding} b ON b.group_id = m.group_id
      JOIN {group} g ON g.id = m.group_id
     WHERE m.user_id = %(user)s
       AND {resources}
"""
# The bindings on one target and the resources above it…
_ONE_TARGET = (
    "(b.company_id = %(company)s OR b.project_id = %(project)s OR b.environment_id = %(environment)s)"
)
# …or on a whole company: the company, its projects and their environments (`grants_everywhere`).
_WHOLE_COMPANY = """(b.company_id = %(company)s
         OR b.project_id IN (SELECT p.id FROM {project} p WHERE p.company_id = %(company)s)
         OR b.environment_id IN (SELECT e.id FROM {environment} e JOIN {project} p ON p.id = e.project_id
                                  WHERE p.company_id = %(company)s))"""


def _aware(moment) -> datetime.datetime | None:
    """A raw SQLite cursor returns stored UTC times naive (or as text); PostgreSQL returns them aware."""
    if isinstance(moment, str):
        moment = parse_datetime(moment)
    if moment is not None and timezone.is_naive(moment):
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment


try:
    import psycopg

    class _PreparedCursor(psycopg.Cursor):
        logged = False  # Django logs this query (DEBUG, CaptureQueriesContext): keep its text for the log

        def execute(self, query, params=None, *, prepare=None, binary=None):
            result = super().execute(
                query, params, prepare=True if prepare is None else prepare, binary=binary
            )
            if self.logged:  # what Django's last_executed_query reads (the statement, with $n placeholders)
                self._query = self._convert_query(query, params)
            return result

except ImportError:  # SQLite only: psycopg is not there and not needed
    _PreparedCursor = None


def _user_grant_rows(user_id: int, target: Target, *, whole_company: bool = False) -> list[tuple]:
    tables = {
        "binding": RoleBinding._meta.db_table,
        "membership": GroupMembership._meta.db_table,
        "group": Group._meta.db_table,
        "project": Project._meta.db_table,
        "environment": Environment._meta.db_table,
    }
    resources = (_WHOLE_COMPANY if whole_company else _ONE_TARGET).format(**tables)
    sql = _USER_GRANTS_SQL.format(resources=resources, **tables)
    params = {
        "user": user_id,
        "company": target.company_id,
        "project": target.project_id,
        "environment": target.environment_id,
    }
    with _statement_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _statement_cursor():
    """A cursor for the resolver's one statement. On PostgreSQL the statement is prepared once per
    connection (psycopg, server-side binding) and each check then skips planning, which is most of the
    statement's own time. Django leaves prepared statements off for connection poolers; this one statement
    opts in (a pooler in transaction mode needs PgBouncer 1.21+ with max_prepared_statements set). Django's
    wrapper keeps the query counted and logged like any other."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:  # Django's "never": let explicit prepares through, nothing automatic
        raw.prepare_threshold = 2**31 - 1
    cursor = _PreparedCursor(raw)
    cursor.logged = connection.queries_logged
    return connection._prepare_cursor(cursor)


def _grant_rows(bindings: QuerySet[RoleBinding]):
    """The rows `_in_effect` reads, for a group or a service account (the same columns as the SQL above)."""
    return bindings.values_list(
        "role", "until", "role_after", "company_id", "project_id", "environment_id", "group_id", "group__name"
    ).order_by()
