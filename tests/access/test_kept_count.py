"""The company user count kept between requests (`access.counts`, issue 12): whoever changes who has access
— a service, a bulk insert, a cascade, a plain UPDATE, raw SQL — the next count is right, and a count kept
for an older version or past the end of a time-limited grant is never used."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from iam_portal.access.catalogue import DEVELOPER, GUEST
from iam_portal.access.models import CompanyUserCount, RoleBinding
from iam_portal.access.subjects import company_user_count, company_users
from iam_portal.identities.models import Group, GroupMembership, User
from tests.helpers import RECOUNT


def counted_afresh(company) -> int:
    return company_users(company).count()


def kept(company) -> CompanyUserCount:
    return CompanyUserCount.objects.get(company=company)


def new_user(name: str) -> User:
    return User.objects.create(email=f"{name}@example.test", full_name=name.title())


def test_a_current_count_costs_one_query_and_a_recount_a_fixed_few(demo, django_assert_num_queries):
    with django_assert_num_queries(1 + RECOUNT):
        first = company_user_count(demo.acme)
    assert first == counted_afresh(demo.acme)
    with django_assert_num_queries(1):
        assert company_user_count(demo.acme) == first
    assert kept(demo.acme).users == first


WRITES = {
    "a direct company role (save)": lambda demo, u: RoleBinding.objects.create(
        user=u, company=demo.acme, role=GUEST
    ),
    "a membership (save)": lambda demo, u: GroupMembership.objects.create(group=demo.developers, user=u),
    "memberships (bulk_create)": lambda demo, u: GroupMembership.objects.bulk_create(
        [GroupMembership(group=demo.developers, user=u)]
    ),
    "company roles (bulk_create)": lambda demo, u: RoleBinding.objects.bulk_create(
        [RoleBinding(user=u, company=demo.acme, role=DEVELOPER)]
    ),
    "a binding moved to the company (UPDATE)": lambda demo, u: RoleBinding.objects.filter(
        pk=RoleBinding.objects.create(user=u, company=demo.globex, role=GUEST).pk
    ).update(company=demo.acme),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_a_newcomer_is_counted_whoever_writes_them_in(demo, write):
    before = company_user_count(demo.acme)
    WRITES[write](demo, new_user("newcomer"))
    assert company_user_count(demo.acme) == before + 1 == counted_afresh(demo.acme)


def test_raw_sql_is_seen_too(demo):
    before = company_user_count(demo.acme)
    user = new_user("raw")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO identities_groupmembership (group_id, user_id, added_at) VALUES (%s, %s, %s)",
            [demo.developers.pk, user.pk, timezone.now()],
        )
    assert company_user_count(demo.acme) == before + 1


REMOVALS = {
    "the account deleted (cascade)": lambda demo, u: u.delete(),
    "the group deleted (cascade)": lambda demo, u: Group.objects.filter(pk=demo.developers.pk).delete(),
    "memberships deleted (queryset)": lambda demo, u: GroupMembership.objects.filter(user=u).delete(),
    "the company role moved away (UPDATE)": lambda demo, u: RoleBinding.objects.filter(
        user=u, company=demo.acme
    ).update(company=demo.globex),
}


@pytest.mark.parametrize("removal", list(REMOVALS))
def test_a_leaver_stops_being_counted(demo, removal):
    user = new_user("leaver")
    if "company role" in removal:
        RoleBinding.objects.create(user=user, company=demo.acme, role=GUEST)
    else:
        GroupMembership.objects.create(group=demo.developers, user=user)
    before = company_user_count(demo.acme)
    REMOVALS[removal](demo, user)
    after = company_user_count(demo.acme)
    assert after == counted_afresh(demo.acme) < before


def test_a_change_elsewhere_keeps_the_count(demo, django_assert_num_queries):
    company_user_count(demo.acme)
    RoleBinding.objects.create(user=new_user("elsewhere"), company=demo.globex, role=GUEST)
    RoleBinding.objects.filter(group=demo.developers, company=demo.acme).update(role=GUEST)  # a group's role
    with django_assert_num_queries(1):
        company_user_count(demo.acme)


def test_a_count_kept_for_an_older_version_is_not_used(demo):
    """A count made while a change commits is stored under the version it started from: never current."""
    company_user_count(demo.acme)
    CompanyUserCount.objects.filter(company=demo.acme).update(users=999_999, version=5, counted_version=4)
    assert company_user_count(demo.acme) == counted_afresh(demo.acme)
    assert kept(demo.acme).counted_version == 5


def test_a_count_is_not_kept_over_a_newer_version(demo):
    """The store is conditional on the version the count started from."""
    from iam_portal.access.counts import kept_user_count

    company_user_count(demo.acme)
    GroupMembership.objects.create(group=demo.developers, user=new_user("first"))  # the kept count is old
    version = kept(demo.acme).version

    def count_while_someone_writes() -> int:
        GroupMembership.objects.create(group=demo.developers, user=new_user("meanwhile"))
        return 42

    assert kept_user_count(demo.acme, count_while_someone_writes) == 42
    row = kept(demo.acme)
    assert row.version == version + 1 and row.counted_version != row.version
    assert company_user_count(demo.acme) == counted_afresh(demo.acme)


def test_an_ended_grant_stops_counting_without_any_write(demo):
    now = timezone.now()
    RoleBinding.objects.create(
        user=new_user("temporary"), company=demo.acme, role=GUEST, until=now + datetime.timedelta(hours=1)
    )
    with time_machine.travel(now, tick=False):
        during = company_user_count(demo.acme)
    assert kept(demo.acme).fresh_until == now + datetime.timedelta(hours=1)
    with time_machine.travel(now + datetime.timedelta(hours=2), tick=False):
        assert company_user_count(demo.acme) == during - 1 == counted_afresh(demo.acme)


def test_a_count_from_the_future_is_not_used_in_the_past(demo):
    later = timezone.now() + datetime.timedelta(days=1)
    RoleBinding.objects.create(
        user=new_user("temporary"), company=demo.acme, role=GUEST, until=later - datetime.timedelta(hours=1)
    )
    with time_machine.travel(later, tick=False):
        ended = company_user_count(demo.acme)
    assert company_user_count(demo.acme) == ended + 1


def test_the_iam_and_users_pages_show_the_new_number_at_once(demo, login):
    client = login("owner")
    before = company_user_count(demo.acme)
    assert f"{before} users" in client.get("/companies/acme/users/").content.decode()
    GroupMembership.objects.create(group=demo.developers, user=new_user("shown"))
    assert f"{before + 1} users" in client.get("/companies/acme/users/").content.decode()


@pytest.mark.django_db
def test_every_trigger_is_in_place():
    """A migration that rebuilds a table on SQLite drops its triggers: after all migrations, all six are there."""
    if connection.vendor == "postgresql":
        sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        names = {row[0] for row in cursor.fetchall()}
    expected = {
        f"{table}_count_{event}"
        for table in ("binding", "membership")
        for event in ("insert", "update", "delete")
    }
    assert expected <= names
