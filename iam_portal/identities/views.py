"""Users, Groups and Service accounts pages of a company."""

import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from iam_portal.access import catalogue
from iam_portal.access import selectors as access_selectors
from iam_portal.access.preview import change_preview
from iam_portal.access.services import ActionRefused
from iam_portal.access.shortcuts import (
    MANAGE_COMPANY,
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
from iam_portal.access.subjects import GROUP, SERVICE_ACCOUNT, USER, company_subject, company_subject_count
from iam_portal.htmx import announce, done, opened_from, partial
from iam_portal.identities import selectors, services
from iam_portal.identities.forms import (
    AddMembersForm,
    AddUserForm,
    GroupForm,
    ProjectAddServiceAccountForm,
    ProjectAddUserForm,
    PublicKeyForm,
    ServiceAccountForm,
)
from iam_portal.identities.models import ServiceAccount
from iam_portal.pagination import table_state

# -- users ----------------------------------------------------------------------------------------


@require_GET
@login_required
def company_users(request, company):
    company = company_for(request, company, manage=True, section="users")
    params = table_state(request, selectors.USER_SORTS)
    page = selectors.company_user_page(company, **params, size=settings.PAGE_SIZE)
    total = company_subject_count(company, USER, search=params["search"])
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
            fields = form.service_kwargs("email", "role")
            user = services.company_user_add(actor=request.user, company=company, **fields)
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

    def save():
        return services.company_user_remove(actor=request.user, company=company, user=user)

    if request.method == "POST":
        try:
            save()
        except ActionRefused as refused:
            error = str(refused)
        else:
            return done_or_leave(
                request,
                f"{user.display_name} was removed from {company}.",
                redirect_to=reverse("company_users", args=[company.slug]),
                company=company,
            )
    access = request.access
    you_lose = []
    if user.pk == request.user.pk:  # their roles and groups all go: only root keys are left
        if not access.sees_everything:
            you_lose.append(you_would_lose("company", company=company))
        elif not access.can_with(MANAGE_COMPANY, []):
            you_lose.append(you_would_lose(MANAGE_COMPANY, company=company))
    context = {
        "company": company,
        "subject": user,
        "error": error,
        "bindings": access_selectors.company_bindings_listed(user, company),
        "groups": access_selectors.user_groups_in(company, user),
        "you_lose": you_lose,
        "last_owner": last_owner_reason(company, without_user=user),
        "preview": change_preview(company=company, subjects=[user], run=save),
    }
    return render(request, partial(request, "identities/user_remove.html"), context)


def _back(request, company, default: str) -> str:
    """Where a no-JavaScript form returns: the page of this company it was opened from (filters kept), or
    the `default` page."""
    came_from = opened_from(request)
    if came_from.startswith(f"/companies/{company.slug}/"):
        return came_from
    return reverse(default, args=[company.slug])


# -- groups ---------------------------------------------------------------------------------------


@require_GET
@login_required
def company_groups(request, company):
    company = company_for(request, company, manage=True, section="groups")
    params = table_state(request, selectors.GROUP_SORTS)
    page = selectors.company_group_page(company, **params, size=settings.PAGE_SIZE)
    total = company_subject_count(company, GROUP, search=params["search"])
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
                until=form.role_until(),
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
@vary_on_headers("HX-Target")
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
        initial=company_role_initial(access_selectors.binding_of(group, company)) | {"name": group.name},
    )
    you_lose = company_role_choice(request, company, group, form.fields["role"])  # said before saving

    def save():
        data = form.cleaned_data
        return services.group_update(
            actor=request.user, group=group, name=data["name"], role=data["role"], until=form.role_until()
        )

    if wants_preview(request):
        return preview_answer(request, company=company, subjects=[group], run=save, form=form)
    if request.method == "POST" and form.is_valid():
        try:
            save()
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            role = catalogue.role_label(form.cleaned_data["role"])
            return done_or_leave(
                request,
                f"Group {group.name} was saved; its company role is {role}.",
                redirect_to=reverse("group_detail", args=[company.slug, group.pk]),
                company=company,
            )
    context = {
        "company": company,
        "group": group,
        "form": form,
        "you_lose": you_lose,
    }
    return render(request, partial(request, "identities/group_edit.html"), context)


