"""The role and permission catalogue: data in code.

Six roles, where each may be bound, and the permission keys each grants at the level it is bound
(company, project or environment), plus the Console root keys. The cells follow the newest documented
state of Mia-Platform Console's permission tables (see README "Roles and permissions").
"""

from dataclasses import dataclass

from iam_portal.orgs.models import Level


@dataclass(frozen=True)
class Role:
    id: str
    label: str
    rank: int
    description: str


GUEST = "guest"
REPORTER = "reporter"
DEVELOPER = "developer"
MAINTAINER = "maintainer"
PROJECT_ADMIN = "project-admin"
COMPANY_OWNER = "company-owner"

ROLES: dict[str, Role] = {
    role.id: role
    for role in (
        Role(GUEST, "Guest", 1, "Sees basic information of the resources it is bound on."),
        Role(REPORTER, "Reporter", 2, "Views project configuration and runtime environments."),
        Role(DEVELOPER, "Developer", 3, "Edits project configuration and views runtime environments."),
        Role(MAINTAINER, "Maintainer", 4, "Edits project configuration and operates runtime environments."),
        Role(
            PROJECT_ADMIN,
            "Project Administrator",
            5,
            "Manages a project's identities and every aspect of it.",
        ),
        Role(COMPANY_OWNER, "Company Owner", 6, "Manages the company's identities and every project in it."),
    )
}
ROLE_IDS: tuple[str, ...] = tuple(ROLES)
ROLE_CHOICES: list[tuple[str, str]] = [(role.id, role.label) for role in ROLES.values()]

# Where each role may be bound.
ROLES_BY_LEVEL: dict[Level, tuple[str, ...]] = {
    Level.COMPANY: ROLE_IDS,
    Level.PROJECT: (GUEST, REPORTER, DEVELOPER, MAINTAINER, PROJECT_ADMIN),
    Level.ENVIRONMENT: (REPORTER, MAINTAINER),
}

_ALL = frozenset(ROLE_IDS)
_REPORTER_UP = frozenset({REPORTER, DEVELOPER, MAINTAINER, PROJECT_ADMIN, COMPANY_OWNER})
_DEVELOPER_UP = frozenset({DEVELOPER, MAINTAINER, PROJECT_ADMIN, COMPANY_OWNER})
_MAINTAINER_UP = frozenset({MAINTAINER, PROJECT_ADMIN, COMPANY_OWNER})
_ADMINS = frozenset({PROJECT_ADMIN, COMPANY_OWNER})
_OWNER = frozenset({COMPANY_OWNER})


@dataclass(frozen=True)
class Permission:
    key: str
    level: Level
    description: str
    roles: frozenset[str]


