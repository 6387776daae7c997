"""Everything under /accounts/: allauth's pages, of which only those listed here are offered.

Every other allauth page (sign-up, email management, login by code, passkeys, …) keeps its URL name, so
allauth's own links still resolve, but answers 404. The password-reset pages answer only when mail is
configured (settings.PASSWORD_RESET_ENABLED).
"""

from functools import wraps

from allauth.account import views as account_views
from allauth.urls import urlpatterns as allauth_urlpatterns
from django.conf import settings
from django.urls import URLPattern, URLResolver, path

from iam_portal.signin import views

OFFERED = {
    "account_login",
    "account_inactive",
    "account_reauthenticate",
    "socialaccount_login_cancelled",
    "socialaccount_login_error",
    "oidc_login",
    "oidc_callback",
    "mfa_index",
    "mfa_authenticate",
    "mfa_reauthenticate",
    "mfa_activate_totp",
    "mfa_deactivate_totp",
    "mfa_view_recovery_codes",
    "mfa_generate_recovery_codes",
    "mfa_download_recovery_codes",
}
NEED_MAIL = {
    "account_reset_password",
    "account_reset_password_done",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
}


def mail_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not settings.PASSWORD_RESET_ENABLED:
            return views.not_offered(request)
        return view(request, *args, **kwargs)

    return wrapper


def offered_only(patterns):
    kept = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            kept.append(
                URLResolver(
                    pattern.pattern,
                    offered_only(pattern.url_patterns),
                    pattern.default_kwargs,
                    pattern.app_name,
                    pattern.namespace,
                )
            )
        elif pattern.name in OFFERED:
            kept.append(pattern)
        else:
            view = mail_required(pattern.callback) if pattern.name in NEED_MAIL else views.not_offered
            kept.append(URLPattern(pattern.pattern, view, pattern.default_args, pattern.name))
    return kept


urlpatterns = [
    # The project's short names for the two fixed URLs.
    path("login/", account_views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    *offered_only(allauth_urlpatterns),
]
