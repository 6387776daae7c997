"""The audit log: one row per change of access (or refused attempt), kept as a hash chain per company.

Rows hold snapshots (names, paths) and plain ids, never foreign keys: an event must outlive the user,
group, project or company it names, and the table refuses UPDATE and DELETE on PostgreSQL (migration
0002), which cascading deletes would need.
"""

from django.db import models


class Action(models.TextChoices):
    ROLE_GRANTED = "role.granted", "Role granted"
    ROLE_CHANGED = "role.changed", "Role changed"
    ROLE_REMOVED = "role.removed", "Role removed"
    ROLE_ENDED = "role.ended", "Role ended"
    USER_ADDED = "user.added", "User added to the company"
    USER_REMOVED = "user.removed", "User removed from the company"
    DIRECT_ACCESS_REMOVED = "user.direct_access_removed", "Direct access removed"
    GROUP_CREATED = "group.created", "Group created"
    GROUP_RENAMED = "group.renamed", "Group renamed"
    GROUP_DELETED = "group.deleted", "Group deleted"
    MEMBER_ADDED = "member.added", "Member added"
    MEMBER_REMOVED = "member.removed", "Member removed"
    SERVICE_ACCOUNT_CREATED = "service_account.created", "Service account created"
    SERVICE_ACCOUNT_DELETED = "service_account.deleted", "Service account deleted"
    SECRET_ROTATED = "service_account.secret_rotated", "Client secret rotated"
    KEY_REPLACED = "service_account.key_replaced", "Public key replaced"
    TOKEN_ISSUED = "token.issued", "Token issued"
    SIGNIN_SUCCEEDED = "signin.succeeded", "Signed in"
    SIGNIN_FAILED = "signin.failed", "Sign-in failed"
    SIGNIN_LOCKED_OUT = "signin.locked_out", "Locked out"
    AUDIT_PRUNED = "audit.pruned", "Old audit events deleted"


class Outcome(models.TextChoices):
    SUCCESS = "success", "Done"
    REFUSED = "refused", "Refused"


class Source(models.TextChoices):
    PORTAL = "portal", "Portal"
    API = "api", "Machine API"
    ADMIN = "admin", "Django admin"
    COMMAND = "command", "Command line"
    SSO = "sso", "Identity provider"


class ActorKind(models.TextChoices):
    USER = "user", "User"
    SUPERUSER = "superuser", "Super user"
    SERVICE_ACCOUNT = "service-account", "Service account"
    COMMAND = "command", "Command line"
    IDENTITY_PROVIDER = "identity-provider", "Identity provider"
    ANONYMOUS = "anonymous", "Anonymous"


class AuditEvent(models.Model):
    # The chain: events of one company (company_id 0: the Console, e.g. sign-ins) numbered 1, 2, 3…; each
    # stores the digest of the previous one and of its own content (see services.event_digest).
    company_id = models.BigIntegerField(default=0)
    seq = models.BigIntegerField()
    prev_digest = models.CharField(max_length=64)
    digest = models.CharField(max_length=64)

    occurred_at = models.DateTimeField()
    actor_kind = models.CharField(max_length=20, choices=ActorKind.choices)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=254)
    action = models.CharField(max_length=40, choices=Action.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    message = models.TextField(blank=True)

    company_name = models.CharField(max_length=200, blank=True)
    resource_level = models.CharField(max_length=12, blank=True)  # company, project, environment
    resource_path = models.CharField(max_length=200, blank=True)  # acme, acme/webshop, acme/webshop/prod
    resource_name = models.CharField(max_length=200, blank=True)
    project_id = models.BigIntegerField(null=True, blank=True)  # set for project and environment events

    subject_kind = models.CharField(max_length=20, blank=True)  # user, group, service-account
    subject_id = models.BigIntegerField(null=True, blank=True)
    subject_name = models.CharField(max_length=254, blank=True)

    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    source = models.CharField(max_length=10, choices=Source.choices)
    request_id = models.CharField(max_length=64, blank=True)
    client_ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company_id", "seq"], name="audit_seq_unique_in_chain")
        ]
        indexes = [
            # Newest first, per company, for every filter the pages offer (keyset on id). Within a company
            # id, seq and occurred_at grow together (services.event_record), so a date range becomes an id
            # range found through audit_time_idx, and every filter index ends with the id.
            models.Index(fields=["company_id", "-id"], name="audit_company_idx"),
            # actor_id first: "user 12" is actor_kind user or superuser, and an IN on the kind would cost
            # a sort; the kind is then checked on the few rows of that id.
            models.Index(fields=["company_id", "actor_id", "-id"], name="audit_actor_idx"),
            models.Index(
                fields=["company_id", "subject_kind", "subject_id", "-id"], name="audit_subject_idx"
            ),
            models.Index(fields=["company_id", "project_id", "-id"], name="audit_project_idx"),
            models.Index(fields=["company_id", "action", "-id"], name="audit_action_idx"),
            models.Index(fields=["company_id", "outcome", "-id"], name="audit_outcome_idx"),
            models.Index(fields=["company_id", "occurred_at", "id"], name="audit_time_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_name}"
