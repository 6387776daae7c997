"""The access page of one identity (issue 13, part 1): /companies/<company>/access/<kind>/<id>/.

Its roles and paths on the company and on every project and environment, what each allows, and the
"why can they …?" answers, on the small `initech` fixture (tests/access/conftest.py) with every expectation
written out by hand, and checked against the resolver asked one target at a time."""

import pytest
import time_machine
from django.urls import reverse

from iam_portal.access import catalogue
from iam_portal.access.resolver import AccessResolver
from iam_portal.access.subjects import KINDS, company_subjects
from iam_portal.identities.services import service_account_secret_rotate
from tests.helpers import HX, parse_html

D, G, R, M, PA = "developer", "guest", "reporter", "maintainer", "project-admin"
C, P, E = "company", "project", "environment"


def page_url(company, kind: str, pk: int, **question) -> str:
    url = reverse("identity_access", args=[company.slug, kind, pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in question.items()) if question else "")


def rows(response) -> dict:
    """{resource path: (effective role, sorted paths (role, level, group, inherited))} as the page found them."""
    found = response.context["access"]
    listed = [found.company]
    for project in found.projects:
        listed += [project, *project.environments]
    return {
        row.resource.path: (
            row.role,
            sorted((g.role, g.level, g.group_name or "", g.inherited) for g in row.grants),
        )
        for row in listed
    }


def assert_matches_the_resolver(subject, response):
    """Every row says what a fresh resolver says of that resource alone (one query per target)."""
    found = response.context["access"]
    listed = [found.company]
    for project in found.projects:
        listed += [project, *project.environments]
    for row in listed:
        resolver = AccessResolver(subject)
        assert row.role == resolver.role_on(row.resource), row.resource.path
        assert sorted(map(repr, row.grants)) == sorted(map(repr, resolver.grants(row.resource)))
        shown = {label for _, labels in row.allows for label in labels}
        for _, capabilities in catalogue.capability_groups(row.resource.level):
            for capability in capabilities:
                assert (capability.label in shown) == resolver.can(capability.name, row.resource), (
                    row.resource.path,
                    capability.name,
                )


# -- roles and paths -------------------------------------------------------------------------------------

COMPANY_GRANTS = [(D, C, "Devs", False), (G, C, "", False)]
INHERITED = [(D, C, "Devs", True), (G, C, "", True)]
UMA = {
    "initech": (D, COMPANY_GRANTS),
    "initech/alpha": (D, INHERITED),
    "initech/alpha/production": (M, sorted([*INHERITED, (M, E, "", False), (M, E, "Ops", False)])),
    "initech/alpha/dev": (D, INHERITED),
    "initech/beta": (PA, sorted([*INHERITED, (PA, P, "Leads", False)])),
    "initech/beta/production": (PA, sorted([*INHERITED, (PA, P, "Leads", True)])),
}


def test_a_users_roles_everywhere_with_every_path(initech, login):
    response = login(initech.boss).get(page_url(initech.company, "user", initech.uma.pk))
    assert response.status_code == 200
    assert rows(response) == UMA
    assert_matches_the_resolver(initech.uma, response)
    assert [g.name for g in response.context["groups"]] == ["Devs", "Leads", "Ops"]

    html = response.content.decode()
    assert "via group <a" in html and ">Ops</a>" in html
    assert "direct, inherited from the company" in html
    assert "inherited from the project Beta" in html
    assert "(in 3\xa0days)" in html  # Leads' grant ends
    for group in (initech.devs, initech.leads, initech.ops):
        assert reverse("group_detail", args=["initech", group.pk]) in html


