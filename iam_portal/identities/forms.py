from django import forms

from iam_portal.access.catalogue import Level
from iam_portal.access.forms import role_field


class AddUserForm(forms.Form):
    email = forms.EmailField(
        label="Email",
        max_length=254,
        help_text="The email of an existing Console account.",
        widget=forms.EmailInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    role = role_field(Level.COMPANY, label="Company role")
