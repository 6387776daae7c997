from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import Case, CharField, F, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce, NullIf

from iam_portal.access import catalogue
from iam_portal.access.catalogue import ROLE_CHOICES, ROLES_BY_LEVEL, Level, role_label
from iam_portal.identities.models import GroupMembership

_SUBJECTS = ("user", "group", "service_account")
_RESOURCES = tuple(level.value for level in Level)


def _exactly_one(fields: tuple[str, ...]) -> Q:
    options = Q()
    for chosen in fields:
        options |= Q(**{f"{field}__isnull": field != chosen for field in fields})
    return options


def role_rank_expression(field: str) -> Case:
    """The rank of the role in `field` (0 for none), for sorting by role in SQL."""
    return Case(
        *[When(**{field: role.id}, then=Value(role.rank)) for role in catalogue.ROLES.values()],
        default=Value(0),
        output_field=IntegerField(),
    )


def _bound(to) -> models.ForeignKey:
    """A subject or resource column of a binding: empty unless it is the one the binding names; the binding
    goes with what it binds."""
    return models.ForeignKey(
        to, null=True, blank=True, on_delete=models.CASCADE, related_name="role_bindings"
    )


class RoleBinding(models.Model):
    """One role given to one subject (user, group or service account) on one resource.

    A subject holds at most one role per resource; roles on different resources add up and flow down
    the hierarchy (company → project → environment).
    """

    role = models.CharField(max_length=32, choices=ROLE_CHOICES)
    # A time-limited grant: `role` holds until `until`, then `role_after` holds again ("" = no role). The
    # resolver reads the effective role at request time (`effective_role_sql`), so an ended grant stops
    # working at once; `manage.py expire_grants` only tidies the row and records "ended" in the audit log.
    until = models.DateTimeField(null=True, blank=True)
    role_after = models.CharField(max_length=32, choices=ROLE_CHOICES, blank=True, default="")
    # The ranks of both roles, kept by the database: sorting by role compares two small integers instead of
    # compiling and evaluating a six-way CASE per role on every row (`effective_rank_expression`).
    rank = models.GeneratedField(
        expression=role_rank_expression("role"), output_field=models.SmallIntegerField(), db_persist=True
    )
    rank_after = models.GeneratedField(
        expression=role_rank_expression("role_after"),
        output_field=models.SmallIntegerField(),
        db_persist=True,
    )

    # Exactly one subject column and one resource column are set (the constraints below).
    user = _bound(settings.AUTH_USER_MODEL)
    group = _bound("identities.Group")
    service_account = _bound("identities.ServiceAccount")

    company = _bound("orgs.Company")
    project = _bound("orgs.Project")
    environment = _bound("orgs.Environment")

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=_exactly_one(_SUBJECTS), name="binding_has_one_subject"),
            models.CheckConstraint(condition=_exactly_one(_RESOURCES), name="binding_has_one_resource"),
            models.CheckConstraint(
                condition=(
                    Q(company__isnull=False, role__in=ROLES_BY_LEVEL[Level.COMPANY])
                    | Q(project__isnull=False, role__in=ROLES_BY_LEVEL[Level.PROJECT])
                    | Q(environment__isnull=False, role__in=ROLES_BY_LEVEL[Level.ENVIRONMENT])
                ),
                name="binding_role_valid_for_level",
            ),
            models.CheckConstraint(
                condition=Q(role_after="")
                | Q(until__isnull=False, company__isnull=False, role_after__in=ROLES_BY_LEVEL[Level.COMPANY])
                | Q(until__isnull=False, project__isnull=False, role_after__in=ROLES_BY_LEVEL[Level.PROJECT])
                | Q(
                    until__isnull=False,
                    environment__isnull=False,
                    role_after__in=ROLES_BY_LEVEL[Level.ENVIRONMENT],
                ),
                name="binding_role_after_needs_until_and_fits_level",
            ),
            # One role per subject per resource. The partial unique indexes double as the lookup
            # indexes of the resolver ("bindings of this subject on these resources").
            *[
                models.UniqueConstraint(
                    fields=[subject, resource],
                    condition=Q(**{f"{subject}__isnull": False, f"{resource}__isnull": False}),
                    name=f"one_role_per_{subject}_per_{resource}",
                )
                for subject in _SUBJECTS
                for resource in _RESOURCES
            ],
        ]
        indexes = [
            # "Every binding on this resource" (IAM tables, owner checks).
            models.Index(fields=["company", "role"], name="binding_company_role_idx"),
            # The last-owner rule asks for lasting owners (`selectors.company_owners`): "Company Owner, or
            # back to Company Owner after a time-limited role". Without it, every owner check read all
            # 67,000 company bindings of the 100k company (18 ms, twice per role dialog).
            models.Index(
                fields=["company"],
                name="binding_company_owner_idx",
                condition=Q(role=catalogue.COMPANY_OWNER) | Q(role_after=catalogue.COMPANY_OWNER),
            ),
            models.Index(fields=["project"], name="binding_project_idx"),
            models.Index(fields=["environment"], name="binding_environment_idx"),
            # `expire_grants` finds the ended grants.
            models.Index(fields=["until"], name="binding_until_idx", condition=Q(until__isnull=False)),
        ]

    def __str__(self) -> str:
        # The path names the project of an environment: "Production" alone says nothing in the admin.
        return f"{role_label(self.role)}: {self.subject} on {self.level} {self.resource.path}"

    @property
    def subject(self):
        return self.user or self.group or self.service_account

    @property
    def resource(self):
        return self.company or self.project or self.environment

    def role_at(self, moment) -> str | None:
        """The role this binding gives at `moment`: `role` until `until`, then `role_after` (or none)."""
        if self.until is None or self.until > moment:
            return self.role
        return self.role_after or None

    @property
    def level(self) -> Level:
        if self.company_id:
            return Level.COMPANY
        if self.project_id:
            return Level.PROJECT
        return Level.ENVIRONMENT


