"""Every kind of change writes exactly one event, in the transaction of the change, on every path.

Each CHANGES row is one kind of change, made two ways: through the portal (the view, source "portal",
the signed-in owner as actor) and from the command line (the service with the SYSTEM actor and the
default context, source "command"). Both must write exactly one event with the same action, subject,
resource and before/after. A failure after the change rolls back the change and its event together.
Refusals are recorded after the rollback, with their message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from iam_portal.access import services as access_services
from iam_portal.access.catalogue import COMPANY_OWNER, DEVELOPER, GUEST, MAINTAINER, PROJECT_ADMIN, REPORTER
from iam_portal.access.models import RoleBinding
from iam_portal.access.resolver import SYSTEM
from iam_portal.access.services import (
    ActionRefused,
    OwnerGuard,
    company_direct_access_remove,
    company_role_set,
    project_roles_set,
)
from iam_portal.audit.models import Action, AuditEvent, Outcome, Source
from iam_portal.audit.services import audit_context
from iam_portal.identities import services as identities
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from tests.helpers import HX, bind, changes_nothing, events_since, snapshot, the_event

ENV = "env_"


@dataclass
class Change:
    """One kind of change: the portal request, the same change as a service call, the event expected."""

    url: str
    data: dict
    call: object  # call(actor) makes the change through the service
    action: str
    subject: str  # subject_kind:subject_name
    resource: str  # resource_path
    before: dict | None = None
    after: dict | None = None
    fails_after: str = "event"  # where the rollback test breaks in: right after the "event", or "change"
    extra: dict = field(default_factory=dict)


def member_only(demo) -> User:
    """Mia Member: in Acme Developers, no role of her own."""
    user = User.objects.create_user("member@acme.test", "x", full_name="Mia Member")
    GroupMembership.objects.create(group=demo.developers, user=user)
    return user


def project_roles(demo, project_role, production="", staging=MAINTAINER) -> dict:
    """The project edit form's data for Jun One: his project role and both environments."""
    return {
        "project_role": project_role,
        f"{ENV}{demo.production.pk}": production,
        f"{ENV}{demo.staging.pk}": staging,
    }


def project_call(demo, subject, project_role, production=None, staging=MAINTAINER):
    return lambda actor: project_roles_set(
        actor=actor,
        project=demo.webshop,
        subject=subject,
        project_role=project_role,
        environment_roles={demo.production: production, demo.staging: staging},
    )


def junior_change(demo, resource, before, after, project_role, production=None, staging=MAINTAINER) -> Change:
    """Jun One's roles on Webshop saved through his project Edit dialog (or the same service call): the
    event names `resource`, with the role there `before` and `after` (None: no role)."""
    junior = demo.user("junior1")
    action = (
        Action.ROLE_GRANTED
        if before is None
        else Action.ROLE_REMOVED
        if after is None
        else Action.ROLE_CHANGED
    )
    return Change(
        f"/companies/acme/projects/webshop/iam/user/{junior.pk}/edit/",
        project_roles(demo, project_role or "", production or "", staging or ""),
        project_call(demo, junior, project_role, production=production, staging=staging),
        action,
        "user:Jun One",
        resource,
        before and {"role": before},
        after and {"role": after},
    )


