"""The resolver on the demo data: who may do what where, how roles add up and flow down, and what it costs."""

import pytest
from django.contrib.auth.models import AnonymousUser

from iam_portal.access import catalogue
from iam_portal.access.catalogue import Level
from iam_portal.access.models import RoleBinding
from iam_portal.access.resolver import ROOT_SA_PATH, SUPERUSER_PATH, AccessResolver
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount
from iam_portal.orgs.models import Environment, Project
from tests.helpers import bind

DEVELOPERS_PATH = 'Developer on company acme (via group "Acme Developers")'


def environments_of(project):
    return list(Environment.objects.select_related("project__company").filter(project=project))


def all_envs(company):
    return list(Environment.objects.select_related("project__company").filter(project__company=company))


def all_projects(company):
    return list(Project.objects.select_related("company").filter(company=company))


def assert_can(resolver, target, yes=(), no=()):
    """The resolver allows every capability of `yes` on `target` and none of `no` (all named on failure)."""
    answers = {capability: resolver.can(capability, target) for capability in (*yes, *no)}
    assert answers == {**dict.fromkeys(yes, True), **dict.fromkeys(no, False)}


def company_keys(role):
    return catalogue.keys_for(role, Level.COMPANY)


def project_keys(role):
    return catalogue.keys_for(role, Level.PROJECT)


def environment_keys(role):
    return catalogue.keys_for(role, Level.ENVIRONMENT)


# -- the demo team -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["junior1", "junior2"])
def test_junior_may_deploy_to_staging_but_not_to_production(demo, name):
    resolver = AccessResolver(demo.user(name))
    assert_can(resolver, demo.staging, yes=["environment.deploy", "environment.pods.restart"])
    assert_can(
        resolver,
        demo.production,
        yes=["environment.view"],
        no=["environment.deploy", "environment.pods.restart"],
    )


@pytest.mark.parametrize("name", ["designer1", "designer2"])
def test_designers_see_webshop_but_cannot_commit_its_configuration(demo, name):
    resolver = AccessResolver(demo.user(name))
    webshop_no = ["project.configuration.update", "project.repository.create"]
    assert_can(resolver, demo.webshop, yes=["project.view", "project.environments.view"], no=webshop_no)
    assert_can(resolver, demo.production, yes=["environment.view"])
    assert_can(resolver, demo.staging, yes=["environment.view"], no=["environment.deploy"])


def test_designers_see_nothing_of_payments_beyond_company_guest(demo):
    resolver = AccessResolver(demo.user("designer1"))
    assert not resolver.can("project.view", demo.payments)
    assert resolver.keys(demo.payments) == company_keys("guest")


def test_company_owner_reaches_every_project_and_environment_of_acme(demo):
    resolver = AccessResolver(demo.user("owner"))
    projects = all_projects(demo.acme)
    assert {p.slug for p in projects} == {"webshop", "payments"}
    for project in projects:
        for capability in (
            "project.view",
            "project.configuration.update",
            "project.secrets.manage",
            "project.details.update",
            "project.identities.manage",
            "project.delete",
        ):
            assert resolver.can(capability, project), (capability, project.slug)
    envs = all_envs(demo.acme)
    assert len(envs) == 3
    for env in envs:
        for capability in ("environment.view", "environment.deploy", "environment.jobs.create"):
            assert resolver.can(capability, env), (capability, env.env_id)
    assert resolver.can("company.identities.manage", demo.acme)
    assert resolver.role_on(demo.production) == "company-owner"


def test_company_owner_reaches_nothing_of_another_company(demo):
    resolver = AccessResolver(demo.user("owner"))
    assert resolver.permissions(demo.globex) == {}
    assert resolver.permissions(demo.research) == {}
    for env in environments_of(demo.research):
        assert resolver.permissions(env) == {}
        assert not resolver.can("environment.view", env)
    assert not resolver.can("company.view", demo.globex)
    assert not resolver.has_company_access(demo.globex)
    assert list(resolver.visible_projects(demo.globex)) == []


