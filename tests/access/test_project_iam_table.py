"""The Project IAM table: what each row shows, who has no access, filters, search, sort, pages."""

import re

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
