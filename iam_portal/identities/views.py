"""Users, Groups and Service accounts pages of a company."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from iam_portal.access import catalogue
from iam_portal.access import selectors as access_selectors
from iam_portal.access.services import ActionRefused
from iam_portal.access.shortcuts import company_for, project_for
from iam_portal.access.subjects import GROUP, SERVICE_ACCOUNT, USER, company_subject, company_user_count
from iam_portal.htmx import announce, done, partial
from iam_portal.identities import selectors, services
from iam_portal.identities.forms import (
    AddMembersForm,
    AddUserForm,
    GroupForm,
    ProjectAddServiceAccountForm,
    ProjectAddUserForm,
    ServiceAccountForm,
)
from iam_portal.pagination import table_state

# -- users ----------------------------------------------------------------------------------------


@require_GET
@login_required
@vary_on_headers("HX-Request")
def company_users(request, company):
    company = company_for(request, company, manage=True, section="users")
    params = table_state(request, selectors.USER_SORTS)
    page = selectors.company_user_page(company, **params, size=settings.PAGE_SIZE)
    total = company_user_count(company, search=params["search"])
    context = {
        "company": company,
        "page": page,
        "params": params,
        "total": total,
        # Each row links every group it belongs to; one reverse() instead of one per link.
        "groups_url": reverse("company_groups", args=[company.slug]),
    }
    return render(request, partial(request, "identities/users.html", "table"), context)


@require_http_methods(["GET", "POST"])
@login_required
def company_user_add(request, company):
    company = company_for(request, company, manage=True, section="users")
    form = AddUserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.company_user_add(actor=request.user, company=company, **form.cleaned_data)
        except ActionRefused as refused:
            form.add_error("email", str(refused))
        else:
            role = catalogue.role_label(form.cleaned_data["role"])
            return done(
                request,
                f"{user.display_name} was added to {company} as {role}.",
                redirect_to=_back(request, company, "company_users"),
            )
    context = {"company": company, "form": form, "next": _back(request, company, "company_users")}
    return render(request, partial(request, "identities/user_add.html"), context)


@require_http_methods(["GET", "POST"])
@login_required
def company_user_remove(request, company, pk):
    """Full removal: direct roles everywhere in the company and every group membership."""
    company = company_for(request, company, manage=True, section="users")
    user = company_subject(company, USER, pk)
    error = None
    if request.method == "POST":
        try:
            services.company_user_remove(actor=request.user, company=company, user=user)
        except ActionRefused as refused:
            error = str(refused)
        else:
            return done(
                request,
                f"{user.display_name} was removed from {company}.",
                redirect_to=reverse("company_users", args=[company.slug]),
            )
    context = {
        "company": company,
        "subject": user,
        "error": error,
        "bindings": access_selectors.company_bindings_listed(user, company),
        "groups": access_selectors.user_groups_in(company, user),
    }
    return render(request, partial(request, "identities/user_remove.html"), context)


def _back(request, company, default: str) -> str:
    """Where a no-JavaScript form returns: the page it was opened from, if that is one of ours."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate.startswith(f"/companies/{company.slug}/") and "//" not in candidate:
        return candidate
    return reverse(default, args=[company.slug])


# -- groups ---------------------------------------------------------------------------------------


@require_GET
@login_required
@vary_on_headers("HX-Request")
def company_groups(request, company):
    company = company_for(request, company, manage=True, section="groups")
    params = table_state(request, selectors.GROUP_SORTS)
    page = selectors.company_group_page(company, **params, size=settings.PAGE_SIZE)
    total = selectors.group_rows(company, search=params["search"]).order_by().values("pk").count()
    context = {"company": company, "page": page, "params": params, "total": total}
    return render(request, partial(request, "identities/groups.html", "table"), context)


@require_http_methods(["GET", "POST"])
@login_required
def group_create(request, company):
    company = company_for(request, company, manage=True, section="groups")
    form = GroupForm(request.POST or None, company=company)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            group = services.group_create(
                actor=request.user,
                company=company,
                name=data["name"],
                role=data["role"],
                member_emails=data["members"],
            )
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            members = len(data["members"])
            return done(
                request,
                f"Group {group.name} was created with {members} member{pluralize(members)}.",
                redirect_to=reverse("group_detail", args=[company.slug, group.pk]),
            )
    context = {"company": company, "form": form}
    return render(request, partial(request, "identities/group_create.html"), context)


