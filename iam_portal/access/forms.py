from django import forms

from iam_portal.access import catalogue
from iam_portal.access.catalogue import Level


def role_field(level: Level, *, label: str = "Role", required: bool = True, empty_label: str = "No role"):
    choices = [(r, catalogue.role_label(r)) for r in catalogue.ROLES_BY_LEVEL[level]]
    if not required:
        choices = [("", empty_label), *choices]
    return forms.ChoiceField(label=label, choices=choices, required=required)


class CompanyRoleForm(forms.Form):
    role = role_field(Level.COMPANY, label="Company role")
