"""The CSV export: the current filter, a header row, cells a spreadsheet will not run, and a stream read in
batches (it never loads the whole log)."""

import csv
import io
import json

from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext

from iam_portal.access.catalogue import REPORTER
from iam_portal.access.resolver import SYSTEM
from iam_portal.audit import views
from iam_portal.audit.models import AuditEvent
from iam_portal.audit.services import event_digest
from iam_portal.audit.wording import EXPORT_COLUMNS
from iam_portal.identities import services as identities
from tests.helpers import set_project_role

CSV = "/companies/acme/audit-log/export.csv"


def read_csv(response) -> list[dict]:
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_export_streams_every_field_of_every_event_newest_first(login, role_changes):
    role_changes(3)
    response = login("owner").get(CSV)
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-acme-')
    rows = read_csv(response)
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert [r["seq"] for r in rows] == ["3", "2", "1"]
    first = rows[-1]
    assert first["event"] == "The command line changed Jun One's role on Acme from Guest to Developer"
    assert json.loads(first["before"]) == {"role": "guest"} and json.loads(first["after"]) == {
        "role": "developer"
    }
    assert (first["source"], first["actor_kind"], first["company_name"]) == ("command", "command", "Acme")


def test_an_exported_event_can_be_checked_against_its_digest(login, role_changes):
    """The file holds every digested field under its own name: anyone can recompute the chain from it."""
    role_changes(1)
    (row,) = read_csv(login("owner").get(CSV))
    stored = AuditEvent.objects.get()
    event = AuditEvent(**{name: getattr(stored, name) for name in ("occurred_at",)})
    for name in EXPORT_COLUMNS:
        if name in ("event", "occurred_at"):
            continue
        value = row[name]
        if name in ("before", "after"):
            value = json.loads(value) if value else None
        elif name in ("company_id", "seq", "actor_id", "subject_id", "project_id"):
            value = int(value) if value else None
        setattr(event, name, value)
    assert event_digest(event) == row["digest"] == stored.digest


def test_export_follows_the_filter(login, demo, role_changes):
    role_changes(2)
    identities.group_create(actor=SYSTEM, company=demo.acme, name="Ops", role=REPORTER, member_emails=[])
    rows = read_csv(login("owner").get(CSV, {"action": "group.created"}))
    assert [r["event"] for r in rows] == ["The command line created the group Ops with the Reporter role"]
    rows = read_csv(login("owner").get(CSV, {"actor": "nobody@example.test"}))
    assert rows == []


def test_project_export_holds_the_project_only(login, demo, role_changes):
    role_changes(2)  # company-level events
    set_project_role(SYSTEM, demo.webshop, demo.developers, REPORTER)
    rows = read_csv(login("pm").get("/companies/acme/projects/webshop/audit-log/export.csv"))
    assert [r["resource_path"] for r in rows] == ["acme/webshop"]


def test_an_empty_export_has_its_header(login, demo):
    response = login("owner").get(CSV)
    assert b"".join(response.streaming_content).decode() == ",".join(EXPORT_COLUMNS) + "\r\n"


def test_cells_that_a_spreadsheet_would_run_are_made_text(login, demo):
    """A group named like a formula is exported with a leading apostrophe, in every cell that holds it."""
    name = '=HYPERLINK("http://evil.test","x")'
    identities.group_create(actor=SYSTEM, company=demo.acme, name=name, role=REPORTER, member_emails=[])
    for prefix in "+-@":
        identities.group_create(
            actor=SYSTEM, company=demo.acme, name=f"{prefix}cmd", role=REPORTER, member_emails=[]
        )
    rows = read_csv(login("owner").get(CSV))
    assert [r["subject_name"] for r in rows] == ["'@cmd", "'-cmd", "'+cmd", f"'{name}"]
    assert rows[-1]["event"] == f"The command line created the group {name} with the Reporter role"
    assert (
        views.safe_cell("") == ""
        and views.safe_cell("\tx") == "'\tx"
        and views.safe_cell(None) == ""
        and views.safe_cell(12) == 12
    )


def test_export_reads_the_log_in_batches_as_it_streams(login, role_changes, monkeypatch):
    """Never the whole log in memory: the header goes out before any query, then each batch is one
    limited query, run only when the stream gets there (25 events, batches of 10: 3 queries)."""
    monkeypatch.setattr(views, "EXPORT_BATCH", 10)
    monkeypatch.setattr(views, "ROWS_PER_CHUNK", 5)
    role_changes(25)
    response = login("owner").get(CSV)
    chunks = iter(response.streaming_content)
    with CaptureQueriesContext(connection) as queries:
        header = next(chunks)
        before_any_row = len(queries)
        first_rows = next(chunks)
        after_first_rows = len(queries)
        rest = list(chunks)
    assert (before_any_row, after_first_rows, len(queries)) == (0, 1, 3)
    assert all("LIMIT 10" in q["sql"] for q in queries.captured_queries)
    assert header.decode() == ",".join(EXPORT_COLUMNS) + "\r\n"
    lines = b"".join([header, first_rows, *rest]).decode().splitlines()
    assert len(lines) == 26 and len(rest) == 4  # header + 25 lines, in pieces of 5 lines
