"""Events in words: one sentence per event, and its before → after as rows, for the pages and the CSV.

Everything comes from the event's own snapshots (names, paths, before/after), never from the live rows it
names: the words stay right after the user, group or project is renamed or deleted. Stored before/after
may be any JSON (older shapes, other writers), so every value is read defensively.
"""

from __future__ import annotations

import datetime
import json

from iam_portal.access import catalogue
from iam_portal.audit.models import Action, ActorKind, AuditEvent, Outcome
from iam_portal.audit.services import DIGEST_FIELDS
from iam_portal.dates import moment

# What happened, in the past tense. Fields: {actor} {subject} {subjects} (possessive) {resource} {company}
# {role} (the new one) {old_role} {name} {old_name} {group} {members} {emails} {what}.
DONE = {
    Action.ROLE_GRANTED: "{actor} gave {subject} the {role} role on {resource}",
    Action.ROLE_CHANGED: "{actor} changed {subjects} role on {resource} from {old_role} to {role}",
    Action.ROLE_REMOVED: "{actor} removed {subjects} {old_role} role on {resource}",
    Action.ROLE_ENDED: "{subjects} {old_role} role on {resource} ended",
    Action.USER_ADDED: "{actor} added {subject} to {company} as {role}",
    Action.USER_REMOVED: "{actor} removed {subject} from {company}",
    Action.DIRECT_ACCESS_REMOVED: "{actor} removed {subjects} direct access to {company}",
    Action.GROUP_CREATED: "{actor} created {subject} with the {role} role{members}",
    Action.GROUP_RENAMED: "{actor} renamed the group {old_name} to {name}",
    Action.GROUP_DELETED: "{actor} deleted {subject}",
    Action.MEMBER_ADDED: "{actor} added {subject} to the group {group}",
    Action.MEMBER_REMOVED: "{actor} removed {subject} from the group {group}",
    Action.SERVICE_ACCOUNT_CREATED: "{actor} created {subject} with the {role} role",
    Action.SERVICE_ACCOUNT_DELETED: "{actor} deleted {subject}",
    Action.SECRET_ROTATED: "{actor} issued a new client secret for {subject}",
    Action.KEY_REPLACED: "{actor} replaced the public key of {subject}",
    Action.TOKEN_ISSUED: "{actor} obtained an access token",
    Action.SIGNIN_SUCCEEDED: "{actor} signed in",
    Action.SIGNIN_FAILED: "A sign-in as {who} failed",
    Action.SIGNIN_LOCKED_OUT: "{who} was locked out after too many failed sign-ins",
    Action.AUDIT_PRUNED: "{actor} deleted {deleted} audit events older than {cutoff}",
}

# What was attempted, after "… tried to", for refusals (the asked values are in `after`).
TRIED = {
    Action.ROLE_GRANTED: "give {subject} a role on {resource}{to_role}",
    Action.ROLE_CHANGED: "change {subjects} role on {resource}{to_role}",
    Action.ROLE_REMOVED: "remove {subjects} role on {resource}",
    Action.USER_ADDED: "add {who} to {company}{as_role}",
    Action.USER_REMOVED: "remove {subject} from {company}",
    Action.DIRECT_ACCESS_REMOVED: "remove {subjects} direct access to {company}",
    Action.GROUP_CREATED: "create the group {name}{with_role}",
    Action.GROUP_RENAMED: "edit {subject}",
    Action.GROUP_DELETED: "delete {subject}",
    Action.MEMBER_ADDED: "add {emails} to {subject}",
    Action.MEMBER_REMOVED: "remove {subject} from the group {group}",
    Action.SERVICE_ACCOUNT_CREATED: "create the service account {name}{with_role}",
    Action.SERVICE_ACCOUNT_DELETED: "delete {subject}",
    Action.SECRET_ROTATED: "issue a new client secret for {subject}",
    Action.KEY_REPLACED: "replace the public key of {subject}",
    Action.TOKEN_ISSUED: "obtain an access token",
}

# Time-limited roles: an end moved ("Extend"), and a role ended by a person ("End now") rather than by the
# clock (expire_grants, whose events keep the DONE sentence without an actor).
_TIME_LIMITED = {
    (
        Action.ROLE_CHANGED,
        "end moved",
    ): "{actor} moved the end of {subjects} {role} role on {resource} to {until}",
    (Action.ROLE_ENDED, "by a person"): "{actor} ended {subjects} {old_role} role on {resource}",
}


def _time_limited_case(event: AuditEvent) -> str:
    before, after = _side(event.before), _side(event.after)
    if event.action == Action.ROLE_CHANGED and before.get("role") == after.get("role"):
        return "end moved"
    if event.action == Action.ROLE_ENDED and event.actor_kind != ActorKind.COMMAND:
        return "by a person"
    return ""


ACTORS = {
    ActorKind.COMMAND: "The command line",
    ActorKind.IDENTITY_PROVIDER: "The identity provider",
    ActorKind.ANONYMOUS: "Someone who was not signed in",
}
SUBJECT_NOUNS = {"group": "the group ", "service-account": "the service account ", "user": ""}
UNKNOWN = "—"


class _Values(dict):
    def __missing__(self, key):
        return UNKNOWN


def _side(value) -> dict:
    return value if isinstance(value, dict) else {}


def _role(value) -> str:
    return catalogue.role_label(value) if isinstance(value, str) and value else UNKNOWN


def possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def actor_label(event: AuditEvent) -> str:
    return ACTORS.get(event.actor_kind) or event.actor_name or UNKNOWN


def subject_label(event: AuditEvent) -> str:
    if not event.subject_kind:
        return UNKNOWN
    return SUBJECT_NOUNS.get(event.subject_kind, "") + (event.subject_name or f"#{event.subject_id}")


