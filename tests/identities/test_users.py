"""Users page /companies/<c>/users/, "Add user" and the full "Remove" of a user."""

from __future__ import annotations

import datetime
import re
from urllib.parse import quote

import pytest

from iam_portal.access.catalogue import COMPANY_OWNER, DEVELOPER, GUEST, MAINTAINER, REPORTER
from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group, GroupMembership, User
from tests.helpers import (
    HX,
    RECOUNT,
    assert_company_matrix,
    assert_csrf_refused,
    assert_form_refused,
    bind,
    company_roles,
    count_queries,
    hx_trigger,
    messages_of,
    row_html,
    snapshot,
)

USERS = "/companies/acme/users/"
ADD = "/companies/acme/users/add/"
EVENTS = {"identitiesChanged", "closeDialog", "showMessage"}


def remove_url(pk: int, company: str = "acme") -> str:
    return f"/companies/{company}/users/{pk}/remove/"


# -- the authorization matrix ---------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "?q=jun&sort=-last_login"], ids=["users", "users-search"])
def test_users_matrix(demo, persona, query):
    assert_company_matrix(persona, "get", USERS + query, status=200)


def test_add_matrix(demo, persona, newcomer):
    data = {"email": newcomer.email, "role": DEVELOPER}

    def added():
        return company_roles(demo.acme).get("user:newcomer@example.test") == DEVELOPER

    assert_company_matrix(persona, "get", ADD, status=200)
    assert_company_matrix(persona, "post", ADD, data, status=302, back_to=USERS, check=added)


def test_remove_matrix(demo, persona):
    junior = demo.user("junior1")

    def gone():
        return (
            not RoleBinding.objects.filter(user=junior).exists()
            and not GroupMembership.objects.filter(user=junior).exists()
        )

    assert_company_matrix(persona, "get", remove_url(junior.pk), status=200)
    assert_company_matrix(persona, "post", remove_url(junior.pk), {}, status=302, back_to=USERS, check=gone)


# -- the page -------------------------------------------------------------------------------------


def user_row_ids(html: str) -> list[str]:
    return re.findall(r'<tr id="(user-\d+)"', html)


def test_users_page_lists_everyone_with_access_and_how(demo, login):
    lurker = User.objects.create_user("grouponly@example.test", "x", full_name="Gina Grouponly")
    GroupMembership.objects.create(group=demo.developers, user=lurker)
    owner = demo.user("owner")
    owner.last_login = datetime.datetime(2026, 3, 5, 14, 30, tzinfo=datetime.UTC)
    owner.save(update_fields=["last_login"])

    html = login("admin@acme.test").get(USERS).content.decode()

    names = ["Dana", "Dario", "Gina", "Jun One", "Jun Two", "Luca", "Olivia", "Paula", "Sara"]
    ids = user_row_ids(html)
    assert len(ids) == 9
    for row_id, name in zip(ids, names, strict=True):
        assert name in row_html(html, row_id)
    assert "9 users" in html
    junior = row_html(html, f"user-{demo.user('junior1').pk}")
    assert "junior1@acme.test" in junior and ">Acme Developers</a>" in junior
    gina = row_html(html, f"user-{lurker.pk}")
    assert ">Acme Developers</a>" in gina and '<span class="role-none">—</span>' in gina
    owner_row = row_html(html, f"user-{owner.pk}")
    assert '<time datetime="2026-03-05T14:30:00+00:00">5 Mar 2026, 14:30</time>' in owner_row
    assert "Never" in junior
    # The super user (no binding) and other companies' members are not listed.
    assert "admin@acme.test" not in html.split("<main", 1)[1].split("</main>")[0].replace(
        'title="admin@acme.test"', ""
    )
    assert "owner@globex.test" not in html


def test_users_page_shows_role_labels(demo, login):
    html = login("owner").get(USERS).content.decode()
    assert ">Company Owner</span>" in row_html(html, f"user-{demo.user('owner').pk}")
    assert ">Guest</span>" in row_html(html, f"user-{demo.user('senior').pk}")


