"""Role bindings in the admin: every database rule is a form error first, and who created it is recorded."""

import pytest

from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group, ServiceAccount, User
from tests.helpers import add_inline_row, admin_url, form_data, inline_row, no_inline_rows


def inline_errors(response, prefix="role_bindings") -> str:
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.prefix == prefix:
            errors = [str(e) for form in inline.formset.forms for e in form.errors.values()]
            return " ".join([*errors, *inline.formset.non_form_errors()])
    raise AssertionError(f"no inline {prefix}")


def post_with_new_binding(admin_client, model, obj, **row):
    url = admin_url(model, "change", obj.pk)
    data = add_inline_row(form_data(admin_client.get(url)), "role_bindings", **row)
    return admin_client.post(url, data)


def test_user_inline_binding_is_saved_with_its_creator(admin_client, demo):
    owner = demo.user("owner")
    response = post_with_new_binding(admin_client, User, owner, role="maintainer", project=demo.payments.pk)
    assert response.status_code == 302
    binding = RoleBinding.objects.get(user=owner, project=demo.payments)
    assert binding.role == "maintainer"
    assert binding.created_by.email == "admin@acme.test"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"role": "developer", "environment": "production"}, "Developer cannot be bound on an environment"),
        ({"role": "company-owner", "project": "payments"}, "Company Owner cannot be bound on a project"),
        ({"role": "reporter", "company": "acme", "project": "payments"}, "exactly one resource"),
        ({"role": "reporter"}, "exactly one resource"),
        ({"role": "reporter", "project": "webshop"}, "this project is listed twice"),
    ],
)
def test_invalid_group_inline_binding_is_a_form_error_and_nothing_is_saved(admin_client, demo, row, message):
    objects = {
        "acme": demo.acme.pk,
        "payments": demo.payments.pk,
        "webshop": demo.webshop.pk,
        "production": demo.production.pk,
    }
    RoleBinding.objects.create(group=demo.developers, project=demo.webshop, role="reporter")
    before = set(RoleBinding.objects.values_list("pk", "role"))
    row = {field: objects.get(value, value) for field, value in row.items()}
    response = post_with_new_binding(admin_client, Group, demo.developers, **row)
    assert response.status_code == 200
    assert message in inline_errors(response).replace("&#x27;", "'")
    assert set(RoleBinding.objects.values_list("pk", "role")) == before


def test_group_binding_must_stay_in_its_company(admin_client, demo):
    response = post_with_new_binding(
        admin_client, Group, demo.developers, role="reporter", project=demo.research.pk
    )
    assert response.status_code == 200
    assert "belongs to another company" in inline_errors(response)
    assert not RoleBinding.objects.filter(group=demo.developers, project=demo.research).exists()


def test_the_same_resource_twice_in_one_submit_is_refused(admin_client, demo):
    url = admin_url(User, "change", demo.user("owner").pk)
    data = form_data(admin_client.get(url))
    add_inline_row(data, "role_bindings", role="reporter", project=demo.payments.pk)
    add_inline_row(data, "role_bindings", role="maintainer", project=demo.payments.pk)
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "listed twice" in inline_errors(response)
    assert not RoleBinding.objects.filter(project=demo.payments, user__email="owner@acme.test").exists()


def test_moving_a_binding_and_adding_one_on_its_old_resource_in_one_submit(admin_client, demo):
    junior = demo.user("junior1")
    url = admin_url(User, "change", junior.pk)
    data = form_data(admin_client.get(url))
    # Row 0..n are existing bindings; find the staging one and move it to production, then add staging again.
    staging_row = inline_row(data, "environment", demo.staging)
    data[f"{staging_row}-environment"] = str(demo.production.pk)
    add_inline_row(data, "role_bindings", role="reporter", environment=demo.staging.pk)
    response = admin_client.post(url, data)
    assert response.status_code == 302
    assert dict(
        RoleBinding.objects.filter(user=junior, environment__isnull=False).values_list(
            "environment__env_id", "role"
        )
    ) == {
        "production": "maintainer",
        "staging": "reporter",
    }


def test_company_service_account_inline_binding(admin_client, demo):
    response = post_with_new_binding(
        admin_client, ServiceAccount, demo.reader, role="maintainer", environment=demo.production.pk
    )
    assert response.status_code == 302
    binding = RoleBinding.objects.get(service_account=demo.reader, environment=demo.production)
    assert binding.created_by.email == "admin@acme.test"
    response = post_with_new_binding(
        admin_client, ServiceAccount, demo.reader, role="reporter", company=demo.globex.pk
    )
    assert response.status_code == 200
    assert "belongs to another company" in inline_errors(response)


