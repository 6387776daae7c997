from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from iam_portal.signin.adapters import SIGNIN_METHOD
from iam_portal.signin.twofactor import has_authenticator_app, two_factor_required

# What a staff member without an authenticator app may still open: setting one up, and signing out.
ENROLMENT_PAGES = {
    "mfa_index",
    "mfa_activate_totp",
    "mfa_view_recovery_codes",
    "mfa_generate_recovery_codes",
    "mfa_download_recovery_codes",
    "account_reauthenticate",
    "mfa_reauthenticate",
    "logout",
    "account_logout",
    "admin_logout",
}


class TwoFactorRequiredMiddleware:
    """With TWO_FACTOR_REQUIRED_FOR_STAFF, staff and super users who signed in with a password go to the
    authenticator set-up before any other page, the admin included. (A provider sign-in relies on the
    provider's own second factor.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or not two_factor_required(user):
            return None
        if str(request.session.get(SIGNIN_METHOD, "")).startswith("oidc:"):
            return None
        if request.resolver_match.url_name in ENROLMENT_PAGES or has_authenticator_app(user):
            return None
        url = reverse("mfa_activate_totp")
        if request.htmx:
            return HttpResponse(status=204, headers={"HX-Redirect": url})
        return redirect(url)


class ProviderFormActionMiddleware:
    """The "Sign in with …" buttons and the sign-out form POST to the portal, which redirects to the identity
    provider; browsers hold that redirect to the page's CSP form-action, so the providers' origins join
    'self' there. (Sits after django-csp's middleware, so that it adds to the policy before it is sent.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        origins = sorted({origin_of(p["issuer"]) for p in settings.OIDC_PROVIDERS})
        if origins:
            update = dict(getattr(response, "_csp_update", None) or {})
            update["form-action"] = [*update.get("form-action", []), *origins]
            response._csp_update = update
        return response


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
