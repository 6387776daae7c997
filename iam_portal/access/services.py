"""Writes to role bindings, and the guards every write of the portal goes through.

Rules enforced here, for every caller (portal views, the machine API, admin actions, commands):
- authorization: only those who may manage the company's (or the project's) identities change roles;
- escalation guard: an actor grants, changes or removes a role only up to the role they effectively
  hold on that resource (super users and the command line hold every role);
- last owner: a company that has a user who is effectively Company Owner keeps at least one. The company
  row is locked first, so two concurrent changes cannot both remove "the other" owner.

Each service is an `operation`: one transaction holding the change and its audit event; a refusal is
recorded after the rollback. `identities.services` (users, groups, service accounts) uses the same
guards, `operation` and `binding_put`.
"""

from __future__ import annotations

import datetime
import functools
from contextvars import ContextVar

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone
from django.utils.formats import date_format

from iam_portal.access import catalogue, selectors
from iam_portal.access.models import RoleBinding, binding_problem
from iam_portal.access.resolver import AccessResolver, Actor, user_or_none
from iam_portal.access.subjects import Resource, Subject, binding_lookup
from iam_portal.audit.models import Action, Outcome
from iam_portal.audit.services import current_context, event_record
from iam_portal.identities.models import User
from iam_portal.orgs.models import Company, Environment, Level, Project


class ActionRefused(Exception):
    """A rule refused the change. The message is written for the person who asked for it."""


class EscalationRefused(ActionRefused):
    pass


class LastOwnerRefused(ActionRefused):
    pass


LAST_OWNER_MESSAGE = (
    "{company} must keep at least one Company Owner. Make someone else Company Owner first, then try again."
)


# -- one write, one transaction, and its refusals on record -------------------------------------------

_depth: ContextVar[int] = ContextVar("operation_depth", default=0)

# What a refused attempt records as "what was asked" (never secrets or keys).
_ASKED = ("role", "company_role", "project_role", "email", "name", "auth_method")


def operation(action: str):
    """Decorates a service: it runs in one transaction, and when a rule refuses it (ActionRefused,
    PermissionDenied) the refusal is written to the audit log after the rollback, in its own transaction
    (not during a dry run: `access.preview`).
    Services called by another service are part of the outer operation, which records the refusal once.
    Wrap several service calls that must succeed together (the machine API's PATCH) in `operation` too."""

    def decorate(func):
        @functools.wraps(func)
        def run(**kwargs):
            token = _depth.set(_depth.get() + 1)
            try:
                with transaction.atomic():
                    return func(**kwargs)
            except (ActionRefused, PermissionDenied) as refused:
                if _depth.get() == 1 and not current_context().dry_run:
                    _refusal_record(action, kwargs, refused)
                    # A caller whose own transaction rolls the record back (the admin's) writes it again.
                    refused.refusal_record = functools.partial(_refusal_record, action, kwargs, refused)
                raise
            finally:
                _depth.reset(token)

        return run

    return decorate


def _refusal_record(action: str, kwargs: dict, refused: Exception) -> None:
    """The refused attempt, on the chain of the company it was meant for: the subject when there is one
    (the member for membership changes, the group named in what was asked), and what was asked."""
    group, account = kwargs.get("group"), kwargs.get("account")
    subject = next(
        (kwargs[k] for k in ("subject", "user", "account", "group") if kwargs.get(k) is not None), None
    )
    owner = group or account or subject
    resource = kwargs.get("project") or kwargs.get("company") or getattr(owner, "company", None)
    asked = {key: kwargs[key][:300] for key in _ASKED if isinstance(kwargs.get(key), str)}
    emails = kwargs.get("emails") or kwargs.get("member_emails")
    if isinstance(emails, list):
        asked["emails"] = [str(e) for e in emails[:20]]
    if group is not None and subject is not group:
        asked["group"] = group.name
    environment_roles = kwargs.get("environment_roles")
    if isinstance(environment_roles, dict) and environment_roles:
        asked["environment_roles"] = {env.env_id: role for env, role in environment_roles.items()}
    event_record(
        actor=kwargs.get("actor"),
        action=action,
        resource=resource,
        subject=subject,
        after=asked or None,
        outcome=Outcome.REFUSED,
        message=str(refused)[:2000],
    )


# -- authorization --------------------------------------------------------------------------------


def require_company_manager(access: AccessResolver, company: Company) -> None:
    if not access.can("company.identities.manage", company):
        raise PermissionDenied("You may not manage the identities of this company.")


