"""Smoke tests of the benchmark's audit parts on tiny data (nothing timed): seed_scale --audit-events
writes a verifiable chain in batches with progress, and `bench run --in-process` measures the log."""

import pytest

from bench import audit
from iam_portal.audit.models import Action, AuditEvent
from iam_portal.audit.selectors import chain_verify
from iam_portal.orgs.models import Company
from tests.helpers import bench_in_process, seed_scale


@pytest.mark.django_db
def test_seed_scale_writes_a_verifiable_chain_in_batches(monkeypatch):
    monkeypatch.setattr(audit, "BATCH", 400)
    monkeypatch.setattr(audit, "PROGRESS_EVERY", 800)
    output = seed_scale("tiny", "--audit-events", "1000", "--audit-days", "30")
    assert "  audit events: 800/1,000" in output and "  audit events: 1,000/1,000" in output
    assert "1,000 audit events over 30 days" in output
    company = Company.objects.get(slug="tiny")
    events = AuditEvent.objects.filter(company_id=company.pk)
    assert events.count() == 1000
    report = chain_verify(company.pk)
    assert (report.ok, report.events, report.first_seq) == (True, 1000, 1)
    assert events.filter(outcome="refused").exists()
    assert events.filter(project_id__isnull=False, resource_level="environment").exists()
    assert {Action.ROLE_CHANGED, Action.MEMBER_ADDED} <= set(events.values_list("action", flat=True))
    times = list(events.order_by("seq").values_list("occurred_at", flat=True))
    assert times == sorted(times) and (times[-1] - times[0]).days == 29

    old = company.pk
    seed_scale("tiny", "--audit-events", "10", "--replace")
    assert not AuditEvent.objects.filter(company_id=old).exists()
    assert chain_verify(Company.objects.get(slug="tiny").pk).events == 10


@pytest.mark.django_db
def test_benchmark_measures_the_audit_log_in_process():
    seed_scale("tiny", "--audit-events", "300")
    text = bench_in_process("none")
    for line in (
        "Audit · no filter (partial)",
        "Audit · actor = owner (partial)",
        "Audit · one week, 40% back (partial)",
        "Audit · page 3 (partial, alternating)",
        "Audit · project log (partial)",
        "Audit · CSV of",
        "writing an event: 1 INSERT",
        "audit log p95 ≤ 50 ms at",
        "PASS  writing an event adds ≤ 1 INSERT to a change",
    ):
        assert line in text, line
    assert "errors=" not in text


@pytest.mark.django_db
def test_seed_scale_refuses_bad_audit_options():
    from django.core.management import CommandError

    for option in (["--audit-events", "-1"], ["--audit-days", "0"]):
        with pytest.raises(CommandError):
            seed_scale("tiny", *option)