@pytest.mark.parametrize("name", ["pm", "lead"])
def test_project_admins_manage_webshop_identities_but_not_the_companys(demo, name):
    resolver = AccessResolver(demo.user(name))
    assert resolver.can("project.identities.manage", demo.webshop)
    assert resolver.has("console.project.users.manage", demo.webshop)
    assert not resolver.can("project.identities.manage", demo.payments)
    assert not resolver.can("company.identities.manage", demo.acme)
    assert not resolver.has("console.company.users.manage", demo.acme)


def test_senior_may_deploy_everywhere_in_webshop_only(demo):
    resolver = AccessResolver(demo.user("senior"))
    for env in environments_of(demo.webshop):
        assert resolver.can("environment.deploy", env), env.env_id
        assert resolver.can("environment.jobs.delete", env), env.env_id
    for env in environments_of(demo.payments):
        assert not resolver.can("environment.deploy", env)
        assert not resolver.can("environment.view", env)


def test_super_user_holds_every_key_including_root_keys(demo):
    resolver = AccessResolver(demo.user("admin"))
    permissions = resolver.permissions(demo.production)
    assert set(permissions) == catalogue.ALL_KEYS
    assert set(catalogue.ROOT_PERMISSIONS) <= set(permissions)
    assert all(paths == [SUPERUSER_PATH] for paths in permissions.values())
    assert resolver.has("console.root.project.delete", demo.acme)
    assert resolver.has("console.environment.dashboard.manage", demo.production)  # no role grants it
    for capability in catalogue.CAPABILITIES.values():
        target = {Level.COMPANY: demo.globex, Level.PROJECT: demo.research}.get(capability.target)
        target = target or environments_of(demo.research)[0]
        assert resolver.can(capability.name, target), capability.name


def test_super_user_gets_the_keys_of_the_target_level_and_above(demo):
    resolver = AccessResolver(demo.user("admin"))
    on_company = set(resolver.permissions(demo.acme))
    assert "console.company.view" in on_company
    assert "console.project.view" not in on_company
    assert "console.environment.view" not in on_company
    on_project = set(resolver.permissions(demo.webshop))
    assert "console.project.view" in on_project
    assert "console.environment.view" not in on_project


# -- roles add up ----------------------------------------------------------------------------------------


def test_junior_holds_company_developer_through_the_group_plus_direct_guest(demo):
    resolver = AccessResolver(demo.user("junior1"))
    grants = {(g.role, g.level, g.group_name) for g in resolver.grants(demo.acme)}
    assert grants == {("developer", Level.COMPANY, "Acme Developers"), ("guest", Level.COMPANY, None)}
    permissions = resolver.permissions(demo.acme)
    assert set(permissions) == company_keys("developer") | company_keys("guest")
    assert permissions["console.company.project.configuration.update"] == [DEVELOPERS_PATH]
    assert sorted(permissions["console.company.view"]) == sorted(
        [DEVELOPERS_PATH, "Guest on company acme (direct)"]
    )


def test_junior_on_staging_adds_company_project_and_environment_roles(demo):
    permissions = AccessResolver(demo.user("junior1")).permissions(demo.staging)
    assert set(permissions) == (
        company_keys("developer") | project_keys("developer") | environment_keys("maintainer")
    )
    grants = AccessResolver(demo.user("junior1")).grants(demo.staging)
    assert {(g.role, g.level) for g in grants} == {
        ("developer", Level.COMPANY),
        ("guest", Level.COMPANY),
        ("developer", Level.PROJECT),
        ("maintainer", Level.ENVIRONMENT),
    }


def test_a_lower_level_role_cannot_take_away_what_a_higher_level_grants(demo, persona):
    user = persona("no-access")
    bind(user, "maintainer", demo.acme)
    bind(user, "guest", demo.webshop)
    bind(user, "reporter", demo.production)
    resolver = AccessResolver(user)
    assert resolver.can("environment.deploy", demo.production)
    assert resolver.can("project.configuration.update", demo.webshop)
    assert resolver.role_on(demo.production) == "maintainer"


