from django.apps import AppConfig


class SigninConfig(AppConfig):
    name = "iam_portal.signin"
    verbose_name = "Sign-in"