PERMISSIONS: tuple[Permission, ...] = (
    # Granted when a role is bound on a company.
    Permission("console.company.view", Level.COMPANY, "View the company's basic information", _ALL),
    Permission("console.company.details.update", Level.COMPANY, "Edit the company's information", _OWNER),
    Permission("console.company.project.create", Level.COMPANY, "Create projects in the company", _OWNER),
    Permission(
        "console.company.project.view", Level.COMPANY, "View every project of the company", _REPORTER_UP
    ),
    Permission(
        "console.company.project.environment.view",
        Level.COMPANY,
        "View every environment of every project of the company",
        _REPORTER_UP,
    ),
    Permission(
        "console.company.project.service.repository.create",
        Level.COMPANY,
        "Create service repositories in every project of the company",
        _DEVELOPER_UP,
    ),
    Permission(
        "console.company.project.configuration.update",
        Level.COMPANY,
        "Commit configuration changes in every project of the company",
        _DEVELOPER_UP,
    ),
    Permission(
        "console.company.project.secreted_variables.manage",
        Level.COMPANY,
        "Manage secret environment variables of every project of the company",
        _ADMINS,
    ),
    Permission(
        "console.company.project.environment.deploy.trigger",
        Level.COMPANY,
        "Deploy to every environment of every project of the company",
        _MAINTAINER_UP,
    ),
    Permission(
        "console.company.project.environment.k8s.pod.delete",
        Level.COMPANY,
        "Restart pods in every environment of every project of the company",
        _MAINTAINER_UP,
    ),
    Permission(
        "console.company.project.environment.k8s.job.delete",
        Level.COMPANY,
        "Delete jobs in every environment of every project of the company",
        _MAINTAINER_UP,
    ),
    Permission(
        "console.company.project.environment.k8s.job.create",
        Level.COMPANY,
        "Create jobs in every environment of every project of the company",
        _MAINTAINER_UP,
    ),
    Permission(
        "console.company.project.environment.dashboard.manage",
        Level.COMPANY,
        "Manage dashboards of every project of the company",
        _ADMINS,
    ),
    Permission("console.company.users.manage", Level.COMPANY, "Manage the company's identities", _OWNER),
    Permission(
        "console.company.project.details.update",
        Level.COMPANY,
        "Edit the information of every project of the company",
        _ADMINS,
    ),
    # Documented for Project Administrators only; Company Owners manage project identities through
    # console.company.users.manage (see the capability table below).
    Permission(
        "console.company.project.users.manage",
        Level.COMPANY,
        "Manage the identities of every project of the company",
        frozenset({PROJECT_ADMIN}),
    ),
    Permission("console.company.licenses.view", Level.COMPANY, "See the company's licence section", _OWNER),
    Permission("console.company.delete", Level.COMPANY, "Delete the company", _OWNER),
    Permission("console.company.project.delete", Level.COMPANY, "Delete any project of the company", _ADMINS),
    Permission("console.company.providers.manage", Level.COMPANY, "Manage the company's providers", _OWNER),
    Permission("console.company.providers.view", Level.COMPANY, "View the company's providers", _ALL),
    Permission("console.company.cluster.manage", Level.COMPANY, "Manage the company's clusters", _OWNER),
    Permission("console.company.cluster.view", Level.COMPANY, "View the company's clusters", _ALL),
    Permission(
        "console.company.templates.manage", Level.COMPANY, "Manage the company's project templates", _OWNER
    ),
    Permission(
        "console.company.configuration.views.manage",
        Level.COMPANY,
        "Manage the company's views in the design overview",
        _ADMINS,
    ),
    Permission(
        "marketplace.company.resources.view",
        Level.COMPANY,
        "View marketplace resources owned by the company",
        _ALL,
    ),
    Permission(
        "marketplace.company.resources.manage",
        Level.COMPANY,
        "Manage marketplace resources owned by the company",
        _ADMINS,
    ),
    Permission(
        "console.company.project.configuration.version.delete",
        Level.COMPANY,
        "Delete configuration versions of every project of the company",
        _ADMINS,
    ),
    # Granted when a role is bound on a project.
    Permission(
        "console.project.view",
        Level.PROJECT,
        "View the project's basic information",
        frozenset({GUEST, REPORTER, DEVELOPER, MAINTAINER, PROJECT_ADMIN}),
    ),
    Permission(
        "console.project.environment.view",
        Level.PROJECT,
        "View every environment of the project",
        frozenset({REPORTER, DEVELOPER, MAINTAINER, PROJECT_ADMIN}),
    ),
    Permission(
        "console.project.service.repository.create",
        Level.PROJECT,
        "Create service repositories in the project",
        frozenset({DEVELOPER, MAINTAINER, PROJECT_ADMIN}),
    ),
    Permission(
        "console.project.configuration.update",
        Level.PROJECT,
        "Commit configuration changes in the project",
        frozenset({DEVELOPER, MAINTAINER, PROJECT_ADMIN}),
    ),
    Permission(
        "console.project.details.update",
        Level.PROJECT,
        "Edit the project's information",
        frozenset({PROJECT_ADMIN}),
    ),
    Permission(
        "console.project.configuration.version.delete",
        Level.PROJECT,
        "Delete the project's configuration versions",
        frozenset({PROJECT_ADMIN}),
    ),
    Permission(
        "console.project.secreted_variables.manage",
        Level.PROJECT,
        "Manage the project's secret environment variables",
        frozenset({PROJECT_ADMIN}),
    ),
    Permission(
        "console.project.environment.deploy.trigger",
        Level.PROJECT,
        "Deploy to every environment of the project",
        frozenset({MAINTAINER, PROJECT_ADMIN}),
    ),
    Permission(
        "console.project.environment.k8s.pod.delete",
        Level.PROJECT,
        "Restart pods in every environment of the project",
        frozenset({MAINTAINER, PROJECT_ADMIN}),
    ),
    Permission(
        "console.project.environment.k8s.job.delete",
        Level.PROJECT,
        "Delete jobs in every environment of the project",
        frozenset({MAINTAINER, PROJECT_ADMIN}),
    ),
    Permission(
        "console.project.environment.k8s.job.create",
        Level.PROJECT,
        "Create jobs in every environment of the project",
        frozenset({MAINTAINER, PROJECT_ADMIN}),
    ),
    Permission(
        "console.project.environment.dashboard.manage",
        Level.PROJECT,
        "Manage dashboards of every environment of the project",
        frozenset({PROJECT_ADMIN}),
    ),
    Permission(
        "console.project.users.manage",
        Level.PROJECT,
        "Manage the project's identities",
        frozenset({PROJECT_ADMIN}),
    ),
    # No role grants these at project level any more; they stay in the catalogue so the keys are known.
    Permission("console.project.delete", Level.PROJECT, "Delete the project", frozenset()),
    # Granted when a role is bound on a runtime environment (only Reporter and Maintainer can be).
    Permission(
        "console.environment.view",
        Level.ENVIRONMENT,
        "View this environment",
        frozenset({REPORTER, MAINTAINER}),
    ),
    Permission(
        "console.environment.deploy.trigger",
        Level.ENVIRONMENT,
        "Deploy to this environment",
        frozenset({MAINTAINER}),
    ),
    Permission(
        "console.environment.k8s.job.delete",
        Level.ENVIRONMENT,
        "Delete jobs in this environment",
        frozenset({MAINTAINER}),
    ),
    Permission(
        "console.environment.k8s.job.create",
        Level.ENVIRONMENT,
        "Create jobs in this environment",
        frozenset({MAINTAINER}),
    ),
    Permission(
        "console.environment.k8s.pod.delete",
        Level.ENVIRONMENT,
        "Restart pods in this environment",
        frozenset({MAINTAINER}),
    ),
    Permission(
        "console.environment.dashboard.manage",
        Level.ENVIRONMENT,
        "Manage this environment's dashboards",
        frozenset(),
    ),
)