def test_what_a_role_allows_is_said_in_words_with_the_keys_on_demand(initech, login):
    response = login(initech.boss).get(page_url(initech.company, "user", initech.uma.pk))
    found = response.context["access"]
    assert found.company.allows == [
        ("On the company", ["View the company"]),
        (
            "On every project",
            [
                "View the project",
                "View every environment of the project",
                "Create service repositories",
                "Commit configuration changes",
            ],
        ),
        ("On every environment", ["View the environment"]),
    ]
    [alpha] = [p for p in found.projects if p.resource == initech.alpha]
    [production, dev] = alpha.environments
    assert production.allows == [
        (
            "On the environment",
            [
                "View the environment",
                "Deploy to the environment",
                "Restart pods",
                "Create jobs",
                "Delete jobs",
            ],
        )
    ]
    assert dev.allows == [("On the environment", ["View the environment"])]
    assert "console.environment.deploy.trigger" in production.keys
    assert dev.keys == ["console.company.project.environment.view"]
    row = [
        e
        for e in parse_html(response.content.decode())
        if e.attrs.get("id") == f"access-environment-{initech.alpha_dev.pk}"
    ]
    assert row and "On the environment: View the environment." in " ".join("".join(row[0].text).split())


def test_a_groups_own_roles_and_its_members(initech, login):
    response = login(initech.boss).get(page_url(initech.company, "group", initech.ops.pk))
    assert response.status_code == 200
    # Ops has a role on Alpha's Production only: Alpha is listed for it, with nothing on the project itself.
    assert rows(response) == {
        "initech": (None, []),
        "initech/alpha": (None, []),
        "initech/alpha/production": (M, [(M, E, "", False)]),
    }
    assert_matches_the_resolver(initech.ops, response)
    [alpha] = response.context["access"].projects
    assert not alpha.reached
    html = response.content.decode()
    assert "Nothing on the project itself" in html
    assert [m.email for m in response.context["members"].rows] == ["uma@initech.test"]
    assert reverse("identity_access", args=["initech", "user", initech.uma.pk]) in html
    assert f'href="{reverse("group_detail", args=["initech", initech.ops.pk])}">1 member</a>' in html
    [binding] = response.context["bindings"]
    assert (binding.role, binding.environment) == (M, initech.alpha_production)

    leads = login(initech.boss).get(page_url(initech.company, "group", initech.leads.pk))
    assert rows(leads) == {
        "initech": (None, []),
        "initech/beta": (PA, [(PA, P, "", False)]),
        "initech/beta/production": (PA, [(PA, P, "", True)]),
    }
    assert "(in 3\xa0days)" in leads.content.decode()


def test_a_service_accounts_roles_and_credentials(initech, login):
    bot = initech.bot
    response = login(initech.boss).get(page_url(initech.company, "service-account", bot.pk))
    assert response.status_code == 200
    reporter = [(R, C, "", True)]
    assert rows(response) == {
        "initech": (R, [(R, C, "", False)]),
        "initech/alpha": (R, reporter),
        "initech/alpha/production": (R, reporter),
        "initech/alpha/dev": (R, reporter),
        "initech/beta": (M, sorted([*reporter, (M, P, "", False)])),
        "initech/beta/production": (M, sorted([*reporter, (M, P, "", True)])),
    }
    assert_matches_the_resolver(bot, response)
    credentials = response.context["credentials"]
    assert (credentials.changed_at, credentials.since) == (None, bot.created_at)
    html = response.content.decode()
    assert bot.client_id in html and "Client Secret Basic" in html and "Secret set" in html
    assert "when the account was created" in html and "Never" in html  # never used

    service_account_secret_rotate(actor=initech.boss, account=bot)
    response = login(initech.boss).get(page_url(initech.company, "service-account", bot.pk))
    credentials = response.context["credentials"]
    assert credentials.changed_at is not None and credentials.changed_by == "Bill Boss"
    assert "secret rotated by Bill Boss" in response.content.decode()


def test_a_key_account_shows_its_key_id(demo, login):
    html = login("owner").get(page_url(demo.acme, "service-account", demo.deployer.pk)).content.decode()
    assert "Private Key JWT" in html and "acme-deployer-2026" in html


def test_a_super_users_own_page_says_where_everything_comes_from(demo, login):
    admin = demo.user("admin@acme.test")
    response = login(admin).get(page_url(demo.acme, "user", admin.pk))
    assert response.status_code == 200
    found = response.context["access"]
    assert found.company.root_path == "Console super user"
    assert found.company.role == catalogue.COMPANY_OWNER
    assert [p.resource.slug for p in found.projects] == ["payments", "webshop"]
    assert "Super user: holds every permission everywhere" in response.content.decode()