def changes(demo) -> dict[str, Change]:
    acme, junior = "/companies/acme", demo.user("junior1")
    webshop = f"{acme}/projects/webshop/iam"
    dev = demo.developers
    owner_roles = [{"role": GUEST, "on": "acme"}, {"role": DEVELOPER, "on": "acme/webshop"}]
    owner_roles.append({"role": MAINTAINER, "on": "acme/webshop/staging"})
    return {
        "company role granted": lambda: (
            (mia := member_only(demo)),
            Change(
                f"{acme}/iam/user/{mia.pk}/edit/",
                {"role": REPORTER},
                lambda actor: company_role_set(actor=actor, company=demo.acme, subject=mia, role=REPORTER),
                Action.ROLE_GRANTED,
                "user:Mia Member",
                "acme",
                None,
                {"role": REPORTER},
            ),
        )[1],
        "company role changed": lambda: Change(
            f"{acme}/iam/user/{junior.pk}/edit/",
            {"role": DEVELOPER},
            lambda actor: company_role_set(actor=actor, company=demo.acme, subject=junior, role=DEVELOPER),
            Action.ROLE_CHANGED,
            "user:Jun One",
            "acme",
            {"role": GUEST},
            {"role": DEVELOPER},
        ),
        "group company role changed": lambda: Change(
            f"{acme}/groups/{dev.pk}/edit/",
            {"name": "Acme Developers", "role": MAINTAINER},
            lambda actor: identities.group_update(
                actor=actor, group=dev, name="Acme Developers", role=MAINTAINER
            ),
            Action.ROLE_CHANGED,
            "group:Acme Developers",
            "acme",
            {"role": DEVELOPER},
            {"role": MAINTAINER},
        ),
        "project role granted": lambda: Change(
            f"{webshop}/group/{dev.pk}/edit/",
            {"project_role": REPORTER, f"{ENV}{demo.production.pk}": "", f"{ENV}{demo.staging.pk}": ""},
            project_call(demo, dev, REPORTER, staging=None),
            Action.ROLE_GRANTED,
            "group:Acme Developers",
            "acme/webshop",
            None,
            {"role": REPORTER},
        ),
        "project role changed": lambda: junior_change(
            demo, "acme/webshop", DEVELOPER, MAINTAINER, MAINTAINER
        ),
        "project role removed": lambda: junior_change(demo, "acme/webshop", DEVELOPER, None, None),
        "environment role granted": lambda: junior_change(
            demo, "acme/webshop/production", None, REPORTER, DEVELOPER, production=REPORTER
        ),
        "environment role changed": lambda: junior_change(
            demo, "acme/webshop/staging", MAINTAINER, REPORTER, DEVELOPER, staging=REPORTER
        ),
        "environment role removed": lambda: junior_change(
            demo, "acme/webshop/staging", MAINTAINER, None, DEVELOPER, staging=None
        ),
        "user added": lambda: (
            (newbie := User.objects.create_user("newbie@example.test", "x", full_name="New Bie")),
            Change(
                f"{acme}/users/add/",
                {"email": "newbie@example.test", "role": REPORTER},
                lambda actor: identities.company_user_add(
                    actor=actor, company=demo.acme, email=newbie.email, role=REPORTER
                ),
                Action.USER_ADDED,
                "user:New Bie",
                "acme",
                None,
                {"role": REPORTER},
            ),
        )[1],
        "user removed": lambda: Change(
            f"{acme}/users/{junior.pk}/remove/",
            {},
            lambda actor: identities.company_user_remove(actor=actor, company=demo.acme, user=junior),
            Action.USER_REMOVED,
            "user:Jun One",
            "acme",
            {"roles": owner_roles, "groups": ["Acme Developers"]},
            None,
        ),
        "direct access removed": lambda: Change(
            f"{acme}/iam/user/{junior.pk}/remove/",
            {},
            lambda actor: company_direct_access_remove(actor=actor, company=demo.acme, user=junior),
            Action.DIRECT_ACCESS_REMOVED,
            "user:Jun One",
            "acme",
            {"roles": owner_roles},
            None,
        ),
        "group created": lambda: Change(
            f"{acme}/groups/create/",
            {"name": "Ops", "role": REPORTER, "members": "senior@acme.test"},
            lambda actor: identities.group_create(
                actor=actor, company=demo.acme, name="Ops", role=REPORTER, member_emails=["senior@acme.test"]
            ),
            Action.GROUP_CREATED,
            "group:Ops",
            "acme",
            None,
            {"name": "Ops", "role": REPORTER, "members": ["senior@acme.test"]},
        ),
        "group renamed": lambda: Change(
            f"{acme}/groups/{dev.pk}/edit/",
            {"name": "Developers", "role": DEVELOPER},
            lambda actor: identities.group_update(actor=actor, group=dev, name="Developers", role=DEVELOPER),
            Action.GROUP_RENAMED,
            "group:Developers",
            "acme",
            {"name": "Acme Developers"},
            {"name": "Developers"},
        ),
        "group deleted": lambda: Change(
            f"{acme}/groups/{dev.pk}/delete/",
            {},
            lambda actor: identities.group_delete(actor=actor, group=dev),
            Action.GROUP_DELETED,
            "group:Acme Developers",
            "acme",
            {
                "name": "Acme Developers",
                "roles": [{"role": DEVELOPER, "on": "acme"}],
                "members": ["junior1@acme.test", "junior2@acme.test"],
            },
            None,
            fails_after="change",
        ),
        "member added": lambda: Change(
            f"{acme}/groups/{dev.pk}/members/add/",
            {"emails": "senior@acme.test"},
            lambda actor: identities.group_members_add(actor=actor, group=dev, emails=["senior@acme.test"]),
            Action.MEMBER_ADDED,
            "user:Sara Senior",
            "acme",
            None,
            {"group": "Acme Developers"},
        ),
        "member removed": lambda: Change(
            f"{acme}/groups/{dev.pk}/members/{junior.pk}/remove/",
            {},
            lambda actor: identities.group_member_remove(actor=actor, group=dev, user=junior),
            Action.MEMBER_REMOVED,
            "user:Jun One",
            "acme",
            {"group": "Acme Developers"},
            None,
        ),
        "service account created": lambda: Change(
            f"{acme}/service-accounts/add/",
            {"name": "bot", "role": REPORTER, "auth_method": "client_secret_basic"},
            lambda actor: identities.service_account_create(
                actor=actor, company=demo.acme, name="bot", role=REPORTER, auth_method="client_secret_basic"
            ),
            Action.SERVICE_ACCOUNT_CREATED,
            "service-account:bot",
            "acme",
            None,
            {"name": "bot", "auth_method": "client_secret_basic", "role": REPORTER},
        ),
        "service account deleted": lambda: Change(
            f"{acme}/service-accounts/{demo.reader.pk}/delete/",
            {},
            lambda actor: identities.service_account_delete(actor=actor, account=demo.reader),
            Action.SERVICE_ACCOUNT_DELETED,
            "service-account:metrics-reader",
            "acme",
            {
                "name": "metrics-reader",
                "client_id": "demo-metrics-reader",
                "roles": [{"role": REPORTER, "on": "acme"}],
            },
            None,
            fails_after="change",
        ),
    }


