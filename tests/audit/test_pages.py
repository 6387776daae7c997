"""The audit log pages: who may read them (matrix), what they show, every filter, keyset pages, one
identity's history, the links that lead there, and hostile input."""

import datetime
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from iam_portal.access.catalogue import DEVELOPER, GUEST, MAINTAINER, REPORTER
from iam_portal.access.resolver import SYSTEM
from iam_portal.access.services import company_role_set
from iam_portal.audit import selectors
from iam_portal.audit.models import AuditEvent
from iam_portal.identities import services as identities
from tests.helpers import (
    HX,
    assert_access_matrix,
    assert_company_matrix,
    count_queries,
    project_matrix,
    row_html,
    set_project_role,
)

COMPANY_LOG = "/companies/acme/audit-log/"
PROJECT_LOG = "/companies/acme/projects/webshop/audit-log/"
_SENTENCE = re.compile(r'<td class="sentence">(.*?)</td>', re.S)


def sentences(response) -> list[str]:
    assert response.status_code == 200
    return [html.unescape(s) for s in _SENTENCE.findall(response.content.decode())]


@pytest.fixture
def log(demo, clock):
    """Six events in Acme, one in Globex, the first two dated 40 days ago:

    1. (40 days ago) Olivia Owner changed Jun One's role on Acme from Guest to Developer
    2. (40 days ago) Olivia Owner created the group Ops with the Reporter role
    3. Paula Manager changed Jun One's role on Webshop from Developer to Maintainer
    4. Paula Manager tried to change Jun One's role on Payments to Reporter — refused
    5. The command line gave the group Acme Developers the Reporter role on Payments
    6. Olivia Owner removed Sara Senior's Maintainer role on Webshop
    """
    owner, pm, junior = demo.user("owner"), demo.user("pm"), demo.user("junior1")
    clock(days_ago=40)
    company_role_set(actor=owner, company=demo.acme, subject=junior, role=DEVELOPER)
    identities.group_create(actor=owner, company=demo.acme, name="Ops", role=REPORTER, member_emails=[])
    clock()
    set_project_role(pm, demo.webshop, junior, MAINTAINER)
    with pytest.raises(Exception, match="may not manage"):
        set_project_role(pm, demo.payments, junior, REPORTER)
    set_project_role(SYSTEM, demo.payments, demo.developers, REPORTER)
    set_project_role(owner, demo.webshop, demo.user("senior"), None)
    company_role_set(
        actor=SYSTEM, company=demo.globex, subject=demo.user("owner@globex.test"), role="company-owner"
    )
    identities.company_user_add(actor=SYSTEM, company=demo.globex, email="junior1@acme.test", role=GUEST)
    return {e.seq: e for e in AuditEvent.objects.filter(company_id=demo.acme.pk)}


ALL = [
    "Olivia Owner removed Sara Senior's Maintainer role on Webshop",
    "The command line gave the group Acme Developers the Reporter role on Payments",
    "Paula Manager tried to change Jun One's role on Payments to Reporter — refused: "
    "You may not manage the identities of this project.",
    "Paula Manager changed Jun One's role on Webshop from Developer to Maintainer",
    "Olivia Owner created the group Ops with the Reporter role",
    "Olivia Owner changed Jun One's role on Acme from Guest to Developer",
]


# -- who may read ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [COMPANY_LOG, f"{COMPANY_LOG}export.csv"])
def test_company_log_is_for_those_who_manage_the_companys_identities(persona, path):
    assert_company_matrix(persona, "get", path, status=200)


@pytest.mark.parametrize("path", [PROJECT_LOG, f"{PROJECT_LOG}export.csv"])
def test_project_log_is_for_those_who_manage_the_projects_identities(persona, path):
    assert_access_matrix(persona, project_matrix(none=404, view=403, edit=200, add=200), get=path)


@pytest.mark.parametrize(
    "path",
    [
        "/companies/nope/audit-log/",
        "/companies/globex/audit-log/export.csv",
        "/companies/acme/projects/research/audit-log/",
        "/companies/acme/projects/nope/audit-log/export.csv",
    ],
)
def test_unknown_or_foreign_places_are_404(login, demo, path):
    assert login("owner").get(path).status_code == 404


