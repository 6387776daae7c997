from django.db import connection
from django.http import HttpResponseBadRequest, JsonResponse


def healthz(request):
    """Liveness and readiness: the process answers and the database is reachable."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


class HealthCheckMiddleware:
    """Answers GET /healthz before the host, TLS-redirect and session machinery, so load balancers and the
    container health check can probe any address without being a configured host."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz" and request.method in ("GET", "HEAD"):
            response = healthz(request)
            response["Cache-Control"] = "no-store"
            return response
        return self.get_response(request)


class NulCharacterMiddleware:
    """Refuses (400) a request with a NUL character in any query or form parameter, name or value.

    No text the portal keeps can hold one (PostgreSQL refuses them), so such a request is never meant; it
    would otherwise reach a search or a lookup and fail there (the admin's search, its autocomplete, …).
    The machine API (`/api/…`) checks its own input and answers in its own JSON error shape."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            # The machine API validates its own input and answers in its own error shape.
            return self.get_response(request)
        for params in (request.GET, request.POST) if request.method == "POST" else (request.GET,):
            for name, values in params.lists():
                if "\x00" in name or any("\x00" in value for value in values):
                    return HttpResponseBadRequest(
                        "NUL characters are not allowed in a request.", content_type="text/plain"
                    )
        return self.get_response(request)