def require_project_manager(access: AccessResolver, project: Project) -> None:
    if not access.can("project.identities.manage", project):
        raise PermissionDenied("You may not manage the identities of this project.")


def check_grantable(access: AccessResolver, resource: Resource, *roles: str | None) -> None:
    """Refuse when any of `roles` (the new one, the one being replaced) ranks above the actor's own.

    Holders of the root key console.root.user.bind administer every binding of the Console (they can in
    the admin too), so no company or project role ranks above them."""
    if "console.root.user.bind" in access.root_keys:
        return
    own = access.role_on(resource)
    for role in roles:
        if role and catalogue.role_rank(role) > catalogue.role_rank(own):
            raise EscalationRefused(
                f"You can only grant or change roles up to your own ({catalogue.role_label(own) or 'none'}) "
                f"on {resource}; {catalogue.role_label(role)} is above it."
            )


def check_roles_grantable(access: AccessResolver, subject: Subject) -> None:
    """The actor must hold every role the subject holds, each where it is bound: to delete a service account,
    or to add or remove a group member (that passes on, or takes away, every role of the group)."""
    for binding in selectors.bindings_of(subject):
        check_grantable(access, binding.resource, binding.role)


def check_account_controllable(access: AccessResolver, account: User) -> None:
    """Whoever sets an account's password, email or active flag can sign in as it, so they must already hold
    its power: never a super user's account (unless they are one), never one with root keys they lack, and
    never one holding roles in companies unless they hold console.root.user.bind. Their own account is theirs.
    """
    if access.is_superuser or (isinstance(access.identity, User) and access.identity.pk == account.pk):
        return
    if account.is_superuser:
        raise PermissionDenied("Only a super user may change the account of a super user.")
    missing = sorted(set(account.root_permissions or ()) & set(catalogue.ROOT_PERMISSIONS) - access.root_keys)
    if missing:
        raise PermissionDenied(f"{account} holds root permissions you do not: {', '.join(missing)}.")
    if "console.root.user.bind" not in access.root_keys and (
        RoleBinding.objects.filter(user=account).exists() or account.memberships.exists()
    ):
        raise PermissionDenied(
            f"{account} holds roles in companies; only holders of console.root.user.bind may change "
            "their password, email or active flag."
        )


# -- last owner -----------------------------------------------------------------------------------


def lock_company(company: Company) -> None:
    """Serialise the changes of one company that read, then write: owner checks, and "does this binding or
    membership exist yet" before creating it, so that concurrent identical requests end like a sequential
    retry instead of in an IntegrityError. A no-op on SQLite, whose transactions take the write lock when
    they begin (settings: transaction_mode IMMEDIATE)."""
    Company.objects.select_for_update().filter(pk=company.pk).values_list("pk").first()


class OwnerGuard:
    """Use around a change: `with OwnerGuard(company): ...` locks the company, remembers whether it had an
    owner, and after the change refuses (rolling back the enclosing transaction) if none is left."""

    def __init__(self, company: Company):
        self.company = company

    def __enter__(self):
        lock_company(self.company)
        self.had_owner = selectors.company_owners(self.company).exists()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None and self.had_owner and not selectors.company_owners(self.company).exists():
            raise LastOwnerRefused(LAST_OWNER_MESSAGE.format(company=self.company))
        return False


# -- bindings -------------------------------------------------------------------------------------


Until = datetime.datetime | None  # when a time-limited role ends (None: it does not)
MAX_UNTIL = datetime.timedelta(days=10 * 365)


def until_check(until: datetime.datetime | None) -> datetime.datetime | None:
    """A time-limited role must end in the future: an end already past would grant nothing, or worse,
    read as a mistake nobody notices. A naive moment is taken in the portal's time zone."""
    if until is None:
        return None
    if timezone.is_naive(until):
        until = timezone.make_aware(until)
    now = timezone.now()
    if until <= now:
        shown = date_format(timezone.localtime(until), "j M Y, H:i")
        raise ActionRefused(f"The end ({shown}) is not in the future. Choose a later date and time.")
    if until > now + MAX_UNTIL:  # also keeps it storable: year 9999 at UTC-12 is no date in UTC
        raise ActionRefused(
            f"The end must be within {MAX_UNTIL.days // 365} years; for a role that lasts, give none."
        )
    return until


def binding_state(binding: RoleBinding | None) -> dict | None:
    """A binding as the audit log keeps it: {"role": …}, with "until" (ISO 8601) and "then" (the role that
    holds again afterwards) when it ends."""
    if binding is None:
        return None
    state = {"role": binding.role}
    if binding.until is not None:
        state["until"] = binding.until.isoformat()
        if binding.role_after:
            state["then"] = binding.role_after
    return state