@pytest.mark.parametrize("path", [COMPANY_LOG, f"{COMPANY_LOG}export.csv", PROJECT_LOG])
def test_the_log_is_read_only(login, demo, path):
    assert login("owner").post(path).status_code == 405


# -- what it shows --------------------------------------------------------------------------------


def test_company_log_shows_every_event_of_the_company_newest_first(login, log):
    response = login("owner").get(COMPANY_LOG)
    assert sentences(response) == ALL
    assert response.context["total"] == 6
    assert "Globex" not in response.content.decode()
    assert "HX-Request" in response["Vary"]


def test_project_log_shows_the_project_and_its_environments_only(login, demo, log):
    set_project_role(SYSTEM, demo.webshop, demo.user("junior2"), DEVELOPER, {demo.production: REPORTER})
    response = login("pm").get(PROJECT_LOG)
    assert sentences(response) == [
        "The command line gave Jun Two the Reporter role on Webshop / Production",
        ALL[0],
        ALL[3],
    ]
    page = response.content.decode()
    assert "<h1>Audit log · Webshop</h1>" in page
    assert 'name="project"' not in page  # the project is given


def test_each_row_opens_its_details_on_demand(login, log):
    event = log[1]
    page = login("owner").get(COMPANY_LOG).content.decode()
    url = f"{COMPANY_LOG}{event.pk}/"
    assert (
        f'<a class="button small ghost" href="{url}" hx-get="{url}" hx-target="#dialog" '
        f'aria-label="Details of event #1">Details</a>'
    ) in row_html(page, f"event-{event.pk}")
    dialog = login("owner").get(url, headers=HX).content.decode()
    assert '<h2 id="dialog-title">Event #1</h2>' in dialog and "<html" not in dialog
    assert "<caption>Before and after</caption>" in dialog
    assert '<th scope="row">Role</th><td>Guest</td><td>Developer</td>' in dialog
    assert f"?identity=user%3A{event.subject_id}" in dialog  # the subject's history
    assert f"?identity=user%3A{event.actor_id}" in dialog  # the actor's
    assert "<dt>Source</dt><dd>Command line</dd>" in dialog
    assert "<dt>Chain position</dt><dd>#1 of Acme's chain</dd>" in dialog
    assert f'<dd class="mono digest">{event.digest}</dd>' in dialog
    assert re.search(
        r'<dt>Time</dt><dd><time datetime="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</time>', dialog
    )
    full = login("owner").get(url).content.decode()  # without JavaScript: a page, "Done" goes back
    assert "<title>Event #1 · Audit log · Acme · IAM Portal</title>" in full
    assert f'<a class="button primary" href="{COMPANY_LOG}" data-close-dialog>Done</a>' in full


def test_a_portal_change_shows_its_request_details(login, demo):
    client = login("owner")
    client.post(
        f"/companies/acme/iam/user/{demo.user('junior1').pk}/edit/",
        {"role": MAINTAINER},
        headers={**HX, "User-Agent": "Firefox/130", "X-Request-ID": "req-42"},
    )
    event = AuditEvent.objects.get()
    dialog = client.get(f"{COMPANY_LOG}{event.pk}/", headers=HX).content.decode()
    for shown in (
        "<dd>Portal</dd>",
        '<dd class="mono">req-42</dd>',
        '<dd class="mono">127.0.0.1</dd>',
        "<dd>Firefox/130</dd>",
    ):
        assert shown in dialog


def test_refusals_are_marked(login, log):
    client = login("owner")
    row = row_html(client.get(COMPANY_LOG).content.decode(), f"event-{log[4].pk}")
    assert 'class="refused"' in row and "Refused</span>" in row
    dialog = client.get(f"{COMPANY_LOG}{log[4].pk}/", headers=HX).content.decode()
    assert "<caption>What was asked</caption>" in dialog and '<th scope="col">Asked</th>' in dialog
    assert "<dt>Message</dt><dd>You may not manage the identities of this project.</dd>" in dialog


