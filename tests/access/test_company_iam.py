"""Company IAM table /companies/<c>/iam/, its Edit dialog and its Remove dialog.

Authorization matrix (every principal, allowed and denied), database state after each action, htmx vs
plain-form responses, bad input, other companies' ids, CSRF, methods, the rendered rows and the query budget.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from iam_portal.access.catalogue import COMPANY_OWNER, DEVELOPER, GUEST, MAINTAINER, REPORTER
from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from tests.helpers import (
    ANONYMOUS,
    HX,
    OTHER_COMPANY_OWNER,
    RECOUNT,
    Persona,
    assert_access_matrix,
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

IAM = "/companies/acme/iam/"
EVENTS = {"identitiesChanged", "closeDialog", "showMessage"}


def edit_url(kind: str, pk: int, company: str = "acme") -> str:
    return f"/companies/{company}/iam/{kind}/{pk}/edit/"


def remove_url(kind: str, pk: int, company: str = "acme") -> str:
    return f"/companies/{company}/iam/{kind}/{pk}/remove/"


# -- the authorization matrix ---------------------------------------------------------------------


def subjects(demo) -> dict:
    """The identity of each kind that the matrix edits or removes."""
    return {"user": demo.user("senior"), "group": demo.developers, "service-account": demo.deployer}


# kind → (the company role an edit gives, the subject's key in company_roles())
EDITS = {
    "user": (MAINTAINER, "user:senior@acme.test"),
    "group": (REPORTER, "group:Acme Developers"),
    "service-account": (DEVELOPER, "sa:ci-deployer"),
}


@pytest.mark.parametrize("query", ["", "?type=group&q=acme&sort=-role"], ids=["table", "table-filtered"])
def test_table_matrix(demo, persona, query):
    assert_company_matrix(persona, "get", IAM + query, status=200)


@pytest.mark.parametrize("kind", EDITS)
def test_edit_matrix(demo, persona, kind):
    role, key = EDITS[kind]
    url = edit_url(kind, subjects(demo)[kind].pk)

    def given():
        return company_roles(demo.acme)[key] == role

    assert_company_matrix(persona, "get", url, status=200)
    assert_company_matrix(persona, "post", url, {"role": role}, status=302, back_to=IAM, check=given)


@pytest.mark.parametrize("kind", ["user", "service-account"])
def test_remove_matrix(demo, persona, kind):
    subject = subjects(demo)[kind]
    url = remove_url(kind, subject.pk)
    gone = {
        "user": lambda: not RoleBinding.objects.filter(user=subject).exists(),
        "service-account": lambda: not ServiceAccount.objects.filter(name="ci-deployer").exists(),
    }[kind]
    assert_company_matrix(persona, "get", url, status=200)
    assert_company_matrix(persona, "post", url, {}, status=302, back_to=IAM, check=gone)


def test_role_matrix_with_htmx_headers_keeps_the_same_statuses(demo, persona):
    matrix = {
        ANONYMOUS: 302,
        Persona("company", DEVELOPER): 403,
        OTHER_COMPANY_OWNER: 404,
        Persona("company", COMPANY_OWNER): 204,
    }
    url = edit_url("user", demo.user("senior").pk)
    assert_access_matrix(persona, matrix, post=url, data={"role": MAINTAINER}, headers=HX)


def test_unknown_company_is_404_even_for_a_super_user(demo, login):
    client = login("admin@acme.test")
    assert client.get("/companies/nosuch/iam/").status_code == 404
    assert client.post(edit_url("user", demo.user("senior").pk, "nosuch"), {"role": GUEST}).status_code == 404


# -- edit the company role ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "subject", "role", "key", "name"),
    [
        ("user", lambda d: d.user("senior"), MAINTAINER, "user:senior@acme.test", "Sara Senior"),
        ("user", lambda d: d.user("junior1"), DEVELOPER, "user:junior1@acme.test", "Jun One"),
        ("group", lambda d: d.developers, REPORTER, "group:Acme Developers", "Acme Developers"),
        ("service-account", lambda d: d.deployer, GUEST, "sa:ci-deployer", "ci-deployer"),
        ("service-account", lambda d: d.reader, COMPANY_OWNER, "sa:metrics-reader", "metrics-reader"),
    ],
)
def test_edit_role_with_htmx_answers_204_with_the_events(demo, login, kind, subject, role, key, name):
    subject = subject(demo)
    project_roles = list(RoleBinding.objects.filter(project__isnull=False).values_list("pk", "role"))
    response = login("owner").post(edit_url(kind, subject.pk), {"role": role}, headers=HX)

    assert response.status_code == 204
    assert response.content == b""
    events = hx_trigger(response)
    assert set(events) == EVENTS
    labels = {MAINTAINER: "Maintainer", DEVELOPER: "Developer", REPORTER: "Reporter", GUEST: "Guest"}
    labels[COMPANY_OWNER] = "Company Owner"
    assert events["showMessage"] == {"level": "success", "text": f"{name} is now {labels[role]} of Acme."}
    assert company_roles(demo.acme)[key] == role
    # Only the company role changed.
    assert list(RoleBinding.objects.filter(project__isnull=False).values_list("pk", "role")) == project_roles


def test_edit_role_without_htmx_redirects_to_the_table_with_a_message(demo, login):
    client = login("owner")
    senior = demo.user("senior")
    response = client.post(edit_url("user", senior.pk), {"role": MAINTAINER})
    assert response.status_code == 302
    assert response["Location"] == IAM
    assert "HX-Trigger" not in response
    assert messages_of(response) == ["Sara Senior is now Maintainer of Acme."]
    assert company_roles(demo.acme)["user:senior@acme.test"] == MAINTAINER
    page = client.get(IAM)
    assert "Sara Senior is now Maintainer of Acme." in page.content.decode()
    assert "Maintainer" in row_html(page.content.decode(), f"identity-user-{senior.pk}")


def test_edit_gives_a_direct_role_to_a_user_with_access_only_through_a_group(demo, login):
    member = User.objects.create_user("grouponly@example.test", "x", full_name="Group Only")
    GroupMembership.objects.create(group=demo.developers, user=member)
    response = login("owner").post(edit_url("user", member.pk), {"role": REPORTER}, headers=HX)
    assert response.status_code == 204
    assert company_roles(demo.acme)["user:grouponly@example.test"] == REPORTER
    assert GroupMembership.objects.filter(group=demo.developers, user=member).exists()


def test_edit_dialog_shows_the_current_role_and_the_inheritance_caution(demo, login):
    response = login("owner").get(edit_url("user", demo.user("junior1").pk), headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "Edit company role" in html
    assert "Jun One" in html and "now" in html and "Guest" in html
    assert '<option value="guest" selected>Guest — sees the company</option>' in html
    assert "applies to every project and runtime environment" in html
    assert "also gets roles from groups" in html


def test_edit_dialog_without_htmx_is_a_full_page(demo, login):
    response = login("owner").get(edit_url("group", demo.developers.pk))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html and "Edit company role" in html and "Acme Developers" in html


@pytest.mark.parametrize("headers", [{}, HX], ids=["plain", "htmx"])
@pytest.mark.parametrize("bad", ["super-admin", "", "Company Owner"])
def test_invalid_role_re_renders_the_form_with_the_error(demo, login, headers, bad):
    before = snapshot()
    response = login("owner").post(edit_url("user", demo.user("senior").pk), {"role": bad}, headers=headers)
    html = response.content.decode()
    assert response.status_code == 200
    assert "HX-Trigger" not in response
    assert ("Select a valid choice" in html) or ("This field is required" in html)
    assert ("<html" in html) == (not headers)
    assert snapshot() == before


def test_demoting_the_only_owner_is_refused_with_a_message(demo, login):
    owner = demo.user("owner")
    assert_form_refused(
        login("owner"),
        edit_url("user", owner.pk),
        {"role": DEVELOPER},
        "Acme must keep at least one Company Owner",
        **HX,
    )


def test_demoting_the_only_owner_group_is_refused(demo, login, owner_only_through_group):
    assert_form_refused(
        login("owner"),
        edit_url("group", owner_only_through_group.pk),
        {"role": MAINTAINER},
        "must keep at least one Company Owner",
    )


# -- remove direct access (users) -----------------------------------------------------------------


def test_remove_direct_access_deletes_every_binding_in_the_company_and_keeps_groups(demo, login):
    junior = demo.user("junior1")
    elsewhere = bind(junior, GUEST, demo.globex)  # another company: untouched
    assert RoleBinding.objects.filter(user=junior).count() == 4

    response = login("owner").post(remove_url("user", junior.pk), headers=HX)

    assert response.status_code == 204
    events = hx_trigger(response)
    assert set(events) == EVENTS
    assert events["showMessage"]["text"] == "Jun One no longer has direct access to Acme."
    assert list(RoleBinding.objects.filter(user=junior)) == [elsewhere]
    assert GroupMembership.objects.filter(group=demo.developers, user=junior).exists()
    # Still listed: access remains through the group, which gives Developer.
    html = login("owner").get(IAM).content.decode()
    row = row_html(html, f"identity-user-{junior.pk}")
    assert '<span class="role role-developer">Developer</span>' in row
    assert role_source(row) == "via Acme Developers"


def test_remove_direct_access_without_htmx_redirects_and_the_user_disappears(demo, login):
    senior = demo.user("senior")
    client = login("owner")
    response = client.post(remove_url("user", senior.pk))
    assert response.status_code == 302
    assert response["Location"] == IAM
    assert messages_of(response) == ["Sara Senior no longer has direct access to Acme."]
    assert not RoleBinding.objects.filter(user=senior).exists()
    assert f'id="identity-user-{senior.pk}"' not in client.get(IAM).content.decode()
    # The user is gone from the company, so its dialog is now a 404.
    assert client.get(remove_url("user", senior.pk)).status_code == 404


def test_remove_dialog_lists_the_roles_lost_and_says_access_remains_through_groups(demo, login):
    html = login("owner").get(remove_url("user", demo.user("junior1").pk), headers=HX).content.decode()
    assert "<html" not in html
    assert "Remove direct access" in html
    lost = re.search(r'<ul class="consequences">(.*?)</ul>', html, re.S).group(1)
    items = [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li>(.*?)</li>", lost, re.S)]
    # The order of the list is not specified (no ORDER BY): compare as a set.
    assert sorted(items) == [
        "Developer on project Webshop",
        "Guest on company Acme",
        "Maintainer on environment Staging (Webshop)",
    ]
    assert "stays a member of <strong>Acme Developers</strong>" in html
    assert "access to Acme remains through that group" in html


def test_remove_dialog_says_all_access_is_lost_without_groups(demo, login):
    html = login("owner").get(remove_url("user", demo.user("senior").pk)).content.decode()
    assert "belongs to no group of Acme, so they will lose all access to it" in html
    assert "Maintainer on project <strong>Webshop</strong>" in html
    assert "remains through" not in html


def test_remove_direct_access_of_a_group_only_user_is_refused_and_changes_nothing(demo, login):
    member = User.objects.create_user("grouponly@example.test", "x")
    GroupMembership.objects.create(group=demo.developers, user=member)
    assert_form_refused(login("owner"), remove_url("user", member.pk), {}, "has no direct role in Acme", **HX)


def test_removing_the_only_owner_is_refused(demo, login):
    assert_form_refused(
        login("admin@acme.test"),
        remove_url("user", demo.user("owner").pk),
        {},
        "Acme must keep at least one Company Owner",
    )


# -- delete a service account ---------------------------------------------------------------------


def test_delete_service_account_from_the_table(demo, login):
    deployer = demo.deployer
    bind(deployer, MAINTAINER, demo.webshop)
    client = login("owner")
    dialog = client.get(remove_url("service-account", deployer.pk), headers=HX).content.decode()
    assert "Delete service account" in dialog and deployer.client_id in dialog
    assert "Maintainer on company <strong>Acme</strong>" in dialog
    assert "Maintainer on project <strong>Webshop</strong>" in dialog

    response = client.post(remove_url("service-account", deployer.pk), headers=HX)
    assert response.status_code == 204
    events = hx_trigger(response)
    assert set(events) == EVENTS
    assert events["showMessage"]["text"] == "Service account ci-deployer was deleted."
    assert not ServiceAccount.objects.filter(pk=deployer.pk).exists()
    assert not RoleBinding.objects.filter(service_account_id=deployer.pk).exists()
    assert ServiceAccount.objects.filter(pk=demo.reader.pk).exists()


def test_delete_service_account_without_htmx_redirects(demo, login):
    response = login("owner").post(remove_url("service-account", demo.reader.pk))
    assert response.status_code == 302
    assert response["Location"] == IAM
    assert messages_of(response) == ["Service account metrics-reader was deleted."]
    assert not ServiceAccount.objects.filter(pk=demo.reader.pk).exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_groups_cannot_be_removed_from_the_iam_table(demo, login, method):
    before = snapshot()
    response = getattr(login("owner"), method)(remove_url("group", demo.developers.pk))
    assert response.status_code == 403
    assert snapshot() == before


# -- other companies' ids, missing objects --------------------------------------------------------


@pytest.fixture
def globex_identities(demo):
    group = Group.objects.create(company=demo.globex, name="Globex Team")
    bind(group, DEVELOPER, demo.globex)
    account = ServiceAccount.objects.create(company=demo.globex, name="globex-bot")
    bind(account, REPORTER, demo.globex)
    return {
        "user": User.objects.get(email="owner@globex.test"),
        "group": group,
        "service-account": account,
    }


@pytest.mark.parametrize("who", ["owner", "admin@acme.test"])
@pytest.mark.parametrize(
    ("action", "kind"),
    [
        ("edit", "user"),
        ("edit", "group"),
        ("edit", "service-account"),
        ("remove", "user"),
        ("remove", "service-account"),
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_companys_ids_are_404(demo, login, globex_identities, who, kind, action, method):
    pk = globex_identities[kind].pk
    url = (edit_url if action == "edit" else remove_url)(kind, pk)
    before = snapshot()
    client = login(who)
    response = client.get(url) if method == "get" else client.post(url, {"role": GUEST})
    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("kind", ["user", "group", "service-account"])
def test_missing_ids_are_404(demo, login, kind):
    assert login("owner").post(edit_url(kind, 987654), {"role": GUEST}).status_code == 404


def test_a_user_without_access_to_the_company_is_404(demo, login):
    stranger = User.objects.create_user("stranger@example.test", "x")
    client = login("owner")
    assert client.get(edit_url("user", stranger.pk)).status_code == 404
    assert client.post(edit_url("user", stranger.pk), {"role": GUEST}).status_code == 404
    assert client.post(remove_url("user", stranger.pk)).status_code == 404
    assert not RoleBinding.objects.filter(user=stranger).exists()


# -- CSRF, GET safety, methods --------------------------------------------------------------------


def post_targets(demo):
    return [
        (edit_url("user", demo.user("senior").pk), {"role": MAINTAINER}),
        (edit_url("group", demo.developers.pk), {"role": REPORTER}),
        (edit_url("service-account", demo.deployer.pk), {"role": DEVELOPER}),
        (remove_url("user", demo.user("senior").pk), {}),
        (remove_url("service-account", demo.deployer.pk), {}),
    ]


@pytest.mark.parametrize("index", range(5))
def test_post_without_csrf_token_is_403_and_changes_nothing(demo, csrf_client, index):
    url, data = post_targets(demo)[index]
    csrf_client.force_login(demo.user("owner"))
    assert_csrf_refused(csrf_client, url, data, token_from=IAM)


def test_get_never_changes_state(demo, login):
    client = login("owner")
    before = snapshot()
    for url, _ in post_targets(demo):
        assert client.get(url).status_code == 200
        assert client.get(url + "?role=company-owner", headers=HX).status_code == 200
    assert client.get(IAM + "?role=guest").status_code == 200
    assert snapshot() == before


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_wrong_methods_are_405(demo, login, method):
    client = login("owner")
    before = snapshot()
    urls = [IAM] + [url for url, _ in post_targets(demo)]
    for url in urls:
        assert getattr(client, method)(url).status_code == 405, url
    assert client.post(IAM, {"role": GUEST}).status_code == 405
    assert snapshot() == before


# -- rendered rows --------------------------------------------------------------------------------


def table(client, query: str = "", **headers) -> str:
    response = client.get(IAM + query, headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def row_ids(html: str) -> list[str]:
    return re.findall(r'<tr id="(identity-[a-z-]+-\d+)"', html)


def ids_for(demo, *names: str) -> list[str]:
    lookup = {
        "acme developers": f"identity-group-{demo.developers.pk}",
        "ci-deployer": f"identity-service-account-{demo.deployer.pk}",
        "metrics-reader": f"identity-service-account-{demo.reader.pk}",
    }
    for user in User.objects.filter(email__endswith="@acme.test"):
        lookup[user.full_name.lower()] = f"identity-user-{user.pk}"
    return [lookup[n] for n in names]


ALL_BY_NAME = [
    "acme developers",
    "ci-deployer",
    "dana designer",
    "dario designer",
    "jun one",
    "jun two",
    "luca lead",
    "metrics-reader",
    "olivia owner",
    "paula manager",
    "sara senior",
]


def test_table_lists_every_identity_with_its_company_role(demo, login):
    html = table(login("owner"))
    assert row_ids(html) == ids_for(demo, *ALL_BY_NAME)
    expected = {
        f"identity-user-{demo.user('owner').pk}": (
            "User",
            "Olivia Owner",
            "owner@acme.test",
            "Company Owner",
        ),
        f"identity-user-{demo.user('senior').pk}": ("User", "Sara Senior", "senior@acme.test", "Guest"),
        f"identity-group-{demo.developers.pk}": ("Group", "Acme Developers", "", "Developer"),
        f"identity-service-account-{demo.deployer.pk}": (
            "Service account",
            "ci-deployer",
            demo.deployer.client_id,
            "Maintainer",
        ),
        f"identity-service-account-{demo.reader.pk}": (
            "Service account",
            "metrics-reader",
            "demo-metrics-reader",
            "Reporter",
        ),
    }
    for row_id, (kind, name, sub, role) in expected.items():
        row = row_html(html, row_id)
        assert f">{kind}</span>" in row
        assert name in row and sub in row
        assert f">{role}</span>" in row
    assert "11 identities · 8 users · 1 group · 2 service accounts" in html
    # Not listed: the super user (no binding on Acme) and Globex's owner.
    assert "admin@acme.test" not in html and "owner@globex.test" not in html
    assert "Company roles reach further than the company." in html


def role_source(row: str) -> str:
    """The words under a user's company role: where it comes from."""
    return re.search(r'<span class="cell-sub role-source">([^<]*)</span>', row).group(1)


