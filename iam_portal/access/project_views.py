"""Project IAM: company identities with their project and per-environment roles."""

from django.http import Http404


def project_iam(request, company, project):
    raise Http404
