"""The IAM pages: every identity of a company with its company role (edit it, remove direct access), and
Project IAM (project and per-environment roles).

Adding users and service accounts, from the company or from a project, is an identities action
(`iam_portal.identities.views`).
"""

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from iam_portal.access import catalogue, selectors
from iam_portal.access.catalogue import Level
from iam_portal.access.forms import CompanyRoleForm, ExtendForm, ProjectRolesForm, WhyForm
from iam_portal.access.preview import change_preview
from iam_portal.access.resolver import AccessResolver
from iam_portal.access.services import (
    ActionRefused,
    binding_end,
    binding_extend,
    company_direct_access_remove,
    company_role_set,
    project_roles_set,
)
from iam_portal.access.shortcuts import (
    MANAGE_COMPANY,
    MANAGE_PROJECT,
    company_for,
    company_role_choice,
    company_role_initial,
    done_or_leave,
    last_owner_reason,
    preview_answer,
    project_for,
    wants_preview,
    you_would_lose,
)
from iam_portal.access.subjects import (
    GROUP,
    KIND_LABELS,
    SERVICE_ACCOUNT,
    USER,
    company_subject,
    subject_name,
)
from iam_portal.access.templatetags.roles import role_allows_context
from iam_portal.audit.wording import possessive
from iam_portal.dates import moment
from iam_portal.htmx import partial
from iam_portal.identities import selectors as identity_selectors
from iam_portal.identities import views as identity_views
from iam_portal.pagination import table_state


@require_GET
@login_required
def company_iam(request, company):
    company = company_for(request, company, manage=True, section="iam")
    params = table_state(request, selectors.SORTS, KIND_LABELS)
    page = selectors.company_identity_page(company, **params, size=settings.PAGE_SIZE)
    counts = selectors.identity_counts(company, kind=params["kind"], search=params["search"])
    context = {
        "company": company,
        "page": page,
        "counts": counts,
        "total": counts["total"],
        "params": params,
        "kinds": KIND_LABELS,
    }
    return render(request, partial(request, "access/company_iam.html", "table"), context)


@require_http_methods(["GET", "POST"])
@login_required
def company_role_edit(request, company, kind, pk):
    company = company_for(request, company, manage=True, section="iam")
    subject = company_subject(company, kind, pk)
    binding = selectors.binding_of(subject, company)
    initial = company_role_initial(binding)
    current = initial["role"]
    form = CompanyRoleForm(request.POST or None, initial=initial)
    you_lose = company_role_choice(request, company, subject, form.fields["role"])  # said before saving

    def save():
        return company_role_set(
            actor=request.user,
            company=company,
            subject=subject,
            role=form.cleaned_data["role"],
            until=form.role_until(),
        )

    if wants_preview(request):
        return preview_answer(request, company=company, subjects=[subject], run=save, form=form)
    if request.method == "POST" and form.is_valid():
        role = form.cleaned_data["role"]
        try:
            save()
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            until = f" until {moment(form.role_until())}" if form.role_until() else ""
            return _back_to_iam(
                request,
                company,
                f"{subject_name(subject)} is now {catalogue.role_label(role)} of {company}{until}.",
            )
    context = {
        **_about(company, kind, subject),
        "current_role": catalogue.role_label(current),
        "current_role_id": current,
        "binding": binding,
        "form": form,
        "in_groups": kind == USER and selectors.user_in_company_groups(company, subject),
        "you_lose": you_lose,
    }
    return render(request, partial(request, "access/company_role_edit.html"), context)


def _back_to_iam(request, company, message: str):
    """A change saved from the company IAM table: back to the table, or wherever the person may still go."""
    return done_or_leave(
        request, message, redirect_to=reverse("company_iam", args=[company.slug]), company=company
    )


def _about(company, kind: str, subject) -> dict:
    """What every page about one identity shows of it."""
    return {
        "company": company,
        "subject": subject,
        "subject_name": subject_name(subject),
        "kind": kind,
        "kind_label": KIND_LABELS[kind],
    }


@require_http_methods(["GET", "POST"])
@login_required
def company_identity_remove(request, company, kind, pk):
    """Users: remove direct access (their own roles everywhere in the company; groups stay).
    Service accounts: the one service-account deletion, returning to this table."""
    if kind == SERVICE_ACCOUNT:
        return identity_views.service_account_delete(request, company, pk, back="company_iam")
    company = company_for(request, company, manage=True, section="iam")
    if kind != USER:
        raise PermissionDenied("Groups are deleted from their own page.")
    user = company_subject(company, kind, pk)
    error = None

    def save():
        return company_direct_access_remove(actor=request.user, company=company, user=user)

    if request.method == "POST":
        try:
            save()
        except ActionRefused as refused:
            error = str(refused)
        else:
            return _back_to_iam(
                request, company, f"{subject_name(user)} no longer has direct access to {company}."
            )
    groups = selectors.user_groups_in(company, user)
    access = request.access
    you_lose = []
    if user.pk == request.user.pk and not groups and not access.sees_everything:
        you_lose.append(you_would_lose("company", company=company))
    elif selectors.takes_away(access, MANAGE_COMPANY, user, company):
        you_lose.append(you_would_lose(MANAGE_COMPANY, company=company))
    context = {
        "company": company,
        "subject": user,
        "subject_name": subject_name(user),
        "kind": kind,
        "error": error,
        "bindings": selectors.company_bindings_listed(user, company),
        "groups": groups,
        "you_lose": you_lose,
        "last_owner": last_owner_reason(company, without_direct_role_of=user),
        "preview": change_preview(company=company, subjects=[user], run=save),
    }
    return render(request, partial(request, "access/company_identity_remove.html"), context)


