"""The role catalogue against an independent copy of the spec's permission matrices.

The tables below are typed out from reference/mia-iam-spec.md §3.1-§3.3 with the DESIGN §5 rules applied:
"Since 12" rows are included, the 10.9-only Company Owner ticks of the project table are dropped
(`console.project.details.update` and `console.project.delete` have an empty CO cell), and the root key typo
is fixed (`console.root.project.delete`). Nothing here is built from the sets in catalogue.py.
"""

import pytest

from iam_portal.access import catalogue
from iam_portal.access.catalogue import Level

Y = True
_ = False
COLUMNS = ("guest", "reporter", "developer", "maintainer", "project-admin", "company-owner")

# §3.1 Company-level role capabilities.
#   key                                                        G  R  D  M  PA CO
COMPANY_TABLE = {
    "console.company.view": (Y, Y, Y, Y, Y, Y),
    "console.company.details.update": (_, _, _, _, _, Y),
    "console.company.project.create": (_, _, _, _, _, Y),
    "console.company.project.view": (_, Y, Y, Y, Y, Y),
    "console.company.project.environment.view": (_, Y, Y, Y, Y, Y),
    "console.company.project.service.repository.create": (_, _, Y, Y, Y, Y),
    "console.company.project.configuration.update": (_, _, Y, Y, Y, Y),
    "console.company.project.secreted_variables.manage": (_, _, _, _, Y, Y),
    "console.company.project.environment.deploy.trigger": (_, _, _, Y, Y, Y),
    "console.company.project.environment.k8s.pod.delete": (_, _, _, Y, Y, Y),
    "console.company.project.environment.k8s.job.delete": (_, _, _, Y, Y, Y),
    "console.company.project.environment.k8s.job.create": (_, _, _, Y, Y, Y),
    "console.company.project.environment.dashboard.manage": (_, _, _, _, Y, Y),
    "console.company.users.manage": (_, _, _, _, _, Y),
    "console.company.project.details.update": (_, _, _, _, Y, Y),
    "console.company.project.users.manage": (_, _, _, _, Y, _),
    "console.company.licenses.view": (_, _, _, _, _, Y),
    "console.company.delete": (_, _, _, _, _, Y),
    "console.company.project.delete": (_, _, _, _, Y, Y),
    "console.company.providers.manage": (_, _, _, _, _, Y),
    "console.company.providers.view": (Y, Y, Y, Y, Y, Y),
    "console.company.cluster.manage": (_, _, _, _, _, Y),
    "console.company.cluster.view": (Y, Y, Y, Y, Y, Y),
    "console.company.templates.manage": (_, _, _, _, _, Y),
    "console.company.configuration.views.manage": (_, _, _, _, Y, Y),
    "marketplace.company.resources.view": (Y, Y, Y, Y, Y, Y),
    "marketplace.company.resources.manage": (_, _, _, _, Y, Y),
    "console.company.project.configuration.version.delete": (_, _, _, _, Y, Y),
}

# §3.2 Project-level and environment-level role capabilities (rows starting with `console.environment.`
# apply to a role bound on an environment, the others to a role bound on a project).
#   key                                                        G  R  D  M  PA CO
PROJECT_AND_ENVIRONMENT_TABLE = {
    "console.project.view": (Y, Y, Y, Y, Y, _),
    "console.project.environment.view": (_, Y, Y, Y, Y, _),
    "console.environment.view": (_, Y, _, Y, _, _),
    "console.project.service.repository.create": (_, _, Y, Y, Y, _),
    "console.project.configuration.update": (_, _, Y, Y, Y, _),
    "console.project.details.update": (_, _, _, _, Y, _),
    "console.project.configuration.version.delete": (_, _, _, _, Y, _),
    "console.project.secreted_variables.manage": (_, _, _, _, Y, _),
    "console.project.environment.deploy.trigger": (_, _, _, Y, Y, _),
    "console.environment.deploy.trigger": (_, _, _, Y, _, _),
    "console.project.environment.k8s.pod.delete": (_, _, _, Y, Y, _),
    "console.project.environment.k8s.job.delete": (_, _, _, Y, Y, _),
    "console.project.environment.k8s.job.create": (_, _, _, Y, Y, _),
    "console.environment.k8s.job.delete": (_, _, _, Y, _, _),
    "console.environment.k8s.job.create": (_, _, _, Y, _, _),
    "console.environment.k8s.pod.delete": (_, _, _, Y, _, _),
    "console.project.environment.dashboard.manage": (_, _, _, _, Y, _),
    "console.environment.dashboard.manage": (_, _, _, _, _, _),
    "console.project.users.manage": (_, _, _, _, Y, _),
    "console.project.delete": (_, _, _, _, _, _),
}