# Console root keys: held by super users (all of them) and by root service accounts (those listed on them).
ROOT_PERMISSIONS: dict[str, str] = {
    "console.root.company.create": "Create a new company",
    "console.root.company.delete": "Delete any company",
    "console.root.project.create": "Create a new project",
    "console.root.project.details.update": "Edit any project",
    "console.root.project.delete": "Delete any project",
    "console.root.view": "View every Console resource",
    "console.root.user.bind": "Manage identity roles, groups and bindings",
    "console.root.user.manage": "Create and delete any user",
    "console.root.serviceaccount.manage": "Create and delete root service accounts",
    "console.root.templates.manage": "Manage every project template",
    "console.root.features.manage": "Manage the available features",
    "marketplace.root.manage": "Manage every marketplace resource",
}

PERMISSION_BY_KEY: dict[str, Permission] = {permission.key: permission for permission in PERMISSIONS}
ALL_KEYS: frozenset[str] = frozenset(PERMISSION_BY_KEY) | frozenset(ROOT_PERMISSIONS)


def keys_for(role_id: str, level: Level | str) -> frozenset[str]:
    """The keys a role grants when it is bound at `level` (empty when it cannot be bound there)."""
    level = Level(level)
    if role_id not in ROLES_BY_LEVEL[level]:
        return frozenset()
    return _KEYS_BY_ROLE_AND_LEVEL[(role_id, level)]


_KEYS_BY_ROLE_AND_LEVEL: dict[tuple[str, Level], frozenset[str]] = {
    (role_id, level): frozenset(p.key for p in PERMISSIONS if p.level == level and role_id in p.roles)
    for role_id in ROLE_IDS
    for level in Level
}


def roles_granting(key: str) -> frozenset[str]:
    """The roles that grant `key` at the key's own level."""
    permission = PERMISSION_BY_KEY[key]
    return frozenset(r for r in permission.roles if r in ROLES_BY_LEVEL[permission.level])


def is_role_valid_for(role_id: str, level: Level | str) -> bool:
    return role_id in ROLES_BY_LEVEL[Level(level)]


def role_label(role_id: str | None) -> str:
    return ROLES[role_id].label if role_id in ROLES else ""


def role_rank(role_id: str | None) -> int:
    return ROLES[role_id].rank if role_id in ROLES else 0


def is_valid_key(key: str) -> bool:
    return key in ALL_KEYS


