from django.urls import path

from iam_portal.orgs import views

urlpatterns = [
    path("", views.home, name="home"),
    path("companies/<slug:company>/", views.company_overview, name="company_overview"),
    path(
        "companies/<slug:company>/projects/<slug:project>/", views.project_overview, name="project_overview"
    ),
]