def test_two_groups_and_a_direct_binding_add_up(demo, persona):
    user = persona("no-access")
    ops = Group.objects.create(company=demo.acme, name="Ops")
    GroupMembership.objects.create(group=ops, user=user)
    GroupMembership.objects.create(group=demo.developers, user=user)
    bind(ops, "maintainer", demo.production)
    bind(user, "reporter", demo.webshop)
    permissions = AccessResolver(user).permissions(demo.production)
    assert set(permissions) == (
        company_keys("developer") | project_keys("reporter") | environment_keys("maintainer")
    )
    assert permissions["console.environment.deploy.trigger"] == [
        'Maintainer on environment acme/webshop/production (via group "Ops")'
    ]
    assert permissions["console.project.view"] == ["Reporter on project acme/webshop (direct)"]


# -- inheritance ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", catalogue.ROLE_IDS)
def test_a_company_role_flows_down_to_every_project_and_environment(demo, persona, role):
    user = persona("no-access")
    bind(user, role, demo.acme)
    resolver = AccessResolver(user)
    assert resolver.keys(demo.acme) == company_keys(role)
    for project in all_projects(demo.acme):
        assert resolver.keys(project) == company_keys(role)
    for env in all_envs(demo.acme):
        assert resolver.keys(env) == company_keys(role)
        assert resolver.role_on(env) == role
    assert resolver.keys(demo.globex) == frozenset()


def test_company_maintainer_capabilities_reach_project_and_environment(demo, persona):
    user = persona("no-access")
    bind(user, "maintainer", demo.acme)
    resolver = AccessResolver(user)
    assert resolver.can("project.view", demo.payments)
    assert resolver.can("project.configuration.update", demo.payments)
    assert not resolver.can("project.secrets.manage", demo.payments)
    for env in all_envs(demo.acme):
        assert resolver.can("environment.view", env)
        assert resolver.can("environment.deploy", env)
        assert resolver.can("environment.jobs.create", env)
        assert not resolver.can("environment.dashboards.manage", env)
    assert not resolver.can("company.identities.manage", demo.acme)


def test_a_project_role_flows_down_to_its_environments_only(demo, persona):
    user = persona("no-access")
    bind(user, "maintainer", demo.payments)
    resolver = AccessResolver(user)
    assert resolver.keys(demo.acme) == frozenset()
    assert resolver.keys(demo.payments) == project_keys("maintainer")
    for env in environments_of(demo.payments):
        assert resolver.keys(env) == project_keys("maintainer")
        assert resolver.can("environment.deploy", env)
    for env in environments_of(demo.webshop):
        assert resolver.keys(env) == frozenset()
    assert not resolver.can("project.view", demo.webshop)


def test_an_environment_role_does_not_flow_up_or_sideways(demo, persona):
    user = persona("no-access")
    bind(user, "maintainer", demo.staging)
    resolver = AccessResolver(user)
    assert resolver.keys(demo.staging) == environment_keys("maintainer")
    assert resolver.can("environment.deploy", demo.staging)
    assert resolver.keys(demo.production) == frozenset()
    assert resolver.keys(demo.webshop) == frozenset()
    assert resolver.keys(demo.acme) == frozenset()


def test_an_environment_reporter_only_views_that_environment(demo, persona):
    user = persona("no-access")
    bind(user, "reporter", demo.production)
    resolver = AccessResolver(user)
    assert resolver.keys(demo.production) == {"console.environment.view"}
    assert resolver.can("environment.view", demo.production)
    assert not resolver.can("environment.deploy", demo.production)
    assert not resolver.can("environment.view", demo.staging)


# -- groups and service accounts as identities -----------------------------------------------------------


def test_a_group_is_an_identity_with_its_own_bindings(demo):
    resolver = AccessResolver(demo.developers)
    assert resolver.keys(demo.production) == company_keys("developer")
    assert resolver.can("project.configuration.update", demo.webshop)
    assert not resolver.can("environment.deploy", demo.production)
    assert resolver.role_on(demo.webshop) == "developer"
    assert resolver.has_company_access(demo.acme)
    assert not resolver.has_company_access(demo.globex)
    paths = resolver.permissions(demo.acme)["console.company.view"]
    assert len(paths) == 1
    assert paths[0].startswith("Developer on company acme")


