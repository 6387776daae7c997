"""Service accounts page, creation (secret shown once, or a public key) and deletion."""

import hashlib
import json
import logging
import re

import pytest
from django.urls import reverse

from iam_portal.access.catalogue import COMPANY_OWNER, DEVELOPER, MAINTAINER, REPORTER
from iam_portal.access.models import RoleBinding
from iam_portal.identities.keys import jwk_thumbprint
from iam_portal.identities.models import ServiceAccount, User
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
    public_pem,
    row_html,
    rsa_private_key,
    snapshot,
)

OWNER = "owner@acme.test"
BASIC = "client_secret_basic"
JWT = "private_key_jwt"


def sa_urls(demo) -> dict[str, str]:
    return {
        "list": reverse("company_service_accounts", args=[demo.acme.slug]),
        "add": reverse("company_service_account_add", args=[demo.acme.slug]),
        "delete": reverse("company_service_account_delete", args=[demo.acme.slug, demo.reader.pk]),
    }


# -- authorization matrix -------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", ["list", "add", "delete"])
def test_get_matrix(demo, persona, url_name):
    assert_company_matrix(persona, "get", sa_urls(demo)[url_name], status=200)


@pytest.mark.parametrize("url_name", ["add", "delete"])
def test_denied_posts_change_nothing(demo, persona, url_name):
    data = {"name": "intruder", "role": COMPANY_OWNER, "auth_method": BASIC}
    assert_access_matrix(persona, COMPANY_MANAGER_DENIALS, post=sa_urls(demo)[url_name], data=data)


def test_list_is_get_only(demo, owner_client):
    assert owner_client.post(sa_urls(demo)["list"]).status_code == 405
    assert owner_client.put(sa_urls(demo)["delete"]).status_code == 405


def test_another_companys_service_account_is_not_found(demo, owner_client):
    foreign = ServiceAccount.objects.create(company=demo.globex, name="globex-bot")
    url = reverse("company_service_account_delete", args=[demo.acme.slug, foreign.pk])
    before = snapshot()
    assert owner_client.get(url).status_code == 404
    assert owner_client.post(url, headers=HX).status_code == 404
    assert snapshot() == before
    root = ServiceAccount.objects.create(company=None, name="root-bot")
    url = reverse("company_service_account_delete", args=[demo.acme.slug, root.pk])
    assert owner_client.post(url).status_code == 404
    assert ServiceAccount.objects.filter(pk=root.pk).exists()


# -- list -----------------------------------------------------------------------------------------


def test_list_shows_every_column(demo, owner_client):
    response = owner_client.get(sa_urls(demo)["list"])
    html = response.content.decode()
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    row = row_html(html, f"service-account-{demo.reader.pk}")
    assert "metrics-reader" in row and "demo-metrics-reader" in row
    assert "Client Secret Basic" in row and "Reporter" in row and "Never" in row
    assert sa_urls(demo)["delete"] in row
    row = row_html(html, f"service-account-{demo.deployer.pk}")
    assert "ci-deployer" in row and "Private Key JWT" in row and "Maintainer" in row
    assert "2 service accounts" in html
    for header in ("Name", "Client id", "Authentication method", "Company role", "Last login"):
        assert header in html


def test_list_search_sort_and_partial(demo, owner_client):
    url = sa_urls(demo)["list"]
    response = owner_client.get(url, {"q": "demo-metrics"})
    assert [a.name for a in response.context["page"].rows] == ["metrics-reader"]
    assert response.context["total"] == 1
    response = owner_client.get(url, {"sort": "role"})
    assert [a.name for a in response.context["page"].rows] == ["ci-deployer", "metrics-reader"]
    response = owner_client.get(url, {"sort": "-role"})
    assert [a.name for a in response.context["page"].rows] == ["metrics-reader", "ci-deployer"]
    ServiceAccount.objects.filter(pk=demo.reader.pk).update(last_login="2026-01-01T10:00:00Z")
    response = owner_client.get(url, {"sort": "-last_login"})
    assert [a.name for a in response.context["page"].rows] == ["metrics-reader", "ci-deployer"]
    body = owner_client.get(url, headers=HX).content.decode()
    assert "<html" not in body and 'id="service-accounts-table"' in body and 'hx-disinherit="*"' in body


def test_list_pages(demo, owner_client, settings):
    settings.PAGE_SIZE = 50
    ServiceAccount.objects.bulk_create(
        ServiceAccount(company=demo.acme, name=f"bot-{i:03}") for i in range(60)
    )
    url = sa_urls(demo)["list"]
    first = owner_client.get(url)
    assert len(first.context["page"].rows) == 50 and first.context["total"] == 62
    second = owner_client.get(url, {"after": first.context["page"].next_cursor})
    assert [a.name for a in second.context["page"].rows][-1] == "metrics-reader"


