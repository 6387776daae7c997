"""Admin list pages cost the same number of queries however many rows they show."""

import pytest

from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from iam_portal.orgs.models import Company, Environment, FeatureToggle, Project, ProjectTemplate
from tests.helpers import MODELS, admin_url, count_queries


def grow(demo, n: int, tag: str):
    """n more companies, users, projects, environments, groups, memberships, service accounts,
    templates, toggles and role bindings (of every subject and resource kind)."""
    for i in range(n):
        company = Company.objects.create(slug=f"extra-{tag}-{i}", name=f"Extra {tag} {i}")
        user = User.objects.create_user(f"extra-{tag}-{i}@acme.test", None, full_name=f"Extra {i}")
        project = Project.objects.create(company=company, slug="app", name=f"App {i}")
        env = Environment.objects.create(project=project, env_id="production", name="Production")
        group = Group.objects.create(company=company, name=f"Group {i}")
        GroupMembership.objects.create(group=group, user=user)
        sa = ServiceAccount.objects.create(company=company, name=f"sa-{i}")
        ProjectTemplate.objects.create(company=company, name=f"Template {i}")
        FeatureToggle.objects.create(company=company, key=f"feature-{i}")
        RoleBinding.objects.create(user=user, environment=env, role="reporter")
        RoleBinding.objects.create(group=group, project=project, role="developer")
        RoleBinding.objects.create(service_account=sa, company=company, role="guest")


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_query_count_does_not_grow_with_rows(admin_client, demo, model):
    url = admin_url(model)
    count_queries(admin_client, url)  # warm up (content types, session)
    grow(demo, 2, "a")
    few = count_queries(admin_client, url)
    grow(demo, 30, "b")
    many = count_queries(admin_client, url)
    assert model.objects.count() >= 32
    assert few == many, f"{model.__name__}: {few} queries for a few rows, {many} for many"


def test_rolebinding_search_and_filters_query_count(admin_client, demo):
    url = admin_url(RoleBinding) + "?q=extra&level=environment"
    grow(demo, 2, "a")
    few = count_queries(admin_client, url)
    grow(demo, 30, "b")
    assert count_queries(admin_client, url) == few


def test_group_change_page_costs_the_same_for_2_or_30_members(admin_client, demo):
    group = Group.objects.create(company=demo.acme, name="Big group")
    url = admin_url(Group, "change", group.pk)

    def add_members(tag, n):
        for i in range(n):
            user = User.objects.create_user(f"m-{tag}-{i}@acme.test", None)
            GroupMembership.objects.create(group=group, user=user)

    add_members("a", 2)
    RoleBinding.objects.create(group=group, project=demo.webshop, role="reporter")
    count_queries(admin_client, url)  # warm up (content types, session)
    few = count_queries(admin_client, url)
    add_members("b", 28)
    RoleBinding.objects.create(group=group, environment=demo.production, role="maintainer")
    RoleBinding.objects.create(group=group, company=demo.acme, role="guest")
    assert count_queries(admin_client, url) == few


def test_user_change_page_costs_the_same_for_2_or_30_bindings(admin_client, demo):
    user = User.objects.create_user("busy@acme.test", None)
    url = admin_url(User, "change", user.pk)
    RoleBinding.objects.create(user=user, company=demo.acme, role="guest")
    RoleBinding.objects.create(user=user, environment=demo.production, role="reporter")
    GroupMembership.objects.create(user=user, group=demo.developers)
    count_queries(admin_client, url)  # warm up
    few = count_queries(admin_client, url)
    grow(demo, 10, "b")
    for company in Company.objects.filter(slug__startswith="extra-b"):
        project = company.projects.get()
        RoleBinding.objects.create(user=user, company=company, role="guest")
        RoleBinding.objects.create(user=user, project=project, role="developer")
        RoleBinding.objects.create(user=user, environment=project.environments.get(), role="maintainer")
        GroupMembership.objects.create(user=user, group=company.groups.get())
    assert user.role_bindings.count() == 32
    assert count_queries(admin_client, url) == few


def test_company_and_project_change_pages_cost_the_same_for_more_rows(admin_client, demo):
    company_url = admin_url(Company, "change", demo.acme.pk)
    project_url = admin_url(Project, "change", demo.webshop.pk)
    count_queries(admin_client, company_url), count_queries(admin_client, project_url)  # warm up
    few = count_queries(admin_client, company_url), count_queries(admin_client, project_url)
    template = ProjectTemplate.objects.get()
    for i in range(20):
        Project.objects.create(company=demo.acme, slug=f"more-{i}", name=f"More {i}", template=template)
        Environment.objects.create(project=demo.webshop, env_id=f"env-{i}", name=f"Env {i}")
    assert (count_queries(admin_client, company_url), count_queries(admin_client, project_url)) == few