def test_a_group_does_not_hold_its_members_direct_bindings(demo):
    resolver = AccessResolver(demo.developers)
    assert not resolver.can("environment.deploy", demo.staging)
    assert resolver.keys(demo.staging) == company_keys("developer")


def test_a_service_account_is_an_identity_with_its_own_bindings(demo):
    deployer = AccessResolver(demo.deployer)
    for env in all_envs(demo.acme):
        assert deployer.can("environment.deploy", env)
    assert deployer.role_on(demo.production) == "maintainer"
    assert deployer.permissions(demo.production)["console.company.project.environment.deploy.trigger"] == [
        "Maintainer on company acme (direct)"
    ]
    reader = AccessResolver(demo.reader)
    assert reader.can("environment.view", demo.production)
    assert not reader.can("environment.deploy", demo.production)
    assert not reader.can("project.configuration.update", demo.webshop)
    assert reader.keys(demo.research) == frozenset()


def test_root_service_account_holds_its_root_keys_only(demo):
    bot = ServiceAccount.objects.create(
        company=None,
        name="root-bot",
        root_permissions=["console.root.view", "console.root.company.create", "not.a.root.key"],
    )
    resolver = AccessResolver(bot)
    assert resolver.root_keys == {"console.root.view", "console.root.company.create"}
    assert resolver.permissions(demo.production) == {
        "console.root.company.create": [ROOT_SA_PATH],
        "console.root.view": [ROOT_SA_PATH],
    }
    assert resolver.can("company.view", demo.globex)
    assert resolver.can("project.view", demo.webshop)
    assert resolver.can("environment.view", demo.production)
    assert not resolver.can("environment.deploy", demo.production)
    assert not resolver.can("company.delete", demo.acme)
    assert resolver.has_company_access(demo.globex)
    assert set(resolver.companies()) == {demo.acme, demo.globex}
    assert set(resolver.visible_projects(demo.acme)) == {demo.webshop, demo.payments}


def test_root_service_account_without_view_key_sees_no_company(demo):
    bot = ServiceAccount.objects.create(
        company=None, name="creator", root_permissions=["console.root.company.create"]
    )
    resolver = AccessResolver(bot)
    assert list(resolver.companies()) == []
    assert list(resolver.visible_projects(demo.acme)) == []
    assert resolver.can("company.project.create", demo.acme) is False
    assert resolver.has("console.root.company.create", demo.acme)


def test_staff_user_holds_the_root_keys_listed_on_them(demo, persona):
    staff = persona("staff", keys=["console.root.user.bind"])
    resolver = AccessResolver(staff)
    assert resolver.permissions(demo.acme) == {"console.root.user.bind": [ROOT_SA_PATH]}
    assert resolver.can("company.identities.manage", demo.acme)
    assert resolver.can("project.identities.manage", demo.research)
    assert not resolver.can("company.view", demo.acme)


def test_root_keys_of_a_non_staff_user_are_ignored(demo, persona):
    user = persona("no-access", keys=["console.root.view"])
    assert AccessResolver(user).root_keys == frozenset()
    assert AccessResolver(user).permissions(demo.acme) == {}


# -- revocation and memoisation ---------------------------------------------------------------------------


def test_a_revoked_binding_stops_working_for_a_new_resolver(demo):
    junior = demo.user("junior1")
    before = AccessResolver(junior)
    assert before.can("environment.deploy", demo.staging)
    RoleBinding.objects.filter(user=junior, environment=demo.staging).delete()
    assert not AccessResolver(junior).can("environment.deploy", demo.staging)
    # The old resolver lives for one request and keeps its answer.
    assert before.can("environment.deploy", demo.staging)


def test_leaving_a_group_drops_its_roles_for_a_new_resolver(demo):
    junior = demo.user("junior1")
    key = "console.company.project.configuration.update"
    assert AccessResolver(junior).has(key, demo.acme)
    GroupMembership.objects.filter(user=junior, group=demo.developers).delete()
    assert not AccessResolver(junior).has(key, demo.acme)


