from django.utils.functional import SimpleLazyObject

from iam_portal.access.counts import counts_remembered
from iam_portal.access.resolver import AccessResolver


class AccessMiddleware:
    """Gives every request one resolver for the signed-in user; its answers live as long as the request. A
    request that changes nothing (GET, HEAD) also reads each company's user count once (`access.counts`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.access = SimpleLazyObject(lambda: AccessResolver(request.user))
        if request.method in ("GET", "HEAD"):
            with counts_remembered():
                return self.get_response(request)
        return self.get_response(request)