def _role_after(existing: RoleBinding | None, role: str, until) -> str:
    """What holds again when `role` until `until` ends: the lasting role under the existing binding (a
    time-limited one keeps the role it was raised from). Giving the lasting role itself until a date makes
    that role end then."""
    if until is None or existing is None:
        return ""
    lasting = existing.role_after if existing.until is not None else existing.role
    return "" if lasting == role else lasting


def binding_write(
    *,
    actor: Actor,
    subject: Subject,
    resource: Resource,
    role: str | None,
    until: datetime.datetime | None = None,
) -> tuple[dict | None, dict | None]:
    """Set (or with role=None remove) the one role of `subject` on `resource`, for good or `until` a moment
    (then the role it replaces holds again, see `_role_after`). Returns the binding before and after
    (`binding_state`; equal when nothing changed).

    Low level: checks that the binding is valid (`binding_problem`) and the end is in the future, writes no
    audit event (the caller records the change in its own words); callers check authorization, escalation
    and owners.
    """
    if role is not None and (problem := binding_problem(subject=subject, resource=resource, role=role)):
        raise ActionRefused(problem.message)
    until = until_check(until) if role is not None else None
    lookup = binding_lookup(subject, resource)
    existing = RoleBinding.objects.filter(**lookup).first()
    before = binding_state(existing)
    if role is None:
        if existing:
            existing.delete()
        return before, None
    binding = existing or RoleBinding(created_by=user_or_none(actor), **lookup)
    binding.role, binding.until, binding.role_after = role, until, _role_after(existing, role, until)
    after = binding_state(binding)
    if existing is None:
        binding.save()
    elif after != before:
        binding.save(update_fields=["role", "until", "role_after"])
    return before, after


def binding_put(*, actor: Actor, subject: Subject, resource: Resource, role: str | None, until: Until = None):
    """`binding_write`, and the role granted, changed or removed on record (nothing when nothing changed).
    Returns the previous role (or None)."""
    before, after = binding_write(actor=actor, subject=subject, resource=resource, role=role, until=until)
    if before != after:
        action = (
            Action.ROLE_GRANTED
            if before is None
            else Action.ROLE_REMOVED
            if after is None
            else Action.ROLE_CHANGED
        )
        event_record(
            actor=actor, action=action, resource=resource, subject=subject, before=before, after=after
        )
    return before["role"] if before else None


def replaced_roles(subject: Subject, resource: Resource) -> tuple[str, ...]:
    """The roles a write on the subject's binding here replaces (its role, and the one it returns to), which
    the escalation guard checks like the new one."""
    existing = selectors.binding_of(subject, resource)
    return (existing.role, existing.role_after) if existing else ()


def lost_access_roles_remove(*, actor: Actor, company: Company, users) -> list[RoleBinding]:
    """Run at the end of every change that can take away a user's last way into the company (their company
    role, a group membership, a group): those of `users` left with no access lose their remaining roles on
    its projects and environments too, each on record. The company's pages list only people with company
    access, so a role left behind would be access its owners can neither see nor revoke."""
    lost = selectors.users_without_company_access(company, users)
    if not lost:
        return []
    bindings = selectors.project_bindings_of_users(company, lost)
    RoleBinding.objects.filter(pk__in=[b.pk for b in bindings]).delete()
    for binding in bindings:
        event_record(
            actor=actor,
            action=Action.ROLE_REMOVED,
            resource=binding.resource,
            subject=binding.user,
            before={"role": binding.role},
            message=f"{binding.user} no longer has access to {company}.",
        )
    return bindings


@operation(Action.ROLE_CHANGED)
def company_role_set(
    *,
    actor: Actor,
    company: Company,
    subject: Subject,
    role: str | None,
    until: datetime.datetime | None = None,
) -> str | None:
    """Give `subject` this company role, for good or `until` a moment (None removes the direct company
    role). Returns the previous role. Owners whose ownership ends do not count for the last-owner rule, so
    making the last lasting owner's ownership time-limited is refused."""
    access = AccessResolver(actor)
    with OwnerGuard(company):
        require_company_manager(access, company)
        previous = selectors.binding_role(subject, company)
        check_grantable(access, company, role, *replaced_roles(subject, company))
        binding_put(actor=actor, subject=subject, resource=company, role=role, until=until)
        if role is None and isinstance(subject, User):
            lost_access_roles_remove(actor=actor, company=company, users=[subject])
    return previous


