"""Rules enforced by the services for every caller: authorization, the escalation guard and the last
Company Owner rule (including two concurrent demotions on PostgreSQL)."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction

from iam_portal.access.catalogue import COMPANY_OWNER, DEVELOPER, GUEST, MAINTAINER, PROJECT_ADMIN, REPORTER
from iam_portal.access.models import RoleBinding
from iam_portal.access.resolver import AccessResolver
from iam_portal.access.selectors import company_owners
from iam_portal.access.services import (
    ActionRefused,
    EscalationRefused,
    LastOwnerRefused,
    check_grantable,
    check_roles_grantable,
    company_direct_access_remove,
    company_role_set,
    project_roles_set,
)
from iam_portal.identities import services as identities
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from iam_portal.orgs.models import Company
from tests.helpers import (
    PROJECT_ROLES,
    Persona,
    assert_access_matrix,
    bind,
    changes_nothing,
    company_roles,
)

# -- authorization --------------------------------------------------------------------------------


def test_project_admin_may_grant_project_admin_on_their_project(demo):
    pm, junior = demo.user("pm"), demo.user("junior1")
    roles = {demo.production: MAINTAINER}
    project_roles_set(
        actor=pm, project=demo.webshop, subject=junior, project_role=PROJECT_ADMIN, environment_roles=roles
    )
    assert RoleBinding.objects.get(user=junior, project=demo.webshop).role == PROJECT_ADMIN
    assert RoleBinding.objects.get(user=junior, environment=demo.production).role == MAINTAINER


def test_project_admin_may_not_set_company_roles(demo):
    with changes_nothing(PermissionDenied):
        company_role_set(actor=demo.user("pm"), company=demo.acme, subject=demo.user("junior1"), role=GUEST)
    with changes_nothing(PermissionDenied):
        company_role_set(
            actor=demo.user("pm"), company=demo.acme, subject=demo.user("pm"), role=COMPANY_OWNER
        )


def test_project_admin_may_not_touch_another_project(demo):
    pm, junior = demo.user("pm"), demo.user("junior1")
    with changes_nothing(PermissionDenied):
        project_roles_set(
            actor=pm, project=demo.payments, subject=junior, project_role=DEVELOPER, environment_roles={}
        )


@pytest.mark.parametrize(
    "call",
    [
        lambda d, actor: identities.company_user_add(
            actor=actor, company=d.acme, email="owner@globex.test", role=GUEST
        ),
        lambda d, actor: identities.company_user_remove(actor=actor, company=d.acme, user=d.user("senior")),
        lambda d, actor: company_direct_access_remove(actor=actor, company=d.acme, user=d.user("senior")),
        lambda d, actor: identities.group_members_add(
            actor=actor, group=d.developers, emails=["senior@acme.test"]
        ),
        lambda d, actor: identities.group_delete(actor=actor, group=d.developers),
        lambda d, actor: identities.service_account_delete(actor=actor, account=d.deployer),
    ],
    ids=["user_add", "user_remove", "remove_direct_access", "group_add_members", "group_delete", "sa_delete"],
)
def test_only_company_managers_call_identity_services(demo, persona, call):
    matrix = {Persona("company", role): "denied" for role in PROJECT_ROLES}
    assert_access_matrix(persona, matrix, call=lambda actor: call(demo, actor))


def test_owner_of_another_company_is_refused(demo):
    with changes_nothing(PermissionDenied):
        company_role_set(
            actor=User.objects.get(email="owner@globex.test"),
            company=demo.acme,
            subject=demo.user("senior"),
            role=COMPANY_OWNER,
        )


def test_subject_of_another_company_is_refused(demo):
    foreign = ServiceAccount.objects.create(company=demo.globex, name="globex-bot")
    with changes_nothing(ActionRefused, match="belongs to another company"):
        company_role_set(actor=demo.user("owner"), company=demo.acme, subject=foreign, role=GUEST)


def test_role_not_valid_for_the_level_is_refused(demo):
    owner, senior = demo.user("owner"), demo.user("senior")
    refusals = [
        (COMPANY_OWNER, {}, "project"),
        # All or nothing: the valid project role is not kept either.
        (DEVELOPER, {demo.staging: DEVELOPER}, "environment"),
    ]
    for project_role, environment_roles, level in refusals:
        with changes_nothing(ActionRefused, match=f"cannot be bound on an? {level}"):
            project_roles_set(
                actor=owner,
                project=demo.webshop,
                subject=senior,
                project_role=project_role,
                environment_roles=environment_roles,
            )


# -- escalation guard -----------------------------------------------------------------------------


RANKED = [GUEST, REPORTER, DEVELOPER, MAINTAINER, PROJECT_ADMIN, COMPANY_OWNER]


@pytest.mark.parametrize("own", RANKED)
@pytest.mark.parametrize("target", RANKED)
def test_check_grantable_allows_up_to_the_actors_own_company_role(demo, persona, own, target):
    access_of = AccessResolver(persona("company", own))
    if RANKED.index(target) > RANKED.index(own):
        with pytest.raises(EscalationRefused, match="above it"):
            check_grantable(access_of, demo.acme, target)
    else:
        check_grantable(access_of, demo.acme, target)


def test_check_grantable_refuses_changing_a_role_above_the_actors_own(demo, persona):
    maintainer = AccessResolver(persona("company", MAINTAINER))
    # Demoting someone who holds a higher role is changing that role: refused.
    with pytest.raises(EscalationRefused):
        check_grantable(maintainer, demo.acme, GUEST, COMPANY_OWNER)
    check_grantable(maintainer, demo.acme, GUEST, DEVELOPER)


def test_check_grantable_uses_the_effective_role_on_the_resource(demo):
    pm = AccessResolver(demo.user("pm"))  # Guest on Acme, Project Administrator on Webshop
    check_grantable(pm, demo.webshop, PROJECT_ADMIN)
    check_grantable(pm, demo.production, MAINTAINER)  # inherited from the project
    with pytest.raises(EscalationRefused):
        check_grantable(pm, demo.acme, REPORTER)
    with pytest.raises(EscalationRefused):
        check_grantable(pm, demo.payments, REPORTER)  # nothing on Payments


def test_check_grantable_counts_group_roles(demo):
    junior = AccessResolver(demo.user("junior1"))  # Developer on Acme through Acme Developers
    check_grantable(junior, demo.acme, DEVELOPER)
    with pytest.raises(EscalationRefused):
        check_grantable(junior, demo.acme, MAINTAINER)


def test_super_user_passes_the_guard(demo):
    check_grantable(AccessResolver(demo.user("admin@acme.test")), demo.acme, COMPANY_OWNER)


@pytest.fixture
def root_binder(persona):
    """A staff member with the root key console.root.user.bind and no role anywhere."""
    return persona("staff", keys=["console.root.user.bind"])


def test_root_binder_may_manage_company_identities(demo, root_binder):
    assert AccessResolver(root_binder).can("company.identities.manage", demo.acme)
    company_role_set(actor=root_binder, company=demo.acme, subject=demo.user("senior"), role=REPORTER)
    assert company_roles(demo.acme)["user:senior@acme.test"] == REPORTER


def test_root_binder_grants_any_role_like_in_the_admin(demo, root_binder):
    """console.root.user.bind is the Console-level right to manage every binding (the admin allows it too),
    so the escalation guard does not cap its holders at the role they hold in the company (none)."""
    company_role_set(actor=root_binder, company=demo.acme, subject=demo.user("senior"), role=COMPANY_OWNER)
    assert company_roles(demo.acme)["user:senior@acme.test"] == COMPANY_OWNER


def test_staff_without_the_bind_key_may_not_manage_company_identities(demo, persona):
    viewer = persona("staff", keys=["console.root.view"])
    with changes_nothing(PermissionDenied):
        company_role_set(actor=viewer, company=demo.acme, subject=demo.user("senior"), role=REPORTER)


def test_adding_a_member_counts_as_granting_the_groups_roles(demo):
    """An owner of Acme adds a member to a group that (through data made in the Console admin) holds a role
    on Globex: the owner holds nothing there, so the membership would grant it. Refused, nothing added."""
    crossing = Group.objects.create(company=demo.acme, name="Crossing")
    bind(crossing, GUEST, demo.acme)
    RoleBinding.objects.create(group=crossing, project=demo.research, role=MAINTAINER)
    with changes_nothing(EscalationRefused):
        identities.group_members_add(actor=demo.user("owner"), group=crossing, emails=["senior@acme.test"])
    assert not GroupMembership.objects.filter(group=crossing).exists()


def test_group_roles_are_checked_against_the_actor(demo, persona):
    owners = Group.objects.create(company=demo.acme, name="Owners")
    bind(owners, COMPANY_OWNER, demo.acme)
    maintainer = AccessResolver(persona("company", MAINTAINER))
    with pytest.raises(EscalationRefused):
        check_roles_grantable(maintainer, owners)
    check_roles_grantable(AccessResolver(demo.user("owner")), owners)


# -- last owner -----------------------------------------------------------------------------------


@pytest.fixture
def owner(demo):
    return demo.user("owner")


@pytest.fixture
def admin(demo):
    return demo.user("admin@acme.test")


def owner_emails(company) -> set[str]:
    return set(company_owners(company).values_list("email", flat=True))


LAST_OWNER_CALLS = {
    "demote": lambda d, actor, who: company_role_set(
        actor=actor, company=d.acme, subject=who, role=DEVELOPER
    ),
    "unset": lambda d, actor, who: company_role_set(actor=actor, company=d.acme, subject=who, role=None),
    "remove_direct_access": lambda d, actor, who: company_direct_access_remove(
        actor=actor, company=d.acme, user=who
    ),
    "full_removal": lambda d, actor, who: identities.company_user_remove(
        actor=actor, company=d.acme, user=who
    ),
}


@pytest.mark.parametrize("actor_name", ["owner", "admin"])
@pytest.mark.parametrize("action", LAST_OWNER_CALLS)
def test_the_only_owner_cannot_be_removed_or_demoted(demo, owner, admin, action, actor_name):
    actor = {"owner": owner, "admin": admin}[actor_name]
    with changes_nothing(LastOwnerRefused, match="Acme must keep at least one Company Owner"):
        LAST_OWNER_CALLS[action](demo, actor, owner)
    assert owner_emails(demo.acme) == {"owner@acme.test"}


def test_last_owner_after_a_project_role_change_is_unaffected(demo, owner):
    """Owner-preserving changes in the same company still work."""
    company_role_set(actor=owner, company=demo.acme, subject=demo.user("senior"), role=MAINTAINER)
    assert company_roles(demo.acme)["user:senior@acme.test"] == MAINTAINER


@pytest.fixture
def group_owner(demo, owner, owner_only_through_group):
    """The only owner of Acme holds the role only through the group "Owners" (and is Guest directly)."""
    bind(owner, GUEST, demo.acme)
    assert owner_emails(demo.acme) == {"owner@acme.test"}
    return owner_only_through_group


GROUP_CALLS = {
    "delete_group": lambda d, actor, g, who: identities.group_delete(actor=actor, group=g),
    "leave_group": lambda d, actor, g, who: identities.group_member_remove(actor=actor, group=g, user=who),
    "demote_group": lambda d, actor, g, who: identities.group_update(
        actor=actor, group=g, name=g.name, role=MAINTAINER
    ),
    "demote_group_via_set_company_role": lambda d, actor, g, who: company_role_set(
        actor=actor, company=d.acme, subject=g, role=DEVELOPER
    ),
    "full_removal": lambda d, actor, g, who: identities.company_user_remove(
        actor=actor, company=d.acme, user=who
    ),
}


@pytest.mark.parametrize("actor_name", ["owner", "admin"])
@pytest.mark.parametrize("action", GROUP_CALLS)
def test_the_only_owner_group_cannot_be_deleted_left_or_demoted(
    demo, owner, admin, group_owner, action, actor_name
):
    actor = {"owner": owner, "admin": admin}[actor_name]
    with changes_nothing(LastOwnerRefused):
        GROUP_CALLS[action](demo, actor, group_owner, owner)
    assert owner_emails(demo.acme) == {"owner@acme.test"}


def test_an_inactive_owner_does_not_count(demo, owner, persona):
    other = persona("company", COMPANY_OWNER)
    other.is_active = False
    other.save()
    with changes_nothing(LastOwnerRefused):
        company_role_set(actor=owner, company=demo.acme, subject=owner, role=DEVELOPER)


def test_with_two_owners_one_may_be_demoted_then_the_other_is_protected(demo, owner, persona):
    second = persona("company", COMPANY_OWNER)
    assert owner_emails(demo.acme) == {"owner@acme.test", second.email}

    company_role_set(actor=second, company=demo.acme, subject=owner, role=DEVELOPER)
    assert owner_emails(demo.acme) == {second.email}

    with changes_nothing(LastOwnerRefused):
        company_role_set(actor=second, company=demo.acme, subject=second, role=DEVELOPER)


@pytest.mark.parametrize("action", LAST_OWNER_CALLS)
def test_with_two_owners_each_removal_path_works_once(demo, owner, persona, action):
    second = persona("company", COMPANY_OWNER)
    LAST_OWNER_CALLS[action](demo, second, owner)
    assert owner_emails(demo.acme) == {second.email}
    with pytest.raises(LastOwnerRefused):
        LAST_OWNER_CALLS[action](demo, second, second)
    assert owner_emails(demo.acme) == {second.email}


def test_a_second_owner_through_a_group_lets_the_direct_owner_go(demo, owner, persona):
    other = persona("company", COMPANY_OWNER, via_group=True)
    company_role_set(actor=other, company=demo.acme, subject=owner, role=GUEST)
    assert owner_emails(demo.acme) == {other.email}
    group = Group.objects.get(memberships__user=other)
    with pytest.raises(LastOwnerRefused):
        identities.group_delete(actor=other, group=group)


def test_a_company_that_never_had_an_owner_is_not_blocked(demo, admin):
    initech = Company.objects.create(slug="initech", name="Initech")
    peter = User.objects.create_user("peter@initech.test", "x")
    company_role_set(actor=admin, company=initech, subject=peter, role=DEVELOPER)
    company_role_set(actor=admin, company=initech, subject=peter, role=GUEST)
    assert company_direct_access_remove(actor=admin, company=initech, user=peter) == 1
    assert not RoleBinding.objects.filter(company=initech).exists()


def test_a_refused_change_rolls_back_every_write_of_the_transaction(demo, owner):
    """company_user_remove deletes bindings before the owner check fails: all of it is undone."""
    bind(owner, MAINTAINER, demo.webshop)
    GroupMembership.objects.create(group=demo.developers, user=owner)
    with changes_nothing(LastOwnerRefused):
        identities.company_user_remove(actor=owner, company=demo.acme, user=owner)


# -- two concurrent demotions ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("scenario", "refusal"),
    [
        # Both owners step down at the same moment: the second one to get the lock would leave none.
        ("each demotes themself", LastOwnerRefused),
        # Each demotes the other: once the first commits, the second is no longer an owner at all.
        ("each demotes the other", PermissionDenied),
    ],
)
def test_two_owners_demoting_at_once_leave_one_owner(demo, persona, scenario, refusal):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers on the database file, so there is no race")
    first = demo.user("owner")
    second = persona("company", COMPANY_OWNER)
    company = demo.acme
    barrier = threading.Barrier(2, timeout=10)
    outcomes: dict[str, object] = {}
    targets = {"first": first, "second": second}
    if scenario == "each demotes the other":
        targets = {"first": second, "second": first}

    def demote(name: str, actor: User) -> None:
        try:
            with transaction.atomic():
                # Both transactions are open and have both seen two owners before either changes anything.
                assert company_owners(company).count() == 2
                barrier.wait()
                company_role_set(actor=actor, company=company, subject=targets[name], role=DEVELOPER)
                # Hold the winner's transaction open a moment so the loser is surely waiting on the lock.
                time.sleep(0.3)
            outcomes[name] = "ok"
        except Exception as exc:
            outcomes[name] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=demote, args=("first", first)),
        threading.Thread(target=demote, args=("second", second)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)

    results = sorted(outcomes.values(), key=lambda value: value != "ok")
    assert len(results) == 2
    assert results[0] == "ok"
    assert isinstance(results[1], refusal), results[1]
    assert len(owner_emails(company)) == 1
    assert RoleBinding.objects.filter(company=company, role=COMPANY_OWNER).count() == 1
