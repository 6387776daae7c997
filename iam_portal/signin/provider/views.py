from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.http import Http404

from iam_portal.signin.provider.oidc import PortalOIDCAdapter


class CallbackView(OAuth2CallbackView):
    def _get_state(self, request, provider):
        # Hand this sign-in's stashed state (nonce, PKCE verifier) to the adapter that checks the ID token.
        state, response = super()._get_state(request, provider)
        self.adapter.state = state
        return state, response


def oidc_login(request, provider_id):
    """Starts a sign-in: POST (from the sign-in page's button) redirects to the provider."""
    try:
        return OAuth2LoginView.adapter_view(PortalOIDCAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404("No such identity provider.") from None


def oidc_callback(request, provider_id):
    """Where the provider sends the browser back with a code (or an error)."""
    try:
        return CallbackView.adapter_view(PortalOIDCAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404("No such identity provider.") from None