def test_a_changed_role_is_seen_by_a_new_resolver(demo):
    designer = demo.user("designer1")
    assert not AccessResolver(designer).can("project.configuration.update", demo.webshop)
    RoleBinding.objects.filter(user=designer, project=demo.webshop).update(role="developer")
    assert AccessResolver(designer).can("project.configuration.update", demo.webshop)


def test_one_resolver_memoises_each_target(demo, django_assert_num_queries):
    resolver = AccessResolver(demo.user("junior1"))
    with django_assert_num_queries(1):
        assert resolver.can("environment.deploy", demo.staging)
    with django_assert_num_queries(0):
        assert resolver.can("environment.deploy", demo.staging)
        assert resolver.has("console.environment.view", demo.staging)
        assert resolver.permissions(demo.staging)
        assert resolver.role_on(demo.staging) == "maintainer"
        assert resolver.grants(demo.staging)


@pytest.mark.parametrize("check", ["can", "has", "permissions", "grants", "role_on"])
def test_a_permission_check_on_an_environment_costs_one_query(demo, django_assert_num_queries, check):
    resolver = AccessResolver(demo.user("junior1"))
    calls = {
        "can": lambda: resolver.can("environment.deploy", demo.production),
        "has": lambda: resolver.has("console.environment.deploy.trigger", demo.production),
        "permissions": lambda: resolver.permissions(demo.production),
        "grants": lambda: resolver.grants(demo.production),
        "role_on": lambda: resolver.role_on(demo.production),
    }
    with django_assert_num_queries(1):
        calls[check]()
    with django_assert_num_queries(0):
        calls[check]()


def test_each_target_costs_one_query(demo, django_assert_num_queries):
    resolver = AccessResolver(demo.user("senior"))
    with django_assert_num_queries(3):
        resolver.can("company.view", demo.acme)
        resolver.can("project.view", demo.webshop)
        resolver.can("environment.deploy", demo.production)


def test_a_service_account_check_costs_one_query(demo, django_assert_num_queries):
    resolver = AccessResolver(demo.deployer)
    with django_assert_num_queries(1):
        assert resolver.can("environment.deploy", demo.production)


def test_visible_projects_costs_one_query(demo, django_assert_num_queries):
    resolver = AccessResolver(demo.user("designer1"))
    with django_assert_num_queries(1):
        projects = list(resolver.visible_projects(demo.acme))
    assert projects == [demo.webshop]


def test_visible_environments_costs_one_query(demo, django_assert_num_queries):
    resolver = AccessResolver(demo.user("junior1"))
    with django_assert_num_queries(1):
        envs = list(resolver.visible_environments(demo.webshop))
        assert {e.env_id for e in envs} == {"production", "staging"}
        assert all(e.project.company.slug == "acme" for e in envs)


def test_super_user_checks_cost_no_query(demo, django_assert_num_queries):
    resolver = AccessResolver(demo.user("admin"))
    with django_assert_num_queries(0):
        assert resolver.can("environment.deploy", demo.production)


# -- who gets nothing -------------------------------------------------------------------------------------


def test_an_inactive_user_gets_nothing(demo):
    owner = demo.user("owner")
    owner.is_active = False
    owner.save()
    resolver = AccessResolver(owner)
    assert resolver.permissions(demo.acme) == {}
    assert resolver.permissions(demo.production) == {}
    assert not resolver.can("environment.deploy", demo.production)
    assert resolver.role_on(demo.acme) is None
    assert not resolver.has_company_access(demo.acme)
    assert list(resolver.companies()) == []
    assert list(resolver.visible_projects(demo.acme)) == []
    assert list(resolver.visible_environments(demo.webshop)) == []


def test_an_inactive_super_user_gets_nothing(demo):
    admin = demo.user("admin")
    admin.is_active = False
    admin.save()
    resolver = AccessResolver(admin)
    assert not resolver.is_superuser
    assert resolver.permissions(demo.acme) == {}
    assert list(resolver.companies()) == []


