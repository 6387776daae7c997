"""Loading the objects a view works on, with the access checks every view needs.

The rule everywhere: what you cannot see does not exist for you (404); what you can see but may not
change is forbidden (403). Objects are always looked up inside the company (and project) of the URL,
so an id from another company is a 404.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from iam_portal.orgs.models import Company, Project


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