def _values(event: AuditEvent) -> _Values:
    before, after = _side(event.before), _side(event.after)
    subject = subject_label(event)
    role = after.get("role") or after.get("company_role") or after.get("project_role")
    members = after.get("members")
    emails = after.get("emails")
    asked_role = f" to {_role(role)}" if role else ""
    return _Values(
        actor=actor_label(event),
        subject=subject,
        subjects=possessive(subject),
        resource=event.resource_name or event.resource_path or UNKNOWN,
        company=event.company_name or UNKNOWN,
        role=_role(role),
        old_role=_role(before.get("role")),
        name=str(after.get("name") or event.subject_name or UNKNOWN),
        old_name=str(before.get("name") or UNKNOWN),
        group=str(after.get("group") or before.get("group") or UNKNOWN),
        members=f" and {len(members)} member{'s' if len(members) != 1 else ''}"
        if isinstance(members, list) and members
        else "",
        emails=", ".join(str(e) for e in emails) if isinstance(emails, list) and emails else "members",
        who=event.subject_name or str(after.get("email") or UNKNOWN),
        to_role=asked_role,
        as_role=f" as {_role(role)}" if role else "",
        with_role=f" with the {_role(role)} role" if role else "",
        deleted=str(after.get("deleted", UNKNOWN)),
        cutoff=str(after.get("cutoff", UNKNOWN))[:10],
        until=_text("until", after.get("until")),
    )


def _fill(template: str, values: _Values) -> str:
    return template.format_map(values)


def event_sentence(event: AuditEvent) -> str:
    """ "Olivia Owner changed Jun One's role on Webshop from Developer to Maintainer"; a refusal:
    "Jun One tried to change Paula Manager's role on Webshop to Project Administrator — refused: …"."""
    values = _values(event)
    if event.outcome == Outcome.REFUSED:
        attempt = TRIED.get(event.action)
        what = _fill(attempt, values) if attempt else f"do this: {event.get_action_display().lower()}"
        message = f" — refused: {event.message}" if event.message else " — refused"
        return f"{values['actor']} tried to {what}{message}"
    template = _TIME_LIMITED.get((event.action, _time_limited_case(event)))
    if template is not None:
        return _fill(template, values)
    template = DONE.get(event.action)
    if template is None:
        return f"{values['actor']}: {event.get_action_display()}"
    # A role given until a moment says so: "… from Developer to Maintainer until 4 Dec 2026, 17:00".
    ends = event.action != Action.ROLE_ENDED and _side(event.after).get("until")
    return _fill(template, values) + (f" until {values['until']}" if ends else "")


# -- before → after -------------------------------------------------------------------------------

LABELS = {
    "role": "Role",
    "until": "Until",
    "then": "Then",
    "company_role": "Company role",
    "project_role": "Project role",
    "environment_roles": "Environment roles",
    "name": "Name",
    "email": "Email",
    "emails": "Emails",
    "members": "Members",
    "groups": "Groups",
    "roles": "Roles",
    "group": "Group",
    "auth_method": "Authentication method",
    "client_id": "Client id",
    "kid": "Key id",
    "deleted": "Events deleted",
    "cutoff": "Older than",
    "kept_from": "Chain now starts at",
    "anchor": "Digest before it",
}
ROLE_KEYS = ("role", "company_role", "project_role", "then")


def _text(key: str, value) -> str:
    """One stored value in words: role ids as labels, lists joined, role lists as "Developer on acme"."""
    if value is None or value == "" or value == []:
        return UNKNOWN
    if key in ROLE_KEYS:
        return _role(value)
    if key == "until" and isinstance(value, str):
        try:
            return moment(datetime.datetime.fromisoformat(value))
        except ValueError:
            return value
    if key == "roles" and isinstance(value, list):
        return "; ".join(
            f"{_role(r.get('role'))} on {r.get('on', UNKNOWN)}" if isinstance(r, dict) else str(r)
            for r in value
        )
    if key == "environment_roles" and isinstance(value, dict):
        return "; ".join(f"{env}: {_role(role) if role else 'no role'}" for env, role in value.items())
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def event_changes(event: AuditEvent) -> list[tuple[str, str, str]]:
    """(what, before, after) for every key either side holds, in a stable order."""
    before, after = _side(event.before), _side(event.after)
    keys = [k for k in LABELS if k in before or k in after]
    keys += sorted(k for k in {*before, *after} if k not in LABELS)
    return [
        (
            LABELS.get(key, key.replace("_", " ").capitalize()),
            _text(key, before.get(key)) if key in before else UNKNOWN,
            _text(key, after.get(key)) if key in after else UNKNOWN,
        )
        for key in keys
    ]


# -- export (CSV; the API can use the same fields) ------------------------------------------------------

# The stored fields under their own names, so that an exported file can be checked against the chain
# (services.event_digest covers DIGEST_FIELDS, occurred_at and prev_digest).
EXPORT_COLUMNS = ("occurred_at", "event", *DIGEST_FIELDS, "prev_digest", "digest")


def event_export(event: AuditEvent) -> dict:
    """Every stored field of the event, plus its sentence, as plain values in EXPORT_COLUMNS order: the
    time in UTC (ISO 8601, microseconds, as digested), before/after as JSON text."""
    values = {name: getattr(event, name) for name in EXPORT_COLUMNS if name != "event"}
    values["occurred_at"] = event.occurred_at.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    values["event"] = event_sentence(event)
    values["before"], values["after"] = _json(event.before), _json(event.after)
    return {name: values[name] for name in EXPORT_COLUMNS}


def _json(value) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)
