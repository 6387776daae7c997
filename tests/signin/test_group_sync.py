"""Group sync at provider sign-in: mapped groups follow the provider's claim through the portal's services;
unmapped groups are never touched; the last-owner rule still holds."""

from django.contrib.messages import get_messages

from iam_portal.access.catalogue import COMPANY_OWNER, DEVELOPER, GUEST
from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group, GroupMembership, User
from iam_portal.orgs.models import Company
from tests.helpers import sso_sign_in

MAPPING = {
    "claim": "groups",
    "groups": {
        "acme-developers": "acme/Acme Developers",
        "acme-readers": ["acme/Readers"],
        "initech-owners": "initech/Initech Owners",
        "typo": "acme/No Such Group",
    },
}


def memberships(email: str) -> set[str]:
    return {
        f"{slug}/{name}"
        for slug, name in GroupMembership.objects.filter(user__email=email).values_list(
            "group__company__slug", "group__name"
        )
    }


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def make_group(company: Company, name: str, role: str, *members: User) -> Group:
    group = Group.objects.create(company=company, name=name)
    RoleBinding.objects.create(group=group, company=company, role=role)
    for user in members:
        GroupMembership.objects.create(group=group, user=user)
    return group


def test_sign_in_adds_and_removes_memberships_of_mapped_groups_only(sso, client, demo):
    designer = demo.user("designer1")
    make_group(demo.acme, "Readers", GUEST, designer)
    make_group(demo.acme, "Unmapped", DEVELOPER, designer)
    provider = sso(group_sync=MAPPING)
    provider.set_account("d1", email=designer.email, email_verified=True, groups=["acme-developers", "other"])
    assert memberships(designer.email) == {"acme/Readers", "acme/Unmapped"}

    response = sso_sign_in(client, provider, "d1")

    assert response.status_code == 302
    assert memberships(designer.email) == {"acme/Acme Developers", "acme/Unmapped"}
    added = GroupMembership.objects.get(user=designer, group=demo.developers)
    assert added.added_by is None  # added by the system, on the provider's word
    assert messages_of(response) == [
        "Group memberships updated from Test IdP: added to Acme Developers (Acme); removed from Readers (Acme)."
    ]


def test_the_next_sign_in_follows_the_provider_again(sso, client, demo):
    designer = demo.user("designer1")
    provider = sso(group_sync=MAPPING)
    provider.set_account("d1", email=designer.email, email_verified=True, groups=["acme-developers"])
    sso_sign_in(client, provider, "d1")
    client.post("/accounts/logout/")
    provider.set_account("d1", email=designer.email, email_verified=True, groups=[])

    sso_sign_in(client, provider, "d1")

    assert "acme/Acme Developers" not in memberships(designer.email)


def test_a_sign_in_without_changes_writes_nothing_and_says_nothing(sso, client, demo):
    designer = demo.user("designer1")
    GroupMembership.objects.create(group=demo.developers, user=designer)
    provider = sso(group_sync=MAPPING)
    provider.set_account("d1", email=designer.email, email_verified=True, groups=["acme-developers"])

    response = sso_sign_in(client, provider, "d1")

    assert memberships(designer.email) == {"acme/Acme Developers"}
    assert messages_of(response) == []


def test_removing_the_last_owner_is_refused_and_the_rest_still_applies(sso, client, demo):
    """Initech's only owner holds the role through a mapped group the provider no longer lists."""
    designer = demo.user("designer1")
    initech = Company.objects.create(slug="initech", name="Initech")
    owners = make_group(initech, "Initech Owners", COMPANY_OWNER, designer)
    provider = sso(group_sync=MAPPING)
    provider.set_account("d1", email=designer.email, email_verified=True, groups=["acme-developers"])

    response = sso_sign_in(client, provider, "d1")

    assert response.status_code == 302
    assert GroupMembership.objects.filter(group=owners, user=designer).exists()
    assert memberships(designer.email) == {"acme/Acme Developers", "initech/Initech Owners"}
    notes = messages_of(response)
    assert notes[0] == "Group memberships updated from Test IdP: added to Acme Developers (Acme)."
    assert notes[1].startswith(
        "Test IdP no longer lists you in Initech Owners (Initech), but you stay a member: "
    )
    assert "owner" in notes[1].lower()


def test_a_second_owner_lets_the_sync_remove_the_membership(sso, client, demo):
    designer = demo.user("designer1")
    initech = Company.objects.create(slug="initech", name="Initech")
    owners = make_group(initech, "Initech Owners", COMPANY_OWNER, designer)
    RoleBinding.objects.create(user=demo.user("owner"), company=initech, role=COMPANY_OWNER)
    provider = sso(group_sync=MAPPING)
    provider.set_account("d1", email=designer.email, email_verified=True, groups=[])

    sso_sign_in(client, provider, "d1")

    assert not GroupMembership.objects.filter(group=owners, user=designer).exists()


def test_a_missing_claim_changes_nothing(sso, client, demo):
    """A provider that stops sending the claim (scope or mapper removed) must not empty every group."""
    designer = demo.user("designer1")
    GroupMembership.objects.create(group=demo.developers, user=designer)
    provider = sso(group_sync=MAPPING)
    provider.set_account("d1", email=designer.email, email_verified=True)  # no "groups" claim at all

    sso_sign_in(client, provider, "d1")

    assert memberships(designer.email) == {"acme/Acme Developers"}


def test_without_group_sync_memberships_are_left_alone(sso, client, demo):
    designer = demo.user("designer1")
    GroupMembership.objects.create(group=demo.developers, user=designer)
    provider = sso()
    provider.set_account("d1", email=designer.email, email_verified=True, groups=[])

    sso_sign_in(client, provider, "d1")

    assert memberships(designer.email) == {"acme/Acme Developers"}


def test_a_jit_account_is_added_to_its_mapped_groups(sso, client, demo):
    provider = sso(jit=True, group_sync=MAPPING)
    provider.set_account(
        "n", email="new@acme.test", email_verified=True, groups=["acme-readers", "acme-developers"]
    )
    make_group(demo.acme, "Readers", GUEST)

    sso_sign_in(client, provider, "n")

    assert memberships("new@acme.test") == {"acme/Acme Developers", "acme/Readers"}
    assert client.get("/companies/acme/").status_code == 200  # membership gives access to Acme


def test_group_names_match_whatever_their_case(sso, client, demo):
    designer = demo.user("designer1")
    provider = sso(group_sync={"claim": "groups", "groups": {"dev": "ACME/acme developers"}})
    provider.set_account("d1", email=designer.email, email_verified=True, groups="dev")  # one value, no list

    sso_sign_in(client, provider, "d1")

    assert memberships(designer.email) == {"acme/Acme Developers"}


def test_sync_changes_are_in_the_audit_log_as_the_identity_provider(demo, client, sso):
    """Issue 14: each change made by a sync is an audit event "via identity provider"."""
    from iam_portal.audit.models import Action, AuditEvent

    provider = sso(group_sync=MAPPING)
    provider.set_account(
        "sync-audit", email="senior@acme.test", email_verified=True, groups=["acme-developers"]
    )
    sso_sign_in(client, provider, "sync-audit")
    event = AuditEvent.objects.get(action=Action.MEMBER_ADDED, subject_name=demo.user("senior").display_name)
    assert (event.actor_kind, event.actor_name, event.source) == (
        "identity-provider",
        "Identity provider",
        "sso",
    )
    assert event.after == {"group": "Acme Developers"}
    assert AuditEvent.objects.filter(
        action=Action.SIGNIN_SUCCEEDED, subject_id=demo.user("senior").pk
    ).exists()