@require_GET
@login_required
@vary_on_headers("HX-Request", "HX-Target")
def group_detail(request, company, group):
    company = company_for(request, company, manage=True, section="groups")
    group = selectors.group_summary(company, group)
    if group is None:
        raise Http404("No such group.")
    # The header refreshes itself after Edit or Add members; every other htmx request wants the members.
    name = "header" if request.htmx and request.htmx.target == "group-header" else "table"
    context = {"company": company, "group": group}
    if name == "table":
        params = table_state(request, selectors.MEMBER_SORTS)
        context["params"] = params
        context["page"] = selectors.group_member_page(group, **params, size=settings.PAGE_SIZE)
        context["total"] = (
            group.member_count
            if not params["search"]
            else selectors.member_rows(group, search=params["search"]).order_by().count()
        )
    return render(request, partial(request, "identities/group_detail.html", name), context)


@require_http_methods(["GET", "POST"])
@login_required
def group_edit(request, company, group):
    company = company_for(request, company, manage=True, section="groups")
    group = company_subject(company, GROUP, group)
    form = GroupForm(
        request.POST or None,
        company=company,
        instance=group,
        initial={"name": group.name, "role": access_selectors.binding_role(group, company)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.group_update(
                actor=request.user,
                group=group,
                name=form.cleaned_data["name"],
                role=form.cleaned_data["role"],
            )
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            role = catalogue.role_label(form.cleaned_data["role"])
            return done(
                request,
                f"Group {group.name} was saved; its company role is {role}.",
                redirect_to=reverse("group_detail", args=[company.slug, group.pk]),
            )
    context = {"company": company, "group": group, "form": form}
    return render(request, partial(request, "identities/group_edit.html"), context)


@require_http_methods(["GET", "POST"])
@login_required
def group_add_members(request, company, group):
    company = company_for(request, company, manage=True, section="groups")
    group = company_subject(company, GROUP, group)
    form = AddMembersForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        emails = form.cleaned_data["emails"]
        try:
            added = services.group_members_add(actor=request.user, group=group, emails=emails)
        except ActionRefused as refused:
            form.add_error("emails", str(refused))
        else:
            added_emails = {u.email.lower() for u in added}
            skipped = [e for e in emails if e not in added_emails]
            message = (
                f"{len(added)} member{pluralize(len(added))} added to {group.name}."
                if added
                else f"Nobody was added to {group.name}."
            )
            if skipped:
                message += f" Already members: {', '.join(skipped)}."
            return done(
                request,
                message,
                redirect_to=reverse("group_detail", args=[company.slug, group.pk]),
                level="success" if added else "info",
            )
    context = {"company": company, "group": group, "form": form}
    return render(request, partial(request, "identities/group_add_members.html"), context)


@require_http_methods(["GET", "POST"])
@login_required
def group_remove_member(request, company, group, user):
    company = company_for(request, company, manage=True, section="groups")
    group = company_subject(company, GROUP, group)
    member = selectors.group_member(group, user)
    error = None
    if request.method == "POST":
        try:
            services.group_member_remove(actor=request.user, group=group, user=member)
        except ActionRefused as refused:
            error = str(refused)
        else:
            return done(
                request,
                f"{member.display_name} was removed from {group.name}.",
                redirect_to=reverse("group_detail", args=[company.slug, group.pk]),
            )
    context = {
        "company": company,
        "group": group,
        "member": member,
        "error": error,
        **selectors.access_left_without(group, member),
    }
    return render(request, partial(request, "identities/group_remove_member.html"), context)


LOSING_ACCESS_SHOWN = 20


@require_http_methods(["GET", "POST"])
@login_required
def group_delete(request, company, group):
    company = company_for(request, company, manage=True, section="groups")
    group = company_subject(company, GROUP, group)
    error = None
    if request.method == "POST":
        pk = group.pk
        try:
            services.group_delete(actor=request.user, group=group)
        except ActionRefused as refused:
            error = str(refused)
            group = company_subject(
                company, GROUP, pk
            )  # Model.delete() cleared the pk even though it was rolled back
        else:
            messages.success(request, f"Group {group.name} was deleted.")
            target = reverse("company_groups", args=[company.slug])
            return HttpResponseClientRedirect(target) if request.htmx else redirect(target)
    context = {
        "company": company,
        "group": group,
        "error": error,
        "bindings": access_selectors.bindings_of(group),
        **selectors.group_deletion_losses(group, shown=LOSING_ACCESS_SHOWN),
    }
    return render(request, partial(request, "identities/group_delete.html"), context)


# -- service accounts -----------------------------------------------------------------------------


@require_GET
@login_required
@vary_on_headers("HX-Request")
def company_service_accounts(request, company):
    company = company_for(request, company, manage=True, section="service_accounts")
    params = table_state(request, selectors.SERVICE_ACCOUNT_SORTS)
    page = selectors.company_service_account_page(company, **params, size=settings.PAGE_SIZE)
    total = selectors.service_account_rows(company, search=params["search"]).order_by().values("pk").count()
    context = {"company": company, "page": page, "params": params, "total": total}
    return render(request, partial(request, "identities/service_accounts.html", "table"), context)


def _credentials_once(request, template: str, context: dict, created) -> HttpResponse:
    """The new account's credentials, rendered in the POST response itself and never redirected to: the
    client secret exists only in this one response."""
    response = render(
        request,
        partial(request, template),
        {**context, "account": created.account, "client_secret": created.client_secret},
    )
    response["Cache-Control"] = "no-store"
    return announce(request, response, f"Service account {created.account.name} was created.")


@require_http_methods(["GET", "POST"])
@login_required
@sensitive_variables("created", "response")
def service_account_add(request, company):
    company = company_for(request, company, manage=True, section="service_accounts")
    back = _back(request, company, "company_service_accounts")
    form = ServiceAccountForm(request.POST or None, company=company)
    context = {"company": company, "form": form, "next": back}
    if request.method == "POST" and form.is_valid():
        try:
            created = services.service_account_create(
                actor=request.user, company=company, **form.cleaned_data
            )
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            context["role_label"] = catalogue.role_label(form.cleaned_data["role"])
            return _credentials_once(request, "identities/service_account_created.html", context, created)
    return render(request, partial(request, "identities/service_account_add.html"), context)


@require_http_methods(["GET", "POST"])
@login_required
def service_account_delete(request, company, pk, *, back: str = "company_service_accounts"):
    """Delete a service account for good. `back` is the page a no-JavaScript form returns to."""
    company = company_for(request, company, manage=True, section="service_accounts")
    account = company_subject(company, SERVICE_ACCOUNT, pk)
    error = None
    if request.method == "POST":
        try:
            services.service_account_delete(actor=request.user, account=account)
        except ActionRefused as refused:
            error = str(refused)
        else:
            return done(
                request,
                f"Service account {account.name} was deleted.",
                redirect_to=_back(request, company, back),
            )
    context = {
        "company": company,
        "account": account,
        "error": error,
        "bindings": access_selectors.company_bindings_listed(account, company),
    }
    return render(request, partial(request, "identities/service_account_delete.html"), context)


# -- from a project: company access plus project and environment roles in one step ------------------


def _project_for_company_manager(request, company, project):
    project = project_for(request, company, project)
    if not request.access.can("company.identities.manage", project.company):
        raise PermissionDenied("Only Company Owners may add identities to the company.")
    return project


@require_http_methods(["GET", "POST"])
@login_required
def project_user_add(request, company, project):
    project = _project_for_company_manager(request, company, project)
    form = ProjectAddUserForm(
        request.POST or None, environments=access_selectors.project_environments(project)
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = services.project_user_add(
                actor=request.user,
                project=project,
                email=form.cleaned_data["email"],
                company_role=form.cleaned_data["company_role"],
                project_role=form.project_role(),
                environment_roles=form.environment_roles(),
            )
        except ActionRefused as refused:
            unknown = services.find_account(form.cleaned_data["email"]) is None
            form.add_error("email" if unknown else None, str(refused))
        else:
            role = catalogue.role_label(form.cleaned_data["company_role"])
            return done(
                request,
                f"{user.display_name} was added to {project.company} as {role}, with their roles on {project}.",
                redirect_to=reverse("project_iam", args=[project.company.slug, project.slug]),
            )
    context = {"company": project.company, "project": project, "form": form}
    return render(request, partial(request, "identities/project_user_add.html"), context)


@sensitive_variables("created", "response")
@require_http_methods(["GET", "POST"])
@login_required
def project_service_account_add(request, company, project):
    project = _project_for_company_manager(request, company, project)
    form = ProjectAddServiceAccountForm(
        request.POST or None, environments=access_selectors.project_environments(project)
    )
    context = {"company": project.company, "project": project, "form": form}
    if request.method == "POST" and form.is_valid():
        try:
            created = services.project_service_account_add(
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
            return _credentials_once(request, "identities/project_service_account_created.html", context, created)
    return render(request, partial(request, "identities/project_service_account_add.html"), context)
