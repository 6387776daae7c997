"""Staff who are not super users: their admin permissions come only from their Console root keys."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from iam_portal.access.backends import (
    ROOT_KEY_MODEL_PERMISSIONS,
    RootKeyBackend,
    model_permissions_for_root_keys,
)
from iam_portal.access.catalogue import ROOT_PERMISSIONS
from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from iam_portal.orgs.models import Company, Environment, FeatureToggle, Project, ProjectTemplate
from tests.helpers import (
    MODELS,
    ROOT_VIEWER,
    SUPERUSER,
    Persona,
    admin_url,
    an_object,
    assert_access_matrix,
    form_data,
    no_inline_rows,
)

STAFF = Persona("staff")  # staff without any root key

backend = RootKeyBackend()


def test_every_root_key_has_a_mapping():
    assert set(ROOT_KEY_MODEL_PERMISSIONS) == set(ROOT_PERMISSIONS)


def test_mapping_examples():
    assert model_permissions_for_root_keys(["console.root.project.create"]) == {
        "orgs.add_project",
        "orgs.add_environment",
    }
    assert model_permissions_for_root_keys(["console.root.user.bind"]) == {
        f"{app}.{action}_{model}"
        for action in ("add", "change", "delete")
        for app, model in (
            ("access", "rolebinding"),
            ("identities", "group"),
            ("identities", "groupmembership"),
        )
    }
    view = model_permissions_for_root_keys(["console.root.view"])
    assert len(view) == 10 and all(".view_" in p for p in view)
    assert model_permissions_for_root_keys(["not.a.key", "marketplace.root.manage"]) == set()


def test_backend_grants_only_root_key_permissions(persona):
    user = persona("staff", keys=["console.root.company.create"])
    # A Django per-user permission is ignored: root keys are the only source.
    user.user_permissions.add(Permission.objects.get(codename="delete_company"))
    user = User.objects.get(pk=user.pk)
    assert user.has_perm("orgs.add_company")
    assert not user.has_perm("orgs.delete_company")
    assert not user.has_perm("orgs.view_project")
    assert user.get_all_permissions() == {"orgs.add_company"}
    assert user.has_module_perms("orgs") and not user.has_module_perms("identities")


def test_inactive_or_non_staff_get_nothing(persona):
    user = persona("staff", keys=["console.root.view"])
    user.is_active = False
    assert backend.get_all_permissions(user) == set()
    assert not user.has_perm("orgs.view_company")
    not_staff = persona("no-access", keys=["console.root.view"])
    assert backend.get_all_permissions(not_staff) == set()


def test_super_user_holds_every_permission(demo):
    admin = User.objects.get(email="admin@acme.test")
    assert admin.has_perm("access.delete_rolebinding")
    assert "identities.add_serviceaccount" in backend.get_all_permissions(admin)


def test_email_and_password_authentication(demo, persona):
    persona("staff", email="staff@console.test", password="staff-password-2026")
    assert backend.authenticate(
        None, username="STAFF@console.test", password="staff-password-2026"
    ).email == ("staff@console.test")
    assert backend.authenticate(None, username="staff@console.test", password="wrong") is None
    User.objects.filter(email="staff@console.test").update(is_active=False)
    assert backend.authenticate(None, username="staff@console.test", password="staff-password-2026") is None


# --- Through the admin ---------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_view_key_sees_every_changelist_but_cannot_write(demo, persona, model):
    obj = an_object(model, demo)

    def may_change_only_as_super_user(who, response):
        assert response.context["has_change_permission"] is (who == SUPERUSER)

    assert_access_matrix(persona, {ROOT_VIEWER: 200, STAFF: 403, SUPERUSER: 200}, get=admin_url(model))
    assert_access_matrix(
        persona,
        {ROOT_VIEWER: 200, STAFF: 403, SUPERUSER: 200},
        get=admin_url(model, "change", obj.pk),
        then=may_change_only_as_super_user,
    )
    assert_access_matrix(persona, {ROOT_VIEWER: 403, STAFF: 403, SUPERUSER: 200}, get=admin_url(model, "add"))
    assert_access_matrix(persona, {ROOT_VIEWER: 403, STAFF: 403}, post=admin_url(model, "add"), data={})


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("change-company", {"slug": "acme", "name": "Hacked"}),
        ("change-user", {"email": "x@x.test"}),
        ("delete-company", {"post": "yes"}),
    ],
)
def test_view_key_cannot_change_or_delete(demo, persona, action, data):
    url = {
        "change-company": admin_url(Company, "change", demo.acme.pk),
        "change-user": admin_url(User, "change", demo.user("owner").pk),
        "delete-company": admin_url(Company, "delete", demo.acme.pk),
    }[action]
    assert_access_matrix(persona, {ROOT_VIEWER: 403, STAFF: 403}, post=url, data=data)


def test_staff_without_keys_sees_nothing(client, demo, persona):
    client.force_login(persona("staff"))
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert index.context["app_list"] == []
    assert client.get(admin_url(Company)).status_code == 403
    # The catalogue is reference data in code: any staff member may read it.
    assert client.get(reverse("admin:access_catalogue")).status_code == 200


def test_user_manage_key_adds_a_user(client, demo, persona):
    client.force_login(persona("staff", keys=["console.root.user.manage"]))
    response = client.post(
        admin_url(User, "add"),
        {
            "email": "New.Person@Acme.test",
            "full_name": "New Person",
            "password1": "a-long-password-2026",
            "password2": "a-long-password-2026",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new.person@acme.test")
    assert user.full_name == "New Person"
    assert user.check_password("a-long-password-2026")
    assert not user.is_staff and not user.is_superuser and user.root_permissions == []
    # Other models stay closed.
    assert client.get(admin_url(Company)).status_code == 403
    assert client.get(admin_url(RoleBinding, "add")).status_code == 403


def test_user_add_form_errors(admin_client, demo):
    response = admin_client.post(
        admin_url(User, "add"),
        {
            "email": "OWNER@acme.test",
            "full_name": "Dup",
            "password1": "a-long-pw-2026",
            "password2": "other-pw-2026",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "email" in errors and "password2" in errors
    assert User.objects.filter(email__iexact="owner@acme.test").count() == 1


def test_user_manager_cannot_escalate(client, demo, persona):
    manager = persona("staff", keys=["console.root.user.manage"])
    client.force_login(manager)
    owner = persona("no-access")  # an account holding roles is out of reach (test_account_takeover)
    page = client.get(admin_url(User, "change", owner.pk))
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert {"is_staff", "is_superuser", "root_permissions"}.isdisjoint(form.fields)

    data = form_data(page)
    data.update({"full_name": "Olivia O.", "is_staff": "on", "is_superuser": "on"})
    data["root_permissions"] = list(ROOT_PERMISSIONS)
    response = client.post(admin_url(User, "change", owner.pk), data)
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.full_name == "Olivia O."
    assert not owner.is_staff and not owner.is_superuser and owner.root_permissions == []

    # Super users' accounts are out of reach.
    admin = User.objects.get(email="admin@acme.test")
    assert client.post(admin_url(User, "change", admin.pk), {"email": "admin@acme.test"}).status_code == 403
    assert client.post(admin_url(User, "delete", admin.pk), {"post": "yes"}).status_code == 403
    password_url = reverse("admin:auth_user_password_change", args=[admin.pk])
    assert (
        client.post(password_url, {"password1": "x-2026-long", "password2": "x-2026-long"}).status_code == 403
    )


def test_super_user_edits_root_keys_as_checkboxes(admin_client, demo, persona):
    member = persona("staff")
    page = admin_client.get(admin_url(User, "change", member.pk))
    html = page.content.decode()
    assert 'type="checkbox" name="root_permissions" value="console.root.view"' in html
    data = form_data(page)
    data["root_permissions"] = ["console.root.user.manage", "console.root.view"]
    response = admin_client.post(admin_url(User, "change", member.pk), data)
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.root_permissions == ["console.root.view", "console.root.user.manage"]  # catalogue order


def test_bind_key_manages_bindings_groups_and_memberships(client, demo, persona):
    client.force_login(persona("staff", keys=["console.root.user.bind"]))
    owner = demo.user("owner")
    response = client.post(
        admin_url(RoleBinding, "add"), {"user": owner.pk, "project": demo.payments.pk, "role": "maintainer"}
    )
    assert response.status_code == 302
    assert RoleBinding.objects.get(user=owner, project=demo.payments).role == "maintainer"
    for model in (RoleBinding, Group, GroupMembership):
        assert client.get(admin_url(model, "add")).status_code == 200
    for model in (User, ServiceAccount, Company, Project, Environment, ProjectTemplate, FeatureToggle):
        assert client.get(admin_url(model, "add")).status_code == 403


def test_service_account_manager_gives_only_root_keys_they_hold(client, demo, persona):
    client.force_login(persona("staff", keys=["console.root.serviceaccount.manage", "console.root.view"]))
    data = {"name": "root-robot", "auth_method": "client_secret_basic", "company": ""}
    data.update(no_inline_rows("role_bindings"))
    response = client.post(
        admin_url(ServiceAccount, "add"), {**data, "root_permissions": ["console.root.user.manage"]}
    )
    assert response.status_code == 200
    assert "console.root.user.manage" in " ".join(
        response.context["adminform"].form.errors["root_permissions"]
    )
    assert not ServiceAccount.objects.filter(name="root-robot").exists()

    response = client.post(
        admin_url(ServiceAccount, "add"), {**data, "root_permissions": ["console.root.view"]}
    )
    assert response.status_code == 200
    assert ServiceAccount.objects.get(name="root-robot").root_permissions == ["console.root.view"]


# The five keys that each open one kind of admin add page, and the page each opens (None: none of them).
PAGE_KEYS = (
    "console.root.company.create",
    "console.root.project.create",
    "console.root.templates.manage",
    "console.root.features.manage",
    "console.root.serviceaccount.manage",
)
OPENED_BY = [
    (Company, "add", "console.root.company.create"),
    (Company, "delete", None),
    (Project, "add", "console.root.project.create"),
    (Environment, "add", "console.root.project.create"),
    (ProjectTemplate, "add", "console.root.templates.manage"),
    (FeatureToggle, "add", "console.root.features.manage"),
    (ServiceAccount, "add", "console.root.serviceaccount.manage"),
    (User, "add", None),
]


@pytest.mark.parametrize(("model", "action", "key"), OPENED_BY, ids=lambda v: getattr(v, "__name__", v))
def test_key_matrix_on_add_pages(demo, persona, model, action, key):
    url = admin_url(model, action, demo.acme.pk) if action == "delete" else admin_url(model, action)
    matrix = {Persona("staff", keys=(page_key,)): 200 if page_key == key else 403 for page_key in PAGE_KEYS}
    assert_access_matrix(persona, matrix, get=url)
