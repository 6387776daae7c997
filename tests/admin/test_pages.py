"""Every admin page renders for the super user; who may enter the admin at all."""

import pytest
from django.urls import reverse

from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group, ServiceAccount, User
from iam_portal.orgs.models import Project
from tests.helpers import MODELS, admin_url, an_object


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_add_and_change_pages_render(admin_client, demo, model):
    obj = an_object(model, demo)
    changelist = admin_client.get(admin_url(model))
    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count == model.objects.count() > 0

    add = admin_client.get(admin_url(model, "add"))
    assert add.status_code == 200
    assert add.context["adminform"] is not None

    change = admin_client.get(admin_url(model, "change", obj.pk))
    assert change.status_code == 200
    assert change.context["original"] == obj


def test_changelist_search_and_filters_work(admin_client, demo):
    response = admin_client.get(admin_url(RoleBinding), {"q": "junior1@acme.test"})
    assert response.status_code == 200
    assert {b.user.email for b in response.context["cl"].result_list} == {"junior1@acme.test"}

    response = admin_client.get(admin_url(RoleBinding), {"level": "environment"})
    bindings = list(response.context["cl"].result_list)
    assert bindings and all(b.environment_id for b in bindings)

    response = admin_client.get(admin_url(RoleBinding), {"role__exact": "company-owner"})
    assert {str(b.subject) for b in response.context["cl"].result_list} == {
        "owner@acme.test",
        "owner@globex.test",
    }

    response = admin_client.get(admin_url(ServiceAccount), {"q": "deployer"})
    assert [sa.name for sa in response.context["cl"].result_list] == ["ci-deployer"]


def test_changelist_columns(admin_client, demo):
    response = admin_client.get(admin_url(Project), {"q": "webshop"})
    html = response.content.decode()
    assert "Environments" in html
    assert response.context["cl"].result_list[0]._environment_count == 2

    response = admin_client.get(admin_url(Group))
    assert response.context["cl"].result_list[0]._member_count == 2

    response = admin_client.get(admin_url(RoleBinding), {"q": "staging"})
    html = response.content.decode()
    assert "acme/webshop/staging" in html
    assert "Maintainer" in html


def test_index_links_the_catalogue(admin_client):
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert reverse("admin:access_catalogue") in response.content.decode()
    # Django's auth groups grant nothing here, so they are not offered next to company groups.
    assert "/admin/auth/group/" not in response.content.decode()


def test_catalogue_page_lists_keys_and_ticks(admin_client):
    response = admin_client.get(reverse("admin:access_catalogue"))
    assert response.status_code == 200
    html = response.content.decode()
    for key in (
        "console.company.users.manage",
        "console.project.environment.deploy.trigger",
        "console.environment.deploy.trigger",
        "console.root.project.delete",
        "console.root.serviceaccount.manage",
    ):
        assert key in html
    assert "✓" in html
    tables = {t["level"]: t for t in response.context["tables"]}
    assert [r.id for r in tables["environment"]["roles"]] == ["reporter", "maintainer"]
    env_rows = {row["key"]: row["cells"] for row in tables["environment"]["rows"]}
    assert env_rows["console.environment.view"] == [True, True]
    assert env_rows["console.environment.deploy.trigger"] == [False, True]
    company_rows = {row["key"]: row["cells"] for row in tables["company"]["rows"]}
    assert company_rows["console.company.users.manage"] == [False] * 5 + [True]  # Company Owner only
    assert html.count("✓") == sum(
        sum(cells) for t in tables.values() for cells in (r["cells"] for r in t["rows"])
    )


def test_autocomplete_labels_environments_by_path(admin_client, demo):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "access", "model_name": "rolebinding", "field_name": "environment", "term": "prod"},
    )
    assert response.status_code == 200
    texts = {r["text"] for r in response.json()["results"]}
    assert {"acme/webshop/production", "acme/payments/production"} <= texts


def test_anonymous_is_sent_to_the_admin_login(client, demo):
    for url in (reverse("admin:index"), admin_url(User), reverse("admin:access_catalogue")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_non_staff_company_owner_cannot_enter(client, demo):
    client.force_login(demo.user("owner"))
    for url in (reverse("admin:index"), admin_url(User), admin_url(RoleBinding, "add")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    # The admin's sign-in address refuses the signed-in account instead of looping back to sign-in.
    assert client.get(reverse("admin:login") + "?next=/admin/").status_code == 403


def test_super_user_signs_in_with_email_and_password(client, demo):
    # The admin has no sign-in form of its own: it sends people to the portal's (lockout, second factor).
    response = client.get(reverse("admin:login") + "?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"
    response = client.post(
        "/accounts/login/?next=/admin/", {"username": "ADMIN@acme.test", "password": demo.password}
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get(reverse("admin:index")).status_code == 200


def test_inactive_super_user_cannot_sign_in(client, demo):
    User.objects.filter(email="admin@acme.test").update(is_active=False)
    response = client.post("/accounts/login/", {"username": "admin@acme.test", "password": demo.password})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
