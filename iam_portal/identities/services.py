"""Writes for users, groups and service accounts of a company.

Every function authorizes the actor itself, runs in one transaction (`operation`) with its audit event,
and either completes or changes nothing (a refusal is recorded). Role rules (escalation guard, last owner)
come from `iam_portal.access.services`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.views.decorators.debug import sensitive_variables

from iam_portal.access import selectors
from iam_portal.access.resolver import AccessResolver, Actor, user_or_none
from iam_portal.access.services import (
    ActionRefused,
    OwnerGuard,
    Until,
    binding_put,
    binding_write,
    check_grantable,
    check_roles_grantable,
    lock_company,
    lost_access_roles_remove,
    operation,
    project_roles_set,
    replaced_roles,
    require_company_manager,
    roles_summary,
)
from iam_portal.audit.models import Action
from iam_portal.audit.services import event_record
from iam_portal.identities import selectors as identity_selectors
from iam_portal.identities.keys import parse_public_key
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from iam_portal.identities.names import name_clean, name_key
from iam_portal.orgs.models import Company, Environment, Project

UNKNOWN_ACCOUNT = (
    "No Console account uses {email}. Accounts are created by a Console administrator; "
    "ask them to create it first, then add the user here."
)


def find_account(email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip(), is_active=True).first()


def _name_clean(name: str) -> str:
    """The one form a group or service-account name is stored in (`names.name_clean`), or a refusal."""
    try:
        return name_clean(name)
    except ValueError as exc:
        raise ActionRefused(str(exc)) from None


def _name_taken(noun: str, name: str, company: Company) -> ActionRefused:
    return ActionRefused(f"A {noun} named {name!r} already exists in {company}.")


def _free_name(model, noun: str, company: Company, name: str, *, renaming=None) -> str:
    """`name` in its stored form, when no other group (or service account: `model`) of the company has it
    already (names compare without case or accents: `names.name_key`); else a refusal."""
    name = _name_clean(name)
    taken = model.objects.filter(company=company, name_key=name_key(name))
    if renaming is not None:
        taken = taken.exclude(pk=renaming.pk)
    if taken.exists():
        raise _name_taken(noun, name, company)
    return name


def _save_named(obj, noun: str, company: Company, **save) -> None:
    """Save a group or service account; a name another request took meanwhile (the database's unique
    constraint) is the same refusal as a name taken before."""
    try:
        with transaction.atomic():
            obj.save(**save)
    except IntegrityError:
        raise _name_taken(noun, obj.name, company) from None


# -- users ----------------------------------------------------------------------------------------


@operation(Action.USER_ADDED)
def company_user_add(*, actor: Actor, company: Company, email: str, role: str, until: Until = None) -> User:
    """Give an existing Console account access to the company with a direct company role (until a moment:
    then the role, and the access, end)."""
    access = AccessResolver(actor)
    require_company_manager(access, company)
    lock_company(company)  # two identical requests at once: the second one sees the first one's result
    user = find_account(email)
    if user is None:
        raise ActionRefused(UNKNOWN_ACCOUNT.format(email=email))
    if selectors.binding_role(user, company):
        raise ActionRefused(
            f"{user.email} already has direct access to {company}. Use Edit to change their role."
        )
    check_grantable(access, company, role)
    _, after = binding_write(actor=actor, subject=user, resource=company, role=role, until=until)
    event_record(actor=actor, action=Action.USER_ADDED, company=company, subject=user, after=after)
    return user


@operation(Action.USER_REMOVED)
def company_user_remove(*, actor: Actor, company: Company, user: User) -> dict:
    """Full removal: direct roles on the company and on all its projects and environments, and every
    membership of the company's groups. Returns what was removed."""
    access = AccessResolver(actor)
    with OwnerGuard(company):
        require_company_manager(access, company)
        bindings = selectors.company_bindings_listed(user, company)
        check_grantable(access, company, *{b.role for b in bindings})
        groups = selectors.user_groups_in(company, user)
        for group in groups:
            check_roles_grantable(access, group)
        if not bindings and not groups:
            raise ActionRefused(f"{user.email} has no access to {company}.")
        selectors.company_bindings(user, company).delete()
        GroupMembership.objects.filter(user=user, group__in=groups).delete()
        event_record(
            actor=actor,
            action=Action.USER_REMOVED,
            company=company,
            subject=user,
            before={"roles": roles_summary(bindings), "groups": [g.name for g in groups]},
        )
    return {"roles": len(bindings), "groups": len(groups)}