def test_users_page_shows_each_users_direct_role_id(demo, login):
    html = login("owner").get(USERS).content.decode()
    assert 'class="role role-company-owner"' in row_html(html, f"user-{demo.user('owner').pk}")
    assert 'class="role role-guest"' in row_html(html, f"user-{demo.user('senior').pk}")


def test_users_page_lists_groups_of_this_company_only(demo, login):
    junior = demo.user("junior1")
    team = Group.objects.create(company=demo.acme, name="Zeta Team")
    GroupMembership.objects.create(group=team, user=junior)
    foreign = Group.objects.create(company=demo.globex, name="Globex Secret Club")
    GroupMembership.objects.create(group=foreign, user=junior)
    html = login("owner").get(USERS).content.decode()
    row = row_html(html, f"user-{junior.pk}")
    assert re.findall(r'class="tag"[^>]*>([^<]+)</a>', row) == ["Acme Developers", "Zeta Team"]
    assert "Globex Secret Club" not in html


@pytest.mark.parametrize(
    ("query", "emails"),
    [
        ("jun", ["junior1@acme.test", "junior2@acme.test"]),
        ("PAULA", ["pm@acme.test"]),
        ("lead@", ["lead@acme.test"]),
        ("zzz", []),
    ],
)
def test_users_search(demo, login, query, emails):
    html = login("owner").get(USERS + f"?q={quote(query)}").content.decode()
    assert user_row_ids(html) == [f"user-{demo.user(e).pk}" for e in emails]
    assert f"{len(emails)} user{'' if len(emails) == 1 else 's'} matching “{query}”" in html


@pytest.mark.parametrize(
    ("sort", "emails"),
    [
        ("email", ["designer1", "designer2", "junior1", "junior2", "lead", "owner", "pm", "senior"]),
        ("-email", ["senior", "pm", "owner", "lead", "junior2", "junior1", "designer2", "designer1"]),
        ("name", ["designer1", "designer2", "junior1", "junior2", "lead", "owner", "pm", "senior"]),
        ("role", ["owner", "designer1", "designer2", "junior1", "junior2", "lead", "pm", "senior"]),
        # Never signed in: ties broken by account id (seed order junior1, junior2, designer1, designer2).
        ("-last_login", ["lead", "pm", "senior", "owner", "designer2", "designer1", "junior2", "junior1"]),
        ("last_login", ["junior1", "junior2", "designer1", "designer2", "owner", "senior", "pm", "lead"]),
    ],
)
def test_users_sort(demo, login, sort, emails):
    now = datetime.datetime(2026, 3, 5, 12, 0, tzinfo=datetime.UTC)
    for minutes, name in enumerate(["owner", "senior", "pm", "lead"]):
        User.objects.filter(email=f"{name}@acme.test").update(
            last_login=now + datetime.timedelta(minutes=minutes)
        )
    html = login("admin@acme.test").get(USERS + f"?sort={sort}").content.decode()
    assert user_row_ids(html) == [f"user-{demo.user(e).pk}" for e in emails]


