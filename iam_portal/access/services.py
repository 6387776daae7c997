"""Writes to role bindings, with every rule that guards them.

Rules enforced here, for every caller (portal views, admin actions, commands):
- authorization: only those who may manage the company's (or the project's) identities change roles;
- escalation guard: an actor grants, changes or removes a role only up to the role they effectively
  hold on that resource (super users hold every role);
- last owner: a company that has a user who is effectively Company Owner keeps at least one. The company
  row is locked first, so two concurrent changes cannot both remove "the other" owner.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from iam_portal.access import catalogue
from iam_portal.access.catalogue import COMPANY_OWNER, Level
from iam_portal.access.models import RoleBinding
from iam_portal.access.resolver import AccessResolver, user_or_none
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from iam_portal.orgs.models import Company, Environment, Project

Subject = User | Group | ServiceAccount
Resource = Company | Project | Environment


class ActionRefused(Exception):
    """A rule refused the change. The message is written for the person who asked for it."""


class EscalationRefused(ActionRefused):
    pass


class LastOwnerRefused(ActionRefused):
    pass


LAST_OWNER_MESSAGE = (
    "{company} must keep at least one Company Owner. Make someone else Company Owner first, then try again."
)


# -- authorization --------------------------------------------------------------------------------


def require_company_manager(actor_access: AccessResolver, company: Company) -> None:
    if not actor_access.can("company.identities.manage", company):
        raise PermissionDenied("You may not manage the identities of this company.")


def require_project_manager(actor_access: AccessResolver, project: Project) -> None:
    if not actor_access.can("project.identities.manage", project):
        raise PermissionDenied("You may not manage the identities of this project.")


def check_grantable(actor_access: AccessResolver, resource: Resource, *roles: str | None) -> None:
    """Refuse when any of `roles` (the new one, the one being replaced) ranks above the actor's own.

    Holders of the root key console.root.user.bind administer every binding of the Console (they can in
    the admin too), so no company or project role ranks above them."""
    if "console.root.user.bind" in actor_access.root_keys:
        return
    own = actor_access.role_on(resource)
    for role in roles:
        if role and catalogue.role_rank(role) > catalogue.role_rank(own):
            raise EscalationRefused(
                f"You can only grant or change roles up to your own ({catalogue.role_label(own) or 'none'}) "
                f"on {resource}; {catalogue.role_label(role)} is above it."
            )


# -- last owner -----------------------------------------------------------------------------------


def lock_company(company: Company) -> None:
    """Serialise every owner-affecting change of one company (no-op on SQLite, which locks the file)."""
    Company.objects.select_for_update().filter(pk=company.pk).values_list("pk").first()


def company_owners(company: Company):
    """Active users who are effectively Company Owner: directly, or through one of the company's groups."""
    owner_groups = RoleBinding.objects.filter(
        company=company, role=COMPANY_OWNER, group_id=OuterRef("group_id")
    )
    return User.objects.filter(is_active=True).filter(
        Exists(RoleBinding.objects.filter(company=company, role=COMPANY_OWNER, user_id=OuterRef("pk")))
        | Exists(GroupMembership.objects.filter(user_id=OuterRef("pk")).filter(Exists(owner_groups)))
    )


class OwnerGuard:
    """Use around a change: `with OwnerGuard(company): ...` locks the company, remembers whether it had an
    owner, and after the change refuses (rolling back the enclosing transaction) if none is left."""

    def __init__(self, company: Company):
        self.company = company

    def __enter__(self):
        lock_company(self.company)
        self.had_owner = company_owners(self.company).exists()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None and self.had_owner and not company_owners(self.company).exists():
            raise LastOwnerRefused(LAST_OWNER_MESSAGE.format(company=self.company))
        return False


# -- bindings -------------------------------------------------------------------------------------


def _subject_field(subject: Subject) -> str:
    if isinstance(subject, User):
        return "user"
    if isinstance(subject, Group):
        return "group"
    if isinstance(subject, ServiceAccount):
        return "service_account"
    raise TypeError(f"Not a subject: {subject!r}")