def test_event_details_are_for_the_readers_of_its_log(persona, demo, log):
    """The company log's readers open any Acme event; a project's readers only that project's events."""
    webshop_event = log[3]
    assert_company_matrix(persona, "get", f"{COMPANY_LOG}{webshop_event.pk}/", status=200)
    assert_access_matrix(
        persona,
        project_matrix(none=404, view=403, edit=200, add=200),
        get=f"{PROJECT_LOG}{webshop_event.pk}/",
    )


def test_events_of_another_log_are_404(login, demo, log):
    client = login("owner")
    globex_event = AuditEvent.objects.filter(company_id=demo.globex.pk).first()
    assert client.get(f"{COMPANY_LOG}{globex_event.pk}/").status_code == 404
    assert client.get(f"{PROJECT_LOG}{log[1].pk}/").status_code == 404  # a company-level event
    assert client.get(f"{PROJECT_LOG}{log[5].pk}/").status_code == 404  # Payments' event
    assert client.get(f"{PROJECT_LOG}{log[3].pk}/").status_code == 200
    assert client.get(f"{COMPANY_LOG}99999999/").status_code == 404


def test_a_project_admin_sees_no_history_links(login, log):
    """Histories are company pages: the project's readers are not sent to a 403."""
    dialog = login("pm").get(f"{PROJECT_LOG}{log[3].pk}/", headers=HX).content.decode()
    assert "<dt>Actor</dt><dd>Paula Manager (user #" in dialog and "History" not in dialog


def test_an_empty_log_says_so(login, demo):
    page = login("owner").get(COMPANY_LOG).content.decode()
    assert "Nothing has been recorded yet." in page
    assert "0 events" in page


# -- filters --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"actor": "pm@acme.test"}, [ALL[2], ALL[3]]),
        ({"actor": "Paula Manager"}, [ALL[2], ALL[3]]),
        ({"actor": "command"}, [ALL[1]]),
        ({"subject": "junior1@ACME.test"}, [ALL[2], ALL[3], ALL[5]]),
        ({"subject": "acme developers"}, [ALL[1]]),
        ({"action": "group.created"}, [ALL[4]]),
        ({"action": "role.removed"}, [ALL[0]]),
        ({"outcome": "refused"}, [ALL[2]]),
        ({"outcome": "success", "actor": "pm@acme.test"}, [ALL[3]]),
        ({"to": "past"}, [ALL[4], ALL[5]]),
        ({"from": "today"}, ALL[:4]),
        ({"from": "past", "to": "past"}, [ALL[4], ALL[5]]),
        ({"from": "today", "to": "today", "actor": "owner@acme.test"}, [ALL[0]]),
        ({"identity": "user:pm"}, [ALL[2], ALL[3]]),
        ({"identity": "user:junior1"}, [ALL[2], ALL[3], ALL[5]]),
        ({"identity": "user:owner"}, [ALL[0], ALL[4], ALL[5]]),
    ],
)
def test_filters(login, demo, log, query, expected):
    days = {"past": timezone.localdate() - datetime.timedelta(days=40), "today": timezone.localdate()}
    query = {k: days.get(v, v) for k, v in query.items()}
    if "identity" in query:
        query["identity"] = f"user:{demo.user(query['identity'].split(':')[1]).pk}"
    response = login("owner").get(COMPANY_LOG, query)
    assert sentences(response) == expected
    assert response.context["problems"] == []


def test_project_filter(login, demo, log):
    response = login("owner").get(COMPANY_LOG, {"project": demo.payments.pk})
    assert sentences(response) == [ALL[1], ALL[2]]


