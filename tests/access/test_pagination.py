"""Keyset pagination: the IAM table and Users page walked page by page, the htmx partials, tampered
cursors, and iam_portal.pagination.paginate itself with mixed ascending/descending orders."""

from __future__ import annotations

import base64
import datetime
import html as html_lib
import json
import re

import pytest

from iam_portal.access import selectors
from iam_portal.access.catalogue import DEVELOPER, GUEST, MAINTAINER, REPORTER
from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from iam_portal.pagination import decode_cursor, encode_cursor, paginate
from tests.helpers import HX

IAM = "/companies/acme/iam/"
USERS = "/companies/acme/users/"
SIZE = 50  # the views' page size
NOT_UTF8 = base64.urlsafe_b64encode(bytes([0xFF, 0xFE])).decode()


@pytest.fixture
def crowd(demo):
    """Acme with 130 more identities of mixed kinds, names that collide across kinds and roles that tie."""
    roles = [GUEST, REPORTER, DEVELOPER, MAINTAINER]
    users = User.objects.bulk_create(
        User(
            email=f"crowd{i:03d}@example.test",
            full_name=f"Crowd {i % 20:02d}" if i % 3 else "",  # duplicate names; some fall back to email
            last_login=None if i % 4 == 0 else datetime.datetime(2026, 1, 1 + i % 7, tzinfo=datetime.UTC),
        )
        for i in range(60)
    )
    groups = Group.objects.bulk_create(
        Group(company=demo.acme, name=f"Crowd {i:02d} team") for i in range(35)
    )
    accounts = ServiceAccount.objects.bulk_create(
        ServiceAccount(company=demo.acme, name=f"crowd {i:02d}", client_id=f"crowd-client-{i:02d}")
        for i in range(35)
    )
    RoleBinding.objects.bulk_create(
        [RoleBinding(user=u, company=demo.acme, role=roles[i % 4]) for i, u in enumerate(users) if i % 5]
        + [RoleBinding(group=g, company=demo.acme, role=roles[i % 4]) for i, g in enumerate(groups)]
        + [
            RoleBinding(service_account=a, company=demo.acme, role=roles[i % 4])
            for i, a in enumerate(accounts)
        ]
    )
    # Users without a company binding reach the company through a group.
    GroupMembership.objects.bulk_create(
        GroupMembership(group=groups[0], user=u) for i, u in enumerate(users) if not i % 5
    )
    return demo


def iam_row_ids(html: str) -> list[str]:
    return re.findall(r'<tr id="(identity-[a-z-]+-\d+)"', html)


def user_row_ids(html: str) -> list[str]:
    return re.findall(r'<tr id="(user-\d+)"', html)


def link(html: str, rel: str) -> str | None:
    match = re.search(rf'<a class="button small" href="([^"]+)"[^>]*rel="{rel}"', html)
    return html_lib.unescape(match.group(1)) if match else None


def walk(client, base: str, first_query: str, ids_of, **headers) -> tuple[list[list[str]], str]:
    """Follow "Next" from the first page to the last; returns the pages and the last page's html."""
    pages = []
    url = base + first_query
    while True:
        response = client.get(url, headers=headers)
        assert response.status_code == 200
        html = response.content.decode()
        pages.append(ids_of(html))
        next_query = link(html, "next")
        if next_query is None:
            return pages, html
        assert len(pages) < 20, "pagination does not end"
        url = base + next_query


def expected_iam_order(company, sort: str, kind=None, search="") -> list[str]:
    """Every identity in the table's order, computed from one unpaged page of the selector."""
    page = selectors.company_identity_page(company, sort=sort, kind=kind, search=search, size=10_000)
    return [f"identity-{row.kind}-{row.obj.pk}" for row in page.rows]


@pytest.mark.parametrize("sort", ["name", "-name", "role", "-role"])
def test_next_walks_every_identity_exactly_once_in_order(crowd, login, sort):
    client = login("owner")
    pages, last = walk(client, IAM, f"?sort={sort}", iam_row_ids)
    flat = [row for page in pages for row in page]
    total = 11 + 130
    assert len(pages) == 3
    assert [len(p) for p in pages] == [SIZE, SIZE, total - 2 * SIZE]
    assert len(flat) == len(set(flat)) == total
    assert flat == expected_iam_order(crowd.acme, sort)
    assert f"{total} identities" in last


@pytest.mark.parametrize("sort", ["name", "-role"])
def test_previous_walks_back_to_the_first_page(crowd, login, sort):
    client = login("owner")
    forward, last_html = walk(client, IAM, f"?sort={sort}", iam_row_ids)
    backward = []
    html = last_html
    while (prev := link(html, "prev")) is not None:
        html = client.get(IAM + prev).content.decode()
        backward.append(iam_row_ids(html))
        assert len(backward) < 20
    assert backward == forward[-2::-1]
    assert link(html, "prev") is None  # the first page again: "Previous" is disabled
    assert 'aria-disabled="true">← Previous' in html


