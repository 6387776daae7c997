"""What every page and dialog shares, checked on each of them (tests/helpers.py lists them all): Back gets
the whole page, caches are told which htmx headers change a page, dialogs return to the page they were
opened from (filters kept) without JavaScript, are named by their title, and link help texts to fields."""

import pytest

from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group
from tests.helpers import HX, PORTAL_DIALOGS, PORTAL_PAGES, TABLE_PAGES, parse_html, portal_url

RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}


def is_whole_page(html: str) -> bool:
    elements = parse_html(html)
    tags = {e.tag for e in elements}
    return {"html", "header", "main", "nav"} <= tags and any(e.has_class("sidebar") for e in elements)


# -- Back: a history restore gets the whole page (issue 9, item 1) ---------------------------------


@pytest.mark.parametrize("name", TABLE_PAGES)
def test_a_history_restore_gets_the_whole_page(demo, login, name):
    url = portal_url(demo, TABLE_PAGES[name]) + "?q=a&sort=-name"
    client = login("owner")
    partial = client.get(url, headers=HX).content.decode()
    assert not is_whole_page(partial)  # a search or sort swaps only the table…
    restored = client.get(url, headers=RESTORE)
    # …but Back asks for the same URL again, and must get top bar, sidebar and title with the table.
    assert restored.status_code == 200
    assert is_whole_page(restored.content.decode())
    assert "?q=a" not in restored["Vary"]  # (nothing odd in the header)
    assert {"HX-Request", "HX-History-Restore-Request"} <= {v.strip() for v in restored["Vary"].split(",")}


def test_the_group_header_refresh_is_still_a_partial(demo, login):
    url = portal_url(demo, TABLE_PAGES["group detail"])
    response = login("owner").get(url, headers={**HX, "HX-Target": "group-header"})
    assert not is_whole_page(response.content.decode())
    assert 'id="group-header"' in response.content.decode()
    assert {"HX-Request", "HX-History-Restore-Request", "HX-Target"} <= {
        v.strip() for v in response["Vary"].split(",")
    }


@pytest.mark.parametrize("urls", [PORTAL_PAGES, PORTAL_DIALOGS], ids=["pages", "dialogs"])
def test_every_page_and_dialog_varies_on_the_htmx_headers(demo, login, urls):
    client = login("owner")
    for name, template in urls.items():
        url = portal_url(demo, template)
        for headers in ({}, HX):
            response = client.get(url, headers=headers)
            assert response.status_code == 200, name
            vary = {v.strip() for v in response["Vary"].split(",")}
            assert {"HX-Request", "HX-History-Restore-Request"} <= vary, (name, vary)


# -- dialogs: named by their title; a full page has an <h1> and a working Close (items 10 and 36) ---------


@pytest.mark.parametrize("name", PORTAL_DIALOGS)
def test_a_dialog_is_named_by_its_title_and_closes_without_javascript(demo, login, name):
    url = portal_url(demo, PORTAL_DIALOGS[name])
    client = login("owner")

    page = parse_html(client.get(url).content.decode())
    [h1] = [e for e in page if e.tag == "h1"]
    title = "".join(h1.text).strip()
    assert title
    # The page's empty <dialog> is not named after the page's title.
    [dialog] = [e for e in page if e.tag == "dialog"]
    assert dialog.attrs["aria-labelledby"] == "dialog-title"
    assert not [e for e in page if e.attrs.get("id") == "dialog-title"]
    # Close is a link back to a page: without JavaScript, <form method="dialog"> did nothing outside <dialog>.
    [close] = [e for e in page if e.attrs.get("aria-label") == "Close"]
    assert close.tag == "a" and close.attrs["href"].startswith("/companies/acme/")
    assert not [e for e in page if e.tag == "form" and e.attrs.get("method") == "dialog"]

    piece = parse_html(client.get(url, headers=HX).content.decode())
    assert not [e for e in piece if e.tag == "h1"]
    [h2] = [e for e in piece if e.attrs.get("id") == "dialog-title"]
    assert h2.tag == "h2" and "".join(h2.text).strip() == title


