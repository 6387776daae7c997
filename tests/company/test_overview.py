"""Sign-in and sign-out, the company list at /, the Company Overview, /healthz and the security headers."""

from __future__ import annotations

import re

import pytest

from iam_portal.access.catalogue import COMPANY_OWNER, GUEST
from iam_portal.identities.models import User
from iam_portal.orgs.models import Company
from tests.company.conftest import bind

LOGIN = "/accounts/login/"
LOGOUT = "/accounts/logout/"
ACME = "/companies/acme/"
MANAGE_LINKS = ("/companies/acme/iam/", "/companies/acme/users/", "/companies/acme/groups/")


def test_login_page_renders_a_labelled_form(db, client):
    response = client.get(LOGIN)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Sign in</h1>" in html
    assert '<label for="id_username">Email</label>' in html
    assert 'autocomplete="username"' in html and 'autocomplete="current-password"' in html
    assert '<label for="id_password">Password</label>' in html
    assert "csrfmiddlewaretoken" in html


def test_sign_in_with_email_and_password_lands_on_the_only_company(demo, client):
    response = client.post(LOGIN, {"username": "owner@acme.test", "password": demo.password}, follow=True)
    assert response.redirect_chain == [("/", 302), (ACME, 302)]
    assert response.status_code == 200
    assert response.wsgi_request.user.email == "owner@acme.test"
    assert "<h1>Acme</h1>" in response.content.decode()


def test_sign_in_email_is_case_insensitive_and_honours_next(demo, client):
    response = client.post(
        LOGIN, {"username": "OWNER@Acme.TEST", "password": demo.password, "next": "/companies/acme/iam/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/companies/acme/iam/"


def test_wrong_password_is_refused(demo, client):
    response = client.post(LOGIN, {"username": "owner@acme.test", "password": "wrong"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated
    assert client.get("/").status_code == 302


def test_inactive_account_cannot_sign_in(demo, client):
    User.objects.filter(email="owner@acme.test").update(is_active=False)
    response = client.post(LOGIN, {"username": "owner@acme.test", "password": demo.password})
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated


def test_login_never_redirects_off_site(demo, client):
    response = client.post(
        LOGIN, {"username": "owner@acme.test", "password": demo.password, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


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


def test_logout_is_post_only(demo, login):
    client = login("owner")
    assert client.get(LOGOUT).status_code == 405
    assert client.get("/").status_code == 302  # still signed in: redirected to the company
    assert client.get(ACME).status_code == 200
    response = client.post(LOGOUT)
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert client.get(ACME)["Location"] == f"{LOGIN}?next={ACME}"


def test_pages_offer_a_sign_out_form(demo, login):
    html = login("owner").get(ACME).content.decode()
    assert '<form method="post" action="/accounts/logout/"' in html


def test_healthz(db, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-store" in response["Cache-Control"]


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
    assert '<span class="env env-production">production</span>' in html
    assert '<span class="env">staging</span>' in html
    assert "your company role:" in html and "Company Owner" in html


def test_guest_without_projects_sees_the_empty_state(demo, make_member, client):
    client.force_login(make_member(GUEST))
    html = client.get(ACME).content.decode()
    assert project_names(html) == []
    assert "You cannot see any project of Acme yet." in html


@pytest.mark.parametrize(
    ("who", "status"),
    [("owner@globex.test", 404), ("lonely@example.test", 404), ("designer1", 200)],
)
def test_overview_of_a_company_one_cannot_reach_is_404(demo, login, who, status):
    User.objects.get_or_create(email="lonely@example.test")
    assert login(who).get(ACME).status_code == status


def test_overview_requires_sign_in(demo, client):
    assert client.get(ACME)["Location"] == f"{LOGIN}?next={ACME}"


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
def test_access_management_links_only_for_those_who_manage(demo, login, make_member, who, may_manage):
    if who == "owner-via-group":
        who = make_member(COMPANY_OWNER, via_group=True).email
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


# -- security headers -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", [LOGIN, ACME, "/companies/acme/iam/"])
def test_security_headers(demo, login, client, url):
    response = (client if url == LOGIN else login("owner")).get(url)
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    directives = {
        part.strip().split()[0]: part.strip().split()[1:] for part in csp.split(";") if part.strip()
    }
    assert directives["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_pages_carry_no_inline_script_and_configure_htmx_by_meta(demo, login):
    html = login("owner").get("/companies/acme/iam/").content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert '<meta name="htmx-config"' in html
    assert '"allowEval":false' in html and '"selfRequestsOnly":true' in html
    assert "X-CSRFToken" in html  # the CSRF header for htmx on <body>
    assert "cdn" not in html.lower()
