"""Throttling failed client authentications at the token endpoint.

Fixed windows counted in the database (FailedAuthCounter), so every worker and container shares them: after
CLIENT_LIMIT failures for one client id, or ADDRESS_LIMIT failures from one address, within WINDOW, the
token endpoint answers 429 with Retry-After until the window ends, even for the right credentials.
Successful authentications are not counted.
"""

from __future__ import annotations

import datetime
import ipaddress
import math

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, DateTimeField, F, Value, When
from django.utils import timezone

from iam_portal.api.models import FailedAuthCounter

WINDOW = datetime.timedelta(minutes=5)
CLIENT_LIMIT = 10
ADDRESS_LIMIT = 50
_LIMITS = {"client": CLIENT_LIMIT, "addr": ADDRESS_LIMIT}


def client_address(request) -> str:
    """The caller's address: REMOTE_ADDR, or behind the TLS proxy the X-Forwarded-For entry it appended."""
    address = request.META.get("REMOTE_ADDR", "")
    if settings.API_CLIENT_ADDRESS_FROM_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded.strip():
            address = forwarded.split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return "unknown"


def keys_for(client_id: str | None, address: str) -> list[str]:
    keys = [f"addr:{address}"]
    if client_id:
        keys.append(f"client:{client_id}")
    return keys


def retry_after(keys: list[str], *, now: datetime.datetime | None = None) -> int | None:
    """Seconds until these keys may try again, or None when none of them is over its limit."""
    now = now or timezone.now()
    waits = [
        math.ceil((row.window_start + WINDOW - now).total_seconds())
        for row in FailedAuthCounter.objects.filter(key__in=keys, window_start__gt=now - WINDOW)
        if row.failures >= _LIMITS[row.key.partition(":")[0]]
    ]
    return max(waits, default=None)


def _count(key: str, now: datetime.datetime) -> int:
    """One more failure for `key`, starting a new window when the last one is over (one UPDATE)."""
    stale = {"window_start__lte": now - WINDOW}
    return FailedAuthCounter.objects.filter(key=key).update(
        failures=Case(When(**stale, then=Value(1)), default=F("failures") + 1),
        window_start=Case(
            When(**stale, then=Value(now)), default=F("window_start"), output_field=DateTimeField()
        ),
    )


def record_failure(keys: list[str], *, now: datetime.datetime | None = None) -> None:
    now = now or timezone.now()
    for key in keys:
        if _count(key, now):
            continue
        try:
            with transaction.atomic():
                FailedAuthCounter.objects.create(key=key, window_start=now, failures=1)
        except IntegrityError:  # another worker created it first
            _count(key, now)
    FailedAuthCounter.objects.filter(window_start__lt=now - WINDOW).delete()
