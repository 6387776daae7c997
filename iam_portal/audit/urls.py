from django.urls import path

from iam_portal.audit import views

company = "companies/<slug:company>"
project = f"{company}/projects/<slug:project>"

urlpatterns = [
    path(f"{company}/audit-log/", views.company_audit_log, name="company_audit_log"),
    path(f"{company}/audit-log/export.csv", views.company_audit_csv, name="company_audit_csv"),
    path(f"{company}/audit-log/<int:event>/", views.company_audit_event, name="company_audit_event"),
    path(f"{project}/audit-log/", views.project_audit_log, name="project_audit_log"),
    path(f"{project}/audit-log/export.csv", views.project_audit_csv, name="project_audit_csv"),
    path(f"{project}/audit-log/<int:event>/", views.project_audit_event, name="project_audit_event"),
]