def test_my_access_is_in_the_sidebar_for_every_member(demo, login, persona):
    reporter = persona("project", "reporter")
    html = login(reporter).get("/companies/acme/").content.decode()
    [link] = [e for e in parse_html(html) if e.tag == "a" and "".join(e.text) == "My access"]
    assert link.attrs["href"] == page_url(demo.acme, "user", reporter.pk)
    mine = login(reporter).get(link.attrs["href"])
    current = [e for e in parse_html(mine.content.decode()) if e.attrs.get("aria-current") == "page"]
    assert "My access" in ["".join(e.text) for e in current]
    assert "<h1>My access</h1>" in mine.content.decode()


# -- why can they …? ---------------------------------------------------------------------------------------


def asked(client, initech, permission: str, resource: str, *, kind: str = "user", pk: int | None = None):
    """The page of an Initech identity (Uma by default) asking "why can they <permission> on <resource>?"."""
    url = page_url(initech.company, kind, pk or initech.uma.pk, permission=permission, resource=resource)
    return client.get(url)


def why(response):
    answer = response.context["answer"]
    return {
        "granted": answer.granted,
        "paths": [
            (
                (p.grant.role, p.grant.level, p.grant.group_name or ""),
                [(r.label, r.url, [(g.role, g.group_name or "") for g in r.still]) for r in p.removals],
            )
            for p in answer.paths
        ],
        "would_grant": list(answer.would_grant),
    }


def test_why_lists_every_path_with_what_removes_it_and_what_would_still_grant_it(initech, login):
    uma, ops = initech.uma, initech.ops
    response = asked(login(initech.boss), initech, "environment.deploy", "initech/alpha/production")
    assert response.status_code == 200
    edit_uma = reverse("project_role_edit", args=["initech", "alpha", "user", uma.pk])
    edit_ops = reverse("project_role_edit", args=["initech", "alpha", "group", ops.pk])
    leave_ops = reverse("group_remove_member", args=["initech", ops.pk, uma.pk])
    assert why(response) == {
        "granted": True,
        "paths": [
            ((M, E, ""), [("Edit project roles of Uma User on Alpha", edit_uma, [(M, "Ops")])]),
            (
                (M, E, "Ops"),
                [
                    ("Remove Uma User from Ops", leave_ops, [(M, "")]),
                    ("Edit project roles of Ops on Alpha", edit_ops, [(M, "")]),
                ],
            ),
        ],
        "would_grant": [],
    }
    html = response.content.decode()
    assert "<strong>Yes.</strong>" in html
    assert f'hx-get="{leave_ops}" hx-target="#dialog"' in html
    assert (
        "still granted through Maintainer on environment initech/alpha/production (via group &quot;Ops&quot;)"
        in html
    )


def test_why_a_group_path_and_one_from_the_company(initech, login):
    uma, devs, leads = initech.uma, initech.devs, initech.leads
    response = asked(login(initech.boss), initech, "project.configuration.update", "initech/beta")
    assert why(response) == {
        "granted": True,
        "paths": [
            (
                (D, C, "Devs"),
                [
                    (
                        "Remove Uma User from Devs",
                        reverse("group_remove_member", args=["initech", devs.pk, uma.pk]),
                        [(PA, "Leads")],
                    ),
                    (
                        "Edit company role of Devs",
                        reverse("company_role_edit", args=["initech", "group", devs.pk]),
                        [(PA, "Leads")],
                    ),
                ],
            ),
            (
                (PA, P, "Leads"),
                [
                    (
                        "Remove Uma User from Leads",
                        reverse("group_remove_member", args=["initech", leads.pk, uma.pk]),
                        [(D, "Devs")],
                    ),
                    (
                        "Edit project roles of Leads on Beta",
                        reverse("project_role_edit", args=["initech", "beta", "group", leads.pk]),
                        [(D, "Devs")],
                    ),
                ],
            ),
        ],
        "would_grant": [],
    }


