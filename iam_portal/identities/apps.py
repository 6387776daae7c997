from django.apps import AppConfig


class IdentitiesConfig(AppConfig):
    name = "iam_portal.identities"
    label = "identities"
