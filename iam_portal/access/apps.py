from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "iam_portal.access"
    label = "access"
