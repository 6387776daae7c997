from allauth.account.forms import LoginForm as AllauthLoginForm
from django import forms
from django.conf import settings

from iam_portal.signin import events

PASSWORD_SIGNIN_OFF = (
    "Password sign-in is turned off for your account: use the button of your organisation's identity "
    "provider above."
)


class LoginForm(AllauthLoginForm):
    """Email and password. With PASSWORD_SIGNIN=superusers only super users get through (break-glass).

    The email field keeps the name the sign-in form always had, `username` (scripts, password managers and
    the benchmark post it); allauth reads it as its `login` field."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        email = self.fields.pop("login")
        email.label = "Email"
        email.widget.attrs = {"autocomplete": "username", "spellcheck": "false", "autocapitalize": "none"}
        self.fields = {"username": email, **self.fields}
        password = self.fields["password"]
        password.help_text = ""  # the reset link is the page's, shown only when mail works
        password.widget.attrs = {"autocomplete": "current-password"}

    def clean_username(self):
        value = self.cleaned_data["username"].strip()
        self.cleaned_data["login"] = value
        return value

    def clean(self):
        cleaned = super().clean()
        user = self.user
        if user is not None and settings.PASSWORD_SIGNIN == "superusers" and not user.is_superuser:
            self.user = None
            events.signin_refused(
                self.request, method="password", reason="password_signin_off", email=user.email
            )
            raise forms.ValidationError(PASSWORD_SIGNIN_OFF, code="password_signin_off")
        return cleaned
