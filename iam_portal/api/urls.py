"""The machine API: /api/… (django-ninja, OpenAPI at /api/docs) and the two /.well-known documents."""

from django.http import HttpResponseNotFound
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI

from iam_portal.api import audit, authz, iam, oauth
from iam_portal.api.auth import bearer
from iam_portal.api.errors import install_handlers

api = NinjaAPI(
    title="IAM Portal machine API",
    version="1",
    description=(
        "The IAM of a company for machines, in the shapes Mia-Platform's miactl sends and reads. "
        "Get a token from `POST /api/m2m/oauth/token` with a service account's credentials, then send "
        '`Authorization: Bearer <token>`. Every error answers `{"statusCode": <status>, "message": '
        '"…"}`: 401 for a missing, invalid or expired token, 403 when the account may not do it, 404 for '
        "ids outside the company or a company it cannot see, 400 for invalid input. Every success is 200."
    ),
    urls_namespace="api",
    auth=bearer,
)
install_handlers(api)
api.add_router("", oauth.router)
api.add_router("", iam.router)
api.add_router("", authz.router)
api.add_router("", audit.router)


@csrf_exempt
def unknown_api_path(request):
    """Any other /api path. Matching every path here means no trailing-slash redirect ever answers under
    /api; ApiErrorMiddleware turns the 404 into the API's shape (401 first without a valid token)."""
    return HttpResponseNotFound()


urlpatterns = [
    path("api/", api.urls),
    re_path(r"^api/", unknown_api_path),
    path(".well-known/jwks.json", oauth.jwks, name="jwks"),
    path(
        ".well-known/oauth-authorization-server", oauth.authorization_server_metadata, name="oauth-metadata"
    ),
]