# §3.3 Console root keys (typo fixed).
ROOT_KEYS = {
    "console.root.company.create",
    "console.root.company.delete",
    "console.root.project.create",
    "console.root.project.details.update",
    "console.root.project.delete",
    "console.root.view",
    "console.root.user.bind",
    "console.root.user.manage",
    "console.root.serviceaccount.manage",
    "console.root.templates.manage",
    "console.root.features.manage",
    "marketplace.root.manage",
}


def level_of_row(key: str) -> Level:
    if key in COMPANY_TABLE:
        return Level.COMPANY
    return Level.ENVIRONMENT if key.startswith("console.environment.") else Level.PROJECT


ROWS = {**COMPANY_TABLE, **PROJECT_AND_ENVIRONMENT_TABLE}
ALL_ROLE_KEYS = sorted(ROWS)
CELLS = [
    pytest.param(role, level, key, id=f"{role}-{level}-{key}")
    for role in COLUMNS
    for level in (Level.COMPANY, Level.PROJECT, Level.ENVIRONMENT)
    for key in ALL_ROLE_KEYS
]


def expected(role: str, level: Level, key: str) -> bool:
    """Ticked in the spec's table, at the level the row belongs to."""
    return level_of_row(key) == level and ROWS[key][COLUMNS.index(role)]


def test_the_tables_have_every_row_of_the_spec():
    assert len(COMPANY_TABLE) == 28
    assert len(PROJECT_AND_ENVIRONMENT_TABLE) == 20
    assert sum(level_of_row(k) == Level.ENVIRONMENT for k in PROJECT_AND_ENVIRONMENT_TABLE) == 6
    assert len(ROOT_KEYS) == 12


@pytest.mark.parametrize(("role", "level", "key"), CELLS)
def test_a_role_grants_a_key_at_a_level_exactly_when_the_spec_ticks_the_cell(role, level, key):
    assert (key in catalogue.keys_for(role, level)) == expected(role, level, key)


@pytest.mark.parametrize("role", COLUMNS)
@pytest.mark.parametrize("level", [Level.COMPANY, Level.PROJECT, Level.ENVIRONMENT])
def test_keys_for_a_role_and_level_are_exactly_the_ticked_cells(role, level):
    ticked = {key for key in ROWS if expected(role, level, key)}
    assert catalogue.keys_for(role, level) == ticked


def test_keys_for_accepts_the_level_as_a_plain_string():
    assert catalogue.keys_for("maintainer", "environment") == catalogue.keys_for(
        "maintainer", Level.ENVIRONMENT
    )


@pytest.mark.parametrize(
    ("role", "level"),
    [
        ("company-owner", Level.PROJECT),
        ("guest", Level.ENVIRONMENT),
        ("developer", Level.ENVIRONMENT),
        ("project-admin", Level.ENVIRONMENT),
        ("company-owner", Level.ENVIRONMENT),
    ],
)
def test_a_role_that_cannot_be_bound_at_a_level_grants_nothing_there(role, level):
    assert catalogue.keys_for(role, level) == frozenset()
    assert not catalogue.is_role_valid_for(role, level)


def test_roles_that_can_be_bound_at_each_level():
    assert tuple(catalogue.ROLES_BY_LEVEL[Level.COMPANY]) == COLUMNS
    assert tuple(catalogue.ROLES_BY_LEVEL[Level.PROJECT]) == (
        "guest",
        "reporter",
        "developer",
        "maintainer",
        "project-admin",
    )
    assert tuple(catalogue.ROLES_BY_LEVEL[Level.ENVIRONMENT]) == ("reporter", "maintainer")
    assert set(catalogue.ROLES_BY_LEVEL) == {Level.COMPANY, Level.PROJECT, Level.ENVIRONMENT}


