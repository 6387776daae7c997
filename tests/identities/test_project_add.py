"""Adding users and service accounts from a project: who may (the project matrix), company access, project
and environment roles in one step, all or nothing."""

import json
import re

import pytest
from django.urls import reverse

from iam_portal.access.catalogue import COMPANY_OWNER, DEVELOPER, GUEST, MAINTAINER, REPORTER
from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import ServiceAccount
from iam_portal.orgs.management.commands.seed_demo import DEMO_JWK
from tests.helpers import (
    HX,
    assert_access_matrix,
    hx_trigger,
    project_matrix,
    snapshot,
)

ADD_USER = reverse("project_user_add", args=["acme", "webshop"])
ADD_SA = reverse("project_service_account_add", args=["acme", "webshop"])


def bindings_of(**subject) -> set:
    return set(
        RoleBinding.objects.filter(**subject).values_list(
            "role", "company__slug", "project__slug", "environment__env_id"
        )
    )


# -- who may add: only those who may manage the company's identities (DESIGN §6) -------------------------

MAY_ADD = {"none": 404, "view": 403, "edit": 403}


@pytest.mark.parametrize("headers", [{}, HX], ids=["full", "htmx"])
@pytest.mark.parametrize("url", [ADD_USER, ADD_SA], ids=["user", "service-account"])
def test_add_dialogs_matrix(demo, persona, url, headers):
    assert_access_matrix(persona, project_matrix(**MAY_ADD, add=200), get=url, headers=headers)


def test_add_user_matrix(demo, persona, newcomer):
    payload = {
        "email": newcomer.email,
        "company_role": REPORTER,
        "project_role": DEVELOPER,
        f"env_{demo.staging.pk}": MAINTAINER,
    }

    def added(who, response):
        assert RoleBinding.objects.filter(user=newcomer).count() == 3

    matrix = project_matrix(**MAY_ADD, add=204)
    assert_access_matrix(persona, matrix, post=ADD_USER, data=payload, headers=HX, then=added)


def test_add_service_account_matrix(demo, persona):
    payload = {
        "name": "matrix-bot",
        "auth_method": "client_secret_basic",
        "company_role": GUEST,
        "project_role": REPORTER,
    }

    def added(who, response):
        created = ServiceAccount.objects.filter(company=demo.acme, name="matrix-bot").first()
        assert created is not None
        assert RoleBinding.objects.filter(service_account=created).count() == 2

    matrix = project_matrix(**MAY_ADD, add=200)
    assert_access_matrix(persona, matrix, post=ADD_SA, data=payload, headers=HX, then=added)


# -- users ---------------------------------------------------------------------------------------------


def test_owner_adds_a_user_with_company_project_and_environment_roles(demo, login, newcomer):
    client = login("owner")
    data = {
        "email": newcomer.email.upper(),
        "company_role": REPORTER,
        "project_role": DEVELOPER,
        f"env_{demo.production.pk}": "",
        f"env_{demo.staging.pk}": MAINTAINER,
    }
    response = client.post(ADD_USER, data, headers=HX)
    assert response.status_code == 204
    triggers = hx_trigger(response)
    assert {"identitiesChanged", "closeDialog", "showMessage"} <= set(triggers)
    assert bindings_of(user=newcomer) == {
        (REPORTER, "acme", None, None),
        (DEVELOPER, None, "webshop", None),
        (MAINTAINER, None, None, "staging"),
    }
    # They now appear on the company IAM page and in the project table.
    company_page = client.get(reverse("company_iam", args=["acme"]), {"q": "newcomer"}).content.decode()
    assert newcomer.email in company_page
    project_page = client.get(reverse("project_iam", args=["acme", "webshop"]), {"q": "newcomer"})
    assert newcomer.email in project_page.content.decode()


def test_without_javascript_adding_a_user_redirects_to_the_table(demo, login, newcomer):
    response = login("owner").post(ADD_USER, {"email": newcomer.email, "company_role": GUEST})
    assert response.status_code == 302
    assert response.url == reverse("project_iam", args=["acme", "webshop"])
    assert bindings_of(user=newcomer) == {(GUEST, "acme", None, None)}


