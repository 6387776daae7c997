import re
import uuid

from iam_portal.audit.models import Source
from iam_portal.audit.services import audit_context

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class AuditContextMiddleware:
    """Every event written while serving a request records where it came from: the portal, the admin or the
    machine API, the request id (the proxy's `X-Request-ID` when it is a plain token, else a new one, sent
    back in the response), the client address and the user agent."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/admin/"):
            source = Source.ADMIN
        elif request.path.startswith("/api/"):
            source = Source.API
        else:
            source = Source.PORTAL
        offered = request.headers.get("X-Request-ID", "")
        request_id = offered if _REQUEST_ID.match(offered) else uuid.uuid4().hex
        with audit_context(
            source=source,
            request_id=request_id,
            client_ip=request.META.get("REMOTE_ADDR", "")[:45],
            user_agent=request.headers.get("User-Agent", "")[:300].replace("\x00", ""),
        ):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
