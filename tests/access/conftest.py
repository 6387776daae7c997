"""Fixtures of the access tests."""

import datetime
from types import SimpleNamespace

import pytest
from django.utils import timezone

from iam_portal.access.catalogue import COMPANY_OWNER, DEVELOPER, GUEST, MAINTAINER, PROJECT_ADMIN, REPORTER
from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User, hash_secret
from iam_portal.orgs.models import Company, Environment, Project
from tests.helpers import bind


@pytest.fixture
def initech(db):
    """A small company whose every path is written out in the access page tests:

    Initech: projects Alpha (environments Production, Dev) and Beta (Production).
    - Bill Boss (boss@initech.test): Company Owner.
    - Uma User (uma@initech.test): Guest on Initech and Maintainer on Alpha's Production of her own; member
      of Devs (Developer on Initech), Ops (Maintainer on Alpha's Production) and Leads (Project
      Administrator on Beta for three more days, Maintainer after).
    - service account "bot": Reporter on Initech, Maintainer on Beta (a client secret).
    """
    company = Company.objects.create(slug="initech", name="Initech")
    alpha = Project.objects.create(company=company, slug="alpha", name="Alpha")
    beta = Project.objects.create(company=company, slug="beta", name="Beta")
    alpha_production = Environment.objects.create(
        project=alpha, env_id="production", name="Production", is_production=True, position=0
    )
    alpha_dev = Environment.objects.create(project=alpha, env_id="dev", name="Dev", position=1)
    beta_production = Environment.objects.create(
        project=beta, env_id="production", name="Production", is_production=True
    )
    boss = User.objects.create_user("boss@initech.test", "x-password", full_name="Bill Boss")
    bind(boss, COMPANY_OWNER, company)
    uma = User.objects.create_user("uma@initech.test", "x-password", full_name="Uma User")
    bind(uma, GUEST, company)
    bind(uma, MAINTAINER, alpha_production)
    devs = Group.objects.create(company=company, name="Devs")
    bind(devs, DEVELOPER, company)
    ops = Group.objects.create(company=company, name="Ops")
    bind(ops, MAINTAINER, alpha_production)
    leads = Group.objects.create(company=company, name="Leads")
    until = timezone.now() + datetime.timedelta(days=3, hours=1)
    RoleBinding.objects.create(
        group=leads, project=beta, role=PROJECT_ADMIN, until=until, role_after=MAINTAINER
    )
    for group in (devs, ops, leads):
        GroupMembership.objects.create(group=group, user=uma)
    bot = ServiceAccount.objects.create(company=company, name="bot", secret_hash=hash_secret("x-secret"))
    bind(bot, REPORTER, company)
    bind(bot, MAINTAINER, beta)
    return SimpleNamespace(
        company=company,
        alpha=alpha,
        beta=beta,
        alpha_production=alpha_production,
        alpha_dev=alpha_dev,
        beta_production=beta_production,
        boss=boss,
        uma=uma,
        devs=devs,
        ops=ops,
        leads=leads,
        until=until,
        bot=bot,
    )
