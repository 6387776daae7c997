"""The few htmx helpers every view shares: which template to render, where a dialog returns to, and how a
success answers.

Event names live here once. A successful form answers htmx with 204 and `HX-Trigger` (the tables reload
on `identitiesChanged`, the dialog closes on `closeDialog`, `showMessage` shows the message); without
JavaScript it answers with a message and a redirect (POST → redirect → GET) to the page the dialog was
opened from, its search, sort and page kept. A success after which the page shown is gone or closed to the
person `leave`s for another page.
"""

import json
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

IDENTITIES_CHANGED = "identitiesChanged"
CLOSE_DIALOG = "closeDialog"
SHOW_MESSAGE = "showMessage"
# A page answers these headers with a different body (a partial, or the whole page).
VARY = ("HX-Request", "HX-History-Restore-Request")


def triggers(message: str, *events: str, level: str = "success") -> str:
    """The `HX-Trigger` header value: the events, then the message to show."""
    payload: dict = dict.fromkeys(events)
    payload[SHOW_MESSAGE] = {"level": level, "text": message}
    return json.dumps(payload)


def done(request, message: str, *, redirect_to: str, level: str = "success") -> HttpResponse:
    """Success of a form POST that changed identities: 204 + events for htmx, or message + redirect.
    When `redirect_to` is the page the dialog was opened from, the redirect keeps that page's filters."""
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Trigger"] = triggers(message, IDENTITIES_CHANGED, CLOSE_DIALOG, level=level)
        return response
    getattr(messages, level)(request, message)
    came_from = opened_from(request)
    if came_from and urlsplit(came_from).path == urlsplit(redirect_to).path:
        redirect_to = came_from
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


def wants_partial(request) -> bool:
    """htmx swaps a piece of the page, except when it restores a page from history (Back), which needs all
    of it; without htmx (or boosted) the whole page too."""
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def partial(request, template: str, name: str = "dialog") -> str:
    """The template to render: only the named partial when htmx wants a piece, the full page otherwise."""
    return f"{template}#{name}" if wants_partial(request) else template


def opened_from(request) -> str:
    """The portal page (path and query) a dialog was opened from, or "".

    A dialog's form carries it as `next`; when the dialog itself is first loaded, the Referer says it (a
    link opening a dialog as a full page without JavaScript need not carry it). Only a page of this site
    under /companies/, other than the dialog itself, counts: never another host, never the login page."""
    candidate = request.POST.get("next") or request.GET.get("next")
    if not candidate:
        referer = request.headers.get("Referer", "")
        if not _same_site(request, referer):
            return ""
        parts = urlsplit(referer)
        candidate = parts.path + (f"?{parts.query}" if parts.query else "")
    parts = urlsplit(candidate)
    if (
        parts.scheme
        or parts.netloc
        or not parts.path.startswith("/companies/")
        or parts.path == request.path
        or not _same_site(request, candidate)
    ):
        return ""
    return candidate


def _same_site(request, url: str) -> bool:
    return bool(url) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


class VaryOnHtmxMiddleware:
    """Every page tells caches that htmx headers change its body (a table partial, a dialog, or the whole
    page), so the browser never shows a cached partial as a page, e.g. on Back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_vary_headers(response, VARY)
        return response
