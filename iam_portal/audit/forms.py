"""The audit log's filters, kept in the URL: ?from=&to= (dates), actor, subject, action, project, outcome,
and identity (one identity's history). Validation only; names are turned into identities by a selector."""

from __future__ import annotations

from django import forms

from iam_portal.audit.models import Action, Outcome

# The action filter, grouped as people look for them.
ACTION_GROUPS = (
    ("Roles", (Action.ROLE_GRANTED, Action.ROLE_CHANGED, Action.ROLE_REMOVED, Action.ROLE_ENDED)),
    ("Users", (Action.USER_ADDED, Action.USER_REMOVED, Action.DIRECT_ACCESS_REMOVED)),
    (
        "Groups",
        (
            Action.GROUP_CREATED,
            Action.GROUP_RENAMED,
            Action.GROUP_DELETED,
            Action.MEMBER_ADDED,
            Action.MEMBER_REMOVED,
        ),
    ),
    (
        "Service accounts",
        (
            Action.SERVICE_ACCOUNT_CREATED,
            Action.SERVICE_ACCOUNT_DELETED,
            Action.SECRET_ROTATED,
            Action.KEY_REPLACED,
            Action.TOKEN_ISSUED,
        ),
    ),
    ("Sign-in", (Action.SIGNIN_SUCCEEDED, Action.SIGNIN_FAILED, Action.SIGNIN_LOCKED_OUT)),
    ("The log", (Action.AUDIT_PRUNED,)),
)
ACTION_CHOICES = [("", "All actions")] + [
    (group, [(action.value, action.label) for action in actions]) for group, actions in ACTION_GROUPS
]
OUTCOME_CHOICES = [("", "Any outcome"), *Outcome.choices]
FILTERS = ("from", "to", "actor", "subject", "action", "project", "outcome", "identity")


class AuditFilterForm(forms.Form):
    """Bound to request.GET. `projects` (id, name) offers the project filter (the company log only)."""

    def __init__(self, data, *, projects: list[tuple[int, str]] | None = None):
        super().__init__({k: v for k, v in data.items() if k in FILTERS})
        self.fields["from"] = forms.DateField(label="From", required=False, widget=_date())
        self.fields["to"] = forms.DateField(label="To", required=False, widget=_date())
        self.fields["actor"] = forms.CharField(label="Actor", required=False, max_length=254, widget=_name())
        self.fields["subject"] = forms.CharField(
            label="Subject", required=False, max_length=254, widget=_name()
        )
        self.fields["action"] = forms.ChoiceField(label="Action", required=False, choices=ACTION_CHOICES)
        if projects is not None:
            self.fields["project"] = forms.TypedChoiceField(
                label="Project",
                required=False,
                coerce=int,
                empty_value=None,
                choices=[("", "All projects"), *projects],
            )
        self.fields["outcome"] = forms.ChoiceField(label="Outcome", required=False, choices=OUTCOME_CHOICES)
        self.fields["identity"] = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and end and end < start:
            self.add_error("to", "The end date comes before the start date.")
        return cleaned


def _date() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _name() -> forms.TextInput:
    return forms.TextInput(attrs={"placeholder": "Email or name"})