def test_unknown_email_says_an_administrator_must_create_the_account(demo, login):
    response = login("owner").post(
        ADD_USER,
        {"email": "nobody@example.test", "company_role": GUEST, "project_role": REPORTER},
        headers=HX,
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "No Console account uses nobody@example.test" in body
    assert "administrator" in body
    assert not RoleBinding.objects.filter(user__email="nobody@example.test").exists()


def test_an_existing_member_is_offered_their_project_roles_with_htmx(demo, login):
    """Adding someone who already has a company role opens their Edit project roles dialog with the roles
    chosen filled in (nothing saved yet), instead of refusing."""
    designer = demo.user("designer1")
    before = snapshot()
    client = login("owner")
    data = {
        "email": "DESIGNER1@acme.test",
        "company_role": DEVELOPER,
        "project_role": MAINTAINER,
        f"env_{demo.production.pk}": REPORTER,
        f"env_{demo.staging.pk}": "",
    }
    response = client.post(ADD_USER, data, headers=HX)
    assert response.status_code == 200
    assert response.content == b""
    location = json.loads(response["HX-Location"])
    edit = reverse("project_role_edit", args=["acme", "webshop", "user", designer.pk])
    assert location["target"] == "#dialog" and location["push"] == "false"
    assert location["path"].startswith(edit + "?")
    assert snapshot() == before

    dialog = client.get(location["path"], headers=HX).content.decode()
    assert "Dana Designer is already a member of Acme</strong>, with the company role Guest" in dialog
    assert '<option value="maintainer" selected>' in dialog  # the project role chosen
    production = dialog.split(f'name="env_{demo.production.pk}"')[1].split("</select>")[0]
    assert '<option value="reporter" selected>' in production
    assert "already has direct access" not in dialog

    saved = client.post(edit, {k: v for k, v in data.items() if k.startswith(("project_role", "env_"))})
    assert saved.status_code == 302
    assert bindings_of(user=designer) == {
        (GUEST, "acme", None, None),  # the company role stays as it was
        (MAINTAINER, None, "webshop", None),
        (REPORTER, None, None, "production"),
    }


def test_an_existing_member_is_offered_their_project_roles_without_javascript(demo, login):
    senior = demo.user("senior")
    client = login("owner")
    data = {"email": senior.email, "company_role": GUEST, "project_role": DEVELOPER}
    response = client.post(ADD_USER, data)
    assert response.status_code == 302
    assert response.url.startswith(reverse("project_role_edit", args=["acme", "webshop", "user", senior.pk]))
    page = client.get(response.url).content.decode()
    assert "<html" in page and "Sara Senior is already a member of Acme" in page
    assert '<option value="developer" selected>' in page


def test_a_hand_made_offer_fills_in_only_valid_roles(demo, login):
    url = reverse("project_role_edit", args=["acme", "webshop", "user", demo.user("senior").pk])
    page = login("owner").get(url, {"offered": "1", "project_role": COMPANY_OWNER, "env_999": "x"}).content
    assert '<option value="maintainer" selected>' in page.decode()  # their own role, unchanged


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("company_role", "root"),
        ("project_role", COMPANY_OWNER),
        ("production", DEVELOPER),
        ("staging", GUEST),
    ],
)
def test_invalid_roles_when_adding_create_nothing(demo, login, newcomer, field, value):
    data = {"email": newcomer.email, "company_role": GUEST, "project_role": REPORTER}
    env_fields = {"production": f"env_{demo.production.pk}", "staging": f"env_{demo.staging.pk}"}
    data[env_fields.get(field, field)] = value
    response = login("owner").post(ADD_USER, data, headers=HX)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not RoleBinding.objects.filter(user=newcomer).exists()


def test_environment_of_another_company_when_adding_creates_nothing(demo, login, newcomer):
    development = demo.research.environments.get()
    data = {"email": newcomer.email, "company_role": GUEST, f"env_{development.pk}": MAINTAINER}
    response = login("owner").post(ADD_USER, data, headers=HX)
    assert response.status_code == 200
    assert "not part of this project" in response.content.decode()
    assert not RoleBinding.objects.filter(user=newcomer).exists()


def test_project_admin_cannot_add_users(demo, login, newcomer):
    client = login("pm")
    assert client.get(ADD_USER).status_code == 403
    assert (
        client.post(ADD_USER, {"email": newcomer.email, "company_role": GUEST}, headers=HX).status_code == 403
    )
    assert not RoleBinding.objects.filter(user=newcomer).exists()
    page = client.get(reverse("project_iam", args=["acme", "webshop"])).content.decode()
    assert "Add user" not in page and "Add service account" not in page


# -- service accounts ------------------------------------------------------------------------------------


def test_client_secret_is_shown_once(demo, login):
    client = login("owner")
    data = {
        "name": "release-bot",
        "auth_method": "client_secret_basic",
        "company_role": GUEST,
        "project_role": REPORTER,
        f"env_{demo.production.pk}": MAINTAINER,
    }
    response = client.post(ADD_SA, data, headers=HX)
    assert response.status_code == 200
    assert "identitiesChanged" in hx_trigger(response)
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    account = ServiceAccount.objects.get(company=demo.acme, name="release-bot")
    assert account.client_id in body
    secret = body.split('id="sa-client-secret" value="')[1].split('"')[0]
    assert account.check_secret(secret)
    assert secret not in account.secret_hash
    assert 'data-copy="sa-client-secret"' in body and 'data-copy="sa-client-id"' in body
    assert "only time it is shown" in body
    assert bindings_of(service_account=account) == {
        (GUEST, "acme", None, None),
        (REPORTER, None, "webshop", None),
        (MAINTAINER, None, None, "production"),
    }
    table = client.get(reverse("project_iam", args=["acme", "webshop"])).content.decode()
    assert account.client_id in table and secret not in table


