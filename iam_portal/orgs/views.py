from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from iam_portal.access import catalogue, selectors
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
            "company_role_id": access.role_on(company),
            "can_manage": access.can("company.identities.manage", company),
        },
    )


@require_GET
@login_required
def project_overview(request, company, project):
    project = project_for(request, company, project, section="project")
    access = request.access
    my_role = access.role_on(project)
    environments = list(access.visible_environments(project).order_by("position", "env_id"))
    my_env_roles = selectors.my_environment_roles(access, project, environments)
    for environment in environments:
        role = my_env_roles.get(environment.pk)
        environment.my_role, environment.my_role_id = catalogue.role_label(role), role
        # Every role from Maintainer up deploys, at whichever level it is bound (see the catalogue).
        environment.can_deploy = catalogue.role_rank(role) >= catalogue.role_rank(catalogue.MAINTAINER)
    return render(
        request,
        "orgs/project_overview.html",
        {
            "company": project.company,
            "project": project,
            "environments": environments,
            "my_grants": access.grants(project),
            "my_role": catalogue.role_label(my_role),
            "my_role_id": my_role,
            "is_superuser": access.is_superuser,
            "can_manage": access.can("project.identities.manage", project),
        },
    )
