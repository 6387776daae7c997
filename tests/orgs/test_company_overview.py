"""The company list at / and the Company Overview: visible projects, environments, the Access Management
navigation and the company switcher."""

from __future__ import annotations

import re

import pytest

from iam_portal.access.catalogue import COMPANY_OWNER, GUEST, REPORTER
from iam_portal.identities.models import User
from iam_portal.orgs.models import Company
from tests.helpers import ANONYMOUS, NO_ACCESS, OTHER_COMPANY_OWNER, Persona, assert_access_matrix, bind

ACME = "/companies/acme/"
MANAGE_LINKS = ("/companies/acme/iam/", "/companies/acme/users/", "/companies/acme/groups/")


def test_user_with_two_companies_sees_a_list(demo, login):
    bind(demo.user("owner"), GUEST, demo.globex)
    response = login("owner").get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<a href="/companies/acme/">Acme</a>' in html
    assert '<a href="/companies/globex/">Globex</a>' in html


def test_user_without_companies_sees_the_empty_state(demo, login):
    User.objects.create_user("lonely@example.test", "x")
    html = login("lonely@example.test").get("/").content.decode()
    assert "You have no access to any company yet." in html
    assert "/companies/acme/" not in html


def test_home_requires_sign_in(db, client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


# -- Company Overview -----------------------------------------------------------------------------


def project_names(html: str) -> list[str]:
    return re.findall(r'<h3 class="project-title"><a href="[^"]+">([^<]+)</a></h3>', html)


@pytest.mark.parametrize(
    ("who", "projects"),
    [
        ("owner", ["Payments", "Webshop"]),
        ("admin@acme.test", ["Payments", "Webshop"]),
        ("designer1", ["Webshop"]),
        ("pm", ["Webshop"]),
        ("junior1", ["Payments", "Webshop"]),  # Developer on Acme through the group sees every project
    ],
)
def test_overview_lists_only_visible_projects(demo, login, who, projects):
    html = login(who).get(ACME).content.decode()
    assert sorted(project_names(html)) == projects


def test_overview_shows_environments_and_own_role(demo, login):
    html = login("owner").get(ACME).content.decode()
    assert '<li class="env env-production">production</li>' in html
    assert '<li class="env">staging</li>' in html
    assert "your company role:" in html and "Company Owner" in html


def test_guest_without_projects_sees_the_empty_state(demo, persona, login):
    html = login(persona("company", GUEST)).get(ACME).content.decode()
    assert project_names(html) == []
    assert "You cannot see any project of Acme yet." in html


def test_overview_of_a_company_one_cannot_reach_is_404(demo, persona):
    # A project Reporter (like designer1) reaches the company through its Guest role; anonymous visitors
    # are sent to sign in first.
    matrix = {ANONYMOUS: 302, OTHER_COMPANY_OWNER: 404, NO_ACCESS: 404, Persona("project", REPORTER): 200}
    assert_access_matrix(persona, matrix, get=ACME)


@pytest.mark.parametrize(
    ("who", "may_manage"),
    [
        ("owner", True),
        ("admin@acme.test", True),
        ("owner-via-group", True),
        ("pm", False),
        ("designer1", False),
        ("junior1", False),
    ],
)
def test_access_management_links_only_for_those_who_manage(demo, login, persona, who, may_manage):
    if who == "owner-via-group":
        who = persona("company", COMPANY_OWNER, via_group=True)
    html = login(who).get(ACME).content.decode()
    assert ("Access Management" in html) == may_manage
    for href in MANAGE_LINKS:
        assert (f'href="{href}"' in html) == may_manage


def test_company_switcher_lists_reachable_companies(demo, login):
    bind(demo.user("owner"), GUEST, demo.globex)
    Company.objects.create(slug="hidden", name="Hidden Co")
    html = login("owner").get(ACME).content.decode()
    switcher = html.split('aria-label="Companies"', 1)[1].split("</nav>", 1)[0]
    assert "Acme" in switcher and "Globex" in switcher and "Hidden Co" not in switcher
