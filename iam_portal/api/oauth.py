"""The OAuth 2.0 side of the machine API: the token endpoint (client credentials grant), the public keys
that sign its tokens (JWKS) and the authorization server metadata (RFC 8414)."""

from __future__ import annotations

from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_safe
from ninja import Router

from iam_portal.api import client_auth, schemas, signing, throttle, tokens
from iam_portal.api.client_auth import TOKEN_PATH, OAuthError
from iam_portal.identities.models import ServiceAccount
from iam_portal.identities.services import service_account_token_issued

router = Router(tags=["OAuth 2.0"])

FORM = "application/x-www-form-urlencoded"
TOKEN_DESCRIPTION = f"""The client credentials grant (RFC 6749 §4.4). A form-encoded body with
`grant_type=client_credentials` and one client authentication:

- `client_secret_basic`: header `Authorization: Basic base64(client_id ":" client_secret)` (each part
  form-urlencoded first, as RFC 6749 §2.3.1 says and Go's oauth2 does);
- `private_key_jwt` (RFC 7523): `client_assertion_type={client_auth.ASSERTION_TYPE}` and `client_assertion`,
  a JWT signed RS256 with the account's private key: header `kid` = the account's key id; claims
  `iss` = `sub` = the client id, `aud` = `{client_auth.ASSERTION_AUDIENCE}` (or this endpoint's URL), `exp` at
  most an hour ahead, a `jti` used once. `client_id` may be sent too.

Answers `{{"access_token", "token_type": "Bearer", "expires_in": {tokens.ACCESS_TOKEN_LIFETIME}}}` and sets the
account's last login. Errors follow RFC 6749 §5.2 (`error`, `error_description`, plus `statusCode` and
`message`): 400 for a malformed request, 401 `invalid_client` when authentication fails, 429 with
`Retry-After` after {throttle.CLIENT_LIMIT} failures for one client id or {throttle.ADDRESS_LIMIT} from one
address within {int(throttle.WINDOW.total_seconds() // 60)} minutes."""


def oauth_error(status: int, error: str, description: str, **headers: str) -> JsonResponse:
    response = JsonResponse(
        {"error": error, "error_description": description, "statusCode": status, "message": description},
        status=status,
    )
    response["Cache-Control"] = "no-store"
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="iam-portal"'
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


@router.post(
    "/m2m/oauth/token",
    auth=None,
    response={
        200: schemas.TokenResponse,
        400: schemas.OAuthErrorBody,
        401: schemas.OAuthErrorBody,
        429: schemas.OAuthErrorBody,
    },
    summary="Get an access token (client credentials)",
    description=TOKEN_DESCRIPTION,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                FORM: {
                    "schema": {
                        "type": "object",
                        "required": ["grant_type"],
                        "properties": {
                            "grant_type": {"type": "string", "enum": ["client_credentials"]},
                            "client_assertion_type": {"type": "string"},
                            "client_assertion": {"type": "string"},
                            "client_id": {"type": "string"},
                        },
                    }
                }
            },
        }
    },
)
@sensitive_variables("credentials")
def token(request):
    if request.content_type != FORM:
        return oauth_error(400, "invalid_request", f"Send the parameters form-encoded ({FORM}).")
    grant_type = request.POST.get("grant_type")
    if not grant_type:
        return oauth_error(400, "invalid_request", "grant_type is missing.")
    if grant_type != "client_credentials":
        return oauth_error(400, "unsupported_grant_type", "Only grant_type=client_credentials is supported.")
    try:
        credentials = client_auth.read_client_credentials(request)
    except OAuthError as exc:
        return oauth_error(exc.status, exc.error, exc.description)

    keys = throttle.keys_for(credentials.client_id, throttle.client_address(request))
    wait = throttle.retry_after(keys)
    if wait is not None:
        return oauth_error(
            429,
            "temporarily_unavailable",
            f"Too many failed authentications; try again in {wait} seconds.",
            Retry_After=str(wait),
        )
    try:
        account = client_auth.authenticate_client(request, credentials)
    except OAuthError as exc:
        throttle.record_failure(keys)
        return oauth_error(exc.status, exc.error, exc.description)

    now = timezone.now()
    access_token = tokens.access_token_issue(request, account, now=now)
    service_account_token_issued(account=account, at=now)
    response = JsonResponse(
        {"access_token": access_token, "token_type": "Bearer", "expires_in": tokens.ACCESS_TOKEN_LIFETIME}
    )
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


@require_safe
def jwks(request):
    """The public keys that verify the access tokens (the current one first)."""
    response = JsonResponse(signing.jwks())
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_safe
def authorization_server_metadata(request):
    """RFC 8414 metadata; the issuer is the portal's origin as the client reached it."""
    issuer = tokens.issuer(request)
    return JsonResponse(
        {
            "issuer": issuer,
            "token_endpoint": issuer + TOKEN_PATH,
            "jwks_uri": issuer + "/.well-known/jwks.json",
            "grant_types_supported": ["client_credentials"],
            "response_types_supported": [],
            "token_endpoint_auth_methods_supported": [
                ServiceAccount.AuthMethod.CLIENT_SECRET_BASIC.value,
                ServiceAccount.AuthMethod.PRIVATE_KEY_JWT.value,
            ],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "service_documentation": issuer + "/api/docs",
        }
    )
