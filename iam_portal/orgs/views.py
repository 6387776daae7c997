from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from iam_portal.access import catalogue
from iam_portal.access.shortcuts import company_for, project_for
from iam_portal.orgs.models import Environment


@require_GET
@login_required
def home(request):
    """The companies the user can reach; straight to the company when there is only one."""
    companies = list(request.access.companies())
    if len(companies) == 1:
        return redirect("company_overview", companies[0].slug)
    return render(request, "orgs/home.html", {"companies": companies})


@require_GET
@login_required
def company_overview(request, company):
    company = company_for(request, company)
    access = request.access
    environments = Environment.objects.order_by("position", "env_id")
    projects = access.visible_projects(company).prefetch_related(
        Prefetch("environments", queryset=environments)
    )
    return render(
        request,
        "orgs/company_overview.html",
        {
            "company": company,
            "projects": projects,
            "company_role": catalogue.role_label(access.role_on(company)) if not access.is_superuser else "",
            "can_manage": access.can("company.identities.manage", company),
        },
    )


@require_GET
@login_required
def project_overview(request, company, project):
    project = project_for(request, company, project)
    access = request.access
    return render(
        request,
        "orgs/project_overview.html",
        {
            "company": project.company,
            "project": project,
            "environments": access.visible_environments(project).order_by("position", "env_id"),
            "my_grants": access.grants(project),
            "my_role": catalogue.role_label(access.role_on(project)),
            "is_superuser": access.is_superuser,
            "can_manage": access.can("project.identities.manage", project),
        },
    )