# -- groups ---------------------------------------------------------------------------------------


def _users_for_emails(emails: list[str]) -> list[User]:
    wanted = {e.strip().lower() for e in emails if e.strip()}
    found = {u.email.lower(): u for u in User.objects.filter(email__in=wanted, is_active=True)}
    unknown = sorted(wanted - set(found))
    if unknown:
        raise ActionRefused(
            "No Console account uses: "
            + ", ".join(unknown)
            + ". Nothing was added; remove them or ask a Console administrator to create the accounts."
        )
    return [found[e] for e in sorted(found)]


@operation(Action.GROUP_CREATED)
def group_create(
    *,
    actor: Actor,
    company: Company,
    name: str,
    role: str | None,
    member_emails: list[str],
    until: Until = None,
) -> Group:
    """A new group of the company with this company role (None: none yet, as the admin creates it) and these
    members."""
    access = AccessResolver(actor)
    require_company_manager(access, company)
    name = _free_name(Group, "group", company, name)
    check_grantable(access, company, role)
    members = _users_for_emails(member_emails)
    group = Group(company=company, name=name, created_by=user_or_none(actor))
    _save_named(group, "group", company, force_insert=True)
    _, binding = binding_write(actor=actor, subject=group, resource=company, role=role, until=until)
    GroupMembership.objects.bulk_create(
        GroupMembership(group=group, user=u, added_by=user_or_none(actor)) for u in members
    )
    event_record(
        actor=actor,
        action=Action.GROUP_CREATED,
        company=company,
        subject=group,
        after={"name": name, **(binding or {"role": role}), "members": [u.email for u in members]},
    )
    return group


@operation(Action.GROUP_RENAMED)
def group_update(*, actor: Actor, group: Group, name: str, role: str, until: Until = None) -> Group:
    """Rename the group and set its company role: each change that happens is recorded on its own."""
    access = AccessResolver(actor)
    company = group.company
    require_company_manager(access, company)
    name = _free_name(Group, "group", company, name, renaming=group)
    with OwnerGuard(company):
        check_grantable(access, company, role, *replaced_roles(group, company))
        if group.name != name:
            old_name, group.name = group.name, name
            _save_named(group, "group", company, update_fields=["name", "name_key"])
            event_record(
                actor=actor,
                action=Action.GROUP_RENAMED,
                company=company,
                subject=group,
                before={"name": old_name},
                after={"name": name},
            )
        binding_put(actor=actor, subject=group, resource=company, role=role, until=until)
    return group


@operation(Action.MEMBER_ADDED)
def group_members_add(*, actor: Actor, group: Group, emails: list[str]) -> list[User]:
    """Add several members at once; an unknown email refuses the whole request. Returns the users added
    (those already in the group are skipped)."""
    access = AccessResolver(actor)
    require_company_manager(access, group.company)
    lock_company(group.company)  # the same member added twice at once: the second one finds them there
    users = _users_for_emails(emails)
    if not users:
        raise ActionRefused("Enter at least one email address.")
    check_roles_grantable(access, group)
    existing = set(
        GroupMembership.objects.filter(group=group, user__in=users).values_list("user_id", flat=True)
    )
    added = [u for u in users if u.pk not in existing]
    GroupMembership.objects.bulk_create(
        GroupMembership(group=group, user=u, added_by=user_or_none(actor)) for u in added
    )
    for user in added:
        _membership_record(actor, Action.MEMBER_ADDED, group, user)
    return added


def _membership_record(actor: Actor, action: str, group: Group, user: User) -> None:
    """Membership events name the member as subject (their history shows it) and the group in before/after."""
    side = {"group": group.name}
    before, after = (None, side) if action == Action.MEMBER_ADDED else (side, None)
    event_record(actor=actor, action=action, company=group.company, subject=user, before=before, after=after)


