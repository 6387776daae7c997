"""One date format on every page ({{ value|when }} in orgs/templatetags/ui.py)."""

import datetime
import re

import pytest
from django.urls import reverse

from iam_portal.identities.models import GroupMembership, ServiceAccount, User
from iam_portal.orgs.models import Project
from iam_portal.orgs.templatetags.ui import when

SEEN = datetime.datetime(2026, 3, 4, 9, 5, tzinfo=datetime.UTC)
SHOWN = '<time datetime="2026-03-04T09:05:00+00:00">4 Mar 2026, 09:05</time>'


def test_when_renders_a_time_element_in_the_site_time_zone(settings):
    assert when(SEEN) == SHOWN
    assert when(None) == '<span class="muted">Never</span>'
    assert when(None, "Not yet") == '<span class="muted">Not yet</span>'
    assert when(datetime.date(2026, 3, 4)) == '<time datetime="2026-03-04">4 Mar 2026</time>'


@pytest.mark.parametrize(
    "page",
    [
        lambda demo: reverse("company_users", args=["acme"]),
        lambda demo: reverse("company_service_accounts", args=["acme"]),
        lambda demo: reverse("group_detail", args=["acme", demo.developers.pk]),
        lambda demo: reverse("project_overview", args=["acme", "webshop"]),
    ],
    ids=["users", "service-accounts", "group-members", "project-overview"],
)
def test_every_page_shows_dates_the_same_way(demo, login, page):
    junior = demo.user("junior1")
    User.objects.filter(pk=junior.pk).update(last_login=SEEN)
    ServiceAccount.objects.filter(pk=demo.deployer.pk).update(last_login=SEEN)
    Project.objects.filter(pk=demo.webshop.pk).update(created_at=SEEN)
    assert GroupMembership.objects.filter(group=demo.developers, user=junior).exists()
    body = login("owner").get(page(demo)).content.decode()
    assert SHOWN in body
    # Every date on the page, seen or not, in the one format.
    for shown in re.findall(r"<time [^>]*>([^<]*)</time>", body):
        assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}", shown), shown
