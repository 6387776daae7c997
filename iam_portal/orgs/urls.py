from django.urls import path

from iam_portal.orgs import views

# The prefixes of every page of a company, and of a project inside it (the URLs of DESIGN §7).
COMPANY = "companies/<slug:company>"
PROJECT = f"{COMPANY}/projects/<slug:project>"

urlpatterns = [
    path("", views.home, name="home"),
    path(f"{COMPANY}/", views.company_overview, name="company_overview"),
    path(f"{PROJECT}/", views.project_overview, name="project_overview"),
]
