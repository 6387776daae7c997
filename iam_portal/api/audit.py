"""The company audit log for machines (spec §6.2): `GET /api/tenants/{companyId}/audit-logs`."""

from __future__ import annotations

import math

from django.http import JsonResponse
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from iam_portal.api.iam import ERRORS, managed_company
from iam_portal.api.selectors import rfc3339
from iam_portal.audit.models import AuditEvent
from iam_portal.audit.selectors import MAX_PER_PAGE, company_events_between
from iam_portal.audit.wording import event_sentence

router = Router(tags=["Audit log"])

# Beyond any real clock: keeps the milliseconds well inside what the database and datetime hold.
MS_RANGE = (-(10**14), 10**14)


class AuditQuery(Schema):
    from_ms: int | None = Field(None, alias="from", description="Unix milliseconds, inclusive.")
    to_ms: int | None = Field(None, alias="to", description="Unix milliseconds, exclusive.")
    page: int = Field(0, description="Zero-based, as Mia-Platform's clients send it.")
    per_page: int = Field(50, description=f"1 to {MAX_PER_PAGE}.")


def event_json(event: AuditEvent) -> dict:
    return {
        "_id": str(event.pk),
        "sequence": event.seq,
        "digest": event.digest,
        "timestamp": rfc3339(event.occurred_at),
        "timestampMs": int(event.occurred_at.timestamp() * 1000),
        "action": event.action,
        "outcome": event.outcome,
        "description": event_sentence(event),
        "message": event.message,
        "author": {"type": event.actor_kind, "id": event.actor_id, "name": event.actor_name},
        "resource": {"level": event.resource_level, "path": event.resource_path, "name": event.resource_name},
        "subject": {"type": event.subject_kind, "id": event.subject_id, "name": event.subject_name},
        "before": event.before,
        "after": event.after,
        "source": event.source,
        "requestId": event.request_id,
    }


@router.get(
    "/tenants/{companyId}/audit-logs",
    response={200: list[dict], **ERRORS},
    summary="The company's audit log",
    description="Events of the company between `from` and `to` (unix milliseconds; either may be left out), "
    "newest first, `per_page` at a time (page zero-based), with the headers `x-total-items` and "
    "`x-total-pages`. For service accounts that may manage the company's identities.",
)
def audit_logs(request, companyId: str, query: Query[AuditQuery]):
    company = managed_company(request, companyId)
    for value in (query.from_ms, query.to_ms):
        if value is not None and not MS_RANGE[0] <= value <= MS_RANGE[1]:
            raise HttpError(400, "from and to are unix milliseconds")
    if query.page < 0 or not 1 <= query.per_page <= MAX_PER_PAGE:
        raise HttpError(400, f"page must be 0 or more and per_page between 1 and {MAX_PER_PAGE}")
    window = company_events_between(
        company.pk, start_ms=query.from_ms, end_ms=query.to_ms, page=query.page + 1, per_page=query.per_page
    )
    response = JsonResponse([event_json(event) for event in window.events], safe=False)
    response["x-total-items"] = str(window.total)
    response["x-total-pages"] = str(math.ceil(window.total / window.per_page))
    return response