def test_users_htmx_request_returns_only_the_table(demo, login):
    response = login("owner").get(USERS + "?q=jun", headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="users-table"')
    assert "HX-Request" in response["Vary"]
    assert len(user_row_ids(html)) == 2


# -- add user -------------------------------------------------------------------------------------


def test_add_existing_account_with_htmx(demo, login, newcomer):
    response = login("owner").post(ADD, {"email": "newcomer@example.test", "role": MAINTAINER}, headers=HX)
    assert response.status_code == 204
    events = hx_trigger(response)
    assert set(events) == EVENTS
    assert events["showMessage"] == {
        "level": "success",
        "text": "Nina Newcomer was added to Acme as Maintainer.",
    }
    binding = RoleBinding.objects.get(user=newcomer)
    assert (binding.company, binding.role, binding.created_by) == (demo.acme, MAINTAINER, demo.user("owner"))
    assert User.objects.filter(email="newcomer@example.test").count() == 1


def test_add_without_htmx_redirects_to_the_users_page_with_a_message(demo, login, newcomer):
    client = login("owner")
    response = client.post(ADD, {"email": "NewComer@Example.test ", "role": REPORTER})
    assert response.status_code == 302
    assert response["Location"] == USERS
    assert messages_of(response) == ["Nina Newcomer was added to Acme as Reporter."]
    assert company_roles(demo.acme)["user:newcomer@example.test"] == REPORTER
    html = client.get(USERS).content.decode()
    assert "Nina Newcomer was added to Acme as Reporter." in html
    assert f'id="user-{newcomer.pk}"' in html


def test_add_returns_to_the_page_it_was_opened_from(demo, login, newcomer):
    response = login("owner").post(
        ADD, {"email": newcomer.email, "role": GUEST, "next": "/companies/acme/iam/?type=user"}
    )
    assert response["Location"] == "/companies/acme/iam/?type=user"


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/x", "/companies/globex/users/", "/admin/"]
)
def test_add_never_redirects_outside_the_company(demo, login, newcomer, next_url):
    response = login("owner").post(ADD, {"email": newcomer.email, "role": GUEST, "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == USERS


@pytest.mark.parametrize("headers", [{}, HX], ids=["plain", "htmx"])
def test_add_unknown_email_says_an_administrator_must_create_the_account(demo, login, headers):
    before = snapshot()
    response = login("owner").post(ADD, {"email": "nobody@example.test", "role": GUEST}, headers=headers)
    html = response.content.decode()
    assert response.status_code == 200
    assert "HX-Trigger" not in response
    assert "No Console account uses nobody@example.test." in html
    assert "Accounts are created by a Console administrator" in html
    assert ("<html" in html) == (not headers)
    assert snapshot() == before
    assert not User.objects.filter(email="nobody@example.test").exists()


def test_add_inactive_account_is_treated_as_unknown(demo, login, newcomer):
    newcomer.is_active = False
    newcomer.save()
    assert_form_refused(
        login("owner"),
        ADD,
        {"email": newcomer.email, "role": GUEST},
        "No Console account uses newcomer@example.test.",
    )


def test_add_user_with_direct_access_points_to_edit(demo, login):
    before = snapshot()
    response = login("owner").post(ADD, {"email": "senior@acme.test", "role": MAINTAINER}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "senior@acme.test already has direct access to Acme. Use Edit to change their role." in html
    assert snapshot() == before


def test_add_user_with_group_access_only_gives_a_direct_role(demo, login, newcomer):
    GroupMembership.objects.create(group=demo.developers, user=newcomer)
    response = login("owner").post(ADD, {"email": newcomer.email, "role": REPORTER}, headers=HX)
    assert response.status_code == 204
    assert company_roles(demo.acme)["user:newcomer@example.test"] == REPORTER


def test_add_a_member_of_another_company(demo, login):
    response = login("owner").post(ADD, {"email": "owner@globex.test", "role": GUEST}, headers=HX)
    assert response.status_code == 204
    assert company_roles(demo.acme)["user:owner@globex.test"] == GUEST
    assert company_roles(demo.globex)["user:owner@globex.test"] == COMPANY_OWNER


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"email": "newcomer@example.test", "role": "root"}, "role", "Select a valid choice"),
        ({"email": "newcomer@example.test"}, "role", "This field is required"),
        ({"email": "not-an-email", "role": GUEST}, "email", "Enter a valid email address"),
        ({"email": "", "role": GUEST}, "email", "This field is required"),
    ],
)
def test_add_invalid_input_re_renders_with_errors(demo, login, newcomer, data, field, error):
    before = snapshot()
    response = login("owner").post(ADD, data, headers=HX)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert field in response.context["form"].errors
    assert snapshot() == before


