"""Loading the objects a view works on, with the access checks every view needs.

The rule everywhere: what you cannot see does not exist for you (404); what you can see but may not
change is forbidden (403). Objects are always looked up inside the company (and project) of the URL,
so an id from another company is a 404. And after a change, `done_or_leave` answers from where the person
may still be.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from iam_portal.access import catalogue, selectors
from iam_portal.access.catalogue import Level
from iam_portal.access.forms import UntilFields
from iam_portal.access.preview import change_preview
from iam_portal.access.resolver import AccessResolver
from iam_portal.access.services import LAST_OWNER_MESSAGE
from iam_portal.htmx import done, leave
from iam_portal.orgs.models import Company, Project

MANAGE_COMPANY, MANAGE_PROJECT = "company.identities.manage", "project.identities.manage"


def company_for(request, slug: str, *, manage: bool = False, section: str = "overview") -> Company:
    company = get_object_or_404(Company, slug=slug)
    if not request.access.has_company_access(company):
        raise Http404("No such company.")
    request.nav_company, request.nav_section = company, section
    if manage and not request.access.can("company.identities.manage", company):
        raise PermissionDenied("Only those who manage the company's identities may open this page.")
    return company


def project_for(
    request, company_slug: str, project_slug: str, *, manage: bool = False, section: str = "project_iam"
) -> Project:
    """The project of the URL; `section` is the sidebar entry it highlights ("project" for its overview)."""
    project = get_object_or_404(
        Project.objects.select_related("company"), company__slug=company_slug, slug=project_slug
    )
    if not request.access.can("project.view", project):
        raise Http404("No such project.")
    request.nav_company, request.nav_project, request.nav_section = project.company, project, section
    if manage and not request.access.can("project.identities.manage", project):
        raise PermissionDenied(
            "Only Project Administrators and Company Owners may change this project's roles."
        )
    return project


def done_or_leave(
    request,
    message: str,
    *,
    redirect_to: str,
    company: Company,
    project: Project | None = None,
    need: str = MANAGE_COMPANY,
    gone: bool = False,
) -> HttpResponse:
    """`done()` (or, when the page shown is `gone`, `leave` for `redirect_to`) — unless the change took from
    the signed-in person what the page needs (`need` on the project, or else on the company): they demoted
    or removed themselves. Then they `leave` for the nearest page they can still reach (the project's IAM,
    the company, their companies), never for a table that now answers 404."""
    access = AccessResolver(request.user)  # a fresh one: request.access remembers the rights from before
    if access.can(need, project or company):
        if gone:
            return leave(request, message, to=redirect_to)
        return done(request, message, redirect_to=redirect_to)
    if project is not None and access.can("project.view", project):
        to = reverse("project_iam", args=[company.slug, project.slug])
    elif access.has_company_access(company):
        to = reverse("company_overview", args=[company.slug])
    else:
        to = reverse("home")
    return leave(request, message, to=to)


# What a dialog warns the signed-in person they would lose ("This is you."), in words.
_LOSSES = {
    "company": "lose access to {company}",
    MANAGE_COMPANY: "no longer manage the identities of {company} (IAM, Users, Groups, Service accounts)",
    "project": "lose access to {project}",
    MANAGE_PROJECT: "no longer change the roles on {project}",
}


def you_would_lose(loss: str, *, company: Company, project: Project | None = None, roles=()) -> str:
    """The sentence "You will lose access to Webshop." or, for the `roles` of a choice that would do it, "With
    no project role or Guest, you will …" (None in `roles`: no role)."""
    words = _LOSSES[loss].format(company=company, project=project)
    if not roles:
        return f"You will {words}."
    labels = [catalogue.role_label(role) or ("no project role" if project else "no role") for role in roles]
    choice = labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} or {labels[-1]}"
    return f"With {choice}, you will {words}."


def last_owner_reason(company: Company, **without) -> str:
    """Why a removal dialog cannot go ahead, or "" when it can: it would leave the company without a Company
    Owner (`without` as for `selectors.company_keeps_an_owner`). The services refuse it anyway."""
    if selectors.company_keeps_an_owner(company, **without):
        return ""
    return LAST_OWNER_MESSAGE.format(company=company)


def company_role_choice(request, company: Company, subject, field) -> list[str]:
    """Before a company role is chosen for `subject` (a user or a group): disables in the form `field` the
    roles the last-owner rule forbids, saying why in its help (the service refuses them anyway), and returns
    what the choice would take from the signed-in person, for "This is you."."""
    locked = selectors.company_roles_leaving_no_owner(company, subject)
    if locked:
        field.widget.disabled = frozenset(locked)
        field.help_text = "Only Company Owner can be chosen. " + LAST_OWNER_MESSAGE.format(company=company)
    choices = [role for role in catalogue.ROLES_BY_LEVEL[Level.COMPANY] if role not in locked]
    losing = selectors.roles_taking_away(request.access, MANAGE_COMPANY, subject, company, choices)
    return [you_would_lose(MANAGE_COMPANY, company=company, roles=losing)] if losing else []


def company_role_initial(binding) -> dict:
    """A company role dialog's initial role and end from the subject's company binding (or None), as it is
    now, so that saving it unchanged changes nothing (a time-limited role keeps its end)."""
    role = binding.role_at(timezone.now()) if binding else None
    return {"role": role, **UntilFields.initial_until(binding)}


# -- what a change would do, asked by a dialog before saving ------------------------------------------

PREVIEW = "preview"  # the field a dialog's preview region posts along with the form (templates/_dialog.html)


def wants_preview(request) -> bool:
    return request.method == "POST" and request.POST.get(PREVIEW) == "1"


def preview_answer(request, *, company: Company, subjects, run, form=None, created=None) -> HttpResponse:
    """A dialog's preview region instead of a save: the form is validated, then the save's own service call
    `run` runs dry (`access.preview.change_preview`, `subjects` and `created` as there). A rule's refusal is
    the preview, in the save's words; what the person may not do at all is refused like the save (403)."""
    context = {"preview": None, "preview_invalid": ""}
    if form is not None and not form.is_valid():
        errors = [error for field_errors in form.errors.values() for error in field_errors]
        context["preview_invalid"] = f"Nothing to show yet: {errors[0]}"
    else:
        found = change_preview(company=company, subjects=subjects, run=run, created=created)
        if isinstance(found.refused, PermissionDenied):
            raise found.refused
        context["preview"] = found
    return render(request, "_dialog.html#preview_changes", context)