@require_http_methods(["GET", "POST"])
@login_required
def group_add_members(request, company, group):
    company = company_for(request, company, manage=True, section="groups")
    group = company_subject(company, GROUP, group)
    form = AddMembersForm(request.POST or None)

    def save():
        return services.group_members_add(actor=request.user, group=group, emails=form.cleaned_data["emails"])

    if wants_preview(request):
        return preview_answer(request, company=company, subjects=[group], run=save, form=form)
    if request.method == "POST" and form.is_valid():
        emails = form.cleaned_data["emails"]
        try:
            added = save()
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

    def save():
        return services.group_member_remove(actor=request.user, group=group, user=member)

    if request.method == "POST":
        try:
            save()
        except ActionRefused as refused:
            error = str(refused)
        else:
            return done_or_leave(
                request,
                f"{member.display_name} was removed from {group.name}.",
                redirect_to=reverse("group_detail", args=[company.slug, group.pk]),
                company=company,
            )
    left = selectors.access_left_without(group, member)
    access = request.access
    you_lose = []
    if member.pk == request.user.pk:
        if not (left["direct_role"] or left["other_groups"] or access.sees_everything):
            you_lose.append(you_would_lose("company", company=company))
        elif access_selectors.takes_away(access, MANAGE_COMPANY, group, company):
            you_lose.append(you_would_lose(MANAGE_COMPANY, company=company))
    context = {
        "company": company,
        "group": group,
        "member": member,
        "error": error,
        **left,
        "you_lose": you_lose,
        "last_owner": last_owner_reason(company, without_membership=(group, member)),
        "preview": change_preview(company=company, subjects=[member], run=save),
    }
    return render(request, partial(request, "identities/group_remove_member.html"), context)


LOSING_ACCESS_SHOWN = 20


@require_http_methods(["GET", "POST"])
@login_required
def group_delete(request, company, group):
    company = company_for(request, company, manage=True, section="groups")
    group = company_subject(company, GROUP, group)
    error = None

    def save():
        return services.group_delete(actor=request.user, group=group)

    if request.method == "POST":
        pk = group.pk
        try:
            save()
        except ActionRefused as refused:
            error = str(refused)
            group = company_subject(
                company, GROUP, pk
            )  # Model.delete() cleared the pk even though it was rolled back
        else:
            return done_or_leave(
                request,
                f"Group {group.name} was deleted.",
                redirect_to=reverse("company_groups", args=[company.slug]),
                company=company,
                gone=True,
            )
    losses = selectors.group_deletion_losses(group, shown=LOSING_ACCESS_SHOWN)
    access = request.access
    you_lose = []
    if (
        selectors.members_losing_access(group).filter(pk=request.user.pk).exists()
        and not access.sees_everything
    ):
        you_lose.append(you_would_lose("company", company=company))
    elif access_selectors.takes_away(access, MANAGE_COMPANY, group, company):
        you_lose.append(you_would_lose(MANAGE_COMPANY, company=company))
    context = {
        "company": company,
        "group": group,
        "error": error,
        "bindings": access_selectors.bindings_of(group),
        **losses,
        "you_lose": you_lose,
        "last_owner": last_owner_reason(company, without_group=group),
        "preview": change_preview(company=company, subjects=[group], run=save),
    }
    return render(request, partial(request, "identities/group_delete.html"), context)


# -- service accounts -----------------------------------------------------------------------------


@require_GET
@login_required
def company_service_accounts(request, company):
    company = company_for(request, company, manage=True, section="service_accounts")
    params = table_state(request, selectors.SERVICE_ACCOUNT_SORTS)
    page = selectors.company_service_account_page(company, **params, size=settings.PAGE_SIZE)
    total = company_subject_count(company, SERVICE_ACCOUNT, search=params["search"])
    context = {"company": company, "page": page, "params": params, "total": total}
    return render(request, partial(request, "identities/service_accounts.html", "table"), context)