@pytest.mark.parametrize("name", PORTAL_DIALOGS)
def test_a_dialog_form_disables_its_submit_button_while_it_posts(demo, login, name):
    html = login("owner").get(portal_url(demo, PORTAL_DIALOGS[name]), headers=HX).content.decode()
    [form] = [e for e in parse_html(html) if e.tag == "form" and e.attrs.get("method") == "post"]
    assert form.attrs["hx-disabled-elt"] == "find button[type=submit]"
    # One submit at a time; a submit waits for a preview in flight (which syncs on the form, queue last).
    assert form.attrs["hx-sync"] == "this:queue first"
    for preview in (
        e for e in parse_html(html) if e.attrs.get("class") == "preview" and "hx-post" in e.attrs
    ):
        assert preview.attrs["hx-sync"] == "closest form:queue last"


# -- without JavaScript, saving returns to the table with its filters (item 10) -----------------------

IAM = "/companies/acme/iam/"


def test_a_dialog_opened_from_a_filtered_table_returns_there(demo, login):
    dana = demo.user("designer1")
    edit = f"/companies/acme/iam/user/{dana.pk}/edit/"
    came_from = IAM + "?q=dana&sort=-role"
    client = login("owner")

    page = parse_html(client.get(edit, headers={"Referer": f"http://testserver{came_from}"}).content.decode())
    [carried] = [e for e in page if e.attrs.get("name") == "next"]
    assert carried.attrs["value"] == came_from
    links = {
        "".join(e.text).strip(): e.attrs["href"]
        for e in page
        if e.tag == "a" and "data-close-dialog" in e.attrs
    }
    assert links == {"\u00d7": came_from, "Cancel": came_from}

    response = client.post(edit, {"role": "reporter", "next": came_from})
    assert response.status_code == 302
    assert response["Location"] == came_from
    assert RoleBinding.objects.get(user=dana, company=demo.acme).role == "reporter"
    assert [
        e
        for e in parse_html(client.get(came_from).content.decode())
        if e.attrs.get("id") == f"identity-user-{dana.pk}"
    ]


def test_a_save_that_leads_to_another_page_goes_there(demo, login):
    # Creating a group opens the new group, wherever the dialog was opened from.
    response = login("owner").post(
        "/companies/acme/groups/create/",
        {"name": "Release Team", "role": "guest", "next": "/companies/acme/groups/?q=x"},
    )
    group = Group.objects.get(company=demo.acme, name="Release Team")
    assert response["Location"] == f"/companies/acme/groups/{group.pk}/"


@pytest.mark.parametrize(
    "came_from",
    [
        "https://evil.example/companies/acme/iam/?q=dana",
        "//evil.example/companies/acme/iam/",
        "/\\evil.example/companies/acme/iam/",
        "/accounts/login/?next=/companies/acme/iam/",
        "javascript:alert(1)",
        "/companies/acme/iam/user/1/edit/",  # the dialog itself
    ],
)
def test_only_a_portal_page_of_this_site_is_returned_to(demo, login, came_from):
    dana = demo.user("designer1")
    edit = f"/companies/acme/iam/user/{dana.pk}/edit/"
    came_from = came_from.replace("/1/", f"/{dana.pk}/")
    client = login("owner")
    html = client.get(edit, headers={"Referer": came_from}).content.decode()
    assert 'name="next"' not in html
    html = client.get(edit, {"next": came_from}).content.decode()
    assert 'name="next"' not in html
    response = client.post(edit, {"role": "reporter", "next": came_from})
    assert response["Location"] == IAM


# -- help texts are read with their fields (item 13) ---------------------------------------------------

INVALID = {
    "add user": {"email": "not an email", "role": "bogus"},
    "edit company role of a user": {"role": "bogus"},
    "create group": {"name": "", "role": "bogus", "members": "not an email"},
    "edit group": {"name": "", "role": "bogus"},
    "add members": {"emails": "not an email"},
    "add service account": {"name": "", "role": "bogus", "auth_method": "private_key_jwt", "public_key": "x"},
    "add user to a project": {"email": "x", "company_role": "bogus", "project_role": "bogus"},
    "add service account to a project": {"name": "", "auth_method": "private_key_jwt", "public_key": "x"},
    "edit project roles of a user": {"project_role": "bogus"},
}


