"""Hostile input everywhere (issue 9 #21, "Done when"): every table parameter and every form of the portal,
and the admin forms that write through the services, get cursors holding Infinity, NaN, huge or nested
values, NUL characters, overlong text, deeply nested JSON and huge keys. None may answer 5xx, and none may
change anything. The suite runs on SQLite and on PostgreSQL (DATABASE_URL), so both databases see them."""

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client
from django.urls import reverse

from iam_portal.access.catalogue import DEVELOPER, GUEST, MAINTAINER
from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from tests.helpers import HX, admin_url, snapshot

NUL = "null\x00byte"
LONG = "x" * 10_000


def cursor(payload: str) -> str:
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def hostile_cursors() -> list[str]:
    values = [
        "Infinity",
        "-Infinity",
        "NaN",
        "1e999",
        "1.5",
        str(10**30),
        "-" + str(10**19),
        '"\\u0000"',
        "[[1]]",
        '{"a": 1}',
        "null",
        "true",
        '"2026-99-99T99:99"',
        '"' + "y" * 3000 + '"',
    ]
    cursors = [cursor(f"[{', '.join([value] * width)}]") for value in values for width in (1, 2, 3, 4)]
    cursors += [cursor(f'["a", {value}, 3]') for value in values]  # a hostile value beside fitting ones
    cursors += ["!!!", "%00", NUL, "A" * 5000, cursor("[" * 5000 + "]" * 5000), cursor('"\\ud800"')]
    return cursors


SEARCHES = [NUL, LONG, "%", "_", "\\", "' OR 1=1 --", "\u202e\u200b", "\ud7ff"]


def no_server_error(client: Client, method: str, url: str, data=None, **headers):
    response = getattr(client, method)(url, data, headers=headers)
    assert response.status_code < 500, (url, data)
    return response


@pytest.fixture
def owner_client(demo):
    client = Client(raise_request_exception=False)
    client.force_login(demo.user("owner"))
    return client


def tables(demo) -> list[str]:
    return [
        reverse("company_iam", args=["acme"]),
        reverse("company_users", args=["acme"]),
        reverse("company_groups", args=["acme"]),
        reverse("group_detail", args=["acme", demo.developers.pk]),
        reverse("company_service_accounts", args=["acme"]),
        reverse("project_iam", args=["acme", "webshop"]),
    ]


@pytest.mark.parametrize("table", range(6))
def test_tables_survive_hostile_parameters(demo, owner_client, table):
    url = tables(demo)[table]
    before = snapshot()
    sorts = ("name", "-role", "last_login", "-name", "role", "email")
    for i, value in enumerate(hostile_cursors()):
        for param, sort in (("after", sorts[i % 6]), ("before", sorts[(i + 1) % 6])):
            response = no_server_error(owner_client, "get", url, {"sort": sort, param: value}, **HX)
            assert response.status_code in (200, 400)
    no_server_error(owner_client, "get", url + "?q=%ED%A0%80&after=%FF%FE&sort=%C0")  # not UTF-8
    for search in SEARCHES:
        no_server_error(owner_client, "get", url, {"q": search})
        no_server_error(owner_client, "get", url, {"q": search, "type": NUL, "sort": LONG}, **HX)
    no_server_error(owner_client, "get", url, {"after": [cursor("[1]"), NUL], "q": ["a", "b"]})
    assert snapshot() == before


