from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from iam_portal.signin import events
from iam_portal.signin.adapters import PROVIDER_LOGOUT, provider_config


@require_POST
def logout(request):
    """Ends the portal session and, when the session came from a provider that supports it, sends the
    browser on to the provider's end-session endpoint (RP-initiated logout), which returns to sign-in."""
    user = request.user
    provider_url = _provider_logout_url(request)
    get_adapter(request).logout(request)
    if user.is_authenticated:
        events.signed_out(request, user, provider_logout=bool(provider_url))
    return redirect(provider_url or resolve_url(settings.LOGOUT_REDIRECT_URL))


def _provider_logout_url(request) -> str:
    stored = request.session.get(PROVIDER_LOGOUT) or {}
    config = provider_config(stored.get("provider", ""))
    endpoint = stored.get("end_session_endpoint", "")
    if config is None or not config["logout"] or not endpoint.startswith(("https://", "http://")):
        return ""
    parts = urlsplit(endpoint)
    after = request.build_absolute_uri(resolve_url(settings.LOGOUT_REDIRECT_URL))
    query = [*parse_qsl(parts.query), ("client_id", config["client_id"]), ("post_logout_redirect_uri", after)]
    if stored.get("id_token_hint"):
        query.append(("id_token_hint", stored["id_token_hint"]))
    return urlunsplit(parts._replace(query=urlencode(query)))


def admin_login(request):
    """The admin signs in on the portal's own page, so the lockout, the second factor and password-off
    rules hold there too; a signed-in person without admin access gets 403 instead of a redirect loop."""
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        next_url = reverse("admin:index")
    if request.user.is_authenticated:
        if request.user.is_active and request.user.is_staff:
            return redirect(next_url)
        raise PermissionDenied("Your account has no access to the Console admin.")
    return redirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")


def not_offered(request, *args, **kwargs):
    """allauth pages the portal does not offer (sign-up, email management, …)."""
    raise Http404("This page is not offered.")