@operation(Action.ROLE_CHANGED)
def role_set(*, actor: Actor, subject: Subject, resource: Resource, role: str | None, until: Until = None):
    """Set (None: remove) the subject's one role on any company, project or environment, for good or
    `until` a moment, with the guards of the page that would make the same change: for callers that write
    single bindings (the admin, the API). Returns the previous role."""
    if resource.level == Level.COMPANY:
        return company_role_set(actor=actor, company=resource, subject=subject, role=role, until=until)
    access = AccessResolver(actor)
    require_project_manager(access, resource.ancestor(Level.PROJECT))
    lock_company(resource.company)
    previous = selectors.binding_role(subject, resource)
    check_grantable(access, resource, role, *replaced_roles(subject, resource))
    binding_put(actor=actor, subject=subject, resource=resource, role=role, until=until)
    return previous


@operation(Action.ROLE_CHANGED)
def project_roles_set(
    *,
    actor: Actor,
    project: Project,
    subject: Subject,
    project_role: str | None,
    environment_roles: dict[Environment, str | None],
    until: datetime.datetime | None = None,
) -> None:
    """Set the project role and the role on each given environment of the project, all or nothing.
    Environments left out of `environment_roles` keep their roles.

    `until` applies to the roles this call changes; a role asked for that is already the one in effect
    there is left as it is, end date included (one dialog edits several roles: changing one must not
    shorten or lengthen the others)."""
    access = AccessResolver(actor)
    require_project_manager(access, project)
    lock_company(project.company)  # identical saves at once end as if one followed the other
    for environment in environment_roles:
        if environment.project_id != project.pk:
            raise ActionRefused(f"Environment {environment.env_id} is not part of {project}.")
    for resource, role in [(project, project_role), *environment_roles.items()]:
        existing = selectors.binding_of(subject, resource)
        if existing is not None and role is not None and existing.role_at(access.now) == role:
            continue
        check_grantable(access, resource, role, *replaced_roles(subject, resource))
        binding_put(actor=actor, subject=subject, resource=resource, role=role, until=until)


UNCHANGED = ...  # in `roles_edit`: leave the project role as it is


@operation(Action.ROLE_CHANGED)
def roles_edit(
    *,
    actor: Actor,
    company: Company,
    subject: Subject,
    company_role: str | None = None,
    projects: list[tuple[Project, str | None, dict[Environment, str | None]]] = (),
    until: datetime.datetime | None = None,
) -> None:
    """Several role changes of one subject, all or nothing (the machine API's PATCH): the company role when
    given, then for each (project, project role, {environment: role}) the project role (`UNCHANGED` keeps it,
    None removes it) and the listed environments' roles (None removes one). `until` makes the roles set here
    end then (see `project_roles_set` for the ones left as they are)."""
    if company_role:
        company_role_set(actor=actor, company=company, subject=subject, role=company_role, until=until)
    for project, project_role, environment_roles in projects:
        if project_role is UNCHANGED:
            kept = selectors.binding_of(subject, project)
            project_role = kept.role_at(timezone.now()) if kept else None
        project_roles_set(
            actor=actor,
            project=project,
            subject=subject,
            project_role=project_role,
            environment_roles=environment_roles,
            until=until,
        )


# -- time-limited roles: extend, end now, and the ones that ended on their own ----------------------


def _require_role_editor(access: AccessResolver, resource: Resource) -> None:
    """Who may edit a role there: the company's managers for company roles, the project's otherwise."""
    if resource.level == Level.COMPANY:
        require_company_manager(access, resource)
    else:
        require_project_manager(access, resource.ancestor(Level.PROJECT))


def _time_limited(binding: RoleBinding, now: datetime.datetime) -> RoleBinding:
    """The binding again, locked, and still running: Extend and End now act on a grant that ends later."""
    locked = RoleBinding.objects.select_for_update().filter(pk=binding.pk).first()
    if locked is None:
        raise ActionRefused("This role no longer exists; reload the page.")
    if locked.until is None:
        raise ActionRefused(f"{locked.subject}'s role on {locked.resource} has no end date.")
    if locked.until <= now:
        raise ActionRefused(f"{locked.subject}'s role on {locked.resource} has already ended.")
    return locked


