from django.urls import path

from iam_portal.signin.provider import views

# Mounted by allauth under /accounts/: the redirect URI to register at a provider is
# https://<portal>/accounts/oidc/<provider id>/login/callback/
urlpatterns = [
    path("oidc/<slug:provider_id>/login/", views.oidc_login, name="oidc_login"),
    path("oidc/<slug:provider_id>/login/callback/", views.oidc_callback, name="oidc_callback"),
]