@dataclass(frozen=True)
class Capability:
    """A question about a target object, answered with the keys of every level (company, project, env, root)."""

    name: str
    label: str
    target: Level
    company_keys: tuple[str, ...] = ()
    project_keys: tuple[str, ...] = ()
    environment_keys: tuple[str, ...] = ()
    root_keys: tuple[str, ...] = ()
    # What a role picker says of a role that has it, in a few words ("{projects}" and "{environments}" read
    # "every project", "the project"… after the level the role is bound at; see `role_summary`).
    phrase: str = ""


CAPABILITIES: dict[str, Capability] = {
    cap.name: cap
    for cap in (
        Capability(
            "company.view",
            "View the company",
            Level.COMPANY,
            ("console.company.view",),
            root_keys=("console.root.view",),
            phrase="sees the company",
        ),
        Capability(
            "company.identities.manage",
            "Manage the company's identities",
            Level.COMPANY,
            ("console.company.users.manage",),
            root_keys=("console.root.user.bind",),
            phrase="manages the company's identities",
        ),
        Capability(
            "company.details.update",
            "Edit the company",
            Level.COMPANY,
            ("console.company.details.update",),
            phrase="edits the company",
        ),
        Capability(
            "company.project.create",
            "Create projects",
            Level.COMPANY,
            ("console.company.project.create",),
            root_keys=("console.root.project.create",),
            phrase="creates projects",
        ),
        Capability(
            "company.delete",
            "Delete the company",
            Level.COMPANY,
            ("console.company.delete",),
            root_keys=("console.root.company.delete",),
            phrase="deletes the company",
        ),
        Capability(
            "project.view",
            "View the project",
            Level.PROJECT,
            ("console.company.project.view",),
            ("console.project.view",),
            root_keys=("console.root.view",),
            phrase="sees {projects}",
        ),
        Capability(
            "project.environments.view",
            "View every environment of the project",
            Level.PROJECT,
            ("console.company.project.environment.view",),
            ("console.project.environment.view",),
            root_keys=("console.root.view",),
            phrase="sees {environments}",
        ),
        Capability(
            "project.repository.create",
            "Create service repositories",
            Level.PROJECT,
            ("console.company.project.service.repository.create",),
            ("console.project.service.repository.create",),
            phrase="creates service repositories",
        ),
        Capability(
            "project.configuration.update",
            "Commit configuration changes",
            Level.PROJECT,
            ("console.company.project.configuration.update",),
            ("console.project.configuration.update",),
            phrase="edits configuration",
        ),
        Capability(
            "project.secrets.manage",
            "Manage secret variables",
            Level.PROJECT,
            ("console.company.project.secreted_variables.manage",),
            ("console.project.secreted_variables.manage",),
            phrase="manages secret variables",
        ),
        Capability(
            "project.details.update",
            "Edit the project",
            Level.PROJECT,
            ("console.company.project.details.update",),
            ("console.project.details.update",),
            root_keys=("console.root.project.details.update",),
            phrase="edits {projects}",
        ),
        Capability(
            "project.versions.delete",
            "Delete configuration versions",
            Level.PROJECT,
            ("console.company.project.configuration.version.delete",),
            ("console.project.configuration.version.delete",),
            phrase="deletes configuration versions",
        ),
        Capability(
            "project.identities.manage",
            "Manage the project's identities",
            Level.PROJECT,
            ("console.company.project.users.manage", "console.company.users.manage"),
            ("console.project.users.manage",),
            root_keys=("console.root.user.bind",),
            phrase="manages project identities",
        ),
        Capability(
            "project.delete",
            "Delete the project",
            Level.PROJECT,
            ("console.company.project.delete",),
            ("console.project.delete",),
            root_keys=("console.root.project.delete",),
            phrase="deletes {projects}",
        ),
        Capability(
            "environment.view",
            "View the environment",
            Level.ENVIRONMENT,
            ("console.company.project.environment.view",),
            ("console.project.environment.view",),
            ("console.environment.view",),
            ("console.root.view",),
            phrase="sees {environments}",
        ),
        Capability(
            "environment.deploy",
            "Deploy to the environment",
            Level.ENVIRONMENT,
            ("console.company.project.environment.deploy.trigger",),
            ("console.project.environment.deploy.trigger",),
            ("console.environment.deploy.trigger",),
            phrase="deploys",
        ),
        Capability(
            "environment.pods.restart",
            "Restart pods",
            Level.ENVIRONMENT,
            ("console.company.project.environment.k8s.pod.delete",),
            ("console.project.environment.k8s.pod.delete",),
            ("console.environment.k8s.pod.delete",),
            phrase="restarts pods",
        ),
        Capability(
            "environment.jobs.create",
            "Create jobs",
            Level.ENVIRONMENT,
            ("console.company.project.environment.k8s.job.create",),
            ("console.project.environment.k8s.job.create",),
            ("console.environment.k8s.job.create",),
            phrase="creates and deletes jobs",
        ),
        Capability(
            "environment.jobs.delete",
            "Delete jobs",
            Level.ENVIRONMENT,
            ("console.company.project.environment.k8s.job.delete",),
            ("console.project.environment.k8s.job.delete",),
            ("console.environment.k8s.job.delete",),
            phrase="creates and deletes jobs",
        ),
        Capability(
            "environment.dashboards.manage",
            "Manage dashboards",
            Level.ENVIRONMENT,
            ("console.company.project.environment.dashboard.manage",),
            ("console.project.environment.dashboard.manage",),
            ("console.environment.dashboard.manage",),
            phrase="manages dashboards",
        ),
    )
}