def test_users_show_their_effective_company_role_and_where_it_comes_from(demo, login):
    member = User.objects.create_user("grouponly@example.test", "x", full_name="Gina Grouponly")
    GroupMembership.objects.create(group=demo.developers, user=member)
    owners = Group.objects.create(company=demo.acme, name="Owners")
    bind(owners, COMPANY_OWNER, demo.acme)
    owners.memberships.create(user=demo.user("owner"))
    no_role = Group.objects.create(company=demo.acme, name="Readers")  # made in the admin: no company role
    no_role.memberships.create(user=demo.user("senior"))
    html = table(login("owner"))

    def shown(user) -> tuple[str, str]:
        row = row_html(html, f"identity-user-{user.pk}")
        return re.search(r'<span class="role[^"]*">([^<]+)</span>', row).group(1), role_source(row)

    # A group gives more than the user's own role: the group's role shows, and where each comes from.
    assert shown(demo.user("junior1")) == ("Developer", "via Acme Developers · direct: Guest")
    assert shown(member) == ("Developer", "via Acme Developers")
    assert shown(demo.user("owner")) == ("Company Owner", "direct · via Owners")
    assert shown(demo.user("senior")) == ("Guest", "direct · via Readers: no role")
    assert shown(demo.user("designer1")) == ("Guest", "direct")
    # Groups and service accounts hold only their own role.
    group_row = row_html(html, f"identity-group-{demo.developers.pk}")
    assert ">Developer</span>" in group_row and "role-source" not in group_row
    assert "14 identities · 9 users · 3 groups" in html


