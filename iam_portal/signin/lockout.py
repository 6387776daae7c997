"""django-axes glue: which account a failed password belongs to, and the page a locked-out person sees."""

from django.conf import settings
from django.shortcuts import render

from iam_portal.signin import events


def username_of(request, credentials=None) -> str:
    """The account an attempt targets, case-folded so that Owner@ and owner@ share one count."""
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("username")
    if not value and request is not None and request.method == "POST":
        value = request.POST.get("username", "")
    return str(value or "").strip().lower()[:254]


def locked_out_response(request, original_response=None, credentials=None):
    username = username_of(request, credentials)
    events.signin_locked_out(request, username=username)
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "account/locked_out.html",
        {"failures": settings.AXES_FAILURE_LIMIT, "minutes": minutes},
        status=429,
    )
