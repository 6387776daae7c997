"""Every error of the machine API has one shape: {"statusCode": <the HTTP status>, "message": "<text>"}.

The handlers below map the portal's exceptions to it: a refusal of a service keeps its message (the rule
that refused it), an unknown id is 404, invalid input 400, missing or bad credentials 401. None of them
lets an exception become a 5xx page.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from ninja.errors import AuthenticationError, HttpError, ValidationError

from iam_portal.access.lookups import BadInput, UnknownName
from iam_portal.access.services import ActionRefused, EscalationRefused, LastOwnerRefused

logger = logging.getLogger(__name__)

BEARER_CHALLENGE = 'Bearer realm="iam-portal"'


def error_response(status: int, message: str = "", **headers: str) -> JsonResponse:
    message = message or HTTPStatus(status).phrase
    response = JsonResponse({"statusCode": status, "message": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = BEARER_CHALLENGE
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def refusal_status(exc: ActionRefused) -> int:
    if isinstance(exc, EscalationRefused):
        return 403
    if isinstance(exc, LastOwnerRefused):
        return 409
    return 400


def _validation_message(exc: ValidationError) -> str:
    """`role: Input should be a valid string` for the first few problems, without ninja's own prefixes."""
    problems = []
    for error in exc.errors[:3]:
        location = [str(part) for part in error.get("loc", ())]
        # ninja prefixes the source ("body", "query", "path") and, for bodies, the parameter name.
        location = location[2:] if location[:1] == ["body"] else location[1:]
        where = ".".join(location)
        problems.append(
            f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg", "invalid"))
        )
    return "Invalid request: " + "; ".join(problems or ["the body does not match the schema"]) + "."


def install_handlers(api) -> None:
    def handle(exc_class):
        def register(function):
            api.add_exception_handler(exc_class, lambda request, exc: function(exc))
            return function

        return register

    @handle(ValidationError)
    def validation(exc):
        return error_response(400, _validation_message(exc))

    @handle(HttpError)
    def http_error(exc):
        return error_response(exc.status_code, exc.message)

    @handle(AuthenticationError)
    def unauthenticated(exc):
        return error_response(401, exc.message if exc.message != "Unauthorized" else "")

    @handle(Http404)
    def not_found(exc):
        return error_response(404, str(exc) or "Not found.")

    @handle(PermissionDenied)
    def forbidden(exc):
        return error_response(403, str(exc) or "You may not do this.")

    @handle(ActionRefused)
    def refused(exc):
        return error_response(refusal_status(exc), str(exc))

    @handle(UnknownName)
    def unknown_name(exc):
        return error_response(404, str(exc))

    @handle(BadInput)
    def bad_input(exc):
        return error_response(400, str(exc))

    @handle(RequestDataTooBig)
    def too_big(exc):
        return error_response(413, "The request body is too large.")

    @handle(SuspiciousOperation)
    def suspicious(exc):
        return error_response(400, "The request could not be read.")

    @handle(Exception)
    def unexpected(exc):
        logger.exception("Unexpected error in the machine API", exc_info=exc)
        return error_response(500, "Internal error; it has been logged.")
