"""The hash chains: audit_verify finds an edited, a deleted and a reordered event; PostgreSQL refuses UPDATE
and DELETE from the application; audit_prune deletes old events and the chain still verifies."""

import io

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from iam_portal.access.resolver import SYSTEM
from iam_portal.audit import services
from iam_portal.audit.models import Action, AuditEvent
from iam_portal.audit.selectors import chain_verify
from iam_portal.audit.services import GENESIS, event_digest, event_record

TABLE = "audit_auditevent"
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger exists on PostgreSQL only"
)


def command(name: str, *args) -> tuple[int, str]:
    """Run a management command; (exit status, stdout and stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue() + err.getvalue()
    return 0, out.getvalue() + err.getvalue()


def verify(*args) -> tuple[int, str]:
    return command("audit_verify", *args)


def prune(*args) -> tuple[int, str]:
    return command("audit_prune", *args)


def acme_chain(demo):
    return chain_verify(demo.acme.pk)


def test_a_chain_links_each_event_to_the_one_before(demo, role_changes):
    role_changes(3)
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_digest == GENESIS
    assert [e.prev_digest for e in events[1:]] == [e.digest for e in events[:-1]]
    assert all(event_digest(e) == e.digest for e in events)
    report = acme_chain(demo)
    assert (report.ok, report.events, report.first_seq, report.head) == (True, 3, 1, events[-1].digest)


def test_each_company_has_its_own_chain(demo, role_changes, persona):
    role_changes(2)
    event_record(actor=SYSTEM, action=Action.ROLE_GRANTED, company=demo.globex, after={"role": "guest"})
    chains = {(e.company_id, e.seq) for e in AuditEvent.objects.all()}
    assert chains == {(demo.acme.pk, 1), (demo.acme.pk, 2), (demo.globex.pk, 1)}


def test_verify_passes_on_an_untouched_log(demo, role_changes):
    role_changes(4)
    status, output = verify()
    assert status == 0
    assert f"ok      Acme (acme, chain {demo.acme.pk}): 4 events (#1 to #4)" in output
    assert "All 1 chains hold." in output


def test_verify_finds_an_edited_event(demo, role_changes, raw_sql):
    role_changes(5)
    raw_sql(
        f"UPDATE {TABLE} SET subject_name = %s WHERE company_id = %s AND seq = 3", "Mallory", demo.acme.pk
    )
    report = acme_chain(demo)
    assert (report.broken_at, report.problem) == (3, "its content was changed after it was written")
    status, output = verify("--company", "acme")
    assert status == 1
    assert "BROKEN  Acme (acme, chain" in output and "first broken link #3" in output


def test_verify_finds_an_edit_even_when_its_digest_is_recomputed(demo, role_changes, raw_sql):
    """Rewriting an event and its own digest breaks the link to the next event."""
    role_changes(5)
    event = AuditEvent.objects.get(seq=3)
    event.after = {"role": "company-owner"}
    raw_sql(
        f"UPDATE {TABLE} SET after = %s, digest = %s WHERE id = %s",
        '{"role": "company-owner"}',
        event_digest(event),
        event.pk,
    )
    report = acme_chain(demo)
    assert (report.broken_at, report.problem) == (
        4,
        "it does not follow the event before it (reordered or replaced)",
    )


def test_verify_finds_a_deleted_event(demo, role_changes, raw_sql):
    role_changes(5)
    raw_sql(f"DELETE FROM {TABLE} WHERE company_id = %s AND seq = 3", demo.acme.pk)
    report = acme_chain(demo)
    assert (report.broken_at, report.problem) == (4, "events #3 to #3 are missing (deleted)")


def test_verify_finds_the_first_events_deleted_without_a_prune(demo, role_changes, raw_sql):
    role_changes(3)
    raw_sql(f"DELETE FROM {TABLE} WHERE company_id = %s AND seq = 1", demo.acme.pk)
    report = acme_chain(demo)
    assert (report.broken_at, report.problem) == (
        2,
        "events #1 to #1 are missing, and no prune of the log is recorded",
    )


def test_verify_finds_reordered_events(demo, role_changes, raw_sql):
    """Swap the places of events 2 and 3 in the chain."""
    role_changes(4)
    swap = f"UPDATE {TABLE} SET seq = %s WHERE company_id = %s AND seq = %s"
    raw_sql(swap, -1, demo.acme.pk, 2)
    raw_sql(swap, 2, demo.acme.pk, 3)
    raw_sql(swap, 3, demo.acme.pk, -1)
    report = acme_chain(demo)
    assert (report.broken_at, report.problem) == (
        2,
        "it does not follow the event before it (reordered or replaced)",
    )


def test_verify_checks_every_chain_and_names_each_broken_one(demo, role_changes, raw_sql):
    role_changes(2)
    event_record(actor=SYSTEM, action=Action.ROLE_GRANTED, company=demo.globex, after={"role": "guest"})
    raw_sql(f"UPDATE {TABLE} SET message = 'x' WHERE company_id = %s", demo.globex.pk)
    status, output = verify()
    assert status == 1
    assert "ok      Acme" in output and "BROKEN  Globex (globex" in output
    assert "1 of 2 chains are broken." in output
    assert verify("--company", "acme")[0] == 0


@pytest.mark.parametrize("company", ["nope", "999999", "Acme"])
def test_verify_refuses_an_unknown_company(demo, company):
    status, output = verify("--company", company)
    assert status == 2
    assert f"error: no company {company!r}" in output


def test_verify_names_a_deleted_companys_chain_from_its_events(demo, role_changes):
    role_changes(1)
    chain = demo.acme.pk
    demo.acme.delete()
    status, output = verify("--company", str(chain))
    assert status == 0
    assert f"ok      Acme (acme, chain {chain}): 1 events" in output


def test_an_empty_log_verifies(db):
    assert verify() == (0, "The audit log is empty.\nAll 0 chains hold.\n")


# -- PostgreSQL: append-only ----------------------------------------------------------------------


@postgresql_only
def test_postgresql_refuses_update_and_delete_from_the_application(demo, role_changes):
    role_changes(2)
    for change in (
        lambda: AuditEvent.objects.filter(seq=1).update(message="edited"),
        lambda: AuditEvent.objects.filter(seq=2).delete(),
    ):
        with pytest.raises(DatabaseError, match="the audit log is append-only"), transaction.atomic():
            change()
    assert AuditEvent.objects.count() == 2
    assert acme_chain(demo).ok


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_postgresql_lifts_the_refusal_only_inside_the_prunes_transaction(demo, role_changes):
    """Real transactions here (not the test's savepoints): SET LOCAL ends with its transaction."""
    role_changes(2)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('iam.audit_prune', 'on', true)")
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(seq=1).update(message="edited")  # UPDATE: never
        AuditEvent.objects.filter(seq=1).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(seq=2).delete()  # the setting ended with its transaction
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == [2]


# -- retention ------------------------------------------------------------------------------------


def test_prune_deletes_a_prefix_and_the_chain_still_verifies(demo, role_changes, clock):
    """Three events of 200 days ago and two of 10 days ago: the first three go, in batches of two, with
    progress; the prune is recorded in the chain, which verifies from its first kept event."""
    clock(days_ago=200)
    role_changes(3)
    clock(days_ago=10)
    role_changes(2)
    clock()
    anchor = AuditEvent.objects.get(seq=3).digest
    status, output = prune("--older-than", "180d", "--batch", "2")
    assert status == 0, output
    assert f"Acme (chain {demo.acme.pk}): deleting 3 events (#1 to #3)" in output
    assert "  2/3\n  3/3\n" in output and "Deleted 3 events." in output
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", "action")) == [
        (4, Action.ROLE_CHANGED),
        (5, Action.ROLE_CHANGED),
        (6, Action.AUDIT_PRUNED),
    ]
    pruned = AuditEvent.objects.get(seq=6)
    assert (pruned.actor_kind, pruned.source, pruned.company_name) == ("command", "command", "Acme")
    assert {k: pruned.after[k] for k in ("deleted", "kept_from", "anchor")} == {
        "deleted": 3,
        "kept_from": 4,
        "anchor": anchor,
    }
    assert verify()[0] == 0


