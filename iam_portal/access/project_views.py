"""Project IAM: company identities with their project and per-environment roles; edit them, and add users
and service accounts to the company straight from a project."""

import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from iam_portal.access import catalogue, project_selectors, selectors
from iam_portal.access.catalogue import Level
from iam_portal.access.project_forms import (
    ProjectAddServiceAccountForm,
    ProjectAddUserForm,
    ProjectRolesForm,
)
from iam_portal.access.resolver import AccessResolver
from iam_portal.access.services import ActionRefused, project_roles_set
from iam_portal.access.shortcuts import project_for
from iam_portal.htmx import done, partial
from iam_portal.identities import services as identity_services
from iam_portal.pagination import table_state

IDENTITIES_CHANGED = "identitiesChanged"


def _iam_url(project) -> str:
    return reverse("project_iam", args=[project.company.slug, project.slug])


@require_GET
@login_required
@vary_on_headers("HX-Request")
def project_iam(request, company, project):
    project = project_for(request, company, project)
    access = request.access
    params = table_state(request, project_selectors.SORTS, selectors.KINDS)
    environments = list(access.visible_environments(project).order_by("position", "env_id"))
    page = project_selectors.project_identity_page(project, environments, size=settings.PAGE_SIZE, **params)
    context = {
        "company": project.company,
        "project": project,
        "environments": environments,
        "page": page,
        "counts": project_selectors.identity_count(project, kind=params["kind"], search=params["search"]),
        "params": params,
        "kinds": selectors.KINDS,
        "can_edit": access.can("project.identities.manage", project),
        "can_add": access.can("company.identities.manage", project.company),
    }
    return render(request, partial(request, "access/project_iam.html", "table"), context)


def _subject_or_404(project, kind: str, pk: int):
    subject = project_selectors.project_subject(project, kind, pk)
    if subject is None:
        raise Http404("No such identity in this company.")
    return subject


def _name(subject) -> str:
    return getattr(subject, "display_name", None) or subject.name


@require_http_methods(["GET", "POST"])
@login_required
def project_role_edit(request, company, project, kind, pk):
    project = project_for(request, company, project, manage=True)
    subject = _subject_or_404(project, kind, pk)
    environments = project_selectors.project_environments(project)
    current = project_selectors.own_roles(subject, kind, project)
    initial = {"project_role": current.get("project") or ""}
    initial |= {ProjectRolesForm.env_field(env): current.get(env.pk) or "" for env in environments}
    form = ProjectRolesForm(request.POST or None, initial=initial, environments=environments)
    if request.method == "POST" and form.is_valid():
        try:
            project_roles_set(
                actor=request.user,
                project=project,
                subject=subject,
                project_role=form.project_role(),
                environment_roles=form.environment_roles(),
            )
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            return done(
                request,
                f"The roles of {_name(subject)} on {project} were saved.",
                IDENTITIES_CHANGED,
                redirect_to=_iam_url(project),
            )
    grants = AccessResolver(subject).grants(project)
    inherited = [g for g in grants if g.level == Level.COMPANY or g.group_name is not None]
    context = {
        "company": project.company,
        "project": project,
        "subject": subject,
        "subject_name": _name(subject),
        "kind": kind,
        "kind_label": selectors.KINDS[kind],
        "form": form,
        "inherited": inherited,
        "inherited_capabilities": project_selectors.inherited_capabilities(grants),
    }
    return render(request, partial(request, "access/project_role_edit.html"), context)


def _project_for_company_manager(request, company, project):
    project = project_for(request, company, project)
    if not request.access.can("company.identities.manage", project.company):
        raise PermissionDenied("Only Company Owners may add identities to the company.")
    return project


@require_http_methods(["GET", "POST"])
@login_required
def project_user_add(request, company, project):
    project = _project_for_company_manager(request, company, project)
    environments = project_selectors.project_environments(project)
    form = ProjectAddUserForm(request.POST or None, environments=environments)
    if request.method == "POST" and form.is_valid():
        try:
            user = identity_services.project_user_add(
                actor=request.user,
                project=project,
                email=form.cleaned_data["email"],
                company_role=form.cleaned_data["company_role"],
                project_role=form.project_role(),
                environment_roles=form.environment_roles(),
            )
        except ActionRefused as refused:
            unknown = identity_services.find_account(form.cleaned_data["email"]) is None
            form.add_error("email" if unknown else None, str(refused))
        else:
            role = catalogue.role_label(form.cleaned_data["company_role"])
            return done(
                request,
                f"{user.display_name} was added to {project.company} as {role}, with their roles on {project}.",
                IDENTITIES_CHANGED,
                redirect_to=_iam_url(project),
            )
    context = {"company": project.company, "project": project, "form": form}
    return render(request, partial(request, "access/project_user_add.html"), context)


@sensitive_variables("created", "context", "response")
@require_http_methods(["GET", "POST"])
@login_required
def project_service_account_add(request, company, project):
    project = _project_for_company_manager(request, company, project)
    environments = project_selectors.project_environments(project)
    form = ProjectAddServiceAccountForm(request.POST or None, environments=environments)
    if request.method == "POST" and form.is_valid():
        try:
            created = identity_services.project_service_account_add(
                actor=request.user,
                project=project,
                name=form.cleaned_data["name"],
                auth_method=form.cleaned_data["auth_method"],
                public_key=form.cleaned_data["public_key"],
                company_role=form.cleaned_data["company_role"],
                project_role=form.project_role(),
                environment_roles=form.environment_roles(),
            )
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            # The credentials are shown once, on this response: no redirect, even without JavaScript.
            context = {
                "company": project.company,
                "project": project,
                "account": created.account,
                "client_secret": created.client_secret,
            }
            response = render(
                request, partial(request, "access/project_service_account_created.html"), context
            )
            if request.htmx:
                message = {"level": "success", "text": f"Service account {created.account.name} was created."}
                response["HX-Trigger"] = json.dumps({IDENTITIES_CHANGED: None, "showMessage": message})
            response["Cache-Control"] = "no-store"
            return response
    context = {"company": project.company, "project": project, "form": form}
    return render(request, partial(request, "access/project_service_account_add.html"), context)