def effective_role_q(roles, moment) -> Q:
    """Bindings whose role at `moment` is one of `roles` (time-limited grants read at request time)."""
    roles = list(roles)
    return Q(role__in=roles) & (Q(until__isnull=True) | Q(until__gt=moment)) | Q(
        until__lte=moment, role_after__in=roles
    )


def in_effect_q(moment) -> Q:
    """Bindings that give some role at `moment` (an ended grant with nothing after it gives none)."""
    return Q(until__isnull=True) | Q(until__gt=moment) | ~Q(role_after="")


def effective_role_sql(alias: str = "b", moment: str = "%(now)s") -> str:
    """The same rule for hand-written SQL: the role a binding row gives at `moment` (NULL for none)."""
    return (
        f"CASE WHEN {alias}.until IS NULL OR {alias}.until > {moment} THEN {alias}.role "
        f"ELSE NULLIF({alias}.role_after, '') END"
    )


def effective_role_expression(moment, prefix: str = "") -> Case:
    """The same rule as an ORM expression on the binding at `prefix` ("" for the row itself,
    "company_binding__" through a relation): its role at `moment`, NULL for none (or no binding)."""
    running = Q(**{f"{prefix}until__isnull": True}) | Q(**{f"{prefix}until__gt": moment})
    return Case(
        When(running, then=F(f"{prefix}role")),
        default=NullIf(F(f"{prefix}role_after"), Value("")),
        output_field=CharField(),
    )


def effective_rank_expression(moment, prefix: str = "") -> Coalesce:
    """The rank of `effective_role_expression`: 0 for no role (or no binding)."""
    running = Q(**{f"{prefix}until__isnull": True}) | Q(**{f"{prefix}until__gt": moment})
    return Coalesce(
        Case(When(running, then=F(f"{prefix}rank")), default=F(f"{prefix}rank_after")),
        Value(0),
        output_field=IntegerField(),
    )


