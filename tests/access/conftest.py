"""Local helpers for the access tests: fresh users and role bindings made straight in the database."""

import pytest

from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group, ServiceAccount, User
from iam_portal.orgs.models import Company, Environment, Project


@pytest.fixture
def new_user(db):
    """new_user("eve") → a fresh active user eve@example.test with no bindings and no groups."""

    def make(name: str = "stranger", **flags) -> User:
        return User.objects.create_user(f"{name}@example.test", "x-password-not-used", **flags)

    return make


@pytest.fixture
def bind(db):
    """bind(subject, role, resource) → RoleBinding for a user, group or service account on a company,
    project or environment."""

    def make(subject, role: str, resource) -> RoleBinding:
        subject_field = {User: "user", Group: "group", ServiceAccount: "service_account"}[type(subject)]
        resource_field = {Company: "company", Project: "project", Environment: "environment"}[type(resource)]
        return RoleBinding.objects.create(role=role, **{subject_field: subject, resource_field: resource})

    return make