@operation(Action.MEMBER_REMOVED)
def group_member_remove(*, actor: Actor, group: Group, user: User) -> None:
    access = AccessResolver(actor)
    with OwnerGuard(group.company):
        require_company_manager(access, group.company)
        check_roles_grantable(access, group)
        deleted, _ = GroupMembership.objects.filter(group=group, user=user).delete()
        if not deleted:
            raise ActionRefused(f"{user.email} is not a member of {group}.")
        _membership_record(actor, Action.MEMBER_REMOVED, group, user)
        lost_access_roles_remove(actor=actor, company=group.company, users=[user])


@operation(Action.MEMBER_REMOVED)
def group_members_remove(*, actor: Actor, group: Group, users: list[User]) -> None:
    """Remove several members, all or nothing."""
    for user in users:
        group_member_remove(actor=actor, group=group, user=user)


@operation(Action.GROUP_DELETED)
def group_delete(*, actor: Actor, group: Group) -> None:
    access = AccessResolver(actor)
    with OwnerGuard(group.company):
        require_company_manager(access, group.company)
        check_roles_grantable(access, group)
        event_record(
            actor=actor,
            action=Action.GROUP_DELETED,
            company=group.company,
            subject=group,
            before={
                "name": group.name,
                "roles": roles_summary(selectors.bindings_of(group)),
                "members": list(group.members.order_by("email").values_list("email", flat=True)[:500]),
            },
        )
        losing = list(identity_selectors.members_losing_access(group))
        # Delete by id: should the owner check refuse, the caller's instance keeps its pk for the dialog.
        Group.objects.filter(pk=group.pk).delete()
        lost_access_roles_remove(actor=actor, company=group.company, users=losing)


# -- service accounts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewServiceAccount:
    account: ServiceAccount
    client_secret: str | None  # shown once, never stored in clear


@sensitive_variables("secret")
@operation(Action.SERVICE_ACCOUNT_CREATED)
def service_account_create(
    *,
    actor: Actor,
    company: Company,
    name: str,
    role: str,
    auth_method: str,
    public_key: str = "",
    until: Until = None,
) -> NewServiceAccount:
    access = AccessResolver(actor)
    require_company_manager(access, company)
    name = _free_name(ServiceAccount, "service account", company, name)
    check_grantable(access, company, role)
    account = ServiceAccount(
        company=company, name=name, auth_method=auth_method, created_by=user_or_none(actor)
    )
    secret = None
    if auth_method == ServiceAccount.AuthMethod.CLIENT_SECRET_BASIC:
        secret = account.issue_secret()
    elif auth_method == ServiceAccount.AuthMethod.PRIVATE_KEY_JWT:
        try:
            account.public_key, account.key_id = parse_public_key(public_key)
        except ValueError as exc:
            raise ActionRefused(str(exc)) from None
    else:
        raise ActionRefused("Choose Client Secret Basic or Private Key JWT.")
    _save_named(account, "service account", company)
    _, binding = binding_write(actor=actor, subject=account, resource=company, role=role, until=until)
    event_record(
        actor=actor,
        action=Action.SERVICE_ACCOUNT_CREATED,
        company=company,
        subject=account,
        after={"name": name, "auth_method": auth_method, **binding, "client_id": account.client_id},
    )
    return NewServiceAccount(account, secret)


@operation(Action.SERVICE_ACCOUNT_DELETED)
def service_account_delete(*, actor: Actor, account: ServiceAccount) -> None:
    access = AccessResolver(actor)
    require_company_manager(access, account.company)
    bindings = selectors.bindings_of(account)
    for binding in bindings:
        check_grantable(access, binding.resource, binding.role)
    event_record(
        actor=actor,
        action=Action.SERVICE_ACCOUNT_DELETED,
        company=account.company,
        subject=account,
        before={"name": account.name, "client_id": account.client_id, "roles": roles_summary(bindings)},
    )
    account.delete()