KINDS = [
    "company role granted",
    "company role changed",
    "group company role changed",
    "project role granted",
    "project role changed",
    "project role removed",
    "environment role granted",
    "environment role changed",
    "environment role removed",
    "user added",
    "user removed",
    "direct access removed",
    "group created",
    "group renamed",
    "group deleted",
    "member added",
    "member removed",
    "service account created",
    "service account deleted",
]


@pytest.fixture
def change(request, demo):
    return changes(demo)[request.param]()


def assert_recorded(event: AuditEvent, change: Change) -> None:
    after = event.after
    if change.action == Action.SERVICE_ACCOUNT_CREATED:
        after = {k: v for k, v in after.items() if k != "client_id"}  # generated
    assert (
        event.action,
        f"{event.subject_kind}:{event.subject_name}",
        event.resource_path,
        event.company_name,
        event.outcome,
        event.before,
        after,
    ) == (
        change.action,
        change.subject,
        change.resource,
        "Acme",
        Outcome.SUCCESS,
        change.before,
        change.after,
    )


def test_every_kind_of_change_is_listed(demo):
    assert sorted(KINDS) == sorted(changes(demo))


@pytest.mark.parametrize("change", KINDS, indirect=True)
def test_portal_change_writes_one_event(change, demo, login):
    owner = demo.user("owner")
    response = login(owner).post(change.url, change.data, headers={**HX, "User-Agent": "pytest-browser/1"})
    # 204, or 200 with the new client secret shown once
    assert response.status_code in (200, 204), response.content.decode()[:500]
    event = the_event(actor_kind="user", actor_id=owner.pk, actor_name="Olivia Owner", source=Source.PORTAL)
    assert_recorded(event, change)
    assert event.request_id == response["X-Request-ID"]
    assert (event.client_ip, event.user_agent) == ("127.0.0.1", "pytest-browser/1")


@pytest.mark.parametrize("change", KINDS, indirect=True)
def test_command_change_writes_one_event(change):
    change.call(SYSTEM)
    event = the_event(actor_kind="command", actor_id=None, actor_name="Command line", source=Source.COMMAND)
    assert_recorded(event, change)
    assert (event.request_id, event.client_ip, event.user_agent) == ("", "", "")


@pytest.mark.parametrize("change", KINDS, indirect=True)
def test_a_failure_after_the_change_rolls_back_change_and_event(change, monkeypatch):
    """Break in right after the event is written (or, where the event comes first, right after the change):
    the change and its event go together, and no refusal is recorded for a crash."""
    if change.fails_after == "event":
        real = access_services.event_record

        def record_then_fail(**kwargs):
            real(**kwargs)
            raise RuntimeError("the disk is full")

        monkeypatch.setattr(access_services, "event_record", record_then_fail)
        monkeypatch.setattr(identities, "event_record", record_then_fail)
    elif change.action == Action.GROUP_DELETED:
        real_exit = OwnerGuard.__exit__

        def exit_then_fail(self, *exc):
            real_exit(self, *exc)
            raise RuntimeError("the disk is full")

        monkeypatch.setattr(OwnerGuard, "__exit__", exit_then_fail)
    else:
        real_delete = ServiceAccount.delete

        def delete_then_fail(self, *args, **kwargs):
            real_delete(self, *args, **kwargs)
            raise RuntimeError("the disk is full")

        monkeypatch.setattr(ServiceAccount, "delete", delete_then_fail)
    events = AuditEvent.objects.count()
    with changes_nothing(RuntimeError, "the disk is full"):
        change.call(SYSTEM)
    assert AuditEvent.objects.count() == events


