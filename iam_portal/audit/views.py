"""The audit log pages of a company and of a project, one identity's history, and their CSV export.

Who may read: the company log and every identity's history, those who may manage the company's
identities; a project's log (its events and its environments'), those who may manage the project's
identities. The filters live in the URL (forms.FILTERS), so a filtered view is a link, and its CSV is
the same URL under export.csv.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from iam_portal.access.shortcuts import company_for, project_for
from iam_portal.audit import selectors
from iam_portal.audit.forms import FILTERS, AuditFilterForm
from iam_portal.audit.selectors import AuditFilter, Who
from iam_portal.audit.wording import EXPORT_COLUMNS, event_export
from iam_portal.htmx import partial


@dataclass
class Scope:
    """Whose log: a company's, or one project's within it."""

    company: object
    project: object = None

    @property
    def url_args(self) -> list[str]:
        return [self.company.slug] if self.project is None else [self.company.slug, self.project.slug]

    @property
    def prefix(self) -> str:
        return "company" if self.project is None else "project"


def parse_filter(request, scope: Scope) -> tuple[AuditFilterForm, AuditFilter, list[str]]:
    """The filters of the URL: the bound form (for its errors and values), the filter for the selectors,
    and what could not be understood (a name that matches nobody)."""
    projects = None
    if scope.project is None:
        projects = list(scope.company.projects.order_by("name").values_list("pk", "name"))
    form = AuditFilterForm(request.GET, projects=projects)
    form.is_valid()
    data = form.cleaned_data
    # A filter that cannot be understood shows nothing (never everything) and says why.
    problems = [
        f"{form.fields[name].label or name}: {error}" if name != "__all__" else error
        for name, errors in form.errors.items()
        for error in errors
    ]
    who = {}
    for name in ("actor", "subject", "identity"):
        text = (data.get(name) or "").strip()
        if not text:
            continue
        who[name] = Who.parse(text) if name == "identity" else selectors.who_named(scope.company.pk, text)
        if who[name] is None:
            problems.append(f"No user, group or service account is called “{text}”.")
    f = AuditFilter(
        start=_day_start(data.get("from")),
        end=_day_start(data.get("to"), days=1),
        actor=who.get("actor"),
        subject=who.get("subject"),
        identity=who.get("identity"),
        action=data.get("action") or "",
        project_id=scope.project.pk if scope.project is not None else data.get("project"),
        outcome=data.get("outcome") or "",
        nothing=bool(problems),
    )
    return form, f, problems


def _day_start(day: datetime.date | None, *, days: int = 0) -> datetime.datetime | None:
    """Midnight (in the portal's time zone) of `day` plus `days`; None for no bound."""
    if day is None:
        return None
    try:
        return timezone.make_aware(
            datetime.datetime.combine(day + datetime.timedelta(days=days), datetime.time())
        )
    except OverflowError:  # the last day there is: no end bound
        return None


def _without_cursor(request) -> str:
    query = request.GET.copy()
    for name in ("after", "before"):
        query.pop(name, None)
    return query.urlencode()


def _log(request, scope: Scope):
    form, f, problems = parse_filter(request, scope)
    params = {"after": request.GET.get("after"), "before": request.GET.get("before")}
    page = selectors.audit_page(scope.company.pk, f, **params, size=settings.PAGE_SIZE)
    count, more = selectors.audit_count(scope.company.pk, f)
    query = _without_cursor(request)
    where = scope.project.name if scope.project is not None else scope.company.name
    context = {
        "company": scope.company,
        "project": scope.project,
        "form": form,
        "problems": problems,
        "page": page,
        "total": f"{count:,}+" if more else count,
        "params": {"sort": "", "search": ""},
        "filtered": any(request.GET.get(name) for name in FILTERS if name != "identity"),
        "identity": f.identity,
        "identity_name": selectors.who_name(scope.company.pk, f.identity) if f.identity else "",
        "caption": f"Audit log of {where}, newest first",
        "log_url": reverse(f"{scope.prefix}_audit_log", args=scope.url_args),
        "csv_url": reverse(f"{scope.prefix}_audit_csv", args=scope.url_args) + (f"?{query}" if query else ""),
    }
    return render(request, partial(request, "audit/audit_log.html", "table"), context)


@require_GET
@login_required
@vary_on_headers("HX-Request")
def company_audit_log(request, company):
    return _log(request, Scope(company_for(request, company, manage=True, section="audit")))


@require_GET
@login_required
@vary_on_headers("HX-Request")
def project_audit_log(request, company, project):
    project = project_for(request, company, project, manage=True)
    return _log(request, Scope(project.company, project))


# -- one event ----------------------------------------------------------------------------------


def _event(request, scope: Scope, pk: int):
    """One event of the log, in the page's dialog: its before/after and where it came from."""
    event = selectors.scoped_event(
        scope.company.pk, pk, project_id=scope.project.pk if scope.project else None
    )
    if event is None:
        raise Http404("No such event in this log.")
    context = {
        "company": scope.company,
        "project": scope.project,
        "event": event,
        "title": f"Event #{event.seq}",
        "log_url": reverse(f"{scope.prefix}_audit_log", args=scope.url_args),
        # Histories are company pages: linked for those who may open them.
        "history_url": reverse("company_audit_log", args=[scope.company.slug])
        if request.access.can("company.identities.manage", scope.company)
        else "",
    }
    return render(request, partial(request, "audit/event_detail.html"), context)


@require_GET
@login_required
def company_audit_event(request, company, event):
    return _event(request, Scope(company_for(request, company, manage=True, section="audit")), event)


@require_GET
@login_required
def project_audit_event(request, company, project, event):
    project = project_for(request, company, project, manage=True)
    return _event(request, Scope(project.company, project), event)


# -- CSV ------------------------------------------------------------------------------------------

EXPORT_BATCH = 2000  # events per query
ROWS_PER_CHUNK = 500  # lines per piece of the response
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): such cells get a
# leading apostrophe, which spreadsheets show as text.
FORMULA_STARTS = "=+-@\t\r\n"


class _Line:
    """csv.writer's file: writerow() returns the line instead of storing it."""

    def write(self, value: str) -> str:
        return value


def safe_cell(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return f"'{value}" if value and value[0] in FORMULA_STARTS else value
    return value  # numbers: the writer spells them


def csv_lines(events: Iterable) -> Iterator[str]:
    """The header at once (the download starts before the first query), then one line per event, yielded
    ROWS_PER_CHUNK lines at a time."""
    writer = csv.writer(_Line())
    yield writer.writerow(EXPORT_COLUMNS)
    chunk = []
    for event in events:
        chunk.append(writer.writerow([safe_cell(v) for v in event_export(event).values()]))
        if len(chunk) >= ROWS_PER_CHUNK:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def _csv(request, scope: Scope):
    _, f, _ = parse_filter(request, scope)
    name = "-".join(["audit-log", *scope.url_args, timezone.localdate().isoformat()])
    response = StreamingHttpResponse(
        csv_lines(selectors.audit_batches(scope.company.pk, f, batch=EXPORT_BATCH)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@login_required
def company_audit_csv(request, company):
    return _csv(request, Scope(company_for(request, company, manage=True, section="audit")))


@require_GET
@login_required
def project_audit_csv(request, company, project):
    project = project_for(request, company, project, manage=True)
    return _csv(request, Scope(project.company, project))