def test_a_user_whose_only_group_has_no_role_shows_no_company_role(demo, login):
    member = User.objects.create_user("norole@example.test", "x", full_name="Nora Norole")
    Group.objects.create(company=demo.acme, name="Readers").memberships.create(user=member)
    row = row_html(table(login("owner")), f"identity-user-{member.pk}")
    assert "No company role" in row and role_source(row) == "via Readers: no role"


def test_sorting_by_role_uses_the_effective_role(demo, login):
    member = User.objects.create_user("gina@acme.test", "x", full_name="Gina Grouponly")
    GroupMembership.objects.create(group=demo.developers, user=member)
    html = table(login("owner"), "?sort=role")
    by_role = [*BY_ROLE[:3], "gina grouponly", *BY_ROLE[3:]]  # Developer through the group, first by name
    assert row_ids(html) == ids_for(demo, *by_role)


def test_rows_have_edit_and_remove_links(demo, login):
    html = table(login("owner"))
    senior = demo.user("senior")
    row = row_html(html, f"identity-user-{senior.pk}")
    assert f'href="{edit_url("user", senior.pk)}"' in row
    assert f'href="{remove_url("user", senior.pk)}"' in row
    assert 'aria-label="Remove the direct access of Sara Senior">Remove</a>' in row
    # A service account's action deletes it, and says so, as its dialog does.
    account_row = row_html(html, f"identity-service-account-{demo.deployer.pk}")
    assert 'aria-label="Delete the service account ci-deployer">Delete</a>' in account_row
    assert ">Remove</a>" not in account_row
    group_row = row_html(html, f"identity-group-{demo.developers.pk}")
    assert f'href="{edit_url("group", demo.developers.pk)}"' in group_row
    assert "/remove/" not in group_row
    assert 'href="/companies/acme/users/add/"' in html  # "Add user" shortcut


