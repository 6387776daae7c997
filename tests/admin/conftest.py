"""Helpers for the admin tests: staff accounts holding chosen root keys, admin URLs."""

import pytest
from django.urls import reverse

from iam_portal.identities.models import User

SUPERUSER = "admin@acme.test"


@pytest.fixture
def staff(demo):
    """staff("console.root.view", ...) → a staff user (not super user) holding those root keys."""

    def make(*keys: str, email: str = "staff@console.test") -> User:
        return User.objects.create_user(
            email, "staff-password-2026", is_staff=True, root_permissions=list(keys)
        )

    return make


@pytest.fixture
def admin_client(client, demo):
    client.force_login(User.objects.get(email=SUPERUSER))
    return client


def admin_url(model, action: str = "changelist", *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


def _post_value(bound_field):
    value = bound_field.value()
    if bound_field.field.disabled:
        return None
    if isinstance(value, bool):
        return "on" if value else None
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return str(value)


def form_data(response) -> dict:
    """The POST data an unchanged submit of an admin add/change page would send (main form + inlines)."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name, bound in ((f.html_name, f) for f in formset.management_form):
            data[name] = str(bound.value())
        forms.extend(formset.forms)
    for form in forms:
        for bound in form:
            value = _post_value(bound)
            if value is not None:
                data[bound.html_name] = value
    return data


def add_inline_row(data: dict, prefix: str, **fields) -> dict:
    """Append one new row to the inline formset `prefix` (e.g. "role_bindings") of form_data()."""
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    for name, value in fields.items():
        data[f"{prefix}-{index}-{name}"] = "" if value is None else str(value)
    return data


def no_inline_rows(*prefixes: str) -> dict:
    """Management data for empty inline formsets on an add page."""
    data = {}
    for prefix in prefixes:
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return data
