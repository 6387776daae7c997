"""The Project IAM table: what each row shows, who has no access, filters, search, sort, pages."""

import re

import pytest
from django.urls import reverse

from iam_portal.access.catalogue import GUEST, REPORTER
from iam_portal.identities.models import Group, User
from tests.helpers import HX, bind, row_html

IAM = reverse("project_iam", args=["acme", "webshop"])


def project_row(body: str, kind: str, pk: int) -> str:
    html = row_html(body, f"project-identity-{kind}-{pk}")
    assert html, f"no row for {kind} {pk}"
    return html


def names(body: str) -> list[str]:
    return re.findall(r"<strong>([^<]+)</strong>", body.split("<tbody>")[1])


def test_rows_show_inherited_company_roles_project_role_and_one_column_per_environment(demo, login):
    body = login("pm").get(IAM).content.decode()
    assert (
        '<th scope="col" class="env-col"><span class="visually-hidden">Environment </span>Production' in body
    )
    assert "Staging</th>" in body
    junior = project_row(body, "user", demo.user("junior1").pk)
    assert "Guest (company)" in junior
    assert "Developer (via Acme Developers)" in junior
    assert junior.count("role-inherited") == 2
    assert '<span class="role role-developer">Developer</span>' in junior
    assert '<span class="role role-maintainer">Maintainer</span>' in junior  # staging
    assert "No access to this project" not in junior
    deployer = project_row(body, "service-account", demo.deployer.pk)
    assert "Maintainer (company)" in deployer and demo.deployer.client_id in deployer
    group = project_row(body, "group", demo.developers.pk)
    assert "Developer (company)" in group


def test_identities_without_access_are_marked(demo, login):
    stranger = User.objects.create_user("guest-only@example.test", "x", full_name="Gina Guest")
    bind(stranger, GUEST, demo.acme)
    env_only = User.objects.create_user("env-only@example.test", "x")
    bind(env_only, GUEST, demo.acme)
    bind(env_only, REPORTER, demo.production)
    guests = Group.objects.create(company=demo.acme, name="Guests")
    bind(guests, GUEST, demo.acme)
    body = login("owner").get(IAM).content.decode()
    for kind, pk in (("user", stranger.pk), ("group", guests.pk)):
        row = project_row(body, kind, pk)
        assert 'class="no-access"' in row and "No access to this project" in row
    for kind, pk in (
        ("user", env_only.pk),
        ("user", demo.user("designer1").pk),
        ("group", demo.developers.pk),
    ):
        row = project_row(body, kind, pk)
        assert "no-access" not in row


def test_reporter_sees_the_page_read_only(demo, login):
    client = login("designer1")
    for response in (client.get(IAM), client.get(IAM, headers=HX)):
        body = response.content.decode()
        assert response.status_code == 200
        assert "Edit</a>" not in body and "/edit/" not in body
        assert "hx-post" not in body
        assert "Add user" not in body and "Add service account" not in body
        assert 'id="project-identity-user-' in body
    full = client.get(IAM).content.decode()
    # The only POST form left on the page is "Sign out".
    assert full.count('method="post"') == 1 and 'action="/accounts/logout/"' in full


def test_editor_sees_an_edit_link_per_row(demo, login):
    body = login("pm").get(IAM).content.decode()
    assert body.count("Edit</a>") == body.count('id="project-identity-')
    assert "Add user" not in body


def test_type_filter_search_and_count(demo, login):
    client = login("owner")
    body = client.get(IAM, {"type": "service-account"}).content.decode()
    assert names(body) == ["ci-deployer", "metrics-reader"]
    assert "2 identities" in body
    body = client.get(IAM, {"q": "designer"}, headers=HX).content.decode()
    assert names(body) == ["Dana Designer", "Dario Designer"]
    assert "2 identities matching “designer”" in body
    body = client.get(IAM, {"q": "demo-metrics"}).content.decode()
    assert names(body) == ["metrics-reader"]
    body = client.get(IAM, {"type": "group", "q": "zzz"}).content.decode()
    assert "No identity matches these filters." in body


def count_line(body: str) -> str:
    span = re.search(r'<span id="project-iam-count"[^>]*>(.*?)</span>', body, re.S).group(1)
    return re.sub(r"\s+", " ", span).strip()