def test_filters_search_and_sort_are_kept_across_pages(crowd, login):
    client = login("owner")
    pages, _ = walk(client, IAM, "?type=service-account&q=crowd&sort=-name", iam_row_ids)
    flat = [row for page in pages for row in page]
    assert flat == expected_iam_order(crowd.acme, "-name", kind="service-account", search="crowd")
    assert len(flat) == 35 and all(row.startswith("identity-service-account-") for row in flat)
    first = client.get(IAM + "?type=user&q=crowd&sort=role").content.decode()
    next_query = link(first, "next")
    assert "type=user" in next_query and "q=crowd" in next_query and "sort=role" in next_query
    assert "before=" not in next_query


def test_htmx_pages_are_table_fragments(crowd, login):
    client = login("owner")
    pages, last = walk(client, IAM, "?sort=name", iam_row_ids, **HX)
    assert [row for page in pages for row in page] == expected_iam_order(crowd.acme, "name")
    assert "<html" not in last and last.lstrip().startswith('<div id="iam-table"')
    response = client.get(IAM + "?sort=name", headers=HX)
    assert "HX-Request" in response["Vary"]
    assert 'hx-target="#iam-table"' in response.content.decode()


def test_users_page_walks_every_user_once(crowd, login):
    client = login("owner")
    for sort in ("name", "-last_login", "role", "email"):
        pages, _ = walk(client, USERS, f"?sort={sort}", user_row_ids)
        flat = [row for page in pages for row in page]
        assert len(flat) == len(set(flat)) == 8 + 60, sort
        assert len(pages[0]) == SIZE
    pages_hx, last = walk(client, USERS, "?sort=-last_login", user_row_ids, **HX)
    assert pages_hx == walk(client, USERS, "?sort=-last_login", user_row_ids)[0]
    assert "<html" not in last and last.lstrip().startswith('<div id="users-table"')
    response = client.get(USERS, headers=HX)
    assert "HX-Request" in response["Vary"]


def test_users_page_last_login_order_is_kept_across_pages(crowd, login):
    client = login("admin@acme.test")
    pages, _ = walk(client, USERS, "?sort=last_login", user_row_ids)
    flat = [int(row.split("-")[1]) for page in pages for row in page]
    seen = {
        u.pk: (u.last_login or datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC), u.pk)
        for u in User.objects.all()
    }
    assert flat == sorted(flat, key=lambda pk: seen[pk])


def b64(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "query",
    [
        "?after=garbage!!",
        "?after=%25%25%25",
        "?before=not-base64",
        f"?after={b64(['only one value'])}",
        f"?after={b64({'a': 1})}",
        f"?after={b64([['nested'], 1, 2])}",
        f"?before={b64([None, 1, 2])}",
        "?after=&before=",
        "?after=" + NOT_UTF8,
    ],
)
@pytest.mark.parametrize("base", [IAM, USERS])
def test_tampered_cursor_is_the_first_page(demo, login, query, base):
    client = login("owner")
    ids_of = iam_row_ids if base == IAM else user_row_ids
    first = ids_of(client.get(base).content.decode())
    response = client.get(base + query)
    assert response.status_code == 200
    assert ids_of(response.content.decode()) == first


@pytest.mark.parametrize("values", [["zzz", 99, 99], [1, 2, 3], [True, False, 1.5], ["a", 1.5, 2]])
@pytest.mark.parametrize("param", ["after", "before"])
def test_a_well_formed_cursor_with_odd_values_does_not_crash(demo, login, values, param):
    client = login("owner")
    first = iam_row_ids(client.get(IAM).content.decode())
    response = client.get(IAM + f"?{param}={b64(values)}")
    assert response.status_code == 200
    assert len(iam_row_ids(response.content.decode())) <= len(first)


@pytest.mark.parametrize(
    ("base", "values"),
    [
        (IAM + "?sort=name&", ["a", "b", "c"]),  # kind_order and pk must be numbers
        (IAM + "?sort=role&", ["a", "a", 1, 1]),  # role_rank must be a number
        (USERS + "?sort=name&", ["a", "b"]),  # pk must be a number
        (USERS + "?sort=last_login&", ["not-a-date", 1]),  # seen must be a date
    ],
)
@pytest.mark.parametrize("param", ["after", "before"])
def test_a_cursor_with_values_of_the_wrong_type_is_the_first_page(demo, login, base, values, param):
    client = login("owner")
    ids_of = iam_row_ids if base.startswith(IAM) else user_row_ids
    first = ids_of(client.get(base).content.decode())
    response = client.get(base + f"{param}={b64(values)}")
    assert response.status_code == 200
    assert ids_of(response.content.decode()) == first


def test_page_size_setting_is_used_by_the_tables(crowd, login, settings):
    settings.PAGE_SIZE = 10
    html = login("owner").get(IAM).content.decode()
    assert len(iam_row_ids(html)) == 10


# -- selector and paginate() unit tests -----------------------------------------------------------