def assert_described(html: str, where: str) -> int:
    """Every help text and error of a field is named by that field's aria-describedby (on its control, or
    on the fieldset of a radio group); every id aria-describedby names exists. Returns how many."""
    elements = parse_html(html)
    ids = {e.attrs["id"] for e in elements if "id" in e.attrs}
    described = 0
    for element in elements:
        for target in element.attrs.get("aria-describedby", "").split():
            assert target in ids, f"{where}: aria-describedby names a missing #{target}"
    for note in (e for e in elements if e.tag == "p" and (e.has_class("help") or e.has_class("error"))):
        field = next(p for p in reversed(note.parents) if p.has_class("field") or p.tag == "fieldset")
        describers = [
            e
            for e in elements
            if (e is field or e.inside(field))
            and note.attrs.get("id") in e.attrs.get("aria-describedby", "").split()
        ]
        assert describers, f"{where}: {''.join(note.text).strip()!r} is linked to no field"
        assert all(e.tag in {"input", "select", "textarea", "fieldset"} for e in describers), where
        described += 1
    return described


def test_help_texts_and_errors_are_linked_to_their_fields(demo, login):
    client = login("owner")
    described = 0
    for name, template in PORTAL_DIALOGS.items():
        url = portal_url(demo, template)
        described += assert_described(client.get(url).content.decode(), name)
        if name in INVALID:
            response = client.post(url, INVALID[name], headers=HX)
            assert response.status_code == 200, name
            assert 'class="error"' in response.content.decode(), name
            described += assert_described(response.content.decode(), f"{name} (errors)")
    assert described >= 30  # the check looked at something: help texts of ~9 dialogs and their errors


def test_the_public_key_and_the_radio_group_are_described(demo, login):
    html = login("owner").get("/companies/acme/service-accounts/add/").content.decode()
    elements = parse_html(html)
    [key] = [e for e in elements if e.attrs.get("name") == "public_key"]
    assert key.attrs["aria-describedby"] == "id_public_key_helptext"
    [methods] = [e for e in elements if e.tag == "fieldset" and e.has_class("field-auth_method")]
    assert methods.attrs["aria-describedby"] == "id_auth_method_helptext"
    assert [e for e in elements if e.attrs.get("id") == "id_auth_method_helptext"]


# -- ARIA: names only where a role takes them; aria-sort on the header cell (items 32, 34, 35) ----------

NAMELESS_TAGS = {"span", "div", "p", "strong", "em", "b", "i", "small", "code", "label", "summary"}


@pytest.mark.parametrize("urls", [PORTAL_PAGES, PORTAL_DIALOGS], ids=["pages", "dialogs"])
def test_no_aria_label_where_no_role_takes_it(demo, login, urls):
    client = login("owner")
    for name, template in urls.items():
        for element in parse_html(client.get(portal_url(demo, template)).content.decode()):
            if element.tag in NAMELESS_TAGS and "role" not in element.attrs:
                assert "aria-label" not in element.attrs, (name, element.tag, element.attrs)


def test_the_company_switcher_is_named_by_what_it_shows(demo, login):
    elements = parse_html(login("owner").get("/companies/acme/iam/").content.decode())
    [summary] = [e for e in elements if e.tag == "summary"]
    assert "aria-label" not in summary.attrs
    assert "".join(summary.text).strip().startswith("Acme")


@pytest.mark.parametrize("name", TABLE_PAGES)
def test_aria_sort_sits_on_the_header_cell(demo, login, name):
    url = portal_url(demo, TABLE_PAGES[name])
    for sort, order in (("name", "ascending"), ("-name", "descending")):
        elements = parse_html(login("owner").get(url, {"sort": sort}).content.decode())
        sorted_by = [e for e in elements if "aria-sort" in e.attrs]
        assert [(e.tag, e.attrs["aria-sort"]) for e in sorted_by] == [("th", order)]
        assert "".join(sorted_by[0].text).split()[0] == "Name"


# -- the tab title follows a rename (item 11) -----------------------------------------------------------


def test_the_group_header_refresh_renames_the_tab(demo, login):
    client = login("owner")
    group = demo.developers
    client.post(
        f"/companies/acme/groups/{group.pk}/edit/", {"name": "Platform Team", "role": "developer"}, headers=HX
    )
    header = client.get(f"/companies/acme/groups/{group.pk}/", headers={**HX, "HX-Target": "group-header"})
    titles = [e for e in parse_html(header.content.decode()) if e.tag == "title"]
    assert ["".join(t.text) for t in titles] == ["Platform Team · Groups · Acme · IAM Portal"]
    page = parse_html(client.get(f"/companies/acme/groups/{group.pk}/").content.decode())
    assert ["".join(t.text) for t in page if t.tag == "title"] == [
        "Platform Team · Groups · Acme · IAM Portal"
    ]