def test_prune_of_a_whole_chain_continues_it_from_the_prune(demo, role_changes, clock):
    clock(days_ago=400)
    role_changes(2)
    clock()
    assert prune("--older-than", "365d")[0] == 0
    assert list(AuditEvent.objects.values_list("seq", "action")) == [(3, Action.AUDIT_PRUNED)]
    assert acme_chain(demo).ok


def test_events_deleted_beyond_the_recorded_prune_are_found(demo, role_changes, clock, raw_sql):
    clock(days_ago=200)
    role_changes(2)
    clock()
    role_changes(2)
    prune("--older-than", "180d")
    raw_sql(f"DELETE FROM {TABLE} WHERE company_id = %s AND seq = 3", demo.acme.pk)
    report = acme_chain(demo)
    assert (report.broken_at, report.problem) == (
        4,
        "events #3 to #3 are missing (deleted outside audit_prune)",
    )


def test_an_interrupted_prune_leaves_a_verifiable_chain_and_finishes_next_time(demo, role_changes, clock):
    clock(days_ago=200)
    role_changes(4)
    clock()
    calls = []

    def stop_after_one_batch(done):
        calls.append(done)
        raise KeyboardInterrupt

    span = (1, 5, AuditEvent.objects.get(seq=4).digest)
    with pytest.raises(KeyboardInterrupt):
        services.events_prune(
            chain=demo.acme.pk,
            company=demo.acme,
            first=1,
            kept_from=5,
            anchor=span[2],
            cutoff=demo.acme.created_at,
            batch=2,
            progress=stop_after_one_batch,
        )
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == [3, 4, 5]
    assert acme_chain(demo).ok
    assert prune("--older-than", "180d")[0] == 0
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == [5, 6]
    assert acme_chain(demo).ok


def test_prune_dry_run_and_nothing_to_prune(demo, role_changes, clock):
    clock(days_ago=200)
    role_changes(2)
    clock()
    status, output = prune("--older-than", "180d", "--dry-run")
    assert status == 0
    assert "would delete 2 events (#1 to #2)" in output and "Would delete 2 events." in output
    assert AuditEvent.objects.count() == 2
    status, output = prune("--older-than", "300d")
    assert (status, AuditEvent.objects.count()) == (0, 2)
    assert "Deleted 0 events." in output


def test_prune_takes_hours_and_its_default_from_the_setting(demo, role_changes, clock, settings):
    clock(days_ago=2)
    role_changes(1)
    clock()
    settings.AUDIT_RETENTION_DAYS = 3
    assert "Deleted 0 events." in prune()[1]
    settings.AUDIT_RETENTION_DAYS = 1
    assert "Deleted 1 events." in prune()[1]
    role_changes(1)
    assert "Deleted 0 events." in prune("--older-than", "36h")[1]


@pytest.mark.parametrize("age", ["180", "10x", "0d", "1w", "999999d", "9999999d", "", "5d\x00"])
def test_prune_refuses_bad_ages(db, age):
    status, output = prune("--older-than", age)
    assert status == 2
    assert output.startswith("error: --older-than:")


def test_prune_refuses_a_bad_batch(db):
    assert prune("--batch", "0") == (2, "error: --batch must be at least 1\n")