def test_add_dialog_has_labelled_fields_and_cautions(demo, login):
    html = login("owner").get(ADD, headers=HX).content.decode()
    assert "<html" not in html
    assert '<label for="id_email">Email</label>' in html
    assert '<label for="id_role">Company role</label>' in html
    assert "Only Console administrators create accounts." in html
    assert "csrfmiddlewaretoken" in html


# -- remove (full removal) ------------------------------------------------------------------------


def test_remove_drops_every_binding_and_every_group_membership_of_the_company(demo, login):
    junior = demo.user("junior1")
    team = Group.objects.create(company=demo.acme, name="Night Shift")
    GroupMembership.objects.create(group=team, user=junior)
    elsewhere_group = Group.objects.create(company=demo.globex, name="Globex Team")
    elsewhere_membership = GroupMembership.objects.create(group=elsewhere_group, user=junior)
    elsewhere_binding = bind(junior, REPORTER, demo.research)

    response = login("owner").post(remove_url(junior.pk), headers=HX)

    assert response.status_code == 204
    events = hx_trigger(response)
    assert set(events) == EVENTS
    assert events["showMessage"]["text"] == "Jun One was removed from Acme."
    assert list(RoleBinding.objects.filter(user=junior)) == [elsewhere_binding]
    assert list(GroupMembership.objects.filter(user=junior)) == [elsewhere_membership]
    # The groups themselves stay, with their other members and roles.
    assert GroupMembership.objects.filter(group=demo.developers, user=demo.user("junior2")).exists()
    assert company_roles(demo.acme)["group:Acme Developers"] == DEVELOPER
    assert not User.objects.get(pk=junior.pk).role_bindings.filter(company=demo.acme).exists()
    assert User.objects.filter(pk=junior.pk, is_active=True).exists()  # the account itself stays


def test_remove_without_htmx_redirects_and_the_user_is_gone(demo, login):
    client = login("owner")
    senior = demo.user("senior")
    response = client.post(remove_url(senior.pk))
    assert response.status_code == 302
    assert response["Location"] == USERS
    assert messages_of(response) == ["Sara Senior was removed from Acme."]
    html = client.get(USERS).content.decode()
    assert f'id="user-{senior.pk}"' not in html
    assert "7 users" in html
    assert client.get(remove_url(senior.pk)).status_code == 404


def test_remove_group_only_member(demo, login):
    lurker = User.objects.create_user("grouponly@example.test", "x")
    GroupMembership.objects.create(group=demo.developers, user=lurker)
    response = login("owner").post(remove_url(lurker.pk), headers=HX)
    assert response.status_code == 204
    assert not GroupMembership.objects.filter(user=lurker).exists()


