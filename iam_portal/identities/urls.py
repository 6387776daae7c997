from django.urls import include, path

from iam_portal.identities import views
from iam_portal.orgs.urls import COMPANY, PROJECT

group = [  # below companies/<company>/groups/<group>/
    path("", views.group_detail, name="group_detail"),
    path("edit/", views.group_edit, name="group_edit"),
    path("members/add/", views.group_add_members, name="group_add_members"),
    path("members/<int:user>/remove/", views.group_remove_member, name="group_remove_member"),
    path("delete/", views.group_delete, name="group_delete"),
]

service_account = [  # below companies/<company>/service-accounts/<pk>/
    path("credentials/", views.service_account_credentials, name="company_service_account_credentials"),
    path("delete/", views.service_account_delete, name="company_service_account_delete"),
]

urlpatterns = [
    path(f"{COMPANY}/users/", views.company_users, name="company_users"),
    path(f"{COMPANY}/users/add/", views.company_user_add, name="company_user_add"),
    path(f"{COMPANY}/users/<int:pk>/remove/", views.company_user_remove, name="company_user_remove"),
    path(f"{COMPANY}/groups/", views.company_groups, name="company_groups"),
    path(f"{COMPANY}/groups/create/", views.group_create, name="group_create"),
    path(f"{COMPANY}/groups/<int:group>/", include(group)),
    path(f"{COMPANY}/service-accounts/", views.company_service_accounts, name="company_service_accounts"),
    path(f"{COMPANY}/service-accounts/add/", views.service_account_add, name="company_service_account_add"),
    path(f"{COMPANY}/service-accounts/<int:pk>/", include(service_account)),
    path(f"{PROJECT}/iam/users/add/", views.project_user_add, name="project_user_add"),
    path(
        f"{PROJECT}/iam/service-accounts/add/",
        views.project_service_account_add,
        name="project_service_account_add",
    ),
]
