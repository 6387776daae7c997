"""The few htmx helpers every view shares: which template to render, and how a success answers.

Event names live here once. A successful form answers htmx with 204 and `HX-Trigger` (the tables reload
on `identitiesChanged`, the dialog closes on `closeDialog`, `showMessage` shows the message); without
JavaScript it answers with a message and a redirect (POST → redirect → GET). A success after which the
page shown is gone or closed to the person `leave`s for another page.
"""

import json

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRedirect

IDENTITIES_CHANGED = "identitiesChanged"
CLOSE_DIALOG = "closeDialog"
SHOW_MESSAGE = "showMessage"


def triggers(message: str, *events: str, level: str = "success") -> str:
    """The `HX-Trigger` header value: the events, then the message to show."""
    payload: dict = dict.fromkeys(events)
    payload[SHOW_MESSAGE] = {"level": level, "text": message}
    return json.dumps(payload)


def done(request, message: str, *, redirect_to: str, level: str = "success") -> HttpResponse:
    """Success of a form POST that changed identities: 204 + events for htmx, or message + redirect."""
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Trigger"] = triggers(message, IDENTITIES_CHANGED, CLOSE_DIALOG, level=level)
        return response
    getattr(messages, level)(request, message)
    return redirect(redirect_to)


def leave(request, message: str, *, to: str, level: str = "success") -> HttpResponse:
    """Success that ends on another page (the one shown is gone, or closed to the person now): the message
    waits in the session and the whole page loads, through `HX-Redirect` for htmx or a plain redirect."""
    getattr(messages, level)(request, message)
    return HttpResponseClientRedirect(to) if request.htmx else redirect(to)


def announce(request, response: HttpResponse, message: str) -> HttpResponse:
    """A success that shows its own result in the dialog (a new client secret, shown once): the tables
    reload and the message shows, but the dialog stays open."""
    if request.htmx:
        response["HX-Trigger"] = triggers(message, IDENTITIES_CHANGED)
    return response


def partial(request, template: str, name: str = "dialog") -> str:
    """The template to render: only the named partial for htmx requests, the full page otherwise."""
    return f"{template}#{name}" if request.htmx and not request.htmx.boosted else template