def test_remove_dialog_lists_what_will_be_lost(demo, login):
    junior = demo.user("junior1")
    html = login("owner").get(remove_url(junior.pk), headers=HX).content.decode()
    assert "<html" not in html
    lists = re.findall(r'<ul class="consequences">(.*?)</ul>', html, re.S)
    roles = [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li>(.*?)</li>", lists[0], re.S)]
    assert sorted(roles) == [
        "Developer on project Webshop",
        "Guest on company Acme",
        "Maintainer on environment Staging (Webshop)",
    ]
    assert re.findall(r"<li>(.*?)</li>", lists[1]) == ["Acme Developers"]
    assert "leave all its groups" in html


def test_removing_the_only_owner_is_refused(demo, login):
    assert_form_refused(
        login("admin@acme.test"),
        remove_url(demo.user("owner").pk),
        {},
        "Acme must keep at least one Company Owner",
        **HX,
    )


def test_removing_the_only_owner_who_is_owner_through_a_group_is_refused(
    demo, login, owner_only_through_group
):
    owner = demo.user("owner")
    assert_form_refused(login("owner"), remove_url(owner.pk), {}, "must keep at least one Company Owner")


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("who", ["owner", "admin@acme.test"])
def test_users_of_another_company_are_404(demo, login, method, who):
    globex_owner = User.objects.get(email="owner@globex.test")
    before = snapshot()
    response = getattr(login(who), method)(remove_url(globex_owner.pk))
    assert response.status_code == 404
    assert snapshot() == before


def test_accounts_without_access_are_404(demo, login, newcomer):
    client = login("owner")
    assert client.get(remove_url(newcomer.pk)).status_code == 404
    assert client.post(remove_url(newcomer.pk)).status_code == 404
    assert client.post(remove_url(987654)).status_code == 404


# -- CSRF, GET safety, methods --------------------------------------------------------------------


@pytest.mark.parametrize("target", ["add", "remove"])
def test_post_without_csrf_token_is_403_and_changes_nothing(demo, csrf_client, newcomer, target):
    url, data = {
        "add": (ADD, {"email": newcomer.email, "role": GUEST}),
        "remove": (remove_url(demo.user("junior1").pk), {}),
    }[target]
    csrf_client.force_login(demo.user("owner"))
    assert_csrf_refused(csrf_client, url, data, token_from=USERS)


def test_get_never_changes_state(demo, login, newcomer):
    client = login("owner")
    before = snapshot()
    assert client.get(ADD + f"?email={newcomer.email}&role=company-owner").status_code == 200
    assert client.get(remove_url(demo.user("junior1").pk), headers=HX).status_code == 200
    assert client.get(USERS + "?email=x&role=guest").status_code == 200
    assert snapshot() == before


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_wrong_methods_are_405(demo, login, method):
    client = login("owner")
    before = snapshot()
    for url in (USERS, ADD, remove_url(demo.user("junior1").pk)):
        assert getattr(client, method)(url).status_code == 405, url
    assert client.post(USERS, {}).status_code == 405
    assert snapshot() == before


# -- query budget ---------------------------------------------------------------------------------


def add_users(demo, n: int, prefix: str) -> None:
    users = User.objects.bulk_create(
        User(
            email=f"{prefix}{i}@example.test",
            full_name=f"{prefix.title()} Person {i:03d}",
            last_login=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(hours=i),
        )
        for i in range(n)
    )
    groups = Group.objects.bulk_create(
        Group(company=demo.acme, name=f"{prefix} team {i:03d}") for i in range(n)
    )
    roles = [GUEST, REPORTER, DEVELOPER, MAINTAINER]
    RoleBinding.objects.bulk_create(
        [RoleBinding(user=u, company=demo.acme, role=roles[i % 4]) for i, u in enumerate(users)]
        + [RoleBinding(user=u, project=demo.webshop, role=roles[i % 4]) for i, u in enumerate(users)]
        + [RoleBinding(group=g, company=demo.acme, role=GUEST) for g in groups]
    )
    GroupMembership.objects.bulk_create(
        [GroupMembership(group=groups[i], user=u) for i, u in enumerate(users)]
        + [GroupMembership(group=demo.developers, user=u) for u in users]
    )


@pytest.mark.parametrize("headers", [{}, HX], ids=["full", "htmx"])
@pytest.mark.parametrize("query", ["", "?sort=-last_login", "?q=person&sort=role"])
def test_users_page_costs_the_same_queries_for_a_few_and_200_rows(
    demo, login, django_assert_max_num_queries, headers, query
):
    client = login("owner")
    add_users(demo, 2, "few")
    client.get(USERS)
    small = count_queries(client, USERS + query, **headers)
    # session, viewer, company, the viewer's grants, the page, the rows' groups, the count, the switcher;
    # a search also reads the company's kept user count (subjects.table_users chooses by it)
    assert small == (7 if headers else 8) + ("q=" in query)

    add_users(demo, 200, "many")
    # the first page after a change counts the company's users again and keeps the count (RECOUNT)
    with django_assert_max_num_queries(small + RECOUNT):
        response = client.get(USERS + query, headers=headers)
    html = response.content.decode()
    assert len(user_row_ids(html)) == 50
    assert html.count('class="tag"') >= 50  # the groups of every row are there, from one query
    assert count_queries(client, USERS + query, **headers) == small