def test_why_with_a_single_path_says_nothing_else_grants_it(initech, login):
    bot = initech.bot
    response = asked(
        login(initech.boss),
        initech,
        "environment.deploy",
        "initech/beta/production",
        kind="service-account",
        pk=bot.pk,
    )
    edit = reverse("project_role_edit", args=["initech", "beta", "service-account", bot.pk])
    assert why(response)["paths"] == [((M, P, ""), [("Edit project roles of bot on Beta", edit, [])])]
    assert "<strong>no other path</strong>: they could no longer do it." in response.content.decode()


@pytest.mark.parametrize(
    ("permission", "resource", "would_grant"),
    [
        ("console.company.users.manage", "initech", [("company-owner", C)]),
        ("company.identities.manage", "initech", [("company-owner", C)]),
        ("console.environment.deploy.trigger", "initech/alpha/dev", [(M, E)]),
        ("environment.deploy", "initech/alpha/dev", [(M, C), (M, P), (M, E)]),
        ("console.project.view", "initech", []),  # a project key is never held on a company
    ],
)
def test_why_not_says_what_role_would_grant_it(initech, login, permission, resource, would_grant):
    response = login(initech.boss).get(
        page_url(initech.company, "user", initech.uma.pk, permission=permission, resource=resource)
    )
    assert why(response) == {"granted": False, "paths": [], "would_grant": would_grant}
    assert "<strong>No.</strong>" in response.content.decode()


def test_on_my_own_page_only_the_changes_i_may_make_are_links(initech, login):
    # Uma is Project Administrator of Beta (through Leads): she may edit Beta's roles, not the company's.
    response = asked(login(initech.uma), initech, "project.configuration.update", "initech/beta")
    assert response.status_code == 200
    links = {label: url for (_, removals) in why(response)["paths"] for label, url, _ in removals}
    assert links == {
        "Remove Uma User from Devs": "",
        "Edit company role of Devs": "",
        "Remove Uma User from Leads": "",
        "Edit project roles of Leads on Beta": reverse(
            "project_role_edit", args=["initech", "beta", "group", initech.leads.pk]
        ),
    }
    html = response.content.decode()
    assert "You can do “Commit configuration changes” on the project Beta." in " ".join(html.split())
    assert "(not something you may do)" in html


@pytest.mark.parametrize(
    ("question", "error"),
    [
        (
            {"permission": "environment.deploy", "resource": "initech/alpha"},
            "is a question about an environment",
        ),
        ({"permission": "project.view", "resource": "initech"}, "is a question about a project"),
        (
            {"permission": "environment.deploy", "resource": "acme/webshop/production"},
            "Choose the company, one of its projects or environments.",
        ),
        ({"permission": "console.nope", "resource": "initech"}, "Choose one of the listed permissions"),
        ({"permission": "console.company.view;", "resource": "initech"}, "Choose one of the listed"),
        ({"permission": "x" * 5000, "resource": "initech/" * 500}, "Choose the company, one of"),
        ({"permission": "environment.deploy"}, "Choose where"),
        ({"resource": "initech"}, "Choose what to ask about."),
    ],
)
def test_a_question_that_cannot_be_answered_says_why(initech, login, question, error):
    url = reverse("identity_access", args=["initech", "user", initech.uma.pk])
    for headers in ({}, {**HX, "HX-Target": "why-answer"}):
        response = login(initech.boss).get(url, question, headers=headers)
        assert response.status_code == 200
        html = response.content.decode()
        assert error in html and 'role="alert"' in html
        assert "<strong>Yes.</strong>" not in html and "<strong>No.</strong>" not in html