def _resource_field(resource: Resource) -> Level:
    if isinstance(resource, Company):
        return Level.COMPANY
    if isinstance(resource, Project):
        return Level.PROJECT
    if isinstance(resource, Environment):
        return Level.ENVIRONMENT
    raise TypeError(f"Not a resource: {resource!r}")


def _company_of(resource: Resource) -> Company:
    if isinstance(resource, Company):
        return resource
    if isinstance(resource, Project):
        return resource.company
    return resource.project.company


def current_role(subject: Subject, resource: Resource) -> str | None:
    return (
        RoleBinding.objects.filter(
            **{_subject_field(subject): subject, _resource_field(resource).value: resource}
        )
        .values_list("role", flat=True)
        .first()
    )


def put_binding(*, actor: User | None, subject: Subject, resource: Resource, role: str | None) -> str | None:
    """Set (or with role=None remove) the one role of `subject` on `resource`. Returns the previous role.

    Low level: checks that the role fits the level and that the subject belongs to the resource's company;
    callers check authorization, escalation and owners.
    """
    level = _resource_field(resource)
    if role is not None and not catalogue.is_role_valid_for(role, level):
        allowed = ", ".join(catalogue.role_label(r) for r in catalogue.ROLES_BY_LEVEL[level])
        raise ActionRefused(
            f"{catalogue.role_label(role) or role!r} cannot be given on a {level}; use {allowed}."
        )
    company = _company_of(resource)
    subject_company_id = getattr(subject, "company_id", company.pk)
    if subject_company_id != company.pk:
        raise ActionRefused(f"{subject} belongs to another company.")
    lookup = {_subject_field(subject): subject, level.value: resource}
    existing = RoleBinding.objects.filter(**lookup).first()
    previous = existing.role if existing else None
    if role is None:
        if existing:
            existing.delete()
    elif existing is None:
        RoleBinding.objects.create(role=role, created_by=user_or_none(actor), **lookup)
    elif existing.role != role:
        existing.role = role
        existing.save(update_fields=["role"])
    return previous


@transaction.atomic
def company_role_set(*, actor: User, company: Company, subject: Subject, role: str | None) -> str | None:
    """Give `subject` this company role (None removes the direct company role). Returns the previous role."""
    access = AccessResolver(actor)
    with OwnerGuard(company):
        require_company_manager(access, company)
        previous = current_role(subject, company)
        check_grantable(access, company, role, previous)
        put_binding(actor=actor, subject=subject, resource=company, role=role)
    return previous


@transaction.atomic
def project_roles_set(
    *,
    actor: User,
    project: Project,
    subject: Subject,
    project_role: str | None,
    environment_roles: dict[Environment, str | None],
) -> None:
    """Set the project role and the role on each given environment of the project, all or nothing."""
    access = AccessResolver(actor)
    require_project_manager(access, project)
    for environment in environment_roles:
        if environment.project_id != project.pk:
            raise ActionRefused(f"Environment {environment.env_id} is not part of {project}.")
    check_grantable(access, project, project_role, current_role(subject, project))
    put_binding(actor=actor, subject=subject, resource=project, role=project_role)
    for environment, role in environment_roles.items():
        check_grantable(access, environment, role, current_role(subject, environment))
        put_binding(actor=actor, subject=subject, resource=environment, role=role)


def company_bindings_of(subject: Subject, company: Company):
    """Every binding of the subject on the company, its projects and their environments."""
    return RoleBinding.objects.filter(**{_subject_field(subject): subject}).filter(
        Q(company=company) | Q(project__company=company) | Q(environment__project__company=company)
    )


@transaction.atomic
def company_direct_access_remove(*, actor: User, company: Company, user: User) -> int:
    """Delete the user's own bindings on the company and on all its projects and environments.
    Group memberships stay, so access may remain through groups. Returns how many roles were removed."""
    access = AccessResolver(actor)
    with OwnerGuard(company):
        require_company_manager(access, company)
        bindings = company_bindings_of(user, company)
        for role in {b.role for b in bindings}:
            check_grantable(access, company, role)
        removed, _ = bindings.delete()
    if not removed:
        raise ActionRefused(f"{user} has no direct role in {company}.")
    return removed
