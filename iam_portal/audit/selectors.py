"""Reads of the audit log: the chain check, and (for the pages) events by filter."""

from __future__ import annotations

from dataclasses import dataclass

from iam_portal.audit.models import AuditEvent
from iam_portal.audit.services import GENESIS, event_digest


@dataclass(frozen=True)
class ChainReport:
    company_id: int
    events: int
    first_seq: int | None
    broken_at: int | None = None  # the seq of the first event that does not fit
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def chain_verify(company_id: int, *, batch: int = 5000) -> ChainReport:
    """Walk one company's chain in order and name the first link that does not hold.

    A chain may start after 1 (older events pruned): its first event's stored previous digest is then the
    trusted anchor. After that, every event must follow the one before it (no gap in `seq`), name its
    digest as previous, and hash to its own stored digest."""
    events = AuditEvent.objects.filter(company_id=company_id).order_by("seq")
    count, first_seq, previous = 0, None, None
    for event in events.iterator(chunk_size=batch):
        count += 1
        if previous is None:
            first_seq = event.seq
            if event.seq == 1 and event.prev_digest != GENESIS:
                return ChainReport(
                    company_id, count, first_seq, event.seq, "the first event does not start the chain"
                )
        else:
            if event.seq != previous.seq + 1:
                return ChainReport(
                    company_id,
                    count,
                    first_seq,
                    event.seq,
                    f"events #{previous.seq + 1} to #{event.seq - 1} are missing (deleted)",
                )
            if event.prev_digest != previous.digest:
                return ChainReport(
                    company_id,
                    count,
                    first_seq,
                    event.seq,
                    "it does not follow the event before it (reordered)",
                )
        if event_digest(event) != event.digest:
            return ChainReport(
                company_id, count, first_seq, event.seq, "its content was changed after it was written"
            )
        previous = event
    return ChainReport(company_id, count, first_seq)


def chains() -> list[int]:
    return sorted(AuditEvent.objects.order_by().values_list("company_id", flat=True).distinct())