def _credentials_once(request, template: str, context: dict, created, message: str = "") -> HttpResponse:
    """The account's new credentials, rendered in the POST response itself and never redirected to: the
    client secret exists only in this one response."""
    response = render(
        request,
        partial(request, template),
        {**context, "account": created.account, "client_secret": created.client_secret},
    )
    response["Cache-Control"] = "no-store"
    return announce(request, response, message or f"Service account {created.account.name} was created.")


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
            fields = form.service_kwargs("name", "role", "auth_method", "public_key")
            created = services.service_account_create(actor=request.user, company=company, **fields)
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            context["role_label"] = catalogue.role_label(form.cleaned_data["role"])
            return _credentials_once(request, "identities/service_account_created.html", context, created)
    return render(request, partial(request, "identities/service_account_add.html"), context)


@require_http_methods(["GET", "POST"])
@login_required
def service_account_delete(request, company, pk, *, back: str = "company_service_accounts"):
    """Delete a service account for good. `back` is the page a no-JavaScript form returns to (and the
    sidebar entry it highlights)."""
    section = "iam" if back == "company_iam" else "service_accounts"
    company = company_for(request, company, manage=True, section=section)
    account = company_subject(company, SERVICE_ACCOUNT, pk)
    error = None

    def save():
        return services.service_account_delete(actor=request.user, account=account)

    if request.method == "POST":
        try:
            save()
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
        "preview": change_preview(company=company, subjects=[account], run=save),
    }
    return render(request, partial(request, "identities/service_account_delete.html"), context)


@require_http_methods(["GET", "POST"])
@login_required
@sensitive_variables("secret", "response")
def service_account_credentials(request, company, pk):
    """Rotate the client secret (Client Secret Basic) or replace the public key (Private Key JWT). Tokens
    issued with the old credentials stop working at once."""
    company = company_for(request, company, manage=True, section="service_accounts")
    account = company_subject(company, SERVICE_ACCOUNT, pk)
    rotate = account.auth_method == ServiceAccount.AuthMethod.CLIENT_SECRET_BASIC
    form = None if rotate else PublicKeyForm(request.POST or None)
    context = {"company": company, "account": account, "form": form, "rotate": rotate, "error": None}
    if request.method == "POST" and (rotate or form.is_valid()):
        try:
            if rotate:
                secret = services.service_account_secret_rotate(actor=request.user, account=account)
            else:
                services.service_account_key_replace(
                    actor=request.user, account=account, public_key=form.cleaned_data["public_key"]
                )
                secret = None
        except ActionRefused as refused:
            context["error"] = str(refused)
        else:
            done_message = f"New {'client secret' if rotate else 'public key'} for {account.name}."
            context["next"] = reverse("company_service_accounts", args=[company.slug])
            return _credentials_once(
                request,
                "identities/service_account_credentials.html",
                {**context, "changed": True},
                services.NewServiceAccount(account, secret),
                done_message,
            )
    return render(request, partial(request, "identities/service_account_credentials.html"), context)


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
        member = selectors.company_member(project.company, form.cleaned_data["email"])
        if member is not None:
            return _offer_project_roles(request, project, member, form)
        try:
            user = services.project_user_add(
                actor=request.user,
                project=project,
                email=form.cleaned_data["email"],
                company_role=form.cleaned_data["company_role"],
                project_role=form.project_role(),
                environment_roles=form.environment_roles(),
                until=form.role_until(),
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


def _offer_project_roles(request, project, member, form) -> HttpResponse:
    """The person is already a member of the company: instead of refusing, open their Edit project roles
    dialog with the roles just chosen filled in, to save there (their company role stays as it is). htmx
    loads it into the open dialog without touching the page's URL; without JavaScript it is a redirect."""
    roles = {"project_role": form.cleaned_data["project_role"], "offered": "1"}
    roles |= {form.env_field(env): form.cleaned_data[form.env_field(env)] for env in form.environments}
    roles |= {name: request.POST.get(name, "") for name in ("ends", "until")}  # the end chosen, too
    url = reverse("project_role_edit", args=[project.company.slug, project.slug, USER, member.pk])
    url += "?" + urlencode(roles)
    if not request.htmx:
        return redirect(url)
    response = HttpResponse()
    response["HX-Location"] = json.dumps({"path": url, "target": "#dialog", "push": "false"})
    return response


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
                until=form.role_until(),
            )
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            return _credentials_once(
                request, "identities/project_service_account_created.html", context, created
            )
    return render(request, partial(request, "identities/project_service_account_add.html"), context)
