"""Helpers for the company Access Management tests: members with a chosen role, the principal set of the
authorization matrix, and a snapshot of every identity-related row to prove "nothing changed"."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from iam_portal.access.catalogue import COMPANY_OWNER
from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from iam_portal.orgs.models import Company, Environment, Project
from tests.conftest import HX

SUPERUSER = "admin@acme.test"
GLOBEX_OWNER = "owner@globex.test"

# Every principal of the matrix. "owner-via-group" is Company Owner only through a group of Acme.
DENIED_ROLES = ("guest", "reporter", "developer", "maintainer", "project-admin")
ALLOWED = ("company-owner", "owner-via-group", "superuser", "root-binder")
PRINCIPALS = ("anonymous", *DENIED_ROLES, *ALLOWED, "root-viewer", "globex-owner")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """seed_demo sets a password on a dozen users; the production hasher makes each test take seconds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def bind(subject, role: str, resource) -> RoleBinding:
    subject_field = {User: "user", Group: "group", ServiceAccount: "service_account"}[type(subject)]
    resource_field = {Company: "company", Project: "project", Environment: "environment"}[type(resource)]
    return RoleBinding.objects.create(role=role, **{subject_field: subject, resource_field: resource})


@pytest.fixture
def make_member(demo):
    """make_member("developer") → a fresh user holding that company role on Acme (directly).
    make_member("company-owner", via_group=True) → the role comes from a new group of Acme instead."""
    counter = iter(range(1, 10_000))

    def make(role: str, *, via_group: bool = False, company: Company | None = None, name: str = "") -> User:
        company = company or demo.acme
        n = next(counter)
        email = f"{name or role.replace('-', '')}{n}@example.test"
        user = User.objects.create_user(email, "x-password-not-used", full_name=f"Member {role} {n}")
        if via_group:
            group = Group.objects.create(company=company, name=f"{role} group {n}")
            bind(group, role, company)
            GroupMembership.objects.create(group=group, user=user)
        else:
            bind(user, role, company)
        return user

    return make


@pytest.fixture
def principal(demo, make_member):
    """principal(name) → the User for that matrix row (None for anonymous)."""

    def make(name: str) -> User | None:
        if name == "anonymous":
            return None
        if name == "superuser":
            return User.objects.get(email=SUPERUSER)
        if name == "globex-owner":
            return User.objects.get(email=GLOBEX_OWNER)
        if name == "owner-via-group":
            return make_member(COMPANY_OWNER, via_group=True, name="groupowner")
        if name == "root-binder":
            return User.objects.create_user(
                "binder@console.test",
                "x-password-not-used",
                is_staff=True,
                root_permissions=["console.root.view", "console.root.user.bind"],
            )
        if name == "root-viewer":
            return User.objects.create_user(
                "viewer@console.test",
                "x-password-not-used",
                is_staff=True,
                root_permissions=["console.root.view"],
            )
        return make_member(name)

    return make


@pytest.fixture
def as_principal(client, principal):
    """as_principal(name) → the test client signed in as that principal (anonymous: signed out)."""

    def sign_in(name: str) -> Client:
        user = principal(name)
        if user is not None:
            client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def csrf_client(db):
    """A client that enforces CSRF like a browser would (the default test client skips the check)."""
    return Client(enforce_csrf_checks=True)


def snapshot() -> dict:
    """Every row an identity action could touch, in a comparable form."""
    return {
        "bindings": sorted(
            RoleBinding.objects.values_list(
                "pk",
                "role",
                "user_id",
                "group_id",
                "service_account_id",
                "company_id",
                "project_id",
                "environment_id",
            )
        ),
        "memberships": sorted(GroupMembership.objects.values_list("pk", "group_id", "user_id")),
        "groups": sorted(Group.objects.values_list("pk", "company_id", "name")),
        "service_accounts": sorted(
            ServiceAccount.objects.values_list("pk", "company_id", "name", "secret_hash")
        ),
        "users": sorted(User.objects.values_list("pk", "email", "is_active")),
    }


def company_roles(company: Company) -> dict[str, str]:
    """{"user:<email>" | "group:<name>" | "sa:<name>": role} for every company binding."""
    result = {}
    for b in RoleBinding.objects.filter(company=company).select_related("user", "group", "service_account"):
        if b.user_id:
            result[f"user:{b.user.email}"] = b.role
        elif b.group_id:
            result[f"group:{b.group.name}"] = b.role
        else:
            result[f"sa:{b.service_account.name}"] = b.role
    return result


def hx_trigger(response) -> dict:
    return json.loads(response["HX-Trigger"])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def row_html(html: str, row_id: str) -> str:
    """The <tr id="row_id">…</tr> element of a rendered table ("" when absent)."""
    start = html.find(f'id="{row_id}"')
    if start == -1:
        return ""
    start = html.rfind("<tr", 0, start)
    end = html.find("</tr>", start)
    return html[start : end + len("</tr>")]


__all__ = [
    "ALLOWED",
    "DENIED_ROLES",
    "GLOBEX_OWNER",
    "HX",
    "PRINCIPALS",
    "SUPERUSER",
    "bind",
    "company_roles",
    "hx_trigger",
    "messages_of",
    "row_html",
    "snapshot",
]
