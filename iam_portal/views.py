from django.db import connection
from django.http import JsonResponse


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
