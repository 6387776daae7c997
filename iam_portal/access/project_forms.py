"""Forms of the Project IAM page: project and per-environment roles, and adding identities from a project."""

from django import forms

from iam_portal.access.catalogue import Level
from iam_portal.access.forms import role_field
from iam_portal.identities.models import ServiceAccount
from iam_portal.orgs.models import Environment

ENV_PREFIX = "env_"


class ProjectRolesForm(forms.Form):
    """One select for the project role and one per environment of the project ("" means no role).

    Environment fields are named `env_<pk>`; a posted `env_…` that is not an environment of this project is
    an error, so nothing is changed when ids from elsewhere are sent."""

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

    @property
    def environment_fields(self) -> list:
        return [self[self.env_field(environment)] for environment in self.environments]

    @property
    def project_fields(self) -> list:
        return [self["project_role"]]

    @property
    def identity_fields(self) -> list:
        """The fields that describe the new identity (none when editing roles)."""
        roles = {"project_role", *(self.env_field(e) for e in self.environments)}
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
        return {
            environment: self.cleaned_data.get(self.env_field(environment)) or None
            for environment in self.environments
        }


class ProjectAddUserForm(ProjectRolesForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"] = forms.EmailField(
            label="Email",
            max_length=254,
            help_text="The email of an existing Console account.",
            widget=forms.EmailInput(attrs={"autocomplete": "off", "autofocus": True}),
        )
        self.fields["company_role"] = role_field(Level.COMPANY, label="Company role")
        self.order_fields(["email", "company_role", "project_role"])


class ProjectAddServiceAccountForm(ProjectRolesForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"] = forms.CharField(
            label="Name",
            max_length=200,
            help_text="A name people recognise, e.g. the job or tool that uses it.",
            widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
        )
        self.fields["auth_method"] = forms.ChoiceField(
            label="Authentication method",
            choices=ServiceAccount.AuthMethod.choices,
            initial=ServiceAccount.AuthMethod.CLIENT_SECRET_BASIC,
            widget=forms.RadioSelect,
        )
        self.fields["public_key"] = forms.CharField(
            label="Public key",
            required=False,
            help_text="Only for Private Key JWT: the public half of your key pair, as a JWK or in PEM. "
            "Keep the private half to sign tokens.",
            widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
        )
        self.fields["company_role"] = role_field(Level.COMPANY, label="Company role")
        self.order_fields(["name", "auth_method", "public_key", "company_role", "project_role"])

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("auth_method") == ServiceAccount.AuthMethod.PRIVATE_KEY_JWT
            and not cleaned.get("public_key", "").strip()
        ):
            self.add_error(
                "public_key", "Paste the public key the service account will sign its tokens with."
            )
        return cleaned
