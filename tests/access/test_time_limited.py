"""Time-limited grants (issue 13): a role holds until a moment, then the role it was raised from holds again
(or none). The resolver reads them at request time, so correctness never waits for a scheduler."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from iam_portal.access.catalogue import COMPANY_OWNER, DEVELOPER, MAINTAINER
from iam_portal.access.models import RoleBinding
from iam_portal.access.resolver import AccessResolver
from iam_portal.access.selectors import company_owners

FRIDAY = datetime.datetime(2026, 12, 4, 17, 0, tzinfo=datetime.UTC)
BEFORE, AT, AFTER = FRIDAY - datetime.timedelta(hours=1), FRIDAY, FRIDAY + datetime.timedelta(minutes=1)
DEPLOY = "console.project.environment.deploy.trigger"


@pytest.fixture
def raised_group(demo):
    """The seeds' scenario: "Acme Developers" (Developer on Acme) raised to Maintainer on Webshop until Friday."""
    return RoleBinding.objects.create(
        group=demo.developers, project=demo.webshop, role=MAINTAINER, until=FRIDAY, role_after=DEVELOPER
    )


@pytest.mark.parametrize(("moment", "role"), [(BEFORE, MAINTAINER), (AT, DEVELOPER), (AFTER, DEVELOPER)])
def test_a_raised_group_is_back_to_its_role_when_the_grant_ends(demo, raised_group, moment, role):
    junior = demo.user("junior1")
    with time_machine.travel(moment, tick=False):
        access = AccessResolver(junior)
        project_grants = [g for g in access.grants(demo.webshop) if g.level == "project" and g.group_name]
        assert [(g.role, g.group_name) for g in project_grants] == [(role, "Acme Developers")]
        assert ("via group" in " ".join(access.permissions(demo.webshop).get(DEPLOY, []))) == (
            role == MAINTAINER
        )


def test_the_explanation_says_until_when(demo, raised_group):
    with time_machine.travel(BEFORE, tick=False):
        paths = AccessResolver(demo.user("junior1")).permissions(demo.webshop)[DEPLOY]
    assert paths == [
        'Maintainer on project acme/webshop (via group "Acme Developers", until 2026-12-04 17:00 UTC)'
    ]


def test_a_grant_with_nothing_before_it_leaves_nothing(demo):
    senior = demo.user("senior")
    RoleBinding.objects.create(user=senior, environment=demo.production, role=MAINTAINER, until=FRIDAY)
    with time_machine.travel(BEFORE, tick=False):
        assert AccessResolver(senior).can("environment.deploy", demo.production)
        assert demo.production in AccessResolver(senior).visible_environments(demo.webshop)
    with time_machine.travel(AFTER, tick=False):
        assert not [g for g in AccessResolver(senior).grants(demo.production) if g.level == "environment"]


def test_ownership_that_ends_does_not_count_for_the_last_owner_rule(demo):
    senior = demo.user("senior")
    RoleBinding.objects.filter(user=senior, company=demo.acme).update(
        role=COMPANY_OWNER, until=timezone.now() + datetime.timedelta(days=3), role_after=MAINTAINER
    )
    assert AccessResolver(senior).role_on(demo.acme) == COMPANY_OWNER
    assert senior not in company_owners(demo.acme)
    assert demo.user("owner") in company_owners(demo.acme)