@pytest.mark.parametrize("sort", list(selectors.SORTS))
@pytest.mark.parametrize("size", [7, 50])
def test_selector_pages_forward_and_back(crowd, sort, size):
    expected = expected_iam_order(crowd.acme, sort)
    seen, after, pages = [], None, []
    while True:
        page = selectors.company_identity_page(crowd.acme, sort=sort, after=after, size=size)
        ids = [f"identity-{r.kind}-{r.obj.pk}" for r in page.rows]
        pages.append((ids, page))
        seen.extend(ids)
        if not page.has_next:
            break
        after = page.next_cursor
    assert seen == expected
    assert pages[0][1].is_first and not pages[0][1].has_prev
    # Back again with the "before" cursors.
    ids, page = pages[-1]
    back = [ids]
    while page.has_prev:
        page = selectors.company_identity_page(crowd.acme, sort=sort, before=page.prev_cursor, size=size)
        back.append([f"identity-{r.kind}-{r.obj.pk}" for r in page.rows])
    assert back == [p[0] for p in reversed(pages)]
    assert page.is_first


@pytest.fixture
def people(db):
    """Users whose names tie in small buckets, so the unique tie-breaker matters."""
    return User.objects.bulk_create(
        User(email=f"p{i:02d}@example.test", full_name=f"Name {i % 4}", is_staff=bool(i % 3 == 0))
        for i in range(23)
    )


@pytest.mark.parametrize(
    "order",
    [
        ["full_name", "email"],
        ["full_name", "-email"],
        ["-full_name", "email"],
        ["-full_name", "-email"],
        ["-is_staff", "full_name", "-pk"],
        ["is_staff", "-full_name", "pk"],
    ],
)
@pytest.mark.parametrize("size", [1, 4, 5, 23, 30])
def test_paginate_mixed_orders(people, order, size):
    qs = User.objects.filter(email__startswith="p")
    expected = list(qs.order_by(*order).values_list("pk", flat=True))

    forward, page, pages = [], paginate(qs, order, size=size), []
    while True:
        pages.append([u.pk for u in page.rows])
        forward.extend(pages[-1])
        assert len(page.rows) <= size
        if not page.has_next:
            break
        page = paginate(qs, order, after=page.next_cursor, size=size)
    assert forward == expected

    back = [pages[-1]]
    while page.has_prev:
        page = paginate(qs, order, before=page.prev_cursor, size=size)
        back.append([u.pk for u in page.rows])
    assert back == pages[::-1]


@pytest.mark.parametrize("order", [["full_name", "-pk"], ["-full_name", "pk"]])
def test_paginate_merges_several_querysets(people, order):
    base = User.objects.filter(email__startswith="p")
    parts = [base.filter(is_staff=True), base.filter(is_staff=False)]
    expected = list(base.order_by(*order).values_list("pk", flat=True))
    seen, after = [], None
    while True:
        page = paginate(parts, order, after=after, size=4)
        seen.extend(u.pk for u in page.rows)
        if not page.has_next:
            break
        after = page.next_cursor
    assert seen == expected


def test_paginate_empty_and_exact_fit(people):
    none = paginate(User.objects.none(), ["pk"], size=5)
    assert none.rows == [] and not none.has_next and not none.has_prev and none.is_first
    qs = User.objects.filter(email__startswith="p")
    exact = paginate(qs, ["pk"], size=23)
    assert len(exact.rows) == 23 and not exact.has_next


def test_cursor_round_trip_and_rejections():
    when = datetime.datetime(2026, 3, 5, 14, 30, tzinfo=datetime.UTC)
    cursor = encode_cursor(["name", 3, when])
    assert "=" not in cursor
    assert decode_cursor(cursor, 3) == ["name", 3, when.isoformat()]
    assert decode_cursor(cursor, 2) is None
    assert decode_cursor(None, 1) is None
    assert decode_cursor("", 1) is None
    assert decode_cursor("***", 1) is None
    assert decode_cursor(b64({"x": 1}), 1) is None
    assert decode_cursor(b64([None]), 1) is None
    assert decode_cursor(b64([[1]]), 1) is None


@pytest.mark.parametrize(
    "payload",
    [
        "[Infinity, 1]",
        "[1e999, 1]",
        "[NaN, 1]",
        "[1.5, 1]",
        f"[{10**30}, 1]",
        '["a\\u0000", 1]',
        "[[1], 1]",
        '[{"a": 1}, 1]',
    ],
)
def test_a_cursor_holding_what_no_page_writes_means_the_first_page(payload):
    cursor = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    assert decode_cursor(cursor, 2) is None
    assert decode_cursor(encode_cursor(["a", 1]), 2) == ["a", 1]


def test_an_infinite_cursor_on_a_table_is_the_first_page(demo, login):
    client = login("owner")
    url = "/companies/acme/users/"
    cursor = base64.urlsafe_b64encode(b"[Infinity, 1e999]").decode()
    response = client.get(url, {"after": cursor}, headers=HX)
    assert response.status_code == 200

    def row_ids(content: bytes) -> list[str]:
        return re.findall(r'<tr[^>]* id="([^"]+)"', content.decode())

    assert row_ids(response.content) == row_ids(client.get(url, headers=HX).content) != []