def test_adding_a_user_from_a_project_writes_each_change_in_one_transaction(demo, login):
    """One request, several changes: the company access and each role, all recorded together."""
    User.objects.create_user("newbie@example.test", "x", full_name="New Bie")
    response = login("owner").post(
        "/companies/acme/projects/webshop/iam/users/add/",
        {
            "email": "newbie@example.test",
            "company_role": GUEST,
            "project_role": DEVELOPER,
            f"{ENV}{demo.production.pk}": REPORTER,
            f"{ENV}{demo.staging.pk}": "",
        },
        headers=HX,
    )
    assert response.status_code == 204
    recorded = [(e.action, e.resource_path, e.after) for e in events_since()]
    assert recorded == [
        (Action.USER_ADDED, "acme", {"role": GUEST}),
        (Action.ROLE_GRANTED, "acme/webshop", {"role": DEVELOPER}),
        (Action.ROLE_GRANTED, "acme/webshop/production", {"role": REPORTER}),
    ]
    assert len({e.request_id for e in events_since()}) == 1


def test_nothing_changed_writes_nothing(demo):
    junior = demo.user("junior1")
    company_role_set(actor=SYSTEM, company=demo.acme, subject=junior, role=GUEST)  # already Guest
    project_call(demo, junior, DEVELOPER)(SYSTEM)  # the same roles again
    assert events_since() == []


def test_the_event_costs_one_insert_and_no_savepoint(demo):
    """Writing the event adds three statements to a change: the chain's lock (PostgreSQL), the chain's
    last event, and one INSERT; no savepoint of its own."""
    junior = demo.user("junior1")
    with CaptureQueriesContext(connection) as queries:
        company_role_set(actor=SYSTEM, company=demo.acme, subject=junior, role=DEVELOPER)
    sql = [q["sql"] for q in queries.captured_queries]
    audit = [s for s in sql if "audit_auditevent" in s or "pg_advisory_xact_lock" in s]
    inserts = [s for s in audit if s.startswith("INSERT")]
    assert len(inserts) == 1
    expected = 3 if connection.vendor == "postgresql" else 2
    assert len(audit) == expected, audit
    assert sum("SAVEPOINT" in s for s in sql) == 2  # the operation's own savepoint and its release only


def test_within_a_chain_time_never_goes_back(demo, monkeypatch):
    """Even when the clock steps back, an event is never dated before the one it follows: the pages turn
    date ranges into id ranges on that promise."""
    from django.utils import timezone

    company_role_set(actor=SYSTEM, company=demo.acme, subject=demo.user("junior1"), role=DEVELOPER)
    first = AuditEvent.objects.get()
    monkeypatch.setattr(timezone, "now", lambda: first.occurred_at.replace(year=2000))
    company_role_set(actor=SYSTEM, company=demo.acme, subject=demo.user("junior1"), role=REPORTER)
    second = AuditEvent.objects.latest("id")
    assert second.occurred_at == first.occurred_at and second.seq == first.seq + 1


def test_context_names_the_source_and_request(demo):
    """What the machine API will do: a service account acting, inside the API's context."""
    RoleBinding.objects.filter(service_account=demo.deployer).update(role=COMPANY_OWNER)
    with audit_context(source=Source.API, request_id="req-1", client_ip="10.0.0.9", user_agent="ua"):
        company_role_set(actor=demo.deployer, company=demo.acme, subject=demo.user("junior1"), role=REPORTER)
    the_event(
        source=Source.API,
        request_id="req-1",
        client_ip="10.0.0.9",
        user_agent="ua",
        actor_kind="service-account",
        actor_name="ci-deployer",
    )


def test_snapshots_outlive_what_they_name(demo):
    """Events keep names and paths, not foreign keys: deleting the user, group or company leaves them."""
    identities.group_delete(actor=SYSTEM, group=demo.developers)
    event = the_event(subject_name="Acme Developers")
    demo.acme.delete()
    event.refresh_from_db()
    assert (event.company_name, event.resource_path, event.subject_name) == (
        "Acme",
        "acme",
        "Acme Developers",
    )


def test_text_the_database_would_refuse_is_cleaned(demo):
    """NUL characters (PostgreSQL refuses them in text and jsonb) and overlong values never fail a change."""
    with audit_context(user_agent="agent\x00" + "x" * 400, request_id="r" * 100):
        company_role_set(actor=SYSTEM, company=demo.acme, subject=demo.user("junior1"), role=REPORTER)
    event = the_event()
    assert "\x00" not in event.user_agent and len(event.user_agent) == 300
    assert len(event.request_id) == 64


