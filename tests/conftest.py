"""Shared fixtures: the demo data and a few helpers. Personas are the demo accounts."""

from types import SimpleNamespace

import pytest
from django.core.management import call_command

from iam_portal.identities.models import Group, ServiceAccount, User
from iam_portal.orgs.demo import DEMO_PASSWORD
from iam_portal.orgs.models import Company, Environment, Project

HX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """The real hasher costs ~0.2 s per password; tests sign in and seed a dozen accounts."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo(db):
    """The `seed_demo` data, with handy attributes: demo.acme, demo.webshop, demo.production,
    demo.staging, demo.globex, demo.developers (group), demo.deployer / demo.reader (service accounts),
    and demo.user("junior1") → User junior1@acme.test."""
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    acme = Company.objects.get(slug="acme")
    webshop = Project.objects.select_related("company").get(company=acme, slug="webshop")
    envs = {
        e.env_id: e for e in Environment.objects.select_related("project__company").filter(project=webshop)
    }

    def user(name: str) -> User:
        return User.objects.get(email=name if "@" in name else f"{name}@acme.test")

    return SimpleNamespace(
        acme=acme,
        webshop=webshop,
        payments=Project.objects.select_related("company").get(company=acme, slug="payments"),
        production=envs["production"],
        staging=envs["staging"],
        globex=Company.objects.get(slug="globex"),
        research=Project.objects.select_related("company").get(slug="research"),
        developers=Group.objects.get(company=acme, name="Acme Developers"),
        deployer=ServiceAccount.objects.get(company=acme, name="ci-deployer"),
        reader=ServiceAccount.objects.get(company=acme, name="metrics-reader"),
        user=user,
        password=DEMO_PASSWORD,
    )


@pytest.fixture
def login(client):
    """login("owner") signs the test client in as owner@acme.test and returns the client."""

    def sign_in(name: str):
        email = name if "@" in name else f"{name}@acme.test"
        client.force_login(User.objects.get(email=email))
        return client

    return sign_in
