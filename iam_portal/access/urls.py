from django.urls import path

from iam_portal.access import views

company = "companies/<slug:company>"
project = f"{company}/projects/<slug:project>"

urlpatterns = [
    path(f"{company}/iam/", views.company_iam, name="company_iam"),
    path(f"{company}/iam/<str:kind>/<int:pk>/edit/", views.company_role_edit, name="company_role_edit"),
    path(
        f"{company}/iam/<str:kind>/<int:pk>/remove/",
        views.company_identity_remove,
        name="company_identity_remove",
    ),
    path(f"{company}/access/<str:kind>/<int:pk>/", views.identity_access, name="identity_access"),
    path("roles/<str:level>/allows/", views.role_allows, name="role_allows"),
    path(
        f"{company}/roles/<int:pk>/extend/", views.binding_ends, {"change": "extend"}, name="binding_extend"
    ),
    path(f"{company}/roles/<int:pk>/end/", views.binding_ends, {"change": "end"}, name="binding_end"),
    path(f"{project}/iam/", views.project_iam, name="project_iam"),
    path(f"{project}/iam/<str:kind>/<int:pk>/edit/", views.project_role_edit, name="project_role_edit"),
]
