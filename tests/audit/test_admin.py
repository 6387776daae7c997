"""The audit log in the Django admin: super users read it; nobody adds, changes or deletes an event; staff
without super user rights do not see it. And the admin's own requests are recorded as the admin's."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from iam_portal.access.catalogue import DEVELOPER
from iam_portal.access.models import RoleBinding
from iam_portal.access.services import company_role_set
from iam_portal.audit.middleware import AuditContextMiddleware
from iam_portal.audit.models import AuditEvent, Source
from tests.helpers import ROOT_BINDER, ROOT_VIEWER, SUPERUSER, admin_url, assert_access_matrix

CHANGELIST = admin_url(AuditEvent)


@pytest.fixture
def event(demo, role_changes):
    role_changes(2)
    return AuditEvent.objects.get(seq=1)


def test_super_users_read_the_log_and_nobody_else(persona, event):
    assert_access_matrix(persona, {SUPERUSER: 200, ROOT_VIEWER: 403, ROOT_BINDER: 403}, get=CHANGELIST)
    assert_access_matrix(
        persona,
        {SUPERUSER: 200, ROOT_VIEWER: 403, ROOT_BINDER: 403},
        get=admin_url(AuditEvent, "change", event.pk),
    )


def test_changelist_shows_sentences_newest_first(login, event):
    response = login("admin@acme.test").get(CHANGELIST)
    assert [e.seq for e in response.context["cl"].result_list] == [2, 1]
    assert (
        "The command line changed Jun One&#x27;s role on Acme from Guest to Developer"
        in response.content.decode()
    )


def test_change_page_is_read_only(login, event):
    page = login("admin@acme.test").get(admin_url(AuditEvent, "change", event.pk)).content.decode()
    assert "Role: Guest → Developer" in page
    assert 'name="_save"' not in page and "deletelink" not in page


@pytest.mark.parametrize(
    "action, data",
    [("add", {}), ("change", {"message": "edited"}), ("delete", {"post": "yes"})],
)
def test_nobody_adds_changes_or_deletes(login, event, action, data):
    client = login("admin@acme.test")
    args = () if action == "add" else (event.pk,)
    before = list(AuditEvent.objects.values_list("id", "message", "digest"))
    assert client.post(admin_url(AuditEvent, action, *args), data).status_code == 403
    assert list(AuditEvent.objects.values_list("id", "message", "digest")) == before
    response = client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [event.pk]})
    assert AuditEvent.objects.count() == 2 and response.status_code in (200, 302)


@pytest.mark.parametrize(
    "query, seqs",
    [
        ({"q": "Command"}, [2, 1]),
        ({"q": "Jun"}, [2, 1]),
        ({"q": "nobody"}, []),
        ({"outcome__exact": "refused"}, []),
        ({"action__exact": "role.changed"}, [2, 1]),
        ({"source__exact": "command"}, [2, 1]),
    ],
)
def test_search_and_filters(login, event, query, seqs):
    response = login("admin@acme.test").get(CHANGELIST, query)
    assert response.status_code == 200
    assert [e.seq for e in response.context["cl"].result_list] == seqs


def test_search_by_request_id(login, demo):
    login("owner").post(
        f"/companies/acme/iam/user/{demo.user('junior1').pk}/edit/",
        {"role": DEVELOPER},
        headers={"X-Request-ID": "trace-abc"},
    )
    response = login("admin@acme.test").get(CHANGELIST, {"q": "trace-abc"})
    assert [e.request_id for e in response.context["cl"].result_list] == ["trace-abc"]


@pytest.mark.parametrize(
    "path, source",
    [
        ("/admin/access/rolebinding/add/", Source.ADMIN),
        ("/api/tenants/1/", Source.API),
        ("/companies/acme/", Source.PORTAL),
    ],
)
def test_a_change_made_while_serving_a_request_records_where_it_came_from(demo, path, source):
    """The admin's and the API's writes go through the same services; the middleware tells their events
    apart (and keeps a proxy's request id only when it is a plain token)."""

    def change(request):
        company_role_set(
            actor=demo.user("owner"), company=demo.acme, subject=demo.user("junior1"), role=DEVELOPER
        )
        return HttpResponse()

    middleware = AuditContextMiddleware(change)
    request = RequestFactory().post(path, HTTP_X_REQUEST_ID="bad id\nwith spaces", HTTP_USER_AGENT="curl/8")
    response = middleware(request)
    event = AuditEvent.objects.get()
    assert (event.source, event.user_agent, event.client_ip) == (source, "curl/8", "127.0.0.1")
    assert event.request_id == response["X-Request-ID"] and len(event.request_id) == 32
    assert RoleBinding.objects.get(user=demo.user("junior1"), company=demo.acme).role == DEVELOPER
