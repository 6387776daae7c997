from django.urls import path

from iam_portal.access import project_views, views

urlpatterns = [
    path("companies/<slug:company>/iam/", views.company_iam, name="company_iam"),
    path(
        "companies/<slug:company>/iam/<str:kind>/<int:pk>/edit/",
        views.company_role_edit,
        name="company_role_edit",
    ),
    path(
        "companies/<slug:company>/iam/<str:kind>/<int:pk>/remove/",
        views.company_identity_remove,
        name="company_identity_remove",
    ),
    path(
        "companies/<slug:company>/projects/<slug:project>/iam/", project_views.project_iam, name="project_iam"
    ),
]

urlpatterns += [
    path(
        "companies/<slug:company>/projects/<slug:project>/iam/users/add/",
        project_views.project_user_add,
        name="project_user_add",
    ),
    path(
        "companies/<slug:company>/projects/<slug:project>/iam/service-accounts/add/",
        project_views.project_service_account_add,
        name="project_service_account_add",
    ),
    path(
        "companies/<slug:company>/projects/<slug:project>/iam/<str:kind>/<int:pk>/edit/",
        project_views.project_role_edit,
        name="project_role_edit",
    ),
]
