"""Two ways to read a company's users (`subjects.company_users`): walking the Console's accounts with a probe
per row, or from the company's own bindings and groups. Tables choose by the company's size and sort
(`table_users`, issue 12); both must give the same users, rows and order."""

import datetime
import re

import pytest
from django.utils import timezone

from iam_portal.access import subjects
from iam_portal.access.catalogue import DEVELOPER, GUEST, MAINTAINER
from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import GroupMembership, User
from tests.helpers import HX


@pytest.fixture
def mixed(demo):
    """Users who reach the company in every way, and some who do not."""
    past = timezone.now() - datetime.timedelta(hours=1)
    later = timezone.now() + datetime.timedelta(days=1)
    made = {}
    for name in (
        "direct",
        "group-only",
        "both",
        "ended",
        "ended-then-guest",
        "running",
        "elsewhere",
        "nowhere",
    ):
        made[name] = User.objects.create(email=f"{name}@example.test", full_name=name.title())
    RoleBinding.objects.create(user=made["direct"], company=demo.acme, role=DEVELOPER)
    GroupMembership.objects.create(group=demo.developers, user=made["group-only"])
    RoleBinding.objects.create(user=made["both"], company=demo.acme, role=MAINTAINER)
    GroupMembership.objects.create(group=demo.developers, user=made["both"])
    RoleBinding.objects.create(user=made["ended"], company=demo.acme, role=MAINTAINER, until=past)
    RoleBinding.objects.create(
        user=made["ended-then-guest"], company=demo.acme, role=MAINTAINER, until=past, role_after=GUEST
    )
    RoleBinding.objects.create(user=made["running"], company=demo.acme, role=MAINTAINER, until=later)
    RoleBinding.objects.create(user=made["elsewhere"], company=demo.globex, role=DEVELOPER)
    return made


def test_both_ways_find_the_same_users(demo, mixed):
    walked = set(subjects.company_users(demo.acme).values_list("email", flat=True))
    from_side = set(subjects.company_users(demo.acme, from_company_side=True).values_list("email", flat=True))
    assert walked == from_side
    assert {"direct@example.test", "group-only@example.test", "both@example.test"} <= walked
    assert {"ended-then-guest@example.test", "running@example.test"} <= walked
    assert not {"ended@example.test", "elsewhere@example.test", "nowhere@example.test"} & walked
    assert len(walked) == subjects.company_user_count(demo.acme)


@pytest.mark.parametrize("query", ["", "?sort=role", "?sort=-role", "?sort=-name", "?q=e", "?type=user"])
@pytest.mark.parametrize("page", ["iam", "users"])
def test_tables_show_the_same_rows_either_way(demo, mixed, login, monkeypatch, page, query):
    client = login("owner")
    url = f"/companies/acme/{page}/{query}"
    monkeypatch.setattr(subjects, "SMALL_COMPANY_USERS", 10**9)  # every company is read from its side
    from_side = client.get(url, headers=HX).content.decode()
    monkeypatch.setattr(subjects, "SMALL_COMPANY_USERS", -1)  # every company's accounts are walked
    walked = client.get(url, headers=HX).content.decode()
    assert re.findall(r'<tr id="([^"]+)"', from_side) == re.findall(r'<tr id="([^"]+)"', walked)
    assert len(re.findall(r'<tr id="', walked)) > 5
    assert from_side == walked