def test_filters_stay_in_the_links(login, demo, log, settings):
    settings.PAGE_SIZE = 1
    response = login("owner").get(COMPANY_LOG, {"actor": "pm@acme.test", "outcome": "success"})
    page = response.content.decode()
    assert 'value="pm@acme.test"' in page and '<option value="success" selected>' in page
    next_link = re.search(r'href="([^"]+)"[^>]*rel="next"', page)
    assert next_link is None  # one event matches
    response = login("owner").get(COMPANY_LOG, {"actor": "pm@acme.test"})
    next_url = html.unescape(re.search(r'href="([^"]+)"[^>]*rel="next"', response.content.decode()).group(1))
    assert next_url.startswith("?actor=pm%40acme.test&after=")
    assert sentences(login("owner").get(COMPANY_LOG + next_url)) == [ALL[3]]
    csv_url = html.unescape(re.search(r'href="([^"]+export\.csv[^"]*)"', response.content.decode()).group(1))
    assert csv_url == "/companies/acme/audit-log/export.csv?actor=pm%40acme.test"


def test_a_name_that_matches_nobody_shows_nothing_and_says_so(login, log):
    response = login("owner").get(COMPANY_LOG, {"actor": "nobody@example.test"})
    assert sentences(response) == []
    page = response.content.decode()
    assert "No user, group or service account is called “nobody@example.test”." in page


def test_identity_history_has_its_own_heading(login, demo, log):
    junior = demo.user("junior1")
    page = login("owner").get(COMPANY_LOG, {"identity": f"user:{junior.pk}"}).content.decode()
    assert "<h1>History of Jun One</h1>" in page
    assert f'<input type="hidden" name="identity" value="user:{junior.pk}"' in page
    assert 'href="/companies/acme/audit-log/">Show the whole audit log</a>' in page


def test_identity_history_of_a_deleted_group_keeps_its_name(login, demo, log):
    group = demo.developers
    identities.group_delete(actor=SYSTEM, group=group)
    response = login("owner").get(COMPANY_LOG, {"identity": f"group:{group.pk}"})
    assert "<h1>History of Acme Developers</h1>" in response.content.decode()
    assert sentences(response) == ["The command line deleted the group Acme Developers", ALL[1]]


def test_identity_of_another_company_reveals_nothing(login, demo, log):
    """Globex's owner appears in Globex's log only: Acme's history page names no one."""
    globex_owner = demo.user("owner@globex.test")
    response = login("owner").get(COMPANY_LOG, {"identity": f"user:{globex_owner.pk}"})
    assert sentences(response) == []
    page = response.content.decode()
    assert "Gus Globex" not in page and f"History of user:{globex_owner.pk}" in page


@pytest.mark.parametrize(
    "query",
    [
        {"after": "garbage"},
        {"before": "WzEsMl0"},
        {"after": "W251bGxd"},
        {"from": "2026-13-45"},
        {"from": "9999-12-31", "to": "9999-12-31"},
        {"from": "0001-01-01"},
        {"to": "2026-01-01", "from": "2026-02-01"},
        {"actor": "x" * 1000},
        {"actor": "a\x00b"},
        {"subject": "user:abc"},
        {"identity": "user:99999999999999999999999"},
        {"identity": "<script>"},
        {"action": "bogus"},
        {"project": "abc"},
        {"project": "999999"},
        {"outcome": "maybe"},
        {"q": "\x00"},
    ],
)
def test_hostile_input_never_fails(login, log, query):
    # A NUL character is refused for the whole site before any view runs (NulCharacterMiddleware).
    expected = 400 if any("\x00" in value for value in query.values()) else 200
    for headers in ({}, HX):
        response = login("owner").get(COMPANY_LOG, query, headers=headers)
        assert response.status_code == expected
    assert login("owner").get(f"{COMPANY_LOG}export.csv", query).status_code == expected


def test_a_filter_that_is_not_valid_shows_nothing(login, demo, log):
    response = login("owner").get(COMPANY_LOG, {"project": demo.research.pk})
    assert sentences(response) == []
    assert "Project: Select a valid choice." in response.content.decode()
    response = login("owner").get(COMPANY_LOG, {"from": "2026-02-01", "to": "2026-01-01"})
    assert "The end date comes before the start date." in response.content.decode()