def test_htmx_gets_the_answer_or_the_content_and_back_gets_the_whole_page(initech, login):
    url = page_url(
        initech.company, "user", initech.uma.pk, permission="environment.deploy", resource="initech/alpha/dev"
    )
    client = login(initech.boss)
    answer = client.get(url, headers={**HX, "HX-Target": "why-answer"})
    assert "<html" not in answer.content.decode() and "<strong>No.</strong>" in answer.content.decode()
    assert 'id="why-answer"' not in answer.content.decode()
    content = client.get(url, headers={**HX, "HX-Target": "identity-access"}).content.decode()
    assert "<html" not in content and 'id="identity-access"' in content and "<strong>No.</strong>" in content
    for headers in ({"HX-Request": "true", "HX-History-Restore-Request": "true"}, {}, HX):
        whole = client.get(url, headers=headers)
        assert "<html" in whole.content.decode() and "<strong>No.</strong>" in whole.content.decode()
        assert {"HX-Request", "HX-History-Restore-Request", "HX-Target"} <= {
            v.strip() for v in whole["Vary"].split(",")
        }


def test_the_page_lists_its_own_company_only(initech, demo, login):
    response = login(initech.boss).get(page_url(initech.company, "user", initech.uma.pk))
    assert [r.path for r in response.context["access"].resources] == [
        "initech",
        "initech/alpha",
        "initech/alpha/production",
        "initech/alpha/dev",
        "initech/beta",
        "initech/beta/production",
    ]
    assert "acme" not in [p for p, _ in response.context["form"].fields["resource"].choices]


def test_grants_everywhere_agrees_with_the_resolver_for_every_demo_identity(demo):
    for kind in KINDS:
        for subject in company_subjects(demo.acme, kind):
            everywhere = AccessResolver(subject).grants_everywhere(demo.acme)
            for resource, grants in everywhere.items():
                assert sorted(map(repr, grants)) == sorted(
                    map(repr, AccessResolver(subject).grants(resource))
                )
            assert len(everywhere) == 1 + 2 + 3  # Acme, Webshop and Payments, their three environments


def test_an_ended_grant_is_read_at_request_time(initech, login):
    with time_machine.travel(initech.until, tick=False):
        response = login(initech.boss).get(page_url(initech.company, "user", initech.uma.pk))
    assert rows(response)["initech/beta"] == (M, sorted([*INHERITED, (M, P, "Leads", False)]))
    assert "(in " not in response.content.decode()


def test_why_names_the_console_root_which_no_dialog_changes(demo, login, persona):
    staff = persona("staff", keys=("console.root.view",))
    url = page_url(demo.acme, "user", staff.pk, permission="project.view", resource="acme/webshop")
    response = login(staff).get(url)
    answer = response.context["answer"]
    assert (answer.granted, answer.root_path, answer.paths) == (True, "Console root permission", ())
    assert "Console root permission: only a Console administrator changes that" in response.content.decode()


def test_names_in_the_tables_lead_to_the_access_pages(demo, login, persona):
    junior, deployer, group = demo.user("junior1"), demo.deployer, demo.developers
    to = {
        "junior": reverse("identity_access", args=["acme", "user", junior.pk]),
        "deployer": reverse("identity_access", args=["acme", "service-account", deployer.pk]),
        "group": reverse("identity_access", args=["acme", "group", group.pk]),
    }
    tables = {
        "/companies/acme/iam/": ("junior", "deployer"),
        "/companies/acme/users/": ("junior",),
        f"/companies/acme/groups/{group.pk}/": ("junior", "group"),  # members, and the group's own page
        "/companies/acme/service-accounts/": ("deployer",),
        "/companies/acme/projects/webshop/iam/": ("junior", "deployer"),
    }
    owner = login("owner")
    for url, names in tables.items():
        links = {e.attrs.get("href") for e in parse_html(owner.get(url).content.decode()) if e.tag == "a"}
        assert {to[name] for name in names} <= links, url

    # Project IAM for someone who only looks: their own name is a link, nobody else's.
    reporter = persona("project", "reporter")
    html = login(reporter).get("/companies/acme/projects/webshop/iam/").content.decode()
    links = {e.attrs.get("href") for e in parse_html(html) if e.tag == "a"}
    assert reverse("identity_access", args=["acme", "user", reporter.pk]) in links
    assert not {href for href in links if href and "/access/" in href} - {
        reverse("identity_access", args=["acme", "user", reporter.pk])
    }
