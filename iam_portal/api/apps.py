from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "iam_portal.api"
    label = "api"
    verbose_name = "Machine API"

    def ready(self):
        from iam_portal.api import checks, signing  # noqa: F401 (registers the system checks)

        # A configured key that cannot be read must stop the start-up, not the first token request.
        signing.validate_configured_keys()