def test_new_group_with_members_and_bindings_in_one_submit(admin_client, demo):
    data = {"company": demo.acme.pk, "name": "Acme Ops", **no_inline_rows("memberships", "role_bindings")}
    add_inline_row(data, "memberships", user=demo.user("senior").pk)
    add_inline_row(data, "role_bindings", role="maintainer", environment=demo.production.pk)
    response = admin_client.post(admin_url(Group, "add"), data)
    assert response.status_code == 302
    group = Group.objects.get(company=demo.acme, name="Acme Ops")
    assert group.created_by.email == "admin@acme.test"
    assert [m.added_by.email for m in group.memberships.all()] == ["admin@acme.test"]
    assert group.role_bindings.get().environment == demo.production

    # A second group with the same name (any case) in the same company is a form error.
    data["name"] = "acme ops"
    response = admin_client.post(admin_url(Group, "add"), data)
    assert response.status_code == 200
    assert "already has a group named" in " ".join(response.context["adminform"].form.errors["name"])
    assert Group.objects.filter(company=demo.acme, name__iexact="acme ops").count() == 1


def test_new_group_binding_on_another_company_is_refused(admin_client, demo):
    data = {"company": demo.acme.pk, "name": "Acme Ops", **no_inline_rows("memberships", "role_bindings")}
    add_inline_row(data, "role_bindings", role="reporter", company=demo.globex.pk)
    response = admin_client.post(admin_url(Group, "add"), data)
    assert response.status_code == 200
    assert "belongs to another company" in inline_errors(response)
    assert not Group.objects.filter(name="Acme Ops").exists()


# --- The RoleBinding admin itself ----------------------------------------------------------------


def add_binding(admin_client, **fields):
    return admin_client.post(admin_url(RoleBinding, "add"), fields)


def test_standalone_binding_is_created_with_its_creator(admin_client, demo):
    response = add_binding(
        admin_client, group=demo.developers.pk, environment=demo.production.pk, role="reporter"
    )
    assert response.status_code == 302
    binding = RoleBinding.objects.get(group=demo.developers, environment=demo.production)
    assert binding.created_by.email == "admin@acme.test"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"role": "reporter", "project": "payments"}, "exactly one subject"),
        (
            {"role": "reporter", "user": "owner", "group": "developers", "project": "payments"},
            "exactly one subject",
        ),
        (
            {"role": "reporter", "user": "owner", "company": "acme", "environment": "production"},
            "exactly one resource",
        ),
        (
            {"role": "developer", "user": "owner", "environment": "production"},
            "cannot be bound on an environment",
        ),
        ({"role": "guest", "user": "owner", "company": "acme"}, "already has a role on this company"),
        ({"role": "guest", "group": "developers", "company": "globex"}, "belongs to another company"),
        ({"role": "guest", "service_account": "root", "company": "acme"}, "root service account"),
    ],
)
def test_standalone_invalid_binding_is_a_form_error(admin_client, demo, fields, message):
    root_sa = ServiceAccount.objects.create(name="root-bot")
    objects = {
        "owner": demo.user("owner").pk,
        "developers": demo.developers.pk,
        "root": root_sa.pk,
        "acme": demo.acme.pk,
        "globex": demo.globex.pk,
        "payments": demo.payments.pk,
        "production": demo.production.pk,
    }
    count = RoleBinding.objects.count()
    response = add_binding(admin_client, **{f: objects.get(v, v) for f, v in fields.items()})
    assert response.status_code == 200
    form = response.context["adminform"].form
    text = " ".join(str(e) for errors in form.errors.values() for e in errors)
    assert message in text
    assert RoleBinding.objects.count() == count


def test_change_a_binding_role(admin_client, demo):
    binding = RoleBinding.objects.get(user=demo.user("junior1"), environment=demo.staging)
    data = form_data(admin_client.get(admin_url(RoleBinding, "change", binding.pk)))
    data["role"] = "reporter"
    response = admin_client.post(admin_url(RoleBinding, "change", binding.pk), data)
    assert response.status_code == 302
    binding.refresh_from_db()
    assert binding.role == "reporter"
    data["role"] = "developer"
    response = admin_client.post(admin_url(RoleBinding, "change", binding.pk), data)
    assert response.status_code == 200
    binding.refresh_from_db()
    assert binding.role == "reporter"
