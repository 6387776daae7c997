from django.http import JsonResponse
from ninja.errors import AuthenticationError

from iam_portal.api.auth import bearer
from iam_portal.api.errors import error_response

# Reachable without a bearer token: the token endpoint itself and the API documentation.
PUBLIC_PATHS = ("/api/m2m/oauth/token", "/api/docs", "/api/openapi.json")
MESSAGES = {404: "No such API endpoint."}


class ApiErrorMiddleware:
    """Keeps the API's error shape for the responses no endpoint made: an unknown path (404) or a method an
    endpoint does not serve (405). Like every other /api path, they answer 401 first when the request has no
    valid token; then the error becomes {"statusCode", "message"} like the endpoints' own errors.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            not request.path.startswith("/api/")
            or response.status_code < 400
            or isinstance(response, JsonResponse)
        ):
            return response
        if response.status_code in (404, 405) and request.path not in PUBLIC_PATHS:
            try:
                bearer(request)
            except AuthenticationError as exc:
                return error_response(401, exc.message)
        message = MESSAGES.get(response.status_code, "")
        if response.status_code == 405:
            message = f"{request.method} is not allowed here; use {response.get('Allow', 'another method')}."
        shaped = error_response(response.status_code, message)
        for header in ("Allow", "Retry-After"):
            if header in response:
                shaped[header] = response[header]
        return shaped
