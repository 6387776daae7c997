from django.urls import path

from iam_portal.access import views
from iam_portal.orgs.urls import COMPANY, PROJECT

urlpatterns = [
    path(f"{COMPANY}/iam/", views.company_iam, name="company_iam"),
    path(f"{COMPANY}/iam/<str:kind>/<int:pk>/edit/", views.company_role_edit, name="company_role_edit"),
    path(
        f"{COMPANY}/iam/<str:kind>/<int:pk>/remove/",
        views.company_identity_remove,
        name="company_identity_remove",
    ),
    path(f"{COMPANY}/access/<str:kind>/<int:pk>/", views.identity_access, name="identity_access"),
    path("roles/<str:level>/allows/", views.role_allows, name="role_allows"),
    path(
        f"{COMPANY}/roles/<int:pk>/extend/", views.binding_ends, {"change": "extend"}, name="binding_extend"
    ),
    path(f"{COMPANY}/roles/<int:pk>/end/", views.binding_ends, {"change": "end"}, name="binding_end"),
    path(f"{PROJECT}/iam/", views.project_iam, name="project_iam"),
    path(f"{PROJECT}/iam/<str:kind>/<int:pk>/edit/", views.project_role_edit, name="project_role_edit"),
]
