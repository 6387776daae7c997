"""Account takeover in the admin (issue 9 #19): a staff member may set the password, email or active flag only
of accounts whose power they already hold. Never a super user's, never one with root keys they lack, never one
holding roles unless they hold console.root.user.bind."""

import pytest
from django.test import Client
from django.urls import reverse

from iam_portal.access.catalogue import ROOT_PERMISSIONS
from iam_portal.identities.models import User
from tests.helpers import ANONYMOUS, ROOT_BIND, ROOT_VIEW, SUPERUSER, Persona, assert_access_matrix, form_data

MANAGE = "console.root.user.manage"
VIEWER = Persona("staff", keys=(ROOT_VIEW,))
MANAGER = Persona("staff", keys=(ROOT_VIEW, MANAGE))
MANAGER_BINDER = Persona("staff", keys=(ROOT_VIEW, MANAGE, ROOT_BIND))
EVERY_KEY = Persona("staff", keys=tuple(ROOT_PERMISSIONS))
ACTORS = (VIEWER, MANAGER, MANAGER_BINDER, EVERY_KEY, SUPERUSER)

# Who may take each target over (302: done); everyone else gets 403.
MAY = {
    "super user": {SUPERUSER},
    "staff with every key": {EVERY_KEY, SUPERUSER},
    "staff with user.manage": {MANAGER, MANAGER_BINDER, EVERY_KEY, SUPERUSER},
    "company owner": {MANAGER_BINDER, EVERY_KEY, SUPERUSER},
    "member of a group": {MANAGER_BINDER, EVERY_KEY, SUPERUSER},
    "account without roles": {MANAGER, MANAGER_BINDER, EVERY_KEY, SUPERUSER},
}


def make_target(demo, newcomer, name: str) -> User:
    if name == "super user":
        return User.objects.create_superuser("root2@example.test", "x", full_name="Second Root")
    if name == "staff with every key":
        return User.objects.create_user(
            "chief@example.test", "x", is_staff=True, root_permissions=list(ROOT_PERMISSIONS)
        )
    if name == "staff with user.manage":
        return User.objects.create_user("peer@example.test", "x", is_staff=True, root_permissions=[MANAGE])
    if name == "company owner":
        return demo.user("owner")
    if name == "member of a group":
        demo.developers.memberships.create(user=newcomer)
    return newcomer


def matrix(name: str) -> dict:
    return {ANONYMOUS: 302} | {who: 302 if who in MAY[name] else 403 for who in ACTORS}


@pytest.mark.parametrize("name", list(MAY))
def test_setting_a_password_needs_the_accounts_power(demo, newcomer, persona, name):
    target = make_target(demo, newcomer, name)
    url = reverse("admin:auth_user_password_change", args=[target.pk])
    new = "a-new-Passphrase-42"

    def password_set(who, response):
        assert response["Location"] == reverse("admin:identities_user_change", args=[target.pk])
        target.refresh_from_db()
        assert target.check_password(new)

    data = {"password1": new, "password2": new, "usable_password": "true"}
    assert_access_matrix(persona, matrix(name), post=url, data=data, then=password_set)


@pytest.mark.parametrize("name", list(MAY))
def test_changing_email_and_active_flag_needs_the_accounts_power(demo, newcomer, persona, name):
    target = make_target(demo, newcomer, name)
    url = reverse("admin:identities_user_change", args=[target.pk])
    root = Client()
    root.force_login(demo.user("admin@acme.test"))
    data = form_data(root.get(url))
    data.update(email="taken-over@example.test")
    data.pop("is_active", None)

    def changed(who, response):
        target.refresh_from_db()
        assert (target.email, target.is_active) == ("taken-over@example.test", False)

    assert_access_matrix(persona, matrix(name), post=url, data=data, then=changed)


def test_a_refused_staff_member_still_sees_the_account_read_only(demo, login, persona):
    client = login(persona(MANAGER))
    response = client.get(reverse("admin:identities_user_change", args=[demo.user("owner").pk]))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert 'name="email"' not in response.content.decode()