# -- pages ----------------------------------------------------------------------------------------


def test_keyset_pages_walk_the_log_both_ways(login, demo, role_changes, settings):
    settings.PAGE_SIZE = 2
    role_changes(5)
    client = login("owner")
    seen, url = [], COMPANY_LOG
    while url:
        response = client.get(url)
        seen.append([e.seq for e in response.context["page"].rows])
        cursor = response.context["page"].next_cursor
        url = f"{COMPANY_LOG}?after={cursor}" if cursor else None
    assert seen == [[5, 4], [3, 2], [1]]
    back = response.context["page"].prev_cursor
    assert [e.seq for e in client.get(COMPANY_LOG, {"before": back}).context["page"].rows] == [3, 2]


def test_the_table_partial_is_the_table_only(login, log):
    response = login("owner").get(COMPANY_LOG, headers=HX)
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="audit-table"') and "<html" not in page
    assert sentences(response) == ALL


def test_a_page_costs_the_same_queries_for_few_and_many_events(login, demo, role_changes):
    client = login("owner")
    role_changes(3)
    few = (
        count_queries(client, COMPANY_LOG, headers=HX),
        count_queries(client, COMPANY_LOG, {"actor": "command"}),
    )
    role_changes(60)
    many = (
        count_queries(client, COMPANY_LOG, headers=HX),
        count_queries(client, COMPANY_LOG, {"actor": "command"}),
    )
    assert few == many
    assert many[0] <= 8


def test_the_count_stops_at_a_thousand(demo, role_changes):
    """Shown as "1,000+ events": an exact count of a million rows would cost more than the page."""
    role_changes(5)
    assert selectors.audit_count(demo.acme.pk, selectors.AuditFilter(), cap=3) == (3, True)
    assert selectors.audit_count(demo.acme.pk, selectors.AuditFilter(), cap=5) == (5, False)


# -- the way in -----------------------------------------------------------------------------------


def test_sidebar_has_the_audit_log_for_managers_only(login, demo, persona):
    page = login("owner").get("/companies/acme/").content.decode()
    assert f'<a href="{COMPANY_LOG}">Audit log</a>' in page
    reporter = persona("company", REPORTER)
    assert "Audit log" not in login(reporter).get("/companies/acme/").content.decode()
    page = login("owner").get(COMPANY_LOG).content.decode()
    assert f'<a href="{COMPANY_LOG}" aria-current="page">Audit log</a>' in page


def test_project_iam_links_the_project_log_for_project_managers(login, demo, persona):
    assert (
        f'href="{PROJECT_LOG}"' in login("pm").get("/companies/acme/projects/webshop/iam/").content.decode()
    )
    viewer = persona("project", REPORTER)
    assert PROJECT_LOG not in login(viewer).get("/companies/acme/projects/webshop/iam/").content.decode()


def test_every_identity_table_links_each_identitys_history(login, demo):
    client = login("owner")
    junior, group, account = demo.user("junior1"), demo.developers, demo.reader
    history = reverse("company_audit_log", args=["acme"]) + "?identity="
    iam = client.get("/companies/acme/iam/").content.decode()
    assert f'href="{history}user:{junior.pk}" aria-label="History of Jun One"' in iam
    assert (
        f'href="{history}group:{group.pk}"' in iam and f'href="{history}service-account:{account.pk}"' in iam
    )
    users = client.get("/companies/acme/users/").content.decode()
    assert f'href="{history}user:{junior.pk}"' in row_html(users, f"user-{junior.pk}")
    groups = client.get("/companies/acme/groups/").content.decode()
    assert f'href="{history}group:{group.pk}"' in row_html(groups, f"group-{group.pk}")
    accounts = client.get("/companies/acme/service-accounts/").content.decode()
    assert f'href="{history}service-account:{account.pk}"' in row_html(
        accounts, f"service-account-{account.pk}"
    )
    detail = client.get(f"/companies/acme/groups/{group.pk}/").content.decode()
    assert f'href="{history}group:{group.pk}">History</a>' in detail