@operation(Action.ROLE_CHANGED)
def binding_extend(*, actor: Actor, binding: RoleBinding, until: datetime.datetime) -> RoleBinding:
    """ "Extend": a time-limited role ends at another moment (later, or sooner but still in the future)."""
    access = AccessResolver(actor)
    resource = binding.resource
    _require_role_editor(access, resource)
    lock_company(resource.company)
    binding = _time_limited(binding, access.now)
    check_grantable(access, resource, binding.role, binding.role_after)
    before = binding_state(binding)
    binding.until = until_check(until)
    binding.save(update_fields=["until"])
    event_record(
        actor=actor,
        action=Action.ROLE_CHANGED,
        resource=resource,
        subject=binding.subject,
        before=before,
        after=binding_state(binding),
    )
    return binding


@operation(Action.ROLE_ENDED)
def binding_end(*, actor: Actor, binding: RoleBinding) -> None:
    """ "End now": the time-limited role ends at once, with the same guards as editing it."""
    access = AccessResolver(actor)
    resource = binding.resource
    _require_role_editor(access, resource)
    with OwnerGuard(resource.company):
        binding = _time_limited(binding, access.now)
        check_grantable(access, resource, binding.role, binding.role_after)
        _grant_finish(actor, binding)


def _grant_finish(actor: Actor, binding: RoleBinding) -> set[int]:
    """The role a time-limited binding returns to becomes its lasting role, or (none) the binding goes,
    with the access-loss cascade when that was a user's company role; "ended" on record. Returns the ids
    of the bindings the cascade removed."""
    before, after = binding_state(binding), None
    subject, resource = binding.subject, binding.resource
    if binding.role_after:
        binding.role, binding.until, binding.role_after = binding.role_after, None, ""
        binding.save(update_fields=["role", "until", "role_after"])
        after = binding_state(binding)
    else:
        RoleBinding.objects.filter(pk=binding.pk).delete()
    event_record(
        actor=actor, action=Action.ROLE_ENDED, resource=resource, subject=subject, before=before, after=after
    )
    if after is None and resource.level == Level.COMPANY and isinstance(subject, User):
        return {b.pk for b in lost_access_roles_remove(actor=actor, company=resource, users=[subject])}
    return set()


@operation(Action.ROLE_ENDED)
def grants_expire(*, actor: Actor, limit: int = 500) -> int:
    """Tidy up to `limit` grants that have ended (the resolver already ignores them): each becomes the role it
    returns to, or goes. Returns how many; run it again until it returns less than `limit`.

    Several runs at once (cron overlapping itself, two pods) share the work: on PostgreSQL each takes the
    rows nobody else holds (SKIP LOCKED), so none is finished twice."""
    if not AccessResolver(actor).is_superuser:
        raise PermissionDenied("Only the command line and super users tidy ended roles.")
    ended = (
        RoleBinding.objects.filter(until__lte=timezone.now())
        .select_related(
            "user", "group", "service_account", "company", "project__company", "environment__project__company"
        )
        .order_by("pk")
    )
    if connection.features.has_select_for_update_skip_locked:
        ended = ended.select_for_update(skip_locked=True, of=("self",))
    batch, gone = list(ended[:limit]), set()
    for binding in batch:
        if binding.pk not in gone:  # an earlier one's cascade may have removed it (no access left)
            gone |= _grant_finish(actor, binding)
    return len(batch)


@operation(Action.DIRECT_ACCESS_REMOVED)
def company_direct_access_remove(*, actor: Actor, company: Company, user: User) -> int:
    """Delete the user's own bindings on the company and on all its projects and environments.
    Group memberships stay, so access may remain through groups. Returns how many roles were removed."""
    access = AccessResolver(actor)
    with OwnerGuard(company):
        require_company_manager(access, company)
        bindings = selectors.company_bindings_listed(user, company)
        for role in {b.role for b in bindings}:
            check_grantable(access, company, role)
        if not bindings:
            raise ActionRefused(f"{user} has no direct role in {company}.")
        RoleBinding.objects.filter(pk__in=[b.pk for b in bindings]).delete()
        event_record(
            actor=actor,
            action=Action.DIRECT_ACCESS_REMOVED,
            company=company,
            subject=user,
            before={"roles": roles_summary(bindings)},
        )
    return len(bindings)


def roles_summary(bindings) -> list[dict]:
    """Bindings as the audit log keeps them: [{"role": …, "on": "acme/webshop"}, …], company first, then
    by path (the same list whatever order the database returned)."""
    ordered = sorted(bindings, key=lambda b: (list(Level).index(b.level), b.resource.path))
    return [{"role": b.role, "on": b.resource.path} for b in ordered]