# -- Project IAM ----------------------------------------------------------------------------------


@require_GET
@login_required
def project_iam(request, company, project):
    """The whole company directory for those who may manage the project's identities; anyone else who may
    view the project sees only who has access to it, by name (no emails, no client ids: contact details and
    credentials' ids are the company directory's, which is the managers')."""
    project = project_for(request, company, project)
    access = request.access
    params = table_state(request, selectors.PROJECT_SORTS, KIND_LABELS)
    environments = list(access.visible_environments(project).order_by("position", "env_id"))
    can_edit = access.can("project.identities.manage", project)
    members_only = not can_edit
    page = selectors.project_identity_page(
        project, environments, members_only=members_only, size=settings.PAGE_SIZE, **params
    )
    counts = selectors.project_identity_counts(
        project, environments, members_only=members_only, kind=params["kind"], search=params["search"]
    )
    context = {
        "company": project.company,
        "project": project,
        "environments": environments,
        "page": page,
        "counts": counts,
        "params": params,
        "kinds": KIND_LABELS,
        "can_edit": can_edit,
        "can_add": access.can("company.identities.manage", project.company),
    }
    return render(request, partial(request, "access/project_iam.html", "table"), context)


@require_http_methods(["GET", "POST"])
@login_required
def project_role_edit(request, company, project, kind, pk):
    project = project_for(request, company, project, manage=True)
    subject = company_subject(project.company, kind, pk)
    environments = selectors.project_environments(project)
    initial = ProjectRolesForm.initial_for(selectors.project_own_roles(subject, project), environments)
    # Opened from "Add user" for someone already in the company: the roles chosen there, to save here.
    offered = request.method == "GET" and "offered" in request.GET
    if offered:
        initial |= ProjectRolesForm.offered(request.GET, environments)
    form = ProjectRolesForm(request.POST or None, initial=initial, environments=environments)
    # Said before saving: the project roles that add nothing to what the subject inherits, and what the
    # choice would take from the signed-in person when it is their own role or their group's.
    grants = AccessResolver(subject).grants(project)
    inherited = [g for g in grants if g.level == Level.COMPANY or g.group_name is not None]
    adding_nothing = selectors.roles_adding_nothing(AccessResolver(subject), inherited, Level.PROJECT)
    if adding_nothing:
        form.fields["project_role"].widget.notes = dict.fromkeys(adding_nothing, "already inherited")
        form.fields["project_role"].help_text = (
            f"Roles marked “already inherited” add nothing: {subject_name(subject)} already has everything "
            "they allow here, through the roles above."
        )

    def save():
        return project_roles_set(
            actor=request.user,
            project=project,
            subject=subject,
            project_role=form.project_role(),
            environment_roles=form.environment_roles(),
            until=form.role_until(),
        )

    if wants_preview(request):
        return preview_answer(request, company=project.company, subjects=[subject], run=save, form=form)
    if request.method == "POST" and form.is_valid():
        try:
            save()
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            message = f"The roles of {subject_name(subject)} on {project} were saved."
            if form.project_role() in adding_nothing:
                message += (
                    f" Their project role {catalogue.role_label(form.project_role())} adds nothing to what "
                    "they inherit."
                )
            return done_or_leave(
                request,
                message,
                redirect_to=reverse("project_iam", args=[project.company.slug, project.slug]),
                company=project.company,
                project=project,
                need=MANAGE_PROJECT,
            )
    choices = [None, *catalogue.ROLES_BY_LEVEL[Level.PROJECT]]
    losing_view = selectors.roles_taking_away(request.access, "project.view", subject, project, choices)
    losing_edit = [
        role
        for role in selectors.roles_taking_away(request.access, MANAGE_PROJECT, subject, project, choices)
        if role not in losing_view
    ]
    you_lose = [
        you_would_lose(loss, company=project.company, project=project, roles=roles)
        for loss, roles in (("project", losing_view), (MANAGE_PROJECT, losing_edit))
        if roles
    ]
    context = {
        "company": project.company,
        "project": project,
        "subject": subject,
        "subject_name": subject_name(subject),
        "kind": kind,
        "kind_label": KIND_LABELS[kind],
        "form": form,
        "inherited": inherited,
        "inherited_capabilities": selectors.inherited_capabilities(grants),
        "you_lose": you_lose,
        "offered": offered,
        "company_role": catalogue.role_label(selectors.binding_role(subject, project.company))
        if offered
        else "",
    }
    return render(request, partial(request, "access/project_role_edit.html"), context)