def running_expression(field: str, moment, prefix: str = "") -> Case:
    """`field` ("until" or "role_after") of a binding whose time-limited role still runs at `moment`, else
    NULL: what the tables show after the role ("until … · then …")."""
    return Case(When(Q(**{f"{prefix}until__gt": moment}), then=F(f"{prefix}{field}")), default=None)


@dataclass(frozen=True)
class BindingProblem:
    """Why a binding may not exist: `field` is "role", "subject" or "resource", for forms to place it."""

    field: str
    message: str


def binding_problem(
    *, subject, resource, role: str | None, company_access: bool | None = None
) -> BindingProblem | None:
    """Is this binding valid, and if not why: the one statement of the rules that services, the admin and the
    forms check before writing. The database constraints above stay as the last line of defence.

    Every role sits where the company's owners can see and revoke it: a user gets a project or environment
    role only once they have access to its company (a company role, or one of its groups). `company_access`
    says whether they will have it when the binding is written (a form that grants both in one save);
    None looks it up."""
    level = resource.level
    if role and not catalogue.is_role_valid_for(role, level):
        allowed = ", ".join(catalogue.role_label(r) for r in ROLES_BY_LEVEL[level])
        article = "an" if level == Level.ENVIRONMENT else "a"
        label = catalogue.role_label(role) or repr(role)
        return BindingProblem(
            "role",
            f"{label} cannot be bound on {article} {level}; {level} roles are: {allowed}.",
        )
    owner_company_id = getattr(subject, "company_id", resource.company_id)
    if owner_company_id is None:
        return BindingProblem(
            "subject",
            "A root service account holds Console root permissions, not roles; "
            "give roles to company service accounts only.",
        )
    if owner_company_id != resource.company_id:
        kind = "group" if subject._meta.model_name == "group" else "service account"
        return BindingProblem(
            "resource",
            f"This {kind} belongs to another company; "
            "bind it only on its own company, or on that company's projects and environments.",
        )
    if subject._meta.model_name == "user" and level != Level.COMPANY:
        company = resource.company
        if company_access is None:
            company_access = user_reaches_company(subject, company)
        if not company_access:
            return BindingProblem(
                "subject",
                f"{subject} has no access to {company}, so its owners could neither see nor revoke this role. "
                f"Give them a company role in {company} (or add them to one of its groups) first.",
            )
    return None


def user_reaches_company(user, company) -> bool:
    """Company access: a company role of their own, or membership of one of the company's groups."""
    return (
        RoleBinding.objects.filter(user=user, company=company).exists()
        or GroupMembership.objects.filter(user=user, group__company=company).exists()
    )


class CompanyUserCount(models.Model):
    """How many users have access to a company, kept between requests: counting them means a UNION of the
    company's user bindings and its groups' memberships, 0.15 to 0.2 s at 100,000 users, and every IAM, Users
    and Project IAM page shows the number.

    Every change of who has access (a company binding of a user, a membership; `access.counts`) raises
    `version` in its own transaction; a count is kept for the version it was made at and used only while
    that version is current and no time-limited grant has ended since (`fresh_until`)."""

    # No database constraint: the triggers write this row from inside other tables' changes, and a bulk
    # deletion of every table (the test runner's flush) must not trip over one. The ORM still deletes it with
    # its company, and a row older than its company is never read (`counts.kept_user_count`).
    company = models.OneToOneField(
        "orgs.Company", primary_key=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    version = models.BigIntegerField(default=0)
    counted_version = models.BigIntegerField(null=True)
    users = models.IntegerField(null=True)
    counted_at = models.DateTimeField(null=True)
    # The first time-limited user grant of the company that ends with no role after it: the count is
    # wrong from then on, though nothing was written.
    fresh_until = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"{self.users} users (version {self.counted_version} of {self.version})"
