from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "iam_portal.audit"
    verbose_name = "Audit log"
