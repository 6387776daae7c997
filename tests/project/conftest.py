"""Helpers for the Project IAM tests: actors holding one role at one place, made straight in the database."""

import pytest

from iam_portal.access.catalogue import GUEST
from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from iam_portal.orgs.models import Company, Environment, Project


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """seed_demo sets a password on a dozen users; the production hasher makes each test take seconds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def bind(subject, role: str, resource) -> RoleBinding:
    subject_field = {User: "user", Group: "group", ServiceAccount: "service_account"}[type(subject)]
    resource_field = {Company: "company", Project: "project", Environment: "environment"}[type(resource)]
    return RoleBinding.objects.create(role=role, **{subject_field: subject, resource_field: resource})


@pytest.fixture
def actor(demo):
    """actor(where, role) → a fresh user holding `role`:
    "company": bound on Acme; "project": on webshop (plus Guest on Acme for company access);
    "other": on payments (plus Guest on Acme); "group": through a new Acme group bound on Acme;
    "superuser": a Console super user (role ignored)."""
    made = []

    def make(where: str, role: str | None = None) -> User:
        n = len(made)
        user = User.objects.create_user(f"actor{n}-{where}@example.test", "x-password-not-used")
        made.append(user)
        if where == "superuser":
            user.is_superuser = user.is_staff = True
            user.save()
        elif where == "company":
            bind(user, role, demo.acme)
        elif where == "project":
            bind(user, GUEST, demo.acme)
            bind(user, role, demo.webshop)
        elif where == "other":
            bind(user, GUEST, demo.acme)
            bind(user, role, demo.payments)
        elif where == "group":
            group = Group.objects.create(company=demo.acme, name=f"Actors {n}")
            bind(group, role, demo.acme)
            GroupMembership.objects.create(group=group, user=user)
        else:
            raise ValueError(where)
        return user

    return make


@pytest.fixture
def newcomer(db):
    """A Console account with no access to any company yet."""
    return User.objects.create_user("newcomer@example.test", "x-password-not-used", full_name="Nia Newcomer")
