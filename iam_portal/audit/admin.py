"""The audit log in the Django admin: read-only, for super users only (no add, change or delete).

The changelist stays quick at millions of events: newest first on the primary key, filters on indexed
or cheap columns, and no exact count of the unfiltered table (PostgreSQL's estimate instead).
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property

from iam_portal.audit.models import AuditEvent
from iam_portal.audit.wording import event_changes, event_sentence


class EstimatedCountPaginator(Paginator):
    """The unfiltered table is counted from PostgreSQL's statistics (an exact count reads every row);
    a filtered list, or SQLite, is counted exactly."""

    @cached_property
    def count(self) -> int:
        query = self.object_list.query
        if connection.vendor == "postgresql" and not query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [AuditEvent._meta.db_table],
                )
                estimate = cursor.fetchone()[0]
            if estimate > 10_000:
                return estimate
        return super().count


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "sentence", "outcome", "company_name", "source", "seq")
    list_filter = ("outcome", "source", "action", "actor_kind", "occurred_at")
    search_fields = ("=request_id", "^actor_name", "^subject_name", "=company_name")
    search_help_text = "Request id (exact), actor or subject name (beginning), or company name (exact)."
    ordering = ("-id",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fieldsets = (
        (None, {"fields": ("sentence", "occurred_at", "action", "outcome", "message")}),
        (
            "Who",
            {
                "fields": (
                    "actor_kind",
                    "actor_id",
                    "actor_name",
                    "subject_kind",
                    "subject_id",
                    "subject_name",
                )
            },
        ),
        (
            "Where",
            {"fields": ("company_name", "resource_level", "resource_path", "resource_name", "project_id")},
        ),
        ("Change", {"fields": ("changes", "before", "after")}),
        ("Request", {"fields": ("source", "request_id", "client_ip", "user_agent")}),
        ("Chain", {"fields": ("company_id", "seq", "prev_digest", "digest")}),
    )

    def get_readonly_fields(self, request, obj=None):
        return [name for _, section in self.fieldsets for name in section["fields"]]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Event")
    def sentence(self, obj):
        return event_sentence(obj)

    @admin.display(description="Before → after")
    def changes(self, obj):
        return "; ".join(f"{what}: {before} → {after}" for what, before, after in event_changes(obj)) or "—"