def test_an_inactive_group_member_gets_nothing_through_the_group(demo):
    junior = demo.user("junior1")
    junior.is_active = False
    junior.save()
    assert not AccessResolver(junior).has_company_access(demo.acme)


@pytest.mark.parametrize("anonymous", [AnonymousUser(), None], ids=["anonymous", "none"])
def test_anonymous_gets_nothing_and_costs_no_query(demo, django_assert_num_queries, anonymous):
    resolver = AccessResolver(anonymous)
    with django_assert_num_queries(0):
        assert resolver.permissions(demo.production) == {}
        assert not resolver.can("environment.view", demo.production)
        assert resolver.role_on(demo.webshop) is None
        assert not resolver.has_company_access(demo.acme)
        assert resolver.root_keys == frozenset()
    assert list(resolver.companies()) == []
    assert list(resolver.visible_projects(demo.acme)) == []
    assert list(resolver.visible_environments(demo.webshop)) == []


def test_a_user_without_bindings_gets_nothing(demo, persona):
    resolver = AccessResolver(persona("no-access"))
    assert resolver.permissions(demo.production) == {}
    assert list(resolver.companies()) == []
    assert not resolver.has_company_access(demo.acme)


# -- lists ------------------------------------------------------------------------------------------------


LISTINGS = {
    "projects of acme": lambda demo, resolver: {p.slug for p in resolver.visible_projects(demo.acme)},
    "environments of webshop": lambda demo, resolver: {
        e.env_id for e in resolver.visible_environments(demo.webshop)
    },
    "companies": lambda demo, resolver: {c.slug for c in resolver.companies()},
}


@pytest.mark.parametrize(
    ("listing", "name", "expected"),
    [
        ("projects of acme", "owner", {"webshop", "payments"}),
        ("projects of acme", "admin", {"webshop", "payments"}),
        ("projects of acme", "junior1", {"webshop", "payments"}),  # company Developer through the group
        ("projects of acme", "pm", {"webshop"}),
        ("projects of acme", "designer1", {"webshop"}),
        ("projects of acme", "owner@globex.test", set()),
        ("environments of webshop", "designer1", {"production", "staging"}),
        ("environments of webshop", "senior", {"production", "staging"}),
        ("environments of webshop", "owner", {"production", "staging"}),
        ("environments of webshop", "owner@globex.test", set()),
        ("companies", "owner", {"acme"}),
        ("companies", "junior1", {"acme"}),
        ("companies", "owner@globex.test", {"globex"}),
        ("companies", "admin", {"acme", "globex"}),
    ],
)
def test_what_each_demo_account_sees_listed(demo, listing, name, expected):
    assert LISTINGS[listing](demo, AccessResolver(demo.user(name))) == expected


def test_company_guest_does_not_see_the_projects(demo, persona):
    user = persona("no-access")
    bind(user, "guest", demo.acme)
    assert list(AccessResolver(user).visible_projects(demo.acme)) == []


def test_a_group_project_binding_makes_the_project_visible_to_members(demo, persona):
    user = persona("no-access")
    team = Group.objects.create(company=demo.acme, name="Payments team")
    GroupMembership.objects.create(group=team, user=user)
    bind(team, "guest", demo.payments)
    resolver = AccessResolver(user)
    assert [p.slug for p in resolver.visible_projects(demo.acme)] == ["payments"]
    assert list(resolver.visible_environments(demo.payments)) == []


def test_visible_projects_of_other_company(demo):
    resolver = AccessResolver(demo.user("owner@globex.test"))
    assert [p.slug for p in resolver.visible_projects(demo.globex)] == ["research"]


@pytest.mark.parametrize(
    ("role", "target", "projects", "environments"),
    [
        # An environment binding shows only that environment (not its project).
        ("reporter", "staging", [], ["staging"]),
        # A project Guest does not see the project's environments.
        ("guest", "webshop", ["webshop"], []),
    ],
)
def test_one_binding_shows_only_what_it_reaches(demo, persona, role, target, projects, environments):
    user = persona("no-access")
    bind(user, role, getattr(demo, target))
    resolver = AccessResolver(user)
    assert [p.slug for p in resolver.visible_projects(demo.acme)] == projects
    assert [e.env_id for e in resolver.visible_environments(demo.webshop)] == environments


