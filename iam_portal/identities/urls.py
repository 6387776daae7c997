from django.urls import path

from iam_portal.identities import views

company = "companies/<slug:company>"
project = f"{company}/projects/<slug:project>"

urlpatterns = [
    path(f"{company}/users/", views.company_users, name="company_users"),
    path(f"{company}/users/add/", views.company_user_add, name="company_user_add"),
    path(f"{company}/users/<int:pk>/remove/", views.company_user_remove, name="company_user_remove"),
    path(f"{company}/groups/", views.company_groups, name="company_groups"),
    path(f"{company}/groups/create/", views.group_create, name="group_create"),
    path(f"{company}/groups/<int:group>/", views.group_detail, name="group_detail"),
    path(f"{company}/groups/<int:group>/edit/", views.group_edit, name="group_edit"),
    path(f"{company}/groups/<int:group>/members/add/", views.group_add_members, name="group_add_members"),
    path(
        f"{company}/groups/<int:group>/members/<int:user>/remove/",
        views.group_remove_member,
        name="group_remove_member",
    ),
    path(f"{company}/groups/<int:group>/delete/", views.group_delete, name="group_delete"),
    path(f"{company}/service-accounts/", views.company_service_accounts, name="company_service_accounts"),
    path(f"{company}/service-accounts/add/", views.service_account_add, name="company_service_account_add"),
    path(
        f"{company}/service-accounts/<int:pk>/credentials/",
        views.service_account_credentials,
        name="company_service_account_credentials",
    ),
    path(
        f"{company}/service-accounts/<int:pk>/delete/",
        views.service_account_delete,
        name="company_service_account_delete",
    ),
    path(f"{project}/iam/users/add/", views.project_user_add, name="project_user_add"),
    path(
        f"{project}/iam/service-accounts/add/",
        views.project_service_account_add,
        name="project_service_account_add",
    ),
]
