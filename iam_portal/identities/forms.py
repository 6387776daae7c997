import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from iam_portal.access.catalogue import Level
from iam_portal.access.forms import ProjectRolesForm, UntilFields, role_field
from iam_portal.identities.keys import MAX_KEY_TEXT, parse_public_key
from iam_portal.identities.models import Group, ServiceAccount
from iam_portal.identities.names import NAME_MAX_LENGTH, name_clean, name_key

MAX_EMAILS = 500


class AddUserForm(UntilFields):
    email = forms.EmailField(
        label="Email",
        max_length=254,
        help_text="The email of an existing Console account.",
        widget=forms.EmailInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    role = role_field(Level.COMPANY, label="Company role")
    field_order = ("email", "role", "ends", "until")
    until_help = "A company role given until a moment ends then, and with it the access to the company."


class EmailListField(forms.CharField):
    """Email addresses one per line or separated by commas, semicolons or spaces. Cleans to a list of
    distinct lower-case addresses in the order given."""

    widget = forms.Textarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"})

    def to_python(self, value) -> list[str]:
        text = super().to_python(value)
        emails: list[str] = []
        for item in re.split(r"[\s,;]+", text):
            item = item.strip().lower()
            if item and item not in emails:
                emails.append(item)
        return emails

    def validate(self, value: list[str]) -> None:
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")
        invalid = []
        for email in value:
            try:
                validate_email(email)
            except ValidationError:
                invalid.append(email)
        if invalid:
            raise ValidationError(
                "Not valid email addresses: %(emails)s.",
                code="invalid",
                params={"emails": ", ".join(invalid)},
            )
        if len(value) > MAX_EMAILS:
            raise ValidationError(f"Enter at most {MAX_EMAILS} addresses at a time.", code="max")

    def run_validators(self, value) -> None:
        return None  # the CharField length validators would see the list, not the text


def name_field_clean(value: str) -> str:
    """A name field's value in its stored form (`names.name_clean`), or the field's error."""
    try:
        return name_clean(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid") from None


class _UniqueNameMixin:
    """A friendly duplicate-name error on the field; the service checks again inside its transaction."""

    model = None
    what = ""

    def clean_name(self):
        name = name_field_clean(self.cleaned_data["name"])
        others = self.model.objects.filter(company=self.company, name_key=name_key(name))
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError(f"{self.company} already has a {self.what} named “{name}”.", code="unique")
        return name


class GroupForm(_UniqueNameMixin, UntilFields):
    model, what = Group, "group"

    name = forms.CharField(
        label="Name",
        max_length=NAME_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    role = role_field(Level.COMPANY, label="Company role")
    members = EmailListField(
        label="Members",
        required=False,
        help_text="Optional. Emails of existing Console accounts, one per line or separated by commas.",
    )
    field_order = ("name", "role", "ends", "until", "members")

    def __init__(self, *args, company, instance: Group | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.company, self.instance = company, instance
        if instance is not None:
            del self.fields["members"]


class AddMembersForm(forms.Form):
    emails = EmailListField(
        label="Emails",
        help_text="Emails of existing Console accounts, one per line or separated by commas.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["emails"].widget.attrs["autofocus"] = True


class _ServiceAccountFields(forms.Form):
    """What describes a new service account, from the company's page or from a project: both dialogs show
    the name, the company role, then how it signs in (each form's `field_order`)."""

    name = forms.CharField(
        label="Name",
        max_length=NAME_MAX_LENGTH,
        help_text="A name people recognise, e.g. the system that uses it.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    auth_method = forms.ChoiceField(
        label="Authentication method",
        choices=ServiceAccount.AuthMethod.choices,
        initial=ServiceAccount.AuthMethod.CLIENT_SECRET_BASIC,
        widget=forms.RadioSelect,
        help_text=(
            "Client Secret Basic: the Console generates a secret for the machine. Private Key JWT: the machine "
            "signs its requests with its own private key."
        ),
    )
    public_key = forms.CharField(
        label="Public key",
        required=False,
        max_length=MAX_KEY_TEXT,
        strip=True,
        help_text=(
            "Only for Private Key JWT: the RSA public key, as JWK JSON or PEM. Keep the private key on the "
            "machine that signs its tokens."
        ),
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "autocomplete": "off"}),
    )

    def clean_name(self):
        return name_field_clean(self.cleaned_data["name"])

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("auth_method") == ServiceAccount.AuthMethod.PRIVATE_KEY_JWT
            and "public_key" in cleaned
        ):
            try:
                parse_public_key(cleaned["public_key"])
            except ValueError as exc:
                self.add_error("public_key", str(exc))
        else:
            cleaned["public_key"] = ""
        return cleaned


class PublicKeyForm(forms.Form):
    """A replacement public key for a Private Key JWT account."""

    public_key = forms.CharField(
        label="Public key",
        max_length=20000,
        strip=True,
        help_text="The new RSA public key, as JWK JSON or PEM. The old key stops working when you save.",
        widget=forms.Textarea(
            attrs={"rows": 6, "spellcheck": "false", "autocomplete": "off", "autofocus": True}
        ),
    )

    def clean_public_key(self):
        try:
            parse_public_key(self.cleaned_data["public_key"])
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        return self.cleaned_data["public_key"]


class ServiceAccountForm(_UniqueNameMixin, _ServiceAccountFields, UntilFields):
    model, what, instance = ServiceAccount, "service account", None

    role = role_field(Level.COMPANY, label="Company role")
    field_order = ("name", "role", "auth_method", "public_key", "ends", "until")  # as the project's form

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.company = company


# -- from a project: the new identity, its company role, and its project and environment roles ------


class ProjectAddUserForm(ProjectRolesForm):
    email = AddUserForm.base_fields["email"]
    company_role = AddUserForm.base_fields["role"]


class ProjectAddServiceAccountForm(_ServiceAccountFields, ProjectRolesForm):
    company_role = role_field(Level.COMPANY, label="Company role")
    field_order = ("name", "company_role", "auth_method", "public_key")  # as ServiceAccountForm