def test_companies_of_service_accounts(demo):
    assert [c.slug for c in AccessResolver(demo.deployer).companies()] == ["acme"]
    assert [c.slug for c in AccessResolver(demo.reader).companies()] == ["acme"]


def test_companies_include_both_for_a_user_in_two_companies(demo):
    senior = demo.user("senior")
    bind(senior, "reporter", demo.globex)
    assert {c.slug for c in AccessResolver(senior).companies()} == {"acme", "globex"}


# -- role_on and company access ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "target", "expected"),
    [
        ("junior1", "staging", "maintainer"),
        ("junior1", "production", "developer"),
        ("junior1", "acme", "developer"),
        ("designer1", "webshop", "reporter"),
        ("designer1", "payments", "guest"),
        ("pm", "production", "project-admin"),
        ("owner", "staging", "company-owner"),
        ("admin", "research", "company-owner"),
        ("owner", "research", None),
        ("owner@globex.test", "acme", None),
    ],
)
def test_role_on_is_the_highest_role_reaching_the_target(demo, name, target, expected):
    assert AccessResolver(demo.user(name)).role_on(getattr(demo, target)) == expected


def test_company_access_through_group_membership_only(demo, persona):
    user = persona("no-access")
    idle = Group.objects.create(company=demo.acme, name="No roles")
    GroupMembership.objects.create(group=idle, user=user)
    resolver = AccessResolver(user)
    assert resolver.has_company_access(demo.acme)
    assert not resolver.has_company_access(demo.globex)
    assert resolver.permissions(demo.acme) == {}
    assert [c.slug for c in resolver.companies()] == ["acme"]
    assert list(resolver.visible_projects(demo.acme)) == []


def test_company_access_through_a_direct_company_binding(demo, persona):
    user = persona("no-access")
    bind(user, "guest", demo.globex)
    resolver = AccessResolver(user)
    assert resolver.has_company_access(demo.globex)
    assert not resolver.has_company_access(demo.acme)


def test_a_project_binding_alone_gives_no_company_access(demo, persona):
    user = persona("no-access")
    bind(user, "maintainer", demo.webshop)
    resolver = AccessResolver(user)
    assert not resolver.has_company_access(demo.acme)
    assert list(resolver.companies()) == []
    assert resolver.can("environment.deploy", demo.production)


def test_companies_agree_with_company_access_for_a_service_account_without_bindings(demo):
    idle = ServiceAccount.objects.create(company=demo.acme, name="idle-bot")
    resolver = AccessResolver(idle)
    assert not resolver.has_company_access(demo.acme)
    assert list(resolver.companies()) == []


# -- explanations -----------------------------------------------------------------------------------------


def test_explanation_paths_name_role_level_resource_and_source(demo):
    permissions = AccessResolver(demo.user("junior1")).permissions(demo.staging)
    assert permissions["console.environment.deploy.trigger"] == [
        "Maintainer on environment acme/webshop/staging (direct)"
    ]
    assert permissions["console.project.configuration.update"] == [
        "Developer on project acme/webshop (direct)"
    ]
    assert permissions["console.company.project.configuration.update"] == [DEVELOPERS_PATH]
    assert permissions["console.company.view"] == [DEVELOPERS_PATH, "Guest on company acme (direct)"]


def test_permissions_are_sorted_by_key(demo):
    permissions = AccessResolver(demo.user("owner")).permissions(demo.production)
    assert list(permissions) == sorted(permissions)
    assert set(permissions) == company_keys("company-owner")
    assert permissions["console.company.users.manage"] == ["Company Owner on company acme (direct)"]


def test_project_admin_path_on_an_environment(demo):
    permissions = AccessResolver(demo.user("pm")).permissions(demo.production)
    assert permissions["console.project.environment.deploy.trigger"] == [
        "Project Administrator on project acme/webshop (direct)"
    ]
