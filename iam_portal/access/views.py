"""Company IAM: every identity of the company with its company role; edit the role, remove access."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from iam_portal.access import catalogue, selectors
from iam_portal.access.forms import CompanyRoleForm
from iam_portal.access.models import RoleBinding
from iam_portal.access.services import (
    ActionRefused,
    company_bindings_of,
    company_direct_access_remove,
    company_role_set,
)
from iam_portal.access.shortcuts import company_for
from iam_portal.htmx import done, partial
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount
from iam_portal.identities.services import service_account_delete
from iam_portal.pagination import table_state

IDENTITIES_CHANGED = "identitiesChanged"


@require_GET
@login_required
@vary_on_headers("HX-Request")
def company_iam(request, company):
    company = company_for(request, company, manage=True, section="iam")
    params = table_state(request, selectors.SORTS, selectors.KINDS)
    page = selectors.company_identity_page(company, **params, size=settings.PAGE_SIZE)
    counts = selectors.identity_counts(company, search=params["search"])
    context = {
        "company": company,
        "page": page,
        "counts": counts,
        "total": counts["total"],
        "params": params,
        "kinds": selectors.KINDS,
    }
    return render(request, partial(request, "access/company_iam.html", "table"), context)


def _subject(company, kind: str, pk: int):
    if kind == selectors.USER:
        return get_object_or_404(selectors.company_users(company), pk=pk)
    if kind == selectors.GROUP:
        return get_object_or_404(Group, company=company, pk=pk)
    if kind == selectors.SERVICE_ACCOUNT:
        return get_object_or_404(ServiceAccount, company=company, pk=pk)
    raise PermissionDenied


@require_http_methods(["GET", "POST"])
@login_required
def company_role_edit(request, company, kind, pk):
    company = company_for(request, company, manage=True, section="iam")
    subject = _subject(company, kind, pk)
    current = RoleBinding.objects.filter(company=company, **{_field(kind): subject}).values_list(
        "role", flat=True
    )
    current = current.first()
    form = CompanyRoleForm(request.POST or None, initial={"role": current})
    if request.method == "POST" and form.is_valid():
        try:
            company_role_set(
                actor=request.user, company=company, subject=subject, role=form.cleaned_data["role"]
            )
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            label = catalogue.role_label(form.cleaned_data["role"])
            return done(
                request,
                f"{_name(subject)} is now {label} of {company}.",
                IDENTITIES_CHANGED,
                redirect_to=reverse("company_iam", args=[company.slug]),
            )
    context = {
        "company": company,
        "subject": subject,
        "subject_name": _name(subject),
        "kind": kind,
        "kind_label": selectors.KINDS[kind],
        "current_role": catalogue.role_label(current),
        "current_role_id": current,
        "form": form,
        "in_groups": kind == selectors.USER
        and GroupMembership.objects.filter(user=subject, group__company=company).exists(),
    }
    return render(request, partial(request, "access/company_role_edit.html"), context)


@require_http_methods(["GET", "POST"])
@login_required
def company_identity_remove(request, company, kind, pk):
    """Users: remove direct access (their own roles everywhere in the company; groups stay).
    Service accounts: delete permanently."""
    company = company_for(request, company, manage=True, section="iam")
    if kind not in (selectors.USER, selectors.SERVICE_ACCOUNT):
        raise PermissionDenied("Groups are deleted from their own page.")
    subject = _subject(company, kind, pk)
    error = None
    if request.method == "POST":
        try:
            if kind == selectors.USER:
                company_direct_access_remove(actor=request.user, company=company, user=subject)
                message = f"{_name(subject)} no longer has direct access to {company}."
            else:
                service_account_delete(actor=request.user, account=subject)
                message = f"Service account {subject.name} was deleted."
        except ActionRefused as refused:
            error = str(refused)
        else:
            return done(
                request, message, IDENTITIES_CHANGED, redirect_to=reverse("company_iam", args=[company.slug])
            )
    context = {
        "company": company,
        "subject": subject,
        "subject_name": _name(subject),
        "kind": kind,
        "error": error,
        "bindings": _bindings_in_company(subject, kind, company),
        "groups": list(Group.objects.filter(company=company, memberships__user=subject))
        if kind == selectors.USER
        else [],
    }
    return render(request, partial(request, "access/company_identity_remove.html"), context)


def _field(kind: str) -> str:
    return {selectors.USER: "user", selectors.GROUP: "group", selectors.SERVICE_ACCOUNT: "service_account"}[
        kind
    ]


def _name(subject) -> str:
    return getattr(subject, "display_name", None) or subject.name


def _bindings_in_company(subject, kind, company):
    return list(
        company_bindings_of(subject, company).select_related("company", "project", "environment__project")
    )