def test_without_javascript_the_secret_page_is_a_full_page(demo, login):
    response = login("owner").post(
        ADD_SA, {"name": "nojs-bot", "auth_method": "client_secret_basic", "company_role": GUEST}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body and "Client secret" in body
    assert ServiceAccount.objects.filter(company=demo.acme, name="nojs-bot").exists()


def test_private_key_jwt_shows_client_id_and_key_id(demo, login):
    data = {
        "name": "jwt-bot",
        "auth_method": "private_key_jwt",
        "public_key": json.dumps({**DEMO_JWK, "kid": "jwt-bot-key"}),
        "company_role": REPORTER,
        "project_role": MAINTAINER,
    }
    response = login("owner").post(ADD_SA, data, headers=HX)
    assert response.status_code == 200
    body = response.content.decode()
    account = ServiceAccount.objects.get(company=demo.acme, name="jwt-bot")
    assert account.key_id == "jwt-bot-key"
    assert account.client_id in body and "jwt-bot-key" in body
    assert "Client secret" not in body
    assert bindings_of(service_account=account) == {
        (REPORTER, "acme", None, None),
        (MAINTAINER, None, "webshop", None),
    }


@pytest.mark.parametrize("public_key", ["", "not a key"])
def test_private_key_jwt_needs_a_valid_public_key(demo, login, public_key):
    data = {
        "name": "jwt-bot",
        "auth_method": "private_key_jwt",
        "public_key": public_key,
        "company_role": GUEST,
    }
    response = login("owner").post(ADD_SA, data, headers=HX)
    assert response.status_code == 200
    assert 'class="form-errors"' in response.content.decode() or "has-error" in response.content.decode()
    assert not ServiceAccount.objects.filter(name="jwt-bot").exists()


def test_invalid_environment_role_creates_no_service_account(demo, login):
    data = {
        "name": "bad-bot",
        "auth_method": "client_secret_basic",
        "company_role": GUEST,
        f"env_{demo.staging.pk}": DEVELOPER,
    }
    response = login("owner").post(ADD_SA, data, headers=HX)
    assert response.status_code == 200
    assert not ServiceAccount.objects.filter(name="bad-bot").exists()


def test_duplicate_service_account_name_is_refused(demo, login):
    data = {"name": "ci-deployer", "auth_method": "client_secret_basic", "company_role": GUEST}
    response = login("owner").post(ADD_SA, data, headers=HX)
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert ServiceAccount.objects.filter(company=demo.acme, name="ci-deployer").count() == 1


def test_service_rolls_back_the_company_role_when_a_project_step_fails(demo, newcomer):
    from iam_portal.access.services import ActionRefused
    from iam_portal.identities.services import project_user_add

    payments_production = demo.payments.environments.get(env_id="production")
    with pytest.raises(ActionRefused):
        project_user_add(
            actor=demo.user("owner"),
            project=demo.webshop,
            email=newcomer.email,
            company_role=REPORTER,
            project_role=DEVELOPER,
            environment_roles={payments_production: MAINTAINER},
        )
    assert not RoleBinding.objects.filter(user=newcomer).exists()


# -- the same fields in the same order as on the company's page -------------------------------------------


def field_labels(html: str) -> list[str]:
    """The dialog's field labels (and radio-group legends) in page order."""
    return [
        re.sub(r"<[^>]+>", "", label).strip()
        for label in re.findall(r"<(?:legend|label for=\"id_[a-z_]+\")>(.*?)</", html)
    ]


def test_both_add_service_account_dialogs_order_their_fields_the_same_way(demo, login):
    client = login("owner")
    company = client.get(reverse("company_service_account_add", args=["acme"]), headers=HX).content.decode()
    project = client.get(ADD_SA, headers=HX).content.decode()
    identity = ["Name", "Company role", "Authentication method", "Public key"]
    assert field_labels(company) == [*identity, "Until", "End date and time"]
    assert field_labels(project)[:4] == identity
    assert field_labels(project)[4] == "Project role"
    assert field_labels(project)[-2:] == ["Until", "End date and time"]
    help_text = "Client Secret Basic: the Console generates a secret for the machine."
    assert help_text in company and help_text in project
