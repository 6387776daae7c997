"""Forms for roles: the company role, and the project role with one select per environment."""

import datetime

from django import forms
from django.urls import reverse_lazy
from django.utils import timezone

from iam_portal.access import catalogue
from iam_portal.access.catalogue import Level
from iam_portal.access.services import MAX_UNTIL
from iam_portal.orgs.models import Environment

ENV_PREFIX = "env_"


class RoleSelect(forms.Select):
    """A role select whose options can carry a note (`notes`: role → "already inherited") or be disabled
    (`disabled`: the roles a rule forbids here, explained by the field's help; the services refuse them
    anyway). Views set both per dialog."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.notes: dict[str, str] = {}
        self.disabled: frozenset[str] = frozenset()

    def __deepcopy__(self, memo):
        copy = super().__deepcopy__(memo)
        copy.notes, copy.disabled = dict(self.notes), self.disabled
        return copy

    def create_option(self, name, value, label, *args, **kwargs):
        if value in self.notes:  # "Developer (already inherited) — as Reporter, and …"
            name, dash, summary = str(label).partition(" — ")
            label = f"{name} ({self.notes[value]}){dash}{summary}"
        option = super().create_option(name, value, label, *args, **kwargs)
        if value in self.disabled:
            option["attrs"]["disabled"] = True
        return option


def role_field(level: Level, *, label: str = "Role", required: bool = True, empty_label: str = "No role"):
    """The one role picker: each option says what the role allows at `level` (catalogue.role_summary), and
    `_field.html` shows the whole list for the chosen role under it (`{% role_allows %}`), which htmx
    refreshes when the choice changes; without JavaScript it is right for the choice the page came with."""
    choices = [(r, catalogue.role_summary(r, level)) for r in catalogue.ROLES_BY_LEVEL[level]]
    if not required:
        choices = [("", empty_label), *choices]
    widget = RoleSelect(
        attrs={
            "hx-get": reverse_lazy("role_allows", args=[level.value]),
            "hx-target": "next .role-allows",
            "hx-swap": "innerHTML",
            # Its own queue: never hold up (or drop) the dialog's submit, which syncs on the form.
            "hx-sync": "this:replace",
        }
    )
    field = forms.ChoiceField(label=label, choices=choices, required=required, widget=widget)
    field.role_level = level
    return field


QUICK_ENDS = {
    "1d": datetime.timedelta(days=1),
    "7d": datetime.timedelta(days=7),
    "30d": datetime.timedelta(days=30),
}
ENDS_CHOICES = [
    ("never", "Never"),
    ("1d", "In 1 day"),
    ("7d", "In 1 week"),
    ("30d", "In 30 days"),
    ("date", "On the date below"),
]


class UntilFields(forms.Form):
    """The optional end of the roles a dialog sets: `ends` (never, a quick choice counted from now, or the
    date) and `until`, a date-time input. Both are plain fields, so it works without JavaScript; `until()`
    is the moment the service gets (None: the roles are lasting)."""

    ends = forms.ChoiceField(label="Until", choices=ENDS_CHOICES, required=False, initial="never")
    until = forms.DateTimeField(
        label="End date and time",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": "Enter the end as a date and a time, for example 2026-12-04 17:00."},
    )
    until_help = "Roles given until a moment end then; the role they replaced (or none) holds again."

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ends"].help_text = self.until_help
        self.fields[
            "until"
        ].help_text = (
            f"Used when Until is “On the date below” (time zone {timezone.get_current_timezone_name()})."
        )

    @classmethod
    def initial_until(cls, binding) -> dict:
        """Initial values showing the end of `binding` (a RoleBinding or None), so that saving the dialog
        unchanged keeps it."""
        if binding is None or binding.until is None or binding.until <= timezone.now():
            return {"ends": "never"}
        return {"ends": "date", "until": timezone.localtime(binding.until)}

    @property
    def until_fields(self) -> list:
        return [self["ends"], self["until"]]

    def clean(self):
        cleaned = super().clean()
        ends, moment = cleaned.get("ends") or "never", cleaned.get("until")
        if ends in QUICK_ENDS:
            cleaned["until"] = timezone.now() + QUICK_ENDS[ends]
        elif ends != "date":
            cleaned["until"] = None
        elif moment is None and "until" not in self.errors:
            self.add_error("until", "Enter the date and time the roles end, or choose another Until.")
        elif moment is not None and moment <= timezone.now():
            self.add_error("until", "The end must be in the future.")
        elif moment is not None and moment > timezone.now() + MAX_UNTIL:
            self.add_error("until", "The end must be within 10 years; for a role that lasts, choose Never.")
        return cleaned

    def role_until(self) -> datetime.datetime | None:
        return self.cleaned_data.get("until")

    def service_kwargs(self, *names: str) -> dict:
        """The cleaned `names`, and `until`, as a service takes them."""
        return {name: self.cleaned_data[name] for name in names} | {"until": self.role_until()}


class CompanyRoleForm(UntilFields):
    role = role_field(Level.COMPANY, label="Company role")
    field_order = ["role", "ends", "until"]


class ExtendForm(UntilFields):
    """Extend: a new end for a time-limited role (never is not a choice: that is Edit's job)."""

    until_help = "Counted from now. The role it returns to afterwards stays the same."

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ends"].choices = ENDS_CHOICES[1:]
        self.fields["ends"].required = True
        self.fields["ends"].label = "Ends"


class ProjectRolesForm(UntilFields):
    """One select for the project role and one per environment of the project ("" means no role).

    Environment fields are named `env_<pk>`; a posted `env_…` that is not an environment of this project is
    an error, so nothing is changed when ids from elsewhere are sent. Forms that add an identity from a
    project (`identities.forms`) extend this one with the identity's own fields."""

    def __init__(self, *args, environments: list[Environment], **kwargs):
        super().__init__(*args, **kwargs)
        self.environments = list(environments)
        self.fields["project_role"] = role_field(
            Level.PROJECT, label="Project role", required=False, empty_label="No project role"
        )
        for environment in self.environments:
            self.fields[self.env_field(environment)] = role_field(
                Level.ENVIRONMENT, label=environment.name, required=False, empty_label="No role"
            )
            self.fields[self.env_field(environment)].environment = environment

    @staticmethod
    def env_field(environment: Environment) -> str:
        return f"{ENV_PREFIX}{environment.pk}"

    @classmethod
    def initial_for(cls, own_roles: dict, environments: list[Environment]) -> dict:
        """Initial values from `selectors.project_own_roles` ({"project": role, env pk: role})."""
        initial = {"project_role": own_roles.get("project") or ""}
        initial |= {cls.env_field(env): own_roles.get(env.pk) or "" for env in environments}
        return initial

    @classmethod
    def offered(cls, query, environments: list[Environment]) -> dict:
        """Initial values from a query string (roles chosen in another dialog, see
        `identities.views.project_user_add`): only the valid ones, the rest as they are."""
        form = cls(query, environments=environments)
        form.is_valid()
        return {
            name: form.cleaned_data[name] or ""
            for name in form.fields
            if name in query and name in form.cleaned_data
        }

    @property
    def environment_fields(self) -> list:
        return [self[self.env_field(environment)] for environment in self.environments]

    @property
    def project_fields(self) -> list:
        return [self["project_role"]]

    until_help = (
        "Applies to the roles this save changes; the others keep their end. When it comes, the role each "
        "replaced (or none) holds again."
    )

    @property
    def identity_fields(self) -> list:
        """The fields that describe the new identity (none when editing roles)."""
        roles = {"project_role", "ends", "until", *(self.env_field(e) for e in self.environments)}
        return [self[name] for name in self.fields if name not in roles]

    def clean(self):
        cleaned = super().clean()
        known = {self.env_field(environment) for environment in self.environments}
        if self.data and any(key.startswith(ENV_PREFIX) and key not in known for key in self.data):
            raise forms.ValidationError(
                "Some of the environments sent are not part of this project. Reload the page and try again."
            )
        return cleaned

    def project_role(self) -> str | None:
        return self.cleaned_data.get("project_role") or None

    def environment_roles(self) -> dict[Environment, str | None]:
        """The role chosen for each environment whose field was sent. A field left out of the POST (a dialog
        opened before the environment existed) means "unchanged", so that environment is not in the result."""
        return {
            environment: self.cleaned_data.get(self.env_field(environment)) or None
            for environment in self.environments
            if self.env_field(environment) in self.data
        }


_ABOUT = {
    Level.COMPANY: "About the company",
    Level.PROJECT: "About a project",
    Level.ENVIRONMENT: "About an environment",
}
_KEYS_AT = {
    Level.COMPANY: "Permission keys of a company role",
    Level.PROJECT: "Permission keys of a project role",
    Level.ENVIRONMENT: "Permission keys of an environment role",
}
PERMISSION_CHOICES = [
    *[
        (
            _ABOUT[level],
            [(cap.name, cap.label) for cap in catalogue.CAPABILITIES.values() if cap.target == level],
        )
        for level in Level
    ],
    *[
        (_KEYS_AT[level], [(p.key, p.key) for p in catalogue.PERMISSIONS if p.level == level])
        for level in Level
    ],
    ("Console root keys", [(key, key) for key in catalogue.ROOT_PERMISSIONS]),
]


class WhyForm(forms.Form):
    """ "Why can they …?": a capability or a permission key, and a resource of the company (by its path)."""

    permission = forms.ChoiceField(
        label="Can they",
        choices=PERMISSION_CHOICES,
        error_messages={
            "required": "Choose what to ask about.",
            "invalid_choice": "Choose one of the listed permissions or permission keys.",
        },
    )
    resource = forms.ChoiceField(
        label="On",
        error_messages={
            "required": "Choose where: the company, one of its projects or environments.",
            "invalid_choice": "Choose the company, one of its projects or environments.",
        },
    )

    def __init__(self, *args, resources: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.resources = {resource.path: resource for resource in resources}
        choices, group = [], None
        for resource in resources:
            if resource.level == Level.COMPANY:
                choices.append((resource.path, f"{resource.name} (company)"))
            elif resource.level == Level.PROJECT:
                group = (resource.name, [(resource.path, f"{resource.name} (project)")])
                choices.append(group)
            else:
                group[1].append((resource.path, f"{resource.name} ({resource.project.name})"))
        self.fields["resource"].choices = choices

    def clean(self):
        cleaned = super().clean()
        capability = catalogue.CAPABILITIES.get(cleaned.get("permission"))
        resource = self.resources.get(cleaned.get("resource"))
        if capability and resource and capability.target != resource.level:
            article = "an" if capability.target == Level.ENVIRONMENT else "a"
            self.add_error(
                "resource",
                f"“{capability.label}” is a question about {article} {capability.target}: choose one.",
            )
        return cleaned

    def answer_args(self) -> dict:
        return {
            "permission": self.cleaned_data["permission"],
            "resource": self.resources[self.cleaned_data["resource"]],
        }
