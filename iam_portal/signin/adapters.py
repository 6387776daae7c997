"""The portal's rules for django-allauth (settings ACCOUNT_ADAPTER, SOCIALACCOUNT_ADAPTER, MFA_ADAPTER).

- Nobody signs up: accounts are created by super users, or just in time by a provider that allows it.
- A provider sign-in is linked to the existing account with the same *verified* email; an unverified email,
  an unknown account (JIT off) or an inactive account is refused with a clear page, and nothing is created.
- After every provider sign-in, memberships of mapped groups follow the provider (sync.py).
"""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.base import AuthError
from django.conf import settings
from django.contrib import messages
from requests import RequestException

from iam_portal.identities.models import User
from iam_portal.signin import events
from iam_portal.signin.provider.oidc import PortalOIDCProvider, SignInError
from iam_portal.signin.refusals import refusal_response
from iam_portal.signin.sync import memberships_sync
from iam_portal.signin.twofactor import two_factor_required

# Session keys: how this session signed in ("password" or "oidc:<id>"), and what RP-initiated logout needs.
SIGNIN_METHOD = "signin_method"
PROVIDER_LOGOUT = "signin_provider_logout"


def provider_config(provider_id: str) -> dict | None:
    return next((p for p in settings.OIDC_PROVIDERS if p["id"] == provider_id), None)


# allauth's "Successfully signed in as …" and "You have signed out." toasts say what the page already shows.
QUIET_MESSAGES = {"account/messages/logged_in.txt", "account/messages/logged_out.txt"}


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False

    def add_message(self, request, level, message_template=None, *args, **kwargs):
        if message_template not in QUIET_MESSAGES:
            super().add_message(request, level, message_template, *args, **kwargs)

    def authentication_failed(self, request, **credentials):
        email = str(credentials.get("email") or "")[:254]
        events.signin_refused(request, method="password", reason="wrong_password", email=email)

    def post_login(self, request, user, **kwargs):
        response = super().post_login(request, user, **kwargs)
        sociallogin = (kwargs.get("signal_kwargs") or {}).get("sociallogin")
        if sociallogin is None:
            request.session[SIGNIN_METHOD] = "password"
            request.session.pop(PROVIDER_LOGOUT, None)
            events.signin_succeeded(request, user, method="password")
            return response
        provider_id = sociallogin.provider.app.provider_id
        request.session[SIGNIN_METHOD] = f"oidc:{provider_id}"
        request.session[PROVIDER_LOGOUT] = {
            "provider": provider_id,
            "end_session_endpoint": sociallogin.state.get("end_session_endpoint", ""),
            "id_token_hint": sociallogin.state.get("id_token_hint", ""),
        }
        events.signin_succeeded(request, user, method=f"oidc:{provider_id}")
        config = provider_config(provider_id)
        if config is not None:
            result = memberships_sync(
                user=user, provider=config, claims=sociallogin.account.extra_data.get("userinfo") or {}
            )
            _report_sync(request, result, config["name"])
        return response


def _report_sync(request, result, provider_name: str) -> None:
    if result is None:
        return
    changes = [f"added to {_label(g)}" for g in result.added] + [
        f"removed from {_label(g)}" for g in result.removed
    ]
    if changes:
        messages.info(request, f"Group memberships updated from {provider_name}: {'; '.join(changes)}.")
    for group, reason in result.kept:
        messages.warning(
            request,
            f"{provider_name} no longer lists you in {_label(group)}, but you stay a member: {reason}",
        )


def _label(group) -> str:
    return f"{group.name} ({group.company.name})"


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request, provider=None, client_id=None):
        """The providers of settings.OIDC_PROVIDERS (never the database: configuration lives in the environment)."""
        apps = []
        for config in settings.OIDC_PROVIDERS:
            if provider not in (None, config["id"], PortalOIDCProvider.id):
                continue
            if client_id not in (None, config["client_id"]):
                continue
            apps.append(
                SocialApp(
                    provider=PortalOIDCProvider.id,
                    provider_id=config["id"],
                    name=config["name"],
                    client_id=config["client_id"],
                    secret=config["client_secret"],
                    settings=config,
                )
            )
        return apps

    def pre_social_login(self, request, sociallogin):
        provider = sociallogin.provider.app.settings
        addresses = [a for a in sociallogin.email_addresses if isinstance(a.email, str) and a.email.strip()]
        email = next((a.email for a in addresses if a.verified), "")
        if sociallogin.is_existing:  # this provider account was linked before
            user = sociallogin.user
        else:
            claimed = next((a.email for a in addresses), "")
            if not claimed:
                self._refuse(request, provider, "no_email")
            if not email:
                self._refuse(request, provider, "unverified_email", claimed)
            user = User.objects.filter(email__iexact=email.strip()).first()
            if user is None:
                if not provider["jit"]:
                    self._refuse(request, provider, "unknown_account", email)
                return  # allauth creates the account (is_open_for_signup) and signs it in
            if user.is_active:
                sociallogin.connect(request, user)
        if not user.is_active:
            self._refuse(request, provider, "inactive", user.email)

    def _refuse(self, request, provider: dict, reason: str, email: str = ""):
        events.signin_refused(request, method=f"oidc:{provider['id']}", reason=reason, email=email)
        raise ImmediateHttpResponse(refusal_response(request, reason, provider=provider["name"], email=email))

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return bool(sociallogin.provider.app.settings.get("jit"))

    def populate_user(self, request, sociallogin, data):
        def text(key: str) -> str:
            return data[key].strip() if isinstance(data.get(key), str) else ""

        user = sociallogin.user
        user.email = text("email").lower()
        user.full_name = (text("name") or f"{text('first_name')} {text('last_name')}".strip())[:200]
        return user

    def save_user(self, request, sociallogin, form=None):
        user = super().save_user(request, sociallogin, form)
        events.account_created_by_provider(user, provider_id=sociallogin.provider.app.provider_id)
        return user

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):
        if error == AuthError.CANCELLED:
            events.signin_refused(request, method=f"oidc:{provider.app.provider_id}", reason="cancelled")
            return  # allauth shows "sign-in cancelled"
        if isinstance(exception, SignInError):
            reason, detail = exception.code, exception.detail
        elif isinstance(exception, RequestException):
            reason, detail = "provider_unreachable", str(exception)
        elif exception is not None:
            reason, detail = "provider_error", str(exception)
        elif extra_context and "state_id" in extra_context and not extra_context.get("state"):
            reason, detail = "unknown_state", "no sign-in started with this state in this session"
        else:
            reason, detail = "provider_error", request.GET.get("error", "")[:200]
        events.signin_refused(
            request, method=f"oidc:{provider.app.provider_id}", reason=reason, detail=detail
        )
        raise ImmediateHttpResponse(refusal_response(request, reason, provider=provider.app.name))


class MFAAdapter(DefaultMFAAdapter):
    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "cannot_delete_authenticator": (
            "Staff accounts must keep two-factor authentication, so it cannot be turned off here. To move "
            "it to a new device, ask a super user to remove your authenticator in the Console admin, then "
            "set it up again."
        ),
    }

    def can_delete_authenticator(self, authenticator) -> bool:
        return not two_factor_required(authenticator.user)