def test_list_uses_the_page_size_setting(demo, owner_client, settings):
    settings.PAGE_SIZE = 1
    response = owner_client.get(sa_urls(demo)["list"])
    assert [a.name for a in response.context["page"].rows] == ["ci-deployer"]
    assert response.context["page"].has_next and response.context["total"] == 2


# -- add ------------------------------------------------------------------------------------------


def test_add_dialog_renders_every_field(demo, owner_client):
    response = owner_client.get(sa_urls(demo)["add"], headers=HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert ">Name</label>" in html and ">Company role</label>" in html and ">Public key</label>" in html
    assert "<legend>Authentication method</legend>" in html
    assert "Client Secret Basic" in html and "Private Key JWT" in html
    assert "JWK JSON or PEM" in html


def test_iam_page_links_to_the_same_dialog(demo, owner_client):
    html = owner_client.get(reverse("company_iam", args=[demo.acme.slug])).content.decode()
    assert f'hx-get="{sa_urls(demo)["add"]}"' in html


def test_add_client_secret_basic_over_htmx_shows_the_secret_once(demo, owner_client, client, caplog):
    caplog.set_level(logging.DEBUG)
    response = owner_client.post(
        sa_urls(demo)["add"], {"name": "backup-job", "role": DEVELOPER, "auth_method": BASIC}, headers=HX
    )
    assert response.status_code == 200
    trigger = hx_trigger(response)
    assert "identitiesChanged" in trigger and "closeDialog" not in trigger
    assert "backup-job" in trigger["showMessage"]["text"]
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "<html" not in html

    account = ServiceAccount.objects.get(company=demo.acme, name="backup-job")
    secret = re.search(r'id="sa-client-secret" value="([^"]+)"', html).group(1)
    assert len(secret) >= 32
    assert account.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert account.check_secret(secret)
    assert account.public_key is None and account.key_id == ""
    assert f'value="{account.client_id}"' in html
    assert 'data-copy="sa-client-secret"' in html and 'data-copy="sa-client-id"' in html
    assert "only time" in html
    assert RoleBinding.objects.get(service_account=account).role == DEVELOPER
    assert RoleBinding.objects.get(service_account=account).company == demo.acme

    # Nowhere else: not in the log, the message, the list, the IAM page, nor the admin.
    assert secret not in caplog.text
    assert secret not in response["HX-Trigger"]
    assert secret not in owner_client.get(sa_urls(demo)["list"]).content.decode()
    assert secret not in owner_client.get(reverse("company_iam", args=[demo.acme.slug])).content.decode()
    assert secret not in json.dumps(dict(owner_client.session))
    client.force_login(User.objects.get(email="admin@acme.test"))
    admin_page = client.get(reverse("admin:identities_serviceaccount_change", args=[account.pk]))
    assert admin_page.status_code == 200
    assert secret not in admin_page.content.decode()


def test_add_without_javascript_renders_the_result_page(demo, owner_client):
    response = owner_client.post(
        sa_urls(demo)["add"] + "?next=/companies/acme/iam/",
        {"name": "nightly", "role": REPORTER, "auth_method": BASIC},
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert "HX-Trigger" not in response
    assert 'id="sa-client-secret"' in html
    assert 'href="/companies/acme/iam/"' in html  # "Done" goes back where the dialog was opened
    assert messages_of(response) == []
    assert ServiceAccount.objects.filter(company=demo.acme, name="nightly").exists()


def test_add_private_key_jwt_from_a_pem_stores_the_jwk_and_shows_the_kid(demo, owner_client):
    response = owner_client.post(
        sa_urls(demo)["add"],
        {
            "name": "signer",
            "role": MAINTAINER,
            "auth_method": JWT,
            "public_key": public_pem(rsa_private_key()),
        },
        headers=HX,
    )
    assert response.status_code == 200
    assert "identitiesChanged" in hx_trigger(response)
    account = ServiceAccount.objects.get(company=demo.acme, name="signer")
    assert account.auth_method == JWT and account.secret_hash == ""
    assert set(account.public_key) == {"kty", "n", "e", "use", "alg", "kid"}
    assert account.public_key["kty"] == "RSA"
    assert account.key_id == account.public_key["kid"] == jwk_thumbprint(account.public_key)
    html = response.content.decode()
    assert f'id="sa-key-id" value="{account.key_id}"' in html
    assert "sa-client-secret" not in html and "Save the key id" in html


def test_add_private_key_jwt_keeps_the_kid_of_a_jwk(demo, owner_client):
    jwk = dict(demo.deployer.public_key, kid="my-key-2026")
    response = owner_client.post(
        sa_urls(demo)["add"],
        {"name": "jwk-signer", "role": REPORTER, "auth_method": JWT, "public_key": json.dumps(jwk)},
        headers=HX,
    )
    assert response.status_code == 200
    assert ServiceAccount.objects.get(name="jwk-signer").key_id == "my-key-2026"
    assert 'value="my-key-2026"' in response.content.decode()


def test_a_key_sent_with_client_secret_basic_is_ignored(demo, owner_client):
    owner_client.post(
        sa_urls(demo)["add"],
        {"name": "plain", "role": REPORTER, "auth_method": BASIC, "public_key": "garbage"},
        headers=HX,
    )
    account = ServiceAccount.objects.get(name="plain")
    assert account.public_key is None and account.secret_hash


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"name": "k", "role": REPORTER, "auth_method": JWT, "public_key": ""}, "Paste a public key"),
        ({"name": "k", "role": REPORTER, "auth_method": JWT, "public_key": "hello"}, "Not a key we can read"),
        (
            {
                "name": "k",
                "role": REPORTER,
                "auth_method": JWT,
                "public_key": "-----BEGIN PUBLIC KEY-----\nAAA\n",
            },
            "could not be read",
        ),
        (
            {
                "name": "k",
                "role": REPORTER,
                "auth_method": JWT,
                "public_key": "-----BEGIN RSA PRIVATE KEY-----\nAAA\n-----END RSA PRIVATE KEY-----",
            },
            "paste the public key only",
        ),
        (
            {"name": "CI-DEPLOYER", "role": REPORTER, "auth_method": BASIC},
            "already has a service account named",
        ),
        ({"name": "", "role": REPORTER, "auth_method": BASIC}, "This field is required."),
        ({"name": "k", "role": "", "auth_method": BASIC}, "This field is required."),
        ({"name": "k", "role": REPORTER, "auth_method": "password"}, "Select a valid choice."),
    ],
)
def test_add_invalid_creates_nothing(demo, owner_client, data, error):
    response = assert_form_refused(owner_client, sa_urls(demo)["add"], data, error, **HX)
    assert "sa-client-id" not in response.content.decode()


