"""The company user count kept between requests (`CompanyUserCount`).

Counting the users of a company is a UNION of its user bindings and its groups' memberships: 0.15 to 0.2 s
at 100,000 users, on every IAM, Users and Project IAM page. Database triggers (migration `access/0004`)
raise the company's `version` inside every transaction that writes such a binding or membership, whoever
writes it. A count is stored with the version it was made at, only while that version is still current,
and used only while it is: a count made while a change commits is never taken for current (issue 12).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db.models import Min
from django.utils import timezone

from iam_portal.access.models import CompanyUserCount, RoleBinding
from iam_portal.orgs.models import Company

# Company id → its user count, for the length of one request that writes nothing (`counts_remembered`): a
# table reads the count to choose how to read the company's users (`subjects.table_users`), then shows it.
_remembered: ContextVar[dict | None] = ContextVar("company_user_counts", default=None)


@contextmanager
def counts_remembered() -> Iterator[None]:
    token = _remembered.set({})
    try:
        yield
    finally:
        _remembered.reset(token)


def kept_user_count(company: Company, count: Callable[[], int]) -> int:
    """The kept count while it is current; otherwise `count()`, kept for the version it was made at."""
    remembered = _remembered.get()
    if remembered is not None and company.pk in remembered:
        return remembered[company.pk]
    users = _kept_user_count(company, count, _kept_row(company))
    if remembered is not None:
        remembered[company.pk] = users
    return users


def kept_user_count_hint(company: Company) -> int | None:
    """The count last kept for the company, current or not (None: never counted yet). Enough to choose how to
    read the company's users (`subjects.table_users`); never shown, and it never counts, so a search right
    after a change does not pay for counting the whole company (0.15 s at 100k users)."""
    remembered = _remembered.get()
    if remembered is not None and company.pk in remembered:
        return remembered[company.pk]
    kept = _kept_row(company)
    if kept is not None and _current(kept, company, timezone.now()) and remembered is not None:
        remembered[company.pk] = kept.users  # exact: the table's count line needs no second read
    return kept.users if kept is not None else None


_NOT_READ = object()


def _kept_row(company: Company) -> CompanyUserCount | None:
    """The company's row, read once per request that writes nothing (the hint's read serves the count)."""
    remembered = _remembered.get()
    key = ("row", company.pk)
    if remembered is not None and (kept := remembered.get(key, _NOT_READ)) is not _NOT_READ:
        return kept
    kept = CompanyUserCount.objects.filter(company_id=company.pk).first()
    if remembered is not None:
        remembered[key] = kept
    return kept


def _current(kept: CompanyUserCount, company: Company, now) -> bool:
    return (
        kept.users is not None
        and kept.counted_version == kept.version
        and kept.counted_at is not None
        and company.created_at <= kept.counted_at <= now
        and (kept.fresh_until is None or now < kept.fresh_until)
    )


def _kept_user_count(company: Company, count: Callable[[], int], kept: CompanyUserCount | None) -> int:
    now, company_id = timezone.now(), company.pk
    if kept is not None and _current(kept, company, now):
        return kept.users
    version = kept.version if kept is not None else 0
    users = count()
    # The first of the company's time-limited user grants to end with no role after it: nothing is written
    # when it ends, but the count changes.
    fresh_until = RoleBinding.objects.filter(
        company_id=company_id, user__isnull=False, until__gt=now, role_after=""
    ).aggregate(first=Min("until"))["first"]
    kept_now = {"counted_version": version, "users": users, "counted_at": now, "fresh_until": fresh_until}
    if kept is None:
        # A change committing meanwhile inserts the row first (version 1): this count then stays out.
        CompanyUserCount.objects.bulk_create(
            [CompanyUserCount(company_id=company_id, version=0, **kept_now)], ignore_conflicts=True
        )
    else:
        CompanyUserCount.objects.filter(company_id=company_id, version=version).update(**kept_now)
    return users
