"""Bearer authentication of the machine API: the access tokens of the token endpoint, nothing else.

No session cookie and no CSRF token are read: a signed-in browser gets 401 here like anyone without a token.
"""

from __future__ import annotations

from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from iam_portal.api.tokens import InvalidToken, account_for_token
from iam_portal.identities.models import ServiceAccount

MISSING = "Send an access token: Authorization: Bearer <token> (from POST /api/m2m/oauth/token)."


class ServiceAccountBearer(HttpBearer):
    def __call__(self, request) -> ServiceAccount:
        scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError(message=MISSING)
        return self.authenticate(request, token.strip())

    def authenticate(self, request, token: str) -> ServiceAccount:
        try:
            return account_for_token(request, token)
        except InvalidToken as exc:
            raise AuthenticationError(message=str(exc)) from None


bearer = ServiceAccountBearer()
