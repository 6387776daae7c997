"""Users, Groups and Service accounts pages of a company."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from iam_portal.access import catalogue
from iam_portal.access import selectors as access_selectors
from iam_portal.access.services import ActionRefused, company_bindings_of
from iam_portal.access.shortcuts import company_for
from iam_portal.htmx import done, partial
from iam_portal.identities import selectors, services
from iam_portal.identities.forms import AddUserForm
from iam_portal.identities.models import Group

IDENTITIES_CHANGED = "identitiesChanged"


def _table_params(request, sorts: dict) -> dict:
    sort = request.GET.get("sort", "name")
    return {
        "search": request.GET.get("q", "")[:100],
        "sort": sort if sort in sorts else "name",
        "after": request.GET.get("after") or None,
        "before": request.GET.get("before") or None,
    }


# -- users ----------------------------------------------------------------------------------------


@require_GET
@login_required
@vary_on_headers("HX-Request")
def company_users(request, company):
    company = company_for(request, company, manage=True, section="users")
    params = _table_params(request, selectors.USER_SORTS)
    page = selectors.company_user_page(company, **params)
    total = selectors.user_rows(company, search=params["search"]).order_by().values("pk").count()
    context = {"company": company, "page": page, "params": params, "total": total}
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
                IDENTITIES_CHANGED,
                redirect_to=_back(request, company, "company_users"),
            )
    context = {"company": company, "form": form, "next": _back(request, company, "company_users")}
    return render(request, partial(request, "identities/user_add.html"), context)


@require_http_methods(["GET", "POST"])
@login_required
def company_user_remove(request, company, pk):
    """Full removal: direct roles everywhere in the company and every group membership."""
    company = company_for(request, company, manage=True, section="users")
    user = get_object_or_404(access_selectors.company_users(company), pk=pk)
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
                IDENTITIES_CHANGED,
                redirect_to=reverse("company_users", args=[company.slug]),
            )
    context = {
        "company": company,
        "subject": user,
        "error": error,
        "bindings": list(
            company_bindings_of(user, company).select_related("company", "project", "environment__project")
        ),
        "groups": list(Group.objects.filter(company=company, memberships__user=user).order_by("name")),
    }
    return render(request, partial(request, "identities/user_remove.html"), context)


def _back(request, company, default: str) -> str:
    """Where a no-JavaScript form returns: the page it was opened from, if that is one of ours."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate.startswith(f"/companies/{company.slug}/") and "//" not in candidate:
        return candidate
    return reverse(default, args=[company.slug])


# -- groups (built by the Groups change) -----------------------------------------------------------


def company_groups(request, company):
    raise Http404


def group_create(request, company):
    raise Http404


def group_detail(request, company, group):
    raise Http404


def group_edit(request, company, group):
    raise Http404


def group_add_members(request, company, group):
    raise Http404


def group_remove_member(request, company, group, user):
    raise Http404


def group_delete(request, company, group):
    raise Http404


# -- service accounts (built by the Service accounts change) --------------------------------------


def company_service_accounts(request, company):
    raise Http404


def service_account_add(request, company):
    raise Http404


def service_account_delete(request, company, pk):
    raise Http404