def test_add_refuses_a_role_above_the_actors_own(demo, lower_actor):
    assert_form_refused(
        lower_actor,
        sa_urls(demo)["add"],
        {"name": "boss-bot", "role": COMPANY_OWNER, "auth_method": BASIC},
        "up to your own (Maintainer)",
        **HX,
    )


# -- delete ---------------------------------------------------------------------------------------


def test_delete_confirm_states_the_consequences_and_changes_nothing(demo, owner_client):
    bind(demo.reader, REPORTER, demo.webshop)
    before = snapshot()
    response = owner_client.get(sa_urls(demo)["delete"], headers=HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "metrics-reader" in html and "demo-metrics-reader" in html
    assert "permanent" in html and "stops working" in html
    assert "Reporter on company <strong>Acme</strong>" in html
    assert "Reporter on project <strong>Webshop</strong>" in html
    assert snapshot() == before


def test_delete_over_htmx(demo, owner_client):
    bind(demo.reader, REPORTER, demo.webshop)
    pk = demo.reader.pk
    response = owner_client.post(sa_urls(demo)["delete"], headers=HX)
    assert response.status_code == 204
    trigger = hx_trigger(response)
    assert {"identitiesChanged", "closeDialog"} <= set(trigger)
    assert "metrics-reader" in trigger["showMessage"]["text"]
    assert not ServiceAccount.objects.filter(pk=pk).exists()
    assert not RoleBinding.objects.filter(service_account_id=pk).exists()


def test_delete_without_javascript(demo, owner_client):
    response = owner_client.post(sa_urls(demo)["delete"])
    assert response.status_code == 302
    assert response.url == sa_urls(demo)["list"]
    assert list(ServiceAccount.objects.filter(company=demo.acme).values_list("name", flat=True)) == [
        "ci-deployer"
    ]
    assert "Service account metrics-reader was deleted." in owner_client.get(response.url).content.decode()


# -- CSRF -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", ["add", "delete"])
def test_posts_without_csrf_token_are_refused(demo, csrf_client, url_name):
    csrf_client.force_login(User.objects.get(email=OWNER))
    data = {"name": "sneaky", "role": REPORTER, "auth_method": BASIC}
    assert_csrf_refused(csrf_client, sa_urls(demo)[url_name], data)


# -- query budget ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sort", ["name", "-role", "last_login"])
def test_list_query_count_does_not_grow_with_rows(demo, owner_client, sort):
    url = sa_urls(demo)["list"] + f"?sort={sort}"
    small = count_queries(owner_client, url)
    assert small == 7  # session, viewer, company, the viewer's grants, the page, the count, the switcher
    accounts = ServiceAccount.objects.bulk_create(
        ServiceAccount(company=demo.acme, name=f"bot-{i:03}", client_id=f"bulk-{i}") for i in range(198)
    )
    RoleBinding.objects.bulk_create(
        RoleBinding(service_account=a, company=demo.acme, role=REPORTER) for a in accounts
    )
    assert ServiceAccount.objects.filter(company=demo.acme).count() == 200
    assert count_queries(owner_client, url) == small
