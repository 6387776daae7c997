"""The few htmx helpers every view shares."""

import json

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect


def htmx_done(message: str, *events: str, level: str = "success") -> HttpResponse:
    """204 for a successful htmx form: close the dialog, tell the page what changed, show a message."""
    triggers: dict = dict.fromkeys(events)
    triggers["closeDialog"] = None
    triggers["showMessage"] = {"level": level, "text": message}
    response = HttpResponse(status=204)
    response["HX-Trigger"] = json.dumps(triggers)
    return response


def done(request, message: str, *events: str, redirect_to: str, level: str = "success") -> HttpResponse:
    """Success of a form POST: 204 + events for htmx, or message + redirect (POST → redirect → GET)."""
    if request.htmx:
        return htmx_done(message, *events, level=level)
    getattr(messages, level)(request, message)
    return redirect(redirect_to)


def partial(request, template: str, name: str = "dialog") -> str:
    """The template to render: only the named partial for htmx requests, the full page otherwise."""
    return f"{template}#{name}" if request.htmx and not request.htmx.boosted else template
