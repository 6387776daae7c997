"""The Project Overview: details, environments, one's own role and where it comes from; and the projects a
Company Overview lists."""

import re

import pytest
from django.urls import reverse

from iam_portal.access.catalogue import GUEST, REPORTER
from iam_portal.identities.models import User
from tests.helpers import bind


def test_overview_shows_details_environments_own_role_and_paths(demo, login):
    body = login("junior1").get(reverse("project_overview", args=["acme", "webshop"])).content.decode()
    assert "The public online shop." in body
    assert 'href="/companies/acme/projects/webshop/iam/"' in body
    assert '<span class="role role-developer">Developer</span>' in body
    # Names in sentences, not ids.
    assert "Developer on project Webshop (direct)" in body
    assert "Developer on company Acme (via group &quot;Acme Developers&quot;)" in body
    assert "on company acme" not in body and "on project acme/webshop" not in body
    assert "staging" in body and "production" in body
    staging = body.split('<td class="mono">staging</td>')[1].split("</tr>")[0]
    assert "Maintainer" in staging and "Yes" in staging
    production = body.split('<td class="mono">production</td>')[1].split("</tr>")[0]
    assert "Developer" in production and "No" in production


@pytest.mark.parametrize(("env_role", "sees"), [(None, []), (REPORTER, ["production"])])
def test_overview_lists_only_the_environments_the_user_may_see(demo, client, env_role, sees):
    user = User.objects.create_user("pguest@example.test", "x")
    bind(user, GUEST, demo.acme)
    bind(user, GUEST, demo.webshop)
    if env_role:
        bind(user, env_role, demo.production)
    client.force_login(user)
    body = client.get(reverse("project_overview", args=["acme", "webshop"])).content.decode()
    shown = re.findall(r'<td class="mono">([a-z-]+)</td>', body)
    assert shown == sees


def test_company_overview_lists_only_visible_projects(demo, login):
    body = login("pm").get(reverse("company_overview", args=["acme"])).content.decode()
    assert "Webshop" in body and "Payments" not in body
    body = login("owner").get(reverse("company_overview", args=["acme"])).content.decode()
    assert "Webshop" in body and "Payments" in body


def test_manager_sees_manage_wording(demo, login):
    body = login("pm").get(reverse("project_overview", args=["acme", "webshop"])).content.decode()
    assert "Manage IAM" in body
    body = login("senior").get(reverse("project_overview", args=["acme", "webshop"])).content.decode()
    assert "View IAM" in body
    assert '<span class="role role-maintainer">Maintainer</span>' in body


# -- the sidebar highlights where you are -----------------------------------------------------------------


def current_links(body: str) -> list[str]:
    """The sidebar links marked as the current page."""
    sidebar = re.search(r'<nav class="sidebar".*?</nav>', body, re.S).group(0)
    return re.findall(r'<a href="[^"]*" aria-current="page">([^<]+)</a>', sidebar)


@pytest.mark.parametrize(
    ("url", "current"),
    [
        (reverse("company_overview", args=["acme"]), ["Overview"]),
        (reverse("company_iam", args=["acme"]), ["IAM"]),
        (reverse("company_identity_remove", args=["acme", "service-account", 1]), ["IAM"]),
        (reverse("company_service_account_delete", args=["acme", 1]), ["Service accounts"]),
        (reverse("project_overview", args=["acme", "webshop"]), ["Project overview"]),
        (reverse("project_iam", args=["acme", "webshop"]), ["Project IAM"]),
        (reverse("project_role_edit", args=["acme", "webshop", "user", 1]), ["Project IAM"]),
        (reverse("project_user_add", args=["acme", "webshop"]), ["Project IAM"]),
    ],
)
def test_the_sidebar_highlights_the_page_shown(demo, login, url, current):
    url = url.replace("/user/1/", f"/user/{demo.user('senior').pk}/")
    url = url.replace("/service-account/1/", f"/service-account/{demo.deployer.pk}/")
    url = url.replace("/service-accounts/1/", f"/service-accounts/{demo.deployer.pk}/")
    response = login("owner").get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert current_links(body) == current
    on_project = "/projects/" in url
    assert ('<p class="sidebar-title">Webshop</p>' in body) is on_project