def capability_keys(capability: Capability) -> frozenset[str]:
    return frozenset(
        capability.company_keys + capability.project_keys + capability.environment_keys + capability.root_keys
    )


# -- what a role allows, in words (role pickers, the access page) ---------------------------------------

_LEVELS = tuple(Level)
# How far each phrase's "{projects}" and "{environments}" reach, by the level a role is bound at.
_SCOPE = {
    Level.COMPANY: {"projects": "every project", "environments": "every environment"},
    Level.PROJECT: {"projects": "the project", "environments": "every environment"},
    Level.ENVIRONMENT: {"projects": "the project", "environments": "the environment"},
}
# The headings of what a role bound at one level allows at that level and below it.
ALLOWS_HEADINGS: dict[tuple[Level, Level], str] = {
    (Level.COMPANY, Level.COMPANY): "On the company",
    (Level.COMPANY, Level.PROJECT): "On every project",
    (Level.COMPANY, Level.ENVIRONMENT): "On every environment",
    (Level.PROJECT, Level.PROJECT): "On the project",
    (Level.PROJECT, Level.ENVIRONMENT): "On every environment of the project",
    (Level.ENVIRONMENT, Level.ENVIRONMENT): "On the environment",
}


def capability_groups(level: Level | str) -> list[tuple[str, list[Capability]]]:
    """The capabilities that a role bound at `level` can give, under their heading: those about that level,
    then those about each level below it."""
    level = Level(level)
    return [
        (ALLOWS_HEADINGS[(level, target)], [cap for cap in CAPABILITIES.values() if cap.target == target])
        for target in _LEVELS[_LEVELS.index(level) :]
    ]


def role_capabilities(role_id: str, level: Level | str) -> list[Capability]:
    """The capabilities a role gives when it is bound at `level` (on that resource and below it)."""
    keys = keys_for(role_id, level)
    return [cap for cap in CAPABILITIES.values() if keys & capability_keys(cap)]


def role_allows(role_id: str, level: Level | str) -> list[tuple[str, list[str]]]:
    """Everything a role bound at `level` allows, as labelled groups of capability labels (empty groups
    left out)."""
    granted = set(role_capabilities(role_id, level))
    groups = [
        (heading, [cap.label for cap in caps if cap in granted]) for heading, caps in capability_groups(level)
    ]
    return [(heading, labels) for heading, labels in groups if labels]


def _phrases(role_id: str, level: Level) -> list[str]:
    phrases: list[str] = []
    for cap in role_capabilities(role_id, level):
        phrase = cap.phrase.format(**_SCOPE[level])
        if phrase not in phrases:
            phrases.append(phrase)
    return phrases


def role_summary(role_id: str, level: Level | str) -> str:
    """What a role allows at `level` in one line, for role pickers: the role below it at that level, and
    what this one adds ("Developer — as Reporter, and creates service repositories, edits configuration")."""
    level = Level(level)
    label, phrases = role_label(role_id), _phrases(role_id, level)
    roles = ROLES_BY_LEVEL[level]
    below = roles[roles.index(role_id) - 1] if roles.index(role_id) else None
    if below is not None and set(_phrases(below, level)) <= set(phrases):
        added = [phrase for phrase in phrases if phrase not in _phrases(below, level)]
        return f"{label} — as {role_label(below)}" + (f", and {', '.join(added)}" if added else "")
    return f"{label} — {', '.join(phrases)}"
