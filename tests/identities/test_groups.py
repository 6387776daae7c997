"""Groups page, group detail and every group action: authorization matrix, outcomes, guards, queries."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from iam_portal.access.catalogue import COMPANY_OWNER, DEVELOPER, MAINTAINER, REPORTER
from iam_portal.access.models import RoleBinding
from iam_portal.identities import services
from iam_portal.identities.models import Group, GroupMembership, User
from tests.helpers import (
    COMPANY_MANAGER_DENIALS,
    HX,
    assert_access_matrix,
    assert_company_matrix,
    assert_csrf_refused,
    assert_form_refused,
    bind,
    count_queries,
    hx_trigger,
    messages_of,
    row_html,
    snapshot,
)

OWNER = "owner@acme.test"


def group_urls(demo) -> dict[str, str]:
    acme, group = demo.acme.slug, demo.developers.pk
    member = demo.user("junior1").pk
    return {
        "list": reverse("company_groups", args=[acme]),
        "create": reverse("group_create", args=[acme]),
        "detail": reverse("group_detail", args=[acme, group]),
        "edit": reverse("group_edit", args=[acme, group]),
        "add_members": reverse("group_add_members", args=[acme, group]),
        "remove_member": reverse("group_remove_member", args=[acme, group, member]),
        "delete": reverse("group_delete", args=[acme, group]),
    }


URL_NAMES = ("list", "create", "detail", "edit", "add_members", "remove_member", "delete")
WRITE_URLS = ("create", "edit", "add_members", "remove_member", "delete")


# -- authorization matrix -------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", URL_NAMES)
def test_get_matrix(demo, persona, url_name):
    assert_company_matrix(persona, "get", group_urls(demo)[url_name], status=200)


@pytest.mark.parametrize("url_name", WRITE_URLS)
def test_denied_posts_change_nothing(demo, persona, url_name):
    data = {"name": "Intruders", "role": COMPANY_OWNER, "members": OWNER, "emails": OWNER}
    assert_access_matrix(persona, COMPANY_MANAGER_DENIALS, post=group_urls(demo)[url_name], data=data)


def test_methods_other_than_get_and_post_are_refused(demo, owner_client):
    urls = group_urls(demo)
    assert owner_client.post(urls["list"]).status_code == 405
    assert owner_client.post(urls["detail"]).status_code == 405
    assert owner_client.put(urls["delete"]).status_code == 405


@pytest.mark.parametrize("url_name", ["detail", "edit", "add_members", "remove_member", "delete"])
def test_another_companys_group_is_not_found(demo, owner_client, url_name):
    foreign = Group.objects.create(company=demo.globex, name="Globex team")
    globex_user = User.objects.get(email="owner@globex.test")
    GroupMembership.objects.create(group=foreign, user=globex_user)
    args = [demo.acme.slug, foreign.pk] + ([globex_user.pk] if url_name == "remove_member" else [])
    name = {"detail": "group_detail", "edit": "group_edit", "add_members": "group_add_members"}.get(
        url_name, f"group_{url_name}"
    )
    before = snapshot()
    assert owner_client.get(reverse(name, args=args)).status_code == 404
    if url_name != "detail":
        assert owner_client.post(reverse(name, args=args), {"name": "x", "role": REPORTER}).status_code == 404
    assert snapshot() == before


def test_missing_group_is_not_found(demo, owner_client):
    assert owner_client.get(reverse("group_detail", args=[demo.acme.slug, 999999])).status_code == 404


# -- groups list ----------------------------------------------------------------------------------


def test_list_shows_name_role_and_member_count(demo, owner_client):
    response = owner_client.get(group_urls(demo)["list"])
    assert response.status_code == 200
    assert response["Vary"] and "HX-Request" in response["Vary"]
    html = response.content.decode()
    row = row_html(html, f"group-{demo.developers.pk}")
    assert "Acme Developers" in row
    assert reverse("group_detail", args=[demo.acme.slug, demo.developers.pk]) in row
    assert "Developer" in row and "<td>2</td>" in row
    assert "1 group" in html
    assert "Create group" in html


def test_list_search_sort_and_htmx_partial(demo, owner_client):
    owners = Group.objects.create(company=demo.acme, name="Owners")
    bind(owners, COMPANY_OWNER, demo.acme)
    Group.objects.create(company=demo.acme, name="Auditors")
    url = group_urls(demo)["list"]

    response = owner_client.get(url, {"q": "own"})
    assert [g.name for g in response.context["page"].rows] == ["Owners"]
    assert response.context["total"] == 1

    response = owner_client.get(url, {"sort": "role"})
    assert [g.name for g in response.context["page"].rows] == ["Owners", "Acme Developers", "Auditors"]
    response = owner_client.get(url, {"sort": "-name"})
    assert [g.name for g in response.context["page"].rows] == ["Owners", "Auditors", "Acme Developers"]

    partial = owner_client.get(url, headers=HX)
    body = partial.content.decode()
    assert partial.status_code == 200
    assert "<html" not in body and 'id="groups-table"' in body and 'hx-disinherit="*"' in body


def test_list_pages_with_keyset_cursor(demo, owner_client, settings):
    settings.PAGE_SIZE = 50
    Group.objects.bulk_create(Group(company=demo.acme, name=f"Team {i:03}") for i in range(60))
    url = group_urls(demo)["list"]
    first = owner_client.get(url)
    page = first.context["page"]
    assert len(page.rows) == 50 and page.has_next
    second = owner_client.get(url, {"after": page.next_cursor})
    names = [g.name for g in second.context["page"].rows]
    assert len(names) == 11 and names[-1] == "Team 059"
    assert first.context["total"] == 61


# -- create ---------------------------------------------------------------------------------------


def test_create_dialog_renders(demo, owner_client):
    response = owner_client.get(group_urls(demo)["create"], headers=HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    for label in ("Name", "Company role", "Members"):
        assert f">{label}</label>" in html
    full = owner_client.get(group_urls(demo)["create"])
    assert "<html" in full.content.decode()


def test_create_with_members_over_htmx(demo, owner_client):
    response = owner_client.post(
        group_urls(demo)["create"],
        {
            "name": "Release team",
            "role": MAINTAINER,
            "members": "senior@acme.test,\nLEAD@acme.test  owner@globex.test",
        },
        headers=HX,
    )
    assert response.status_code == 204
    trigger = hx_trigger(response)
    assert "identitiesChanged" in trigger and "closeDialog" in trigger
    assert "Release team" in trigger["showMessage"]["text"]
    group = Group.objects.get(company=demo.acme, name="Release team")
    assert RoleBinding.objects.get(group=group).company == demo.acme
    assert RoleBinding.objects.get(group=group).role == MAINTAINER
    assert set(group.members.values_list("email", flat=True)) == {
        "senior@acme.test",
        "lead@acme.test",
        "owner@globex.test",
    }


def test_create_without_members_and_without_javascript(demo, owner_client):
    response = owner_client.post(
        group_urls(demo)["create"], {"name": "Empty", "role": REPORTER, "members": ""}
    )
    group = Group.objects.get(company=demo.acme, name="Empty")
    assert response.status_code == 302
    assert response.url == reverse("group_detail", args=[demo.acme.slug, group.pk])
    assert group.memberships.count() == 0
    assert any("Empty" in m for m in messages_of(response))


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"name": "acme DEVELOPERS", "role": REPORTER}, "already has a group named"),
        ({"name": "", "role": REPORTER}, "This field is required."),
        ({"name": "New", "role": ""}, "This field is required."),
        ({"name": "New", "role": "root"}, "Select a valid choice."),
        ({"name": "New", "role": REPORTER, "members": "not-an-email, senior@acme.test"}, "not-an-email"),
    ],
)
def test_create_invalid_changes_nothing(demo, owner_client, data, error):
    assert_form_refused(owner_client, group_urls(demo)["create"], data, error, **HX)


def test_create_with_unknown_emails_lists_them_and_creates_nothing(demo, owner_client):
    data = {
        "name": "Ghosts",
        "role": REPORTER,
        "members": "senior@acme.test\nghost1@acme.test\nghost2@acme.test",
    }
    response = assert_form_refused(owner_client, group_urls(demo)["create"], data, "ghost1@acme.test", **HX)
    assert "ghost2@acme.test" in response.content.decode()


def test_create_refuses_a_role_above_the_actors_own(demo, lower_actor):
    url = group_urls(demo)["create"]
    owners = {"name": "Owners", "role": COMPANY_OWNER}
    assert_form_refused(lower_actor, url, owners, "up to your own (Maintainer)", **HX)

    assert lower_actor.post(url, {"name": "Helpers", "role": DEVELOPER}, headers=HX).status_code == 204
    assert Group.objects.filter(company=demo.acme, name="Helpers").exists()


def test_create_refused_by_the_service_for_a_non_manager(demo):
    with pytest.raises(PermissionDenied):
        services.group_create(
            actor=demo.user("senior"), company=demo.acme, name="Mine", role=REPORTER, member_emails=[]
        )
    assert not Group.objects.filter(name="Mine").exists()


# -- detail ---------------------------------------------------------------------------------------


def test_detail_shows_header_members_and_actions(demo, owner_client):
    response = owner_client.get(group_urls(demo)["detail"])
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Acme Developers</h1>" in html
    assert "2 members" in html and "role-developer" in html
    for url_name in ("edit", "add_members", "delete"):
        assert group_urls(demo)[url_name] in html
    junior = demo.user("junior1")
    row = row_html(html, f"member-{junior.pk}")
    assert "Jun One" in row and "junior1@acme.test" in row and "Never" in row
    assert group_urls(demo)["remove_member"] in row


def test_detail_pages_by_the_page_size_setting(demo, owner_client, settings):
    settings.PAGE_SIZE = 10
    users = User.objects.bulk_create(User(email=f"m{i:02}@example.test") for i in range(20))
    GroupMembership.objects.bulk_create(GroupMembership(group=demo.developers, user=u) for u in users)
    url = group_urls(demo)["detail"]
    first = owner_client.get(url, {"sort": "email"})
    page = first.context["page"]
    assert len(page.rows) == 10 and page.has_next and first.context["total"] == 22
    emails = [u.email for u in page.rows]
    while page.has_next:
        response = owner_client.get(url, {"sort": "email", "after": page.next_cursor})
        page = response.context["page"]
        emails += [u.email for u in page.rows]
    assert emails == sorted(demo.developers.members.values_list("email", flat=True))


def test_detail_search_and_htmx_partials(demo, owner_client):
    url = group_urls(demo)["detail"]
    response = owner_client.get(url, {"q": "two"})
    assert [u.email for u in response.context["page"].rows] == ["junior2@acme.test"]
    assert response.context["total"] == 1

    table = owner_client.get(url, headers={**HX, "HX-Target": "members-table"}).content.decode()
    assert 'id="members-table"' in table and "<h1>" not in table and "<html" not in table

    header = owner_client.get(url, headers={**HX, "HX-Target": "group-header"})
    body = header.content.decode()
    assert 'id="group-header"' in body and "members-table" not in body
    assert "HX-Target" in header["Vary"]


# -- edit -----------------------------------------------------------------------------------------


def test_edit_renames_and_changes_role(demo, owner_client):
    form = owner_client.get(group_urls(demo)["edit"], headers=HX)
    assert 'value="Acme Developers"' in form.content.decode()
    assert form.context["form"].initial["role"] == DEVELOPER

    response = owner_client.post(group_urls(demo)["edit"], {"name": "Builders", "role": REPORTER}, headers=HX)
    assert response.status_code == 204
    assert {"identitiesChanged", "closeDialog"} <= set(hx_trigger(response))
    demo.developers.refresh_from_db()
    assert demo.developers.name == "Builders"
    assert RoleBinding.objects.get(group=demo.developers, company=demo.acme).role == REPORTER


def test_edit_without_javascript_redirects_to_the_detail(demo, owner_client):
    response = owner_client.post(group_urls(demo)["edit"], {"name": "acme developers", "role": MAINTAINER})
    assert response.status_code == 302
    assert response.url == group_urls(demo)["detail"]
    demo.developers.refresh_from_db()
    assert demo.developers.name == "acme developers"  # its own name in another case is not a duplicate


def test_edit_duplicate_name_changes_nothing(demo, owner_client):
    Group.objects.create(company=demo.acme, name="Owners")
    Group.objects.create(company=demo.globex, name="Same name elsewhere")
    url = group_urls(demo)["edit"]
    assert_form_refused(
        owner_client, url, {"name": "OWNERS", "role": REPORTER}, "already has a group named", **HX
    )
    elsewhere = {"name": "Same name elsewhere", "role": DEVELOPER}
    assert owner_client.post(url, elsewhere, headers=HX).status_code == 204


# -- add members ----------------------------------------------------------------------------------


def test_add_members_adds_several_and_skips_existing(demo, owner_client):
    response = owner_client.post(
        group_urls(demo)["add_members"],
        {"emails": "senior@acme.test; junior1@acme.test\ndesigner1@acme.test"},
        headers=HX,
    )
    assert response.status_code == 204
    trigger = hx_trigger(response)
    assert {"identitiesChanged", "closeDialog"} <= set(trigger)
    text = trigger["showMessage"]["text"]
    assert "2 members added" in text and "Already members: junior1@acme.test" in text
    assert set(demo.developers.members.values_list("email", flat=True)) == {
        "junior1@acme.test",
        "junior2@acme.test",
        "senior@acme.test",
        "designer1@acme.test",
    }


def test_add_members_only_existing_says_so(demo, owner_client):
    before = snapshot()
    response = owner_client.post(group_urls(demo)["add_members"], {"emails": "junior2@acme.test"})
    assert response.status_code == 302 and response.url == group_urls(demo)["detail"]
    assert any("Nobody was added" in m and "junior2@acme.test" in m for m in messages_of(response))
    assert snapshot() == before


@pytest.mark.parametrize(
    ("emails", "error"),
    [
        ("senior@acme.test, nobody@acme.test, ghost@acme.test", "nobody@acme.test, ghost@acme.test"),
        ("", "This field is required."),
        ("senior@acme.test, not an email", "Not valid email addresses"),
    ],
)
def test_add_members_invalid_adds_nobody(demo, owner_client, emails, error):
    before = snapshot()
    response = owner_client.post(group_urls(demo)["add_members"], {"emails": emails}, headers=HX)
    assert response.status_code == 200
    html = response.content.decode()
    for part in error.split(", "):
        assert part in html
    assert snapshot() == before


def test_add_members_to_a_group_above_the_actors_role_is_refused(demo, lower_actor):
    owners = Group.objects.create(company=demo.acme, name="Owners")
    bind(owners, COMPANY_OWNER, demo.acme)
    before = snapshot()
    url = reverse("group_add_members", args=[demo.acme.slug, owners.pk])
    response = lower_actor.post(url, {"emails": "senior@acme.test"}, headers=HX)
    assert response.status_code == 200
    assert "up to your own" in response.content.decode()
    assert snapshot() == before


def test_edit_to_a_role_above_the_actors_own_is_refused(demo, lower_actor):
    assert_form_refused(
        lower_actor,
        group_urls(demo)["edit"],
        {"name": "Acme Developers", "role": COMPANY_OWNER},
        "up to your own",
    )


# -- remove member --------------------------------------------------------------------------------


def test_remove_member_confirm_says_who_keeps_access(demo, owner_client):
    # junior1 has a Guest role of their own on Acme: they keep access.
    html = owner_client.get(group_urls(demo)["remove_member"], headers=HX).content.decode()
    assert "keeps access" in html and "Guest" in html

    other = Group.objects.create(company=demo.acme, name="Reviewers")
    only_here = User.objects.create_user("solo@example.test", "x", full_name="Solo Member")
    GroupMembership.objects.create(group=demo.developers, user=only_here)
    url = reverse("group_remove_member", args=[demo.acme.slug, demo.developers.pk, only_here.pk])
    html = owner_client.get(url, headers=HX).content.decode()
    assert "lose access" in html and "keeps access" not in html

    GroupMembership.objects.create(group=other, user=only_here)
    html = owner_client.get(url, headers=HX).content.decode()
    assert "keeps access" in html and "Reviewers" in html


def test_get_remove_member_changes_nothing_and_post_removes(demo, owner_client):
    junior = demo.user("junior1")
    before = snapshot()
    owner_client.get(group_urls(demo)["remove_member"])
    assert snapshot() == before

    response = owner_client.post(group_urls(demo)["remove_member"], headers=HX)
    assert response.status_code == 204
    assert {"identitiesChanged", "closeDialog"} <= set(hx_trigger(response))
    assert not GroupMembership.objects.filter(group=demo.developers, user=junior).exists()
    assert RoleBinding.objects.filter(user=junior, company=demo.acme).exists()  # own role untouched


def test_remove_member_without_javascript(demo, owner_client):
    response = owner_client.post(group_urls(demo)["remove_member"])
    assert response.status_code == 302 and response.url == group_urls(demo)["detail"]
    assert demo.developers.memberships.count() == 1


def test_remove_someone_who_is_not_a_member_is_not_found(demo, owner_client):
    senior = demo.user("senior")
    url = reverse("group_remove_member", args=[demo.acme.slug, demo.developers.pk, senior.pk])
    before = snapshot()
    assert owner_client.get(url).status_code == 404
    assert owner_client.post(url).status_code == 404
    assert snapshot() == before


# -- last owner -----------------------------------------------------------------------------------


def test_removing_the_last_owner_from_the_owner_group_is_refused(
    demo, owner_client, owner_only_through_group
):
    owner = User.objects.get(email=OWNER)
    url = reverse("group_remove_member", args=[demo.acme.slug, owner_only_through_group.pk, owner.pk])
    assert_form_refused(owner_client, url, {}, "must keep at least one Company Owner", **HX)


def test_deleting_the_last_owner_group_is_refused(demo, owner_client, owner_only_through_group):
    url = reverse("group_delete", args=[demo.acme.slug, owner_only_through_group.pk])
    assert_form_refused(owner_client, url, {}, "must keep at least one Company Owner", **HX)
    assert_form_refused(owner_client, url, {}, "must keep at least one Company Owner")


def test_demoting_the_last_owner_group_is_refused(demo, owner_client, owner_only_through_group):
    url = reverse("group_edit", args=[demo.acme.slug, owner_only_through_group.pk])
    assert_form_refused(
        owner_client,
        url,
        {"name": "Owners", "role": MAINTAINER},
        "must keep at least one Company Owner",
        **HX,
    )


# -- delete ---------------------------------------------------------------------------------------


def test_delete_confirm_lists_members_losing_access_and_roles(demo, owner_client):
    solo = User.objects.create_user("solo@example.test", "x", full_name="Solo Member")
    GroupMembership.objects.create(group=demo.developers, user=solo)
    bind(demo.developers, MAINTAINER, demo.webshop)
    bind(demo.developers, REPORTER, demo.production)
    before = snapshot()
    response = owner_client.get(group_urls(demo)["delete"], headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "1 member will lose access" in html and "solo@example.test" in html
    assert "junior1@acme.test" not in html  # has a role of their own
    assert "Developer on company <strong>Acme</strong>" in html
    assert "Maintainer on project <strong>Webshop</strong>" in html
    assert "Reporter on environment" in html
    assert snapshot() == before


def test_delete_over_htmx_redirects_the_page_to_the_list(demo, owner_client):
    group = demo.developers
    bind(group, MAINTAINER, demo.webshop)
    response = owner_client.post(group_urls(demo)["delete"], headers=HX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("company_groups", args=[demo.acme.slug])
    assert any("Acme Developers" in m for m in messages_of(response))
    assert not Group.objects.filter(pk=group.pk).exists()
    assert not RoleBinding.objects.filter(group_id=group.pk).exists()
    assert not GroupMembership.objects.filter(group_id=group.pk).exists()
    assert User.objects.filter(email="junior1@acme.test").exists()


def test_delete_without_javascript(demo, owner_client):
    response = owner_client.post(group_urls(demo)["delete"])
    assert response.status_code == 302
    assert response.url == reverse("company_groups", args=[demo.acme.slug])
    assert not Group.objects.filter(company=demo.acme).exists()
    page = owner_client.get(response.url)
    assert "Group Acme Developers was deleted." in page.content.decode()


# -- CSRF -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", WRITE_URLS)
def test_posts_without_csrf_token_are_refused(demo, csrf_client, url_name):
    csrf_client.force_login(User.objects.get(email=OWNER))
    data = {"name": "Sneaky", "role": REPORTER, "members": "", "emails": "senior@acme.test"}
    assert_csrf_refused(csrf_client, group_urls(demo)[url_name], data)


# -- query budgets --------------------------------------------------------------------------------


def test_groups_list_query_count_does_not_grow_with_rows(demo, owner_client):
    extra = Group.objects.create(company=demo.acme, name="Second")
    GroupMembership.objects.create(group=extra, user=demo.user("senior"))
    url = group_urls(demo)["list"]
    small = count_queries(owner_client, url)
    assert small == 7  # session, viewer, company, the viewer's grants, the page, the count, the switcher

    groups = Group.objects.bulk_create(Group(company=demo.acme, name=f"Bulk {i:03}") for i in range(198))
    RoleBinding.objects.bulk_create(RoleBinding(group=g, company=demo.acme, role=REPORTER) for g in groups)
    users = User.objects.bulk_create(User(email=f"bulk{i}@example.test") for i in range(5))
    GroupMembership.objects.bulk_create(GroupMembership(group=g, user=u) for g in groups for u in users)
    assert Group.objects.filter(company=demo.acme).count() == 200
    assert count_queries(owner_client, url) == small
    assert count_queries(owner_client, url + "?sort=role") == small


def test_group_detail_query_count_does_not_grow_with_members(demo, owner_client):
    url = group_urls(demo)["detail"]
    small = count_queries(owner_client, url)
    assert small == 7  # session, viewer, company, the viewer's grants, the group, the page, the switcher
    users = User.objects.bulk_create(User(email=f"bulk{i:03}@example.test") for i in range(198))
    GroupMembership.objects.bulk_create(GroupMembership(group=demo.developers, user=u) for u in users)
    assert demo.developers.memberships.count() == 200
    assert count_queries(owner_client, url) == small
    assert count_queries(owner_client, url + "?sort=-last_login") == small