# -- one identity's access page -------------------------------------------------------------------


@require_GET
@login_required
@vary_on_headers("HX-Target")
def identity_access(request, company, kind, pk):
    """Everything an identity may do in the company, and why. Those who manage the company's identities
    see everyone's; anyone sees their own ("My access"); for everyone else it is forbidden."""
    itself = kind == USER and pk == request.user.pk
    company = company_for(request, company, section="my_access" if itself else "iam")
    if not itself and not request.access.can("company.identities.manage", company):
        raise PermissionDenied(
            "Only those who manage the company's identities may see someone else's access."
        )
    # Your own page needs no role of yours in the company: a super user browsing it sees what they hold.
    subject = request.user if itself else company_subject(company, kind, pk)
    access = request.access if itself else AccessResolver(subject, now=request.access.now)
    found = selectors.identity_access(access, company)
    asked = "permission" in request.GET or "resource" in request.GET
    form = WhyForm(request.GET if asked else None, resources=found.resources)
    answer = None
    if form.is_bound and form.is_valid():
        answer = selectors.why_answer(access, request.access, subject, **form.answer_args())
    context = {
        **_about(company, kind, subject),
        "itself": itself,
        "access": found,
        "form": form,
        "answer": answer,
        "can_manage": request.access.can("company.identities.manage", company),
        **_identity_details(company, kind, subject),
    }
    name = {"why-answer": "why", "identity-access": "content"}.get(
        request.htmx.target if request.htmx else ""
    )
    return render(
        request,
        partial(request, "access/identity_access.html", name) if name else "access/identity_access.html",
        context,
    )


def _identity_details(company, kind, subject) -> dict:
    if kind == USER:
        return {"groups": selectors.user_groups_in(company, subject)}
    if kind == GROUP:
        return {
            "group": identity_selectors.group_summary(company, subject.pk),
            "members": identity_selectors.group_member_page(subject, size=settings.PAGE_SIZE),
            "bindings": selectors.bindings_of(subject),
        }
    return {"credentials": selectors.service_account_credentials(subject)}


@require_GET
@login_required
def role_allows(request, level):
    """What the role chosen in a role picker allows (the picker's hx-get; any parameter names the role)."""
    if level not in set(Level):
        raise Http404("No such level.")
    role = next((value for value in request.GET.values() if catalogue.is_role_valid_for(value, level)), None)
    return render(request, "access/_role_allows.html#body", role_allows_context(role, level))


# -- time-limited roles: Extend and End now -------------------------------------------------------------


def _time_limited_binding(request, company, pk):
    """A role binding of the company (on it, its projects or environments) from the URL, with where to go
    back to: 404 for another company's; those who may not edit that role are refused like on its page."""
    company = company_for(request, company, section="iam")
    binding = selectors.company_binding(company, pk)
    if binding is None:
        raise Http404("No such role.")
    if binding.level == Level.COMPANY:
        company_for(request, company.slug, manage=True, section="iam")
        return binding, reverse("company_iam", args=[company.slug]), {"company": company}
    project = project_for(request, company.slug, binding.resource.ancestor(Level.PROJECT).slug, manage=True)
    back = reverse("project_iam", args=[company.slug, project.slug])
    return binding, back, {"company": company, "project": project, "need": MANAGE_PROJECT}


@require_http_methods(["GET", "POST"])
@login_required
def binding_ends(request, company, pk, change: str):
    """Extend (`change` "extend": a new end) or End now ("end") a time-limited role."""
    binding, back, where = _time_limited_binding(request, company, pk)
    if change == "extend":
        form = ExtendForm(request.POST or None, initial=ExtendForm.initial_until(binding))
    else:
        form = forms.Form(request.POST if request.method == "POST" else None)  # End now posts no fields
    if request.method == "POST" and form.is_valid():
        try:
            message = _ends_change(request.user, binding, form)
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            return done_or_leave(request, message, redirect_to=back, **where)
    context = {**where, "binding": binding, "subject_name": subject_name(binding.subject), "form": form}
    return render(request, partial(request, f"access/binding_{change}.html"), {**context, "back": back})


def _ends_change(actor, binding, form) -> str:
    """Runs the Extend or End now of `binding`; returns what happened, in words."""
    role = f"{possessive(subject_name(binding.subject))} {catalogue.role_label(binding.role)} role on {binding.resource}"
    if isinstance(form, ExtendForm):
        binding_extend(actor=actor, binding=binding, until=form.role_until())
        return f"{role} now ends {moment(form.role_until())}."
    binding_end(actor=actor, binding=binding)
    after = catalogue.role_label(binding.role_after)
    return f"{role} ended; {after} holds again." if after else f"{role} ended."
