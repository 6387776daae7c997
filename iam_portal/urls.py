from django.contrib import admin
from django.urls import include, path

from iam_portal import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),  # served by HealthCheckMiddleware; named for reverse()
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("iam_portal.orgs.urls")),
    path("", include("iam_portal.access.urls")),
    path("", include("iam_portal.identities.urls")),
    path("", include("iam_portal.audit.urls")),
]
