from django.contrib import admin
from django.urls import include, path

from iam_portal import views
from iam_portal.signin import views as signin_views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),  # served by HealthCheckMiddleware; named for reverse()
    # The admin signs in and out through the portal's own pages (lockout, second factor, provider logout).
    path("admin/login/", signin_views.admin_login, name="admin_login"),
    path("admin/logout/", signin_views.logout, name="admin_logout"),
    path("admin/", admin.site.urls),
    path("accounts/", include("iam_portal.signin.urls")),
    path("", include("iam_portal.api.urls")),
    path("", include("iam_portal.orgs.urls")),
    path("", include("iam_portal.access.urls")),
    path("", include("iam_portal.identities.urls")),
    path("", include("iam_portal.audit.urls")),
]