# -- refusals -------------------------------------------------------------------------------------


def test_escalation_refused_in_the_portal_is_recorded(demo, login):
    """Adding a member to a group that holds a role where the owner holds none grants that role: refused,
    nothing added, and the attempt is on record with its message and what was asked."""
    crossing = Group.objects.create(company=demo.acme, name="Crossing")
    bind(crossing, GUEST, demo.acme)
    RoleBinding.objects.create(group=crossing, project=demo.research, role=MAINTAINER)
    before = snapshot()
    response = login("owner").post(
        f"/companies/acme/groups/{crossing.pk}/members/add/", {"emails": "senior@acme.test"}, headers=HX
    )
    assert response.status_code == 200 and "above it" in response.content.decode()
    assert snapshot() == before
    event = the_event(
        action=Action.MEMBER_ADDED,
        outcome=Outcome.REFUSED,
        source=Source.PORTAL,
        actor_name="Olivia Owner",
        subject_kind="group",
        subject_name="Crossing",
        company_name="Acme",
        after={"emails": ["senior@acme.test"]},
    )
    assert "You can only grant or change roles up to your own" in event.message


def test_last_owner_refused_is_recorded(demo, login):
    owner = demo.user("owner")
    response = login(owner).post(
        f"/companies/acme/iam/user/{owner.pk}/edit/", {"role": MAINTAINER}, headers=HX
    )
    assert response.status_code == 200
    event = the_event(
        action=Action.ROLE_CHANGED,
        outcome=Outcome.REFUSED,
        subject_name="Olivia Owner",
        resource_path="acme",
        after={"role": MAINTAINER},
    )
    assert event.message.startswith("Acme must keep at least one Company Owner.")
    assert RoleBinding.objects.get(user=owner, company=demo.acme).role == COMPANY_OWNER


def test_not_allowed_is_recorded(demo, persona):
    """A caller that may not manage the company's identities (here through the service, as the machine API
    or a script would call it) is refused and recorded."""
    reporter = persona("company", REPORTER)
    with changes_nothing(PermissionDenied):
        company_role_set(actor=reporter, company=demo.acme, subject=demo.user("junior1"), role=DEVELOPER)
    the_event(
        action=Action.ROLE_CHANGED,
        outcome=Outcome.REFUSED,
        actor_id=reporter.pk,
        message="You may not manage the identities of this company.",
        company_id=demo.acme.pk,
    )


def test_refusals_name_the_company_for_memberships_and_the_asked_environment_roles(demo, persona):
    """A refused member removal lands on the group's company (the member is the subject, the group is named);
    a refused project edit records the environment roles asked."""
    maintainer = persona("company", MAINTAINER)
    with pytest.raises(PermissionDenied):
        identities.group_member_remove(actor=maintainer, group=demo.developers, user=demo.user("junior1"))
    the_event(
        company_id=demo.acme.pk,
        subject_name="Jun One",
        after={"group": "Acme Developers"},
        outcome=Outcome.REFUSED,
    )
    mark = AuditEvent.objects.latest("id").id
    with pytest.raises(PermissionDenied):
        project_roles_set(
            actor=demo.user("pm"),
            project=demo.payments,
            subject=demo.user("junior1"),
            project_role=REPORTER,
            environment_roles={},
        )
    the_event(
        mark, resource_path="acme/payments", project_id=demo.payments.pk, after={"project_role": REPORTER}
    )
    with pytest.raises(ActionRefused):
        project_call(demo, demo.user("junior1"), PROJECT_ADMIN, production=MAINTAINER, staging=DEVELOPER)(
            SYSTEM
        )
    event = AuditEvent.objects.latest("id")
    assert event.after == {
        "project_role": PROJECT_ADMIN,
        "environment_roles": {"production": MAINTAINER, "staging": DEVELOPER},
    }


def test_refusal_is_recorded_once_for_nested_services(demo):
    """Adding a user from a project runs two services; a refusal in the second one is recorded once, under
    the outer action, and the first service's change is rolled back."""
    User.objects.create_user("newbie@example.test", "x", full_name="New Bie")
    with changes_nothing(PermissionDenied):
        identities.project_user_add(
            actor=demo.user("pm"),
            project=demo.webshop,
            email="newbie@example.test",
            company_role=GUEST,
            project_role=None,
            environment_roles={},
        )
    the_event(
        action=Action.USER_ADDED,
        outcome=Outcome.REFUSED,
        after={"email": "newbie@example.test", "company_role": GUEST},
    )