def huge_public_key_pem(bits: int) -> str:
    """An RSA public key of `bits` bits, made from its numbers (generating a real one would take minutes)."""
    numbers = rsa.RSAPublicNumbers(65537, (1 << (bits - 1)) | 0xF1)
    return (
        numbers.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def huge_jwk(bits: int, **extra) -> str:
    n = ((1 << (bits - 1)) | 0xF1).to_bytes((bits + 7) // 8, "big")
    return json.dumps(
        {"kty": "RSA", "n": base64.urlsafe_b64encode(n).decode().rstrip("="), "e": "AQAB", **extra}
    )


PUBLIC_KEYS = [
    "[" * 9000 + "]" * 9000,  # RecursionError in a JSON parser
    '{"keys": ' + "[" * 5000 + "]" * 5000 + "}",
    huge_public_key_pem(8200),
    huge_jwk(16384),
    huge_jwk(1_080_000),
    huge_jwk(2048, kid="kid\x00with-nul"),
    huge_jwk(2048, kid="kid\u202ewith-bidi"),
    huge_jwk(2048, kid="k" * 5000),
    huge_jwk(2048, use="\x00"),
    json.dumps({"kty": "RSA", "n": {"nested": [1, 2]}, "e": ["AQAB"]}),
    LONG * 3,
]

TEXTS = [NUL, LONG, "\u202eevil", "\x07bell", " \u200b ", "x" * 151]


def portal_forms(demo) -> list[tuple[str, dict]]:
    """(url, a valid-looking POST) for every form of the portal; each field is then made hostile in turn."""
    junior, designer = demo.user("junior1"), demo.user("designer1")
    envs = {f"env_{demo.production.pk}": MAINTAINER, f"env_{demo.staging.pk}": ""}
    sa = {"name": "new-robot", "auth_method": "private_key_jwt", "public_key": "", "company_role": GUEST}
    return [
        (reverse("company_user_add", args=["acme"]), {"email": "newcomer@example.test", "role": GUEST}),
        (reverse("company_role_edit", args=["acme", "user", designer.pk]), {"role": DEVELOPER}),
        (
            reverse("group_create", args=["acme"]),
            {"name": "New team", "role": GUEST, "members": junior.email},
        ),
        (reverse("group_edit", args=["acme", demo.developers.pk]), {"name": "Renamed", "role": GUEST}),
        (reverse("group_add_members", args=["acme", demo.developers.pk]), {"emails": designer.email}),
        (
            reverse("company_service_account_add", args=["acme"]),
            {"name": "new-robot", "role": GUEST, "auth_method": "private_key_jwt", "public_key": ""},
        ),
        (
            reverse("project_role_edit", args=["acme", "webshop", "user", designer.pk]),
            {"project_role": DEVELOPER, **envs},
        ),
        (
            reverse("project_user_add", args=["acme", "webshop"]),
            {"email": "newcomer@example.test", "company_role": GUEST, "project_role": DEVELOPER, **envs},
        ),
        (
            reverse("project_service_account_add", args=["acme", "webshop"]),
            {**sa, "project_role": DEVELOPER, **envs},
        ),
    ]


def hostile_variants(data: dict):
    """The form's data with one field hostile at a time, then a few whole-form attacks."""
    for field in data:
        for value in PUBLIC_KEYS if field == "public_key" else TEXTS:
            yield {**data, field: value}
    yield {**data, "x\x00": "1"}
    if any(field.startswith("env_") for field in data):
        yield {**data, "env_99999999999999999999999": MAINTAINER}
        yield {**data, "env_-1": MAINTAINER, "env_x": MAINTAINER}
    if "emails" in data:
        yield {**data, "emails": "\n".join(f"user{i}@example.test" for i in range(600))}


@pytest.mark.parametrize("form", range(9))
def test_portal_forms_survive_hostile_values_and_change_nothing(demo, owner_client, newcomer, form):
    url, data = portal_forms(demo)[form]
    before = snapshot()
    for variant in hostile_variants(data):
        if variant == data:
            continue
        response = no_server_error(owner_client, "post", url, variant, **HX)
        assert response.status_code in (200, 400), (variant, response.status_code)
        assert snapshot() == before, variant
    # The same dialogs without JavaScript (full pages).
    for variant in list(hostile_variants(data))[:5]:
        no_server_error(owner_client, "post", url, variant)
    assert snapshot() == before


@pytest.mark.parametrize(
    "url_name",
    [
        "company_identity_remove",
        "company_user_remove",
        "group_remove_member",
        "group_delete",
        "company_service_account_delete",
    ],
)
def test_removal_dialogs_refuse_nul_junk_and_change_nothing(demo, owner_client, url_name):
    junior = demo.user("junior1")
    args = {
        "company_identity_remove": ["acme", "user", junior.pk],
        "company_user_remove": ["acme", junior.pk],
        "group_remove_member": ["acme", demo.developers.pk, junior.pk],
        "group_delete": ["acme", demo.developers.pk],
        "company_service_account_delete": ["acme", demo.reader.pk],
    }[url_name]
    before = snapshot()
    for junk in ({"next": NUL}, {NUL: "1"}, {"next": "/companies/acme/\x00"}):
        assert (
            no_server_error(owner_client, "post", reverse(url_name, args=args), junk, **HX).status_code == 400
        )
    assert snapshot() == before


def test_urls_with_huge_and_odd_ids(demo, owner_client):
    for path in (
        f"/companies/acme/iam/user/{10**30}/edit/",
        f"/companies/acme/groups/{10**30}/",
        f"/companies/acme/projects/webshop/iam/group/{2**63}/edit/",
        "/companies/acme/iam/%00/1/edit/",
        "/companies/acme%00/iam/",
    ):
        assert no_server_error(owner_client, "get", path).status_code in (400, 404)


# -- the admin forms that write through the services ------------------------------------------------


@pytest.fixture
def root_client(demo):
    client = Client(raise_request_exception=False)
    client.force_login(demo.user("admin@acme.test"))
    return client


def admin_forms(demo) -> list[tuple[str, dict]]:
    none = {"memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}
    none |= {"role_bindings-TOTAL_FORMS": "0", "role_bindings-INITIAL_FORMS": "0"}
    return [
        (
            admin_url(RoleBinding, "add"),
            {"user": demo.user("junior1").pk, "project": demo.research.pk, "role": GUEST},
        ),
        (admin_url(GroupMembership, "add"), {"group": demo.developers.pk, "user": demo.user("designer1").pk}),
        (admin_url(Group, "add"), {"company": demo.acme.pk, "name": "Night shift", **none}),
        (
            admin_url(ServiceAccount, "add"),
            {
                "company": demo.acme.pk,
                "name": "robot",
                "auth_method": "private_key_jwt",
                "public_key_text": "",
                **none,
            },
        ),
    ]


@pytest.mark.parametrize("form", range(4))
def test_admin_forms_survive_hostile_values(demo, root_client, form):
    url, data = admin_forms(demo)[form]
    before = snapshot()
    for field in data:
        if field.endswith("FORMS"):
            continue
        ids = [str(10**30), "-1", "[" * 1000] if field in ("user", "group", "project", "company") else []
        values = PUBLIC_KEYS if field == "public_key_text" else [*TEXTS, *ids]
        for value in values:
            response = no_server_error(root_client, "post", url, {**data, field: value})
            assert response.status_code in (200, 400), (field, value[:40], response.status_code)
    assert snapshot() == before


@pytest.mark.parametrize("model", [RoleBinding, GroupMembership, Group, ServiceAccount, User])
def test_admin_lists_and_autocomplete_survive_hostile_searches(demo, root_client, model):
    for search in [*SEARCHES, "\x00"]:
        no_server_error(root_client, "get", admin_url(model), {"q": search})
        no_server_error(root_client, "get", admin_url(model), {"q": "a", "o": search, "p": search})
    for search in SEARCHES:
        no_server_error(
            root_client,
            "get",
            reverse("admin:autocomplete"),
            {"term": search, "app_label": "access", "model_name": "rolebinding", "field_name": "user"},
        )