@pytest.mark.parametrize(
    ("kind", "names", "count"),
    [
        (
            "user",
            [n for n in ALL_BY_NAME if n not in {"acme developers", "ci-deployer", "metrics-reader"}],
            8,
        ),
        ("group", ["acme developers"], 1),
        ("service-account", ["ci-deployer", "metrics-reader"], 2),
        ("nonsense", ALL_BY_NAME, 11),
    ],
)
def test_type_filter(demo, login, kind, names, count):
    html = table(login("owner"), f"?type={kind}")
    assert row_ids(html) == ids_for(demo, *names)
    assert count_line(html).startswith(f"{count} identit")


def count_line(html: str) -> str:
    return re.sub(
        r"\s+", " ", re.search(r'<span id="iam-count"[^>]*>(.*?)</span>', html, re.S).group(1)
    ).strip()


@pytest.mark.parametrize("headers", [{}, HX], ids=["full", "htmx"])
@pytest.mark.parametrize(
    ("query", "line"),
    [
        ("", "11 identities · 8 users · 1 group · 2 service accounts"),
        ("?type=service-account", "2 identities"),
        ("?type=group", "1 identity"),
        ("?type=user&q=jun", "2 identities matching “jun”"),
        ("?q=jun", "2 identities matching “jun” · 2 users · 0 groups · 0 service accounts"),
    ],
)
def test_the_count_follows_the_type_filter(demo, login, headers, query, line):
    assert count_line(table(login("owner"), query, **headers)) == line


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("jun", ["jun one", "jun two"]),
        ("DESIGNER1@acme", ["dana designer"]),
        ("demo-metrics", ["metrics-reader"]),
        ("deploy", ["ci-deployer"]),
        ("developers", ["acme developers"]),
        ("owner@acme.test", ["olivia owner"]),
        ("nobody-matches-this", []),
    ],
)
def test_search_by_name_email_and_client_id(demo, login, query, names):
    html = table(login("owner"), f"?q={quote(query)}")
    assert row_ids(html) == ids_for(demo, *names)
    total = len(names)
    assert f"{total} identit{'y' if total == 1 else 'ies'} matching “{query}”" in html
    if not names:
        assert "No identity matches these filters." in html