@pytest.mark.parametrize("headers", [{}, HX], ids=["full", "htmx"])
@pytest.mark.parametrize(
    ("query", "line"),
    [
        ({}, "11 identities · 8 users · 1 group · 2 service accounts"),
        ({"type": "service-account"}, "2 identities"),
        ({"type": "group"}, "1 identity"),
        ({"type": "user", "q": "jun"}, "2 identities matching “jun”"),
    ],
)
def test_the_count_follows_the_type_filter(demo, login, headers, query, line):
    assert count_line(login("owner").get(IAM, query, headers=headers).content.decode()) == line


@pytest.fixture
def outsiders(demo):
    """Two company members without access to Webshop: a Guest of Acme and a Reporter of Payments only."""
    guest = User.objects.create_user("guest-only@acme.test", "x", full_name="Gina Guest")
    bind(guest, GUEST, demo.acme)
    elsewhere = User.objects.create_user("payments@acme.test", "x", full_name="Pat Payments")
    bind(elsewhere, GUEST, demo.acme)
    bind(elsewhere, REPORTER, demo.payments)
    return guest, elsewhere


def test_a_viewer_sees_and_counts_only_who_has_access(demo, login, outsiders):
    viewer = login("designer1")  # Reporter on Webshop
    body = viewer.get(IAM).content.decode()
    assert "Gina Guest" not in body and "Pat Payments" not in body
    assert count_line(body) == "11 identities · 8 users · 1 group · 2 service accounts"
    assert "Every identity with access to Webshop" in body
    assert "Name, email or client id" not in body
    # The manager's table lists the whole company.
    managed = login("pm").get(IAM).content.decode()
    assert "Gina Guest" in managed and "Pat Payments" in managed
    assert count_line(managed) == "13 identities · 10 users · 1 group · 2 service accounts"


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ({"q": "sara"}, ["Sara Senior"]),
        ({"q": "senior@acme"}, []),  # not by email: the viewer does not see emails
        ({"q": "demo-metrics"}, []),  # nor by client id
        ({"q": "metrics"}, ["metrics-reader"]),
        ({"q": "gina"}, []),  # no access to Webshop
        ({"q": "jun", "type": "group"}, []),
    ],
)
def test_a_viewer_searches_by_the_names_shown(demo, login, outsiders, query, found):
    body = login("designer1").get(IAM, query, headers=HX).content.decode()
    assert names(body) == found
    total = len(found)
    assert count_line(body).startswith(f"{total} identit{'y' if total == 1 else 'ies'}")


def test_a_viewer_sees_an_identity_whose_only_access_is_an_environment_role(demo, login, outsiders):
    guest, _ = outsiders
    bind(guest, REPORTER, demo.production)
    body = login("designer1").get(IAM).content.decode()
    row = project_row(body, "user", guest.pk)
    assert "no-access" not in row and '<span class="role role-reporter">Reporter</span>' in row


def test_sort_by_name_both_ways(demo, login):
    client = login("owner")
    ascending = names(client.get(IAM).content.decode())
    descending = names(client.get(IAM, {"sort": "-name"}).content.decode())
    assert ascending == sorted(ascending, key=str.lower)
    assert descending == list(reversed(ascending))
    assert names(client.get(IAM, {"sort": "nonsense"}).content.decode()) == ascending


def test_keyset_pages_of_fifty(demo, login):
    for i in range(60):
        user = User.objects.create_user(f"bulk{i:02}@example.test", "x", full_name=f"Bulk {i:02}")
        bind(user, REPORTER, demo.acme)
    client = login("owner")
    first = client.get(IAM).content.decode()
    total = len(names(first))
    assert total == 50
    next_link = re.search(r'href="\?([^"]*after=[^"]+)"[^>]*rel="next"', first)
    assert next_link
    second = client.get(f"{IAM}?{next_link.group(1).replace('&amp;', '&')}", headers=HX).content.decode()
    rest = names(second)
    assert 0 < len(rest) <= 50
    assert not set(rest) & set(names(first))
    assert 'rel="next"' not in second


def test_table_reloads_itself_on_identities_changed(demo, login):
    body = login("pm").get(IAM, {"type": "user", "q": "jun"}).content.decode()
    container = re.search(r'<div id="project-iam-table"[^>]*>', body).group(0)
    assert 'hx-trigger="identitiesChanged from:body"' in container
    assert 'hx-disinherit="*"' in container
    assert "type=user" in container and "q=jun" in container
    assert 'hx-swap="outerHTML"' in container


def test_vary_header(demo, login):
    assert "HX-Request" in login("pm").get(IAM)["Vary"]