def may_manage_account(actor: Actor, account: ServiceAccount) -> bool:
    """The rule of `_require_account_manager` as a question (for the admin's permissions)."""
    try:
        _require_account_manager(AccessResolver(actor), account)
    except (ActionRefused, PermissionDenied):
        return False
    return True


def _require_account_manager(access: AccessResolver, account: ServiceAccount) -> None:
    """Company accounts: those who manage the company and hold every role the account holds (its
    credentials act with those roles). Root accounts: holders of console.root.serviceaccount.manage."""
    if account.company_id is None:
        if "console.root.serviceaccount.manage" not in access.root_keys:
            raise PermissionDenied("Only Console administrators manage root service accounts.")
        return
    require_company_manager(access, account.company)
    check_roles_grantable(access, account)


@sensitive_variables("secret")
@operation(Action.SECRET_ROTATED)
def service_account_secret_rotate(*, actor: Actor, account: ServiceAccount) -> str:
    """A new client secret (shown once by the caller); the old one and every token issued with it stop
    working at once."""
    _require_account_manager(AccessResolver(actor), account)
    if account.auth_method != ServiceAccount.AuthMethod.CLIENT_SECRET_BASIC:
        raise ActionRefused(f"{account.name} signs its requests with a key: replace its public key instead.")
    secret = account.issue_secret()
    account.save(update_fields=["secret_hash"])
    event_record(actor=actor, action=Action.SECRET_ROTATED, company=account.company, subject=account)
    return secret


@operation(Action.KEY_REPLACED)
def service_account_key_replace(*, actor: Actor, account: ServiceAccount, public_key: str) -> ServiceAccount:
    """Replace a Private Key JWT account's public key; tokens issued before stop working at once."""
    _require_account_manager(AccessResolver(actor), account)
    if account.auth_method != ServiceAccount.AuthMethod.PRIVATE_KEY_JWT:
        raise ActionRefused(f"{account.name} uses a client secret: rotate the secret instead.")
    try:
        jwk, key_id = parse_public_key(public_key)
    except ValueError as exc:
        raise ActionRefused(str(exc)) from None
    previous_key_id = account.key_id
    account.public_key, account.key_id = jwk, key_id
    account.save(update_fields=["public_key", "key_id"])
    event_record(
        actor=actor,
        action=Action.KEY_REPLACED,
        company=account.company,
        subject=account,
        before={"key_id": previous_key_id},
        after={"key_id": key_id},
    )
    return account


@transaction.atomic
def service_account_token_issued(*, account: ServiceAccount, at) -> None:
    """The account proved who it is and got an access token: its last login, and the event."""
    ServiceAccount.objects.filter(pk=account.pk).update(last_login=at)
    event_record(actor=account, action=Action.TOKEN_ISSUED, company=account.company, subject=account)


# -- from a project: company access plus project and environment roles in one step ------------------


@operation(Action.USER_ADDED)
def project_user_add(
    *,
    actor: Actor,
    project: Project,
    email: str,
    company_role: str,
    project_role: str | None,
    environment_roles: dict[Environment, str | None],
    until: Until = None,
) -> User:
    """A user added from a project: company access and roles on the project, all ending at `until` if given."""
    user = company_user_add(actor=actor, company=project.company, email=email, role=company_role, until=until)
    project_roles_set(
        actor=actor,
        project=project,
        subject=user,
        project_role=project_role,
        environment_roles=environment_roles,
        until=until,
    )
    return user


@operation(Action.SERVICE_ACCOUNT_CREATED)
def project_service_account_add(
    *,
    actor: Actor,
    project: Project,
    name: str,
    auth_method: str,
    public_key: str,
    company_role: str,
    project_role: str | None,
    environment_roles: dict[Environment, str | None],
    until: Until = None,
) -> NewServiceAccount:
    created = service_account_create(
        actor=actor,
        company=project.company,
        name=name,
        role=company_role,
        auth_method=auth_method,
        public_key=public_key,
        until=until,
    )
    project_roles_set(
        actor=actor,
        project=project,
        subject=created.account,
        project_role=project_role,
        environment_roles=environment_roles,
        until=until,
    )
    return created