def test_search_by_full_client_id(demo, login):
    html = table(login("owner"), f"?q={demo.deployer.client_id}")
    assert row_ids(html) == ids_for(demo, "ci-deployer")


def test_search_and_type_filter_combine(demo, login):
    html = table(login("owner"), "?q=ci-&type=service-account")
    assert row_ids(html) == ids_for(demo, "ci-deployer")


def test_a_searched_count_is_the_rows_listed(demo, login):
    """With a search, company users are counted match by match (`company_user_count`): through a direct role,
    a group, or both (once, even through two groups); never a matching account of another company."""

    def account(name: str) -> User:
        return User.objects.create_user(f"{name}@example.test", "x", full_name=f"Finder {name.title()}")

    direct, grouped, both, outsider = (account(name) for name in ("direct", "grouped", "both", "outsider"))
    finders = Group.objects.create(company=demo.acme, name="Finders")
    bind(direct, REPORTER, demo.acme)
    bind(both, GUEST, demo.acme)
    for group, user in ((demo.developers, grouped), (demo.developers, both), (finders, both)):
        GroupMembership.objects.create(group=group, user=user)
    bind(outsider, DEVELOPER, demo.globex)
    owner = login("owner")

    html = table(owner, "?q=FINDER")
    users = [f"identity-user-{user.pk}" for user in (both, direct, grouped)]
    assert row_ids(html) == [*users, f"identity-group-{finders.pk}"]
    assert count_line(html) == "4 identities matching “FINDER” · 3 users · 1 group · 0 service accounts"
    assert "3 users matching “finder”" in owner.get("/companies/acme/users/?q=finder").content.decode()


