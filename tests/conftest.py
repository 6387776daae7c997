"""Fixtures shared by every test folder: the demo data, personas, signing in. Plain helpers live in
tests/helpers.py."""

import itertools
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.test import Client

from iam_portal.access.catalogue import COMPANY_OWNER
from iam_portal.identities.models import Group, ServiceAccount, User
from iam_portal.orgs.demo import DEMO_PASSWORD
from iam_portal.orgs.models import Company, Environment, Project
from tests.helpers import Persona, bind


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """The real hasher costs ~0.2 s per password; tests sign in and seed a dozen accounts."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    """Each test starts with an empty cache of its own. In production the cache is a database table shared
    by every worker (allauth's rate limits live there); the test database's flush does not empty that
    table, so counters of earlier tests would otherwise pile up into 429s."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()


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
def persona(demo):
    """The one persona factory: persona(kind, role, via_group=False, keys=()) or persona(Persona(...)) → a
    fresh User made for this test (or an existing demo account, or None for "anonymous"); see Persona in
    tests/helpers.py for the kinds. email=, full_name= and password= set the new account's own."""
    numbers = itertools.count(1)

    def make(who: Persona | str, role: str | None = None, *, via_group=False, keys=(), **account):
        if not isinstance(who, Persona):
            who = Persona(who, role, via_group, tuple(keys))
        return who.create(demo, next(numbers), **account)

    return make


@pytest.fixture
def login(client):
    """Signs the test client in and returns it: login("owner") as owner@acme.test (a demo name or an
    email), login(user) as any User (e.g. one from persona()); login(None) signs nobody in."""

    def sign_in(who: str | User | None):
        if isinstance(who, str):
            who = User.objects.get(email=who if "@" in who else f"{who}@acme.test")
        if who is not None:
            client.force_login(who)
        return client

    return sign_in


@pytest.fixture
def newcomer(persona):
    """Nina Newcomer, newcomer@example.test: a Console account with no access to any company yet."""
    return persona("no-access", email="newcomer@example.test", full_name="Nina Newcomer")


@pytest.fixture
def csrf_client(db):
    """A client that enforces CSRF like a browser would (the default test client skips the check)."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def owner_only_through_group(demo):
    """owner@acme.test is Company Owner only through the new group "Owners"; nobody else owns Acme."""
    owner = demo.user("owner")
    owner.role_bindings.filter(company=demo.acme).delete()
    group = Group.objects.create(company=demo.acme, name="Owners")
    bind(group, COMPANY_OWNER, demo.acme)
    group.memberships.create(user=owner)
    return group
