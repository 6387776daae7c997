from django.utils.functional import SimpleLazyObject

from iam_portal.access.resolver import AccessResolver


class AccessMiddleware:
    """Gives every request one resolver for the signed-in user; its answers live as long as the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.access = SimpleLazyObject(lambda: AccessResolver(request.user))
        return self.get_response(request)
