from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "iam_portal.orgs"
    label = "orgs"
