"""What-if before saving (issue 13 §2): `change_preview` runs the save's own service in a transaction it
rolls back, and diffs what the resolver says about every affected identity before and after.

Expectations are written out by hand on the demo data: Acme Developers (Developer on Acme) has Jun One and
Jun Two, who are also Developers on Webshop and Maintainers on its staging environment; Acme has the
projects Payments (production) and Webshop (production, staging)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from iam_portal.access.catalogue import COMPANY_OWNER, DEVELOPER, GUEST, MAINTAINER, REPORTER
from iam_portal.access.models import RoleBinding
from iam_portal.access.preview import change_preview
from iam_portal.access.services import (
    LAST_OWNER_MESSAGE,
    LastOwnerRefused,
    company_role_set,
    project_roles_set,
)
from iam_portal.audit.models import AuditEvent
from iam_portal.audit.services import audit_context
from iam_portal.identities import services as identities
from iam_portal.identities.models import Group, GroupMembership, User
from tests.helpers import bind, snapshot

# The keys a Maintainer adds to a Developer on the company: deploying and running jobs everywhere in it.
COMPANY_DEPLOY = (
    "console.company.project.environment.deploy.trigger",
    "console.company.project.environment.k8s.job.create",
    "console.company.project.environment.k8s.job.delete",
    "console.company.project.environment.k8s.pod.delete",
)
# What a Developer role on the company gives, as the company's own row shows it.
DEVELOPER_ON_COMPANY = (
    "console.company.cluster.view",
    "console.company.project.configuration.update",
    "console.company.project.environment.view",
    "console.company.project.service.repository.create",
    "console.company.project.view",
    "console.company.providers.view",
    "console.company.view",
    "marketplace.company.resources.view",
)


def table(preview) -> list[tuple]:
    """The preview as rows: (who, where, before → after, how many keys gained, lost, loses all access)."""
    return [
        (c.name, c.resource.path, c.roles, len(c.gained), len(c.lost), c.loses_all_access)
        for c in preview.changes
    ]


def dry(**preview):
    """change_preview(**preview), asserting that no row changed and no audit event was written (refusals
    included)."""
    before, events = snapshot(), AuditEvent.objects.count()
    found = change_preview(**preview)
    assert snapshot() == before
    assert AuditEvent.objects.count() == events
    return found


def test_a_group_role_change_reaches_every_member_and_the_group(demo):
    owner = demo.user("owner")
    preview = dry(
        company=demo.acme,
        subjects=[demo.developers],
        run=lambda: identities.group_update(
            actor=owner, group=demo.developers, name=demo.developers.name, role=MAINTAINER
        ),
    )
    everywhere = ["acme", "acme/payments", "acme/payments/production", "acme/webshop"]
    webshop_envs = ["acme/webshop/production", "acme/webshop/staging"]
    expected = [("Acme Developers", path, "Developer → Maintainer", 4, 0, False) for path in everywhere]
    expected += [("Acme Developers", path, "Developer → Maintainer", 4, 0, False) for path in webshop_envs]
    for name in ("Jun One", "Jun Two"):
        expected += [(name, path, "Developer → Maintainer", 4, 0, False) for path in everywhere]
        expected += [
            (name, "acme/webshop/production", "Developer → Maintainer", 4, 0, False),
            (name, "acme/webshop/staging", "Maintainer", 4, 0, False),  # their own role there already
        ]
    assert table(preview) == expected
    assert preview.changes[0].gained == COMPANY_DEPLOY
    assert preview.message == ""


def test_deleting_a_group_takes_all_access_from_a_member_with_nothing_else(demo):
    mo = User.objects.create_user("mo@acme.test", "x-password", full_name="Mo Member")
    GroupMembership.objects.create(group=demo.developers, user=mo)
    owner = demo.user("owner")
    preview = dry(
        company=demo.acme,
        subjects=[demo.developers],
        run=lambda: identities.group_delete(actor=owner, group=demo.developers),
    )
    mo_rows = [row for row in table(preview) if row[0] == "Mo Member"]
    assert mo_rows == [
        ("Mo Member", "acme", "Developer → no role", 0, 8, True),  # "loses all access to Acme"
        ("Mo Member", "acme/payments", "Developer → no role", 0, 4, False),  # said once, on the company
        ("Mo Member", "acme/payments/production", "Developer → no role", 0, 1, False),
        ("Mo Member", "acme/webshop", "Developer → no role", 0, 4, False),
        ("Mo Member", "acme/webshop/production", "Developer → no role", 0, 1, False),
        ("Mo Member", "acme/webshop/staging", "Developer → no role", 0, 1, False),
    ]
    assert preview.changes[[c.name for c in preview.changes].index("Mo Member")].lost == DEVELOPER_ON_COMPANY
    # Jun One keeps Acme through their own Guest role; Payments, which only the group opened, is lost.
    jun = [row for row in table(preview) if row[0] == "Jun One"]
    assert jun[:2] == [
        ("Jun One", "acme", "Developer → Guest", 0, 4, False),
        ("Jun One", "acme/payments", "Developer → Guest", 0, 4, True),  # "loses all access to Payments"
    ]
    # The group object the caller holds is still usable (Model.delete() clears pks, even rolled back).
    assert Group.objects.filter(pk=demo.developers.pk).exists()


def test_a_project_and_environment_change_of_one_user(demo):
    designer = demo.user("designer1")  # Guest on Acme, Reporter on Webshop
    preview = dry(
        company=demo.acme,
        subjects=[designer],
        run=lambda: project_roles_set(
            actor=demo.user("owner"),
            project=demo.webshop,
            subject=designer,
            project_role=DEVELOPER,
            environment_roles={demo.production: MAINTAINER},
        ),
    )
    assert [(c.resource.path, c.roles) for c in preview.changes] == [
        ("acme/webshop", "Reporter → Developer"),
        ("acme/webshop/production", "Reporter → Maintainer"),
        ("acme/webshop/staging", "Reporter → Developer"),
    ]
    assert "console.environment.deploy.trigger" in preview.changes[1].gained


def test_adding_members_previews_the_new_members(demo):
    preview = dry(
        company=demo.acme,
        subjects=[demo.developers],
        run=lambda: identities.group_members_add(
            actor=demo.user("owner"), group=demo.developers, emails=["designer1@acme.test"]
        ),
    )
    assert {c.name for c in preview.changes} == {"Dana Designer"}
    assert preview.changes[0].resource.path == "acme"
    assert preview.changes[0].roles == "Guest → Developer"


def test_a_refused_change_is_the_preview_and_leaves_nothing_on_record(demo):
    owner = demo.user("owner")
    preview = dry(
        company=demo.acme,
        subjects=[owner],
        run=lambda: company_role_set(actor=owner, company=demo.acme, subject=owner, role=REPORTER),
    )
    assert preview.changes == []
    assert preview.message == LAST_OWNER_MESSAGE.format(company=demo.acme)


def test_an_escalation_is_refused_in_the_preview_like_the_save(demo):
    crossing = Group.objects.create(company=demo.acme, name="Crossing")
    bind(crossing, GUEST, demo.acme)
    RoleBinding.objects.create(group=crossing, project=demo.research, role=MAINTAINER)
    preview = dry(
        company=demo.acme,
        subjects=[crossing],
        run=lambda: identities.group_members_add(
            actor=demo.user("owner"), group=crossing, emails=["senior@acme.test"]
        ),
    )
    assert preview.message.startswith("You can only grant or change roles up to your own")


def test_a_forbidden_change_is_refused_in_the_preview(demo, persona):
    developer = persona("company", DEVELOPER)
    preview = dry(
        company=demo.acme,
        subjects=[demo.user("senior")],
        run=lambda: company_role_set(
            actor=developer, company=demo.acme, subject=demo.user("senior"), role=COMPANY_OWNER
        ),
    )
    assert isinstance(preview.refused, PermissionDenied)


def test_a_successful_dry_run_writes_no_event_and_no_binding(demo):
    senior = demo.user("senior")
    preview = dry(
        company=demo.acme,
        subjects=[senior],
        run=lambda: company_role_set(
            actor=demo.user("owner"), company=demo.acme, subject=senior, role=REPORTER
        ),
    )
    assert preview.changes[0].roles == "Guest → Reporter"


def _group_change_queries(demo, members: int) -> int:
    for n in range(members):
        user = User.objects.create_user(f"m{n}@acme.test", "x-password")
        GroupMembership.objects.create(group=demo.developers, user=user)
    owner = demo.user("owner")
    with CaptureQueriesContext(connection) as queries:
        change_preview(
            company=demo.acme,
            subjects=[demo.developers],
            run=lambda: identities.group_update(
                actor=owner, group=demo.developers, name=demo.developers.name, role=REPORTER
            ),
        )
    return len(queries)


def test_a_preview_costs_the_same_queries_for_2_members_and_for_40(demo):
    few = _group_change_queries(demo, 0)
    GroupMembership.objects.filter(group=demo.developers).exclude(
        user__email__in=["junior1@acme.test", "junior2@acme.test"]
    ).delete()
    assert _group_change_queries(demo, 38) == few


def test_a_dry_run_context_records_no_refusal(demo):
    """Outside a preview's transaction too: the audit context's dry_run keeps refusals off the record."""
    owner, events = demo.user("owner"), AuditEvent.objects.count()
    with audit_context(dry_run=True), pytest.raises(LastOwnerRefused):
        company_role_set(actor=owner, company=demo.acme, subject=owner, role=REPORTER)
    assert AuditEvent.objects.count() == events
    with pytest.raises(LastOwnerRefused):
        company_role_set(actor=owner, company=demo.acme, subject=owner, role=REPORTER)
    assert AuditEvent.objects.count() == events + 1  # the same refusal, for real, is on record