BY_ROLE = [
    "olivia owner",  # Company Owner
    "ci-deployer",  # Maintainer
    "acme developers",  # Developer
    "jun one",  # Developer through Acme Developers (their own role is Guest)
    "jun two",
    "metrics-reader",  # Reporter
    "dana designer",  # Guests by name
    "dario designer",
    "luca lead",
    "paula manager",
    "sara senior",
]


@pytest.mark.parametrize(
    ("sort", "names"),
    [
        ("name", ALL_BY_NAME),
        ("-name", ALL_BY_NAME[::-1]),
        ("role", BY_ROLE),
        ("-role", BY_ROLE[::-1]),
        ("bogus", ALL_BY_NAME),
    ],
)
def test_sort(demo, login, sort, names):
    html = table(login("owner"), f"?sort={sort}")
    assert row_ids(html) == ids_for(demo, *names)


def test_sort_header_marks_the_current_order(demo, login):
    html = table(login("owner"), "?sort=-role")
    assert 'aria-sort="descending"' in html
    assert 'Company role <span aria-hidden="true">▼</span>' in html  # aria-sort says it to screen readers


def test_htmx_table_request_returns_only_the_table(demo, login):
    response = login("owner").get(IAM + "?type=user", headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<dialog" not in html
    assert html.lstrip().startswith('<div id="iam-table"')
    assert "HX-Request" in response["Vary"] and "HX-History-Restore-Request" in response["Vary"]
    assert row_ids(html) == row_ids(table(login("owner"), "?type=user"))


def test_empty_company_shows_the_empty_state(demo, login):
    from iam_portal.orgs.models import Company

    Company.objects.create(slug="empty", name="Empty Co")
    html = login("admin@acme.test").get("/companies/empty/iam/").content.decode()
    assert "No identity has access to Empty Co yet." in html
    assert "0 identities · 0 users · 0 groups · 0 service accounts" in html


# -- query budget ---------------------------------------------------------------------------------


def add_identities(demo, n: int, prefix: str = "bulk") -> None:
    """n more identities of every kind: users with company bindings and group memberships, groups with
    members and roles, service accounts with roles."""
    users = User.objects.bulk_create(
        User(email=f"{prefix}{i}@example.test", full_name=f"{prefix.title()} User {i:03d}") for i in range(n)
    )
    groups = Group.objects.bulk_create(
        Group(company=demo.acme, name=f"{prefix.title()} Group {i:03d}") for i in range(n)
    )
    accounts = ServiceAccount.objects.bulk_create(
        ServiceAccount(company=demo.acme, name=f"{prefix}-sa-{i:03d}", client_id=f"{prefix}-client-{i:03d}")
        for i in range(n)
    )
    roles = [GUEST, REPORTER, DEVELOPER, MAINTAINER]
    RoleBinding.objects.bulk_create(
        [RoleBinding(user=u, company=demo.acme, role=roles[i % 4]) for i, u in enumerate(users)]
        + [RoleBinding(group=g, company=demo.acme, role=roles[i % 4]) for i, g in enumerate(groups)]
        + [
            RoleBinding(service_account=a, company=demo.acme, role=roles[i % 4])
            for i, a in enumerate(accounts)
        ]
    )
    GroupMembership.objects.bulk_create(
        [GroupMembership(group=groups[i], user=u) for i, u in enumerate(users)]
        + [GroupMembership(group=demo.developers, user=u) for u in users[::2]]
    )


# Session, viewer, company, the viewer's grants on it, one page query per kind shown, the groups
# that give the page's users their company role, the counts (3), and the company switcher of a full page.
# A search reads the company's (kept) user count besides its searched counts: the tables choose by it how
# to read the company's users (subjects.table_users); without a search that count is one of the three.
BUDGET = {"": 12, "?sort=-role": 12, "?type=user&q=user": 11, "?q=1": 13}


@pytest.mark.parametrize("headers", [{}, HX], ids=["full", "htmx"])
@pytest.mark.parametrize("query", BUDGET)
def test_iam_table_costs_the_same_queries_for_a_few_and_200_rows(
    demo, login, django_assert_max_num_queries, headers, query
):
    client = login("owner")
    add_identities(demo, 1)  # a few extra identities: one user, one group, one service account
    client.get(IAM)  # the first request of a session may differ; measure a steady one
    small = count_queries(client, IAM + query, **headers)
    assert small == BUDGET[query] - (1 if headers else 0)

    add_identities(demo, 200, prefix="more")
    # the first page after a change counts the company's users again and keeps the count (RECOUNT)
    with django_assert_max_num_queries(small + RECOUNT):
        response = client.get(IAM + query, headers=headers)
    assert response.status_code == 200
    assert len(row_ids(response.content.decode())) == 50
    assert count_queries(client, IAM + query, **headers) == small
