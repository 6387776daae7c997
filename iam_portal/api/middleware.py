from django.http import JsonResponse
from ninja.errors import AuthenticationError

from iam_portal.api.auth import bearer
from iam_portal.api.errors import error_response

# Reachable without a bearer token: the token endpoint itself and the API documentation.
PUBLIC_PATHS = ("/api/m2m/oauth/token", "/api/docs", "/api/openapi.json")


class ApiErrorMiddleware:
    """Keeps the API's error shape for the responses Django makes before any endpoint runs.

    A method an endpoint does not serve (405) answers 401 first when the request has no valid token,
    like every other /api path, and every non-JSON error under /api/ becomes {"statusCode", "message"}.
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
        if response.status_code == 405 and request.path not in PUBLIC_PATHS:
            try:
                bearer(request)
            except AuthenticationError as exc:
                return error_response(401, exc.message)
        message = ""
        if response.status_code == 405:
            message = f"{request.method} is not allowed here; use {response.get('Allow', 'another method')}."
        shaped = error_response(response.status_code, message)
        for header in ("Allow", "Retry-After"):
            if header in response:
                shaped[header] = response[header]
        return shaped
