from django.urls import include, path

from iam_portal.audit import views
from iam_portal.orgs.urls import COMPANY, PROJECT

company_log = [  # below companies/<company>/audit-log/
    path("", views.company_audit_log, name="company_audit_log"),
    path("export.csv", views.company_audit_csv, name="company_audit_csv"),
    path("<int:event>/", views.company_audit_event, name="company_audit_event"),
]

project_log = [  # below companies/<company>/projects/<project>/audit-log/
    path("", views.project_audit_log, name="project_audit_log"),
    path("export.csv", views.project_audit_csv, name="project_audit_csv"),
    path("<int:event>/", views.project_audit_event, name="project_audit_event"),
]

urlpatterns = [
    path(f"{COMPANY}/audit-log/", include(company_log)),
    path(f"{PROJECT}/audit-log/", include(project_log)),
]