def test_the_catalogue_knows_exactly_the_keys_of_the_tables_and_the_root_keys():
    role_keys = {permission.key for permission in catalogue.PERMISSIONS}
    assert role_keys == set(ROWS)
    assert len(catalogue.PERMISSIONS) == len(ROWS)  # no key listed twice
    assert set(catalogue.ROOT_PERMISSIONS) == ROOT_KEYS
    assert set(catalogue.ALL_KEYS) == set(ROWS) | ROOT_KEYS


def test_every_catalogue_key_sits_at_the_level_of_its_table_row():
    for permission in catalogue.PERMISSIONS:
        assert permission.level == level_of_row(permission.key), permission.key


def test_there_are_twelve_root_keys_with_the_typo_fixed():
    assert len(catalogue.ROOT_PERMISSIONS) == 12
    assert "console.root.project.delete" in catalogue.ROOT_PERMISSIONS
    assert "console.root.project delete" not in catalogue.ROOT_PERMISSIONS
    assert not catalogue.is_valid_key("console.root.project delete")


@pytest.mark.parametrize("role", COLUMNS)
@pytest.mark.parametrize("level", [Level.COMPANY, Level.PROJECT, Level.ENVIRONMENT])
def test_no_role_grants_a_root_key(role, level):
    assert not catalogue.keys_for(role, level) & ROOT_KEYS


def test_is_valid_key_knows_role_and_root_keys_only():
    assert catalogue.is_valid_key("console.environment.deploy.trigger")
    assert catalogue.is_valid_key("marketplace.root.manage")
    assert not catalogue.is_valid_key("console.environment.deploy")
    assert not catalogue.is_valid_key("")


def test_role_ids_labels_and_order():
    assert list(catalogue.ROLE_IDS) == list(COLUMNS)
    assert [(role.id, role.label) for role in catalogue.ROLES.values()] == [
        ("guest", "Guest"),
        ("reporter", "Reporter"),
        ("developer", "Developer"),
        ("maintainer", "Maintainer"),
        ("project-admin", "Project Administrator"),
        ("company-owner", "Company Owner"),
    ]
    choices = catalogue.ROLE_CHOICES
    assert choices == [
        ("guest", "Guest"),
        ("reporter", "Reporter"),
        ("developer", "Developer"),
        ("maintainer", "Maintainer"),
        ("project-admin", "Project Administrator"),
        ("company-owner", "Company Owner"),
    ]
    ranks = [catalogue.role_rank(role) for role in COLUMNS]
    assert ranks == sorted(ranks)
    assert len(set(ranks)) == 6
    assert catalogue.role_rank(None) < catalogue.role_rank("guest")
    assert catalogue.role_label("project-admin") == "Project Administrator"
    assert catalogue.role_label("nobody") == ""


def test_role_constants_match_the_ids():
    assert (
        catalogue.GUEST,
        catalogue.REPORTER,
        catalogue.DEVELOPER,
        catalogue.MAINTAINER,
        catalogue.PROJECT_ADMIN,
        catalogue.COMPANY_OWNER,
    ) == COLUMNS


@pytest.mark.parametrize("key", ALL_ROLE_KEYS)
def test_roles_granting_a_key_are_the_ticked_columns(key):
    ticked = {role for role, tick in zip(COLUMNS, ROWS[key], strict=True) if tick}
    assert catalogue.roles_granting(key) == ticked


def test_capabilities_only_name_known_keys_of_their_level():
    for capability in catalogue.CAPABILITIES.values():
        assert all(level_of_row(k) == Level.COMPANY for k in capability.company_keys), capability.name
        assert all(level_of_row(k) == Level.PROJECT for k in capability.project_keys), capability.name
        assert all(level_of_row(k) == Level.ENVIRONMENT for k in capability.environment_keys), capability.name
        assert set(capability.root_keys) <= ROOT_KEYS, capability.name


def test_deploy_capability_follows_the_spec_evaluation_model():
    deploy = catalogue.CAPABILITIES["environment.deploy"]
    assert catalogue.capability_keys(deploy) == {
        "console.company.project.environment.deploy.trigger",
        "console.project.environment.deploy.trigger",
        "console.environment.deploy.trigger",
    }


def test_project_identities_capability_includes_company_owners_key():
    manage = catalogue.CAPABILITIES["project.identities.manage"]
    assert "console.company.users.manage" in manage.company_keys
    assert "console.company.project.users.manage" in manage.company_keys
    assert "console.project.users.manage" in manage.project_keys
