"""Console root admin: role bindings, the read-only role catalogue, and the admin site's own settings.

The database constraints on RoleBinding (one subject, one resource, a role valid for the level, one role
per subject per resource) are checked first by `RoleBindingForm`, so a bad binding is a form error with
a readable message, never an IntegrityError.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import path

from iam_portal.access import catalogue
from iam_portal.access.catalogue import Level
from iam_portal.access.models import RoleBinding, binding_problem
from iam_portal.orgs.admin import KnownObjectsForm, PlainRelatedWidgetsMixin, ResourceChoicesMixin

SUBJECT_FIELDS = ("user", "group", "service_account")
RESOURCE_FIELDS = ("company", "project", "environment")
_SUBJECT_NAMES = {"user": "user", "group": "group", "service_account": "service account"}


def check_binding(
    *, role: str | None, subject_field: str, subject, resource_field: str | None, resource
) -> dict:
    """The binding rules (`binding_problem`) as form errors keyed by field; {} when acceptable (uniqueness is
    checked separately)."""
    if resource_field is None or resource is None:
        return {"__all__": "Choose exactly one resource: a company, a project or an environment."}
    if subject is None:
        return {}
    problem = binding_problem(subject=subject, resource=resource, role=role)
    if problem is None:
        return {}
    field = {"role": "role", "resource": resource_field, "subject": "__all__"}[problem.field]
    return {field: problem.message}


class RoleBindingForm(KnownObjectsForm):
    """One binding; used alone (RoleBindingAdmin) and as an inline row under a user, group or SA."""

    class Meta:
        model = RoleBinding
        fields = ("role", *SUBJECT_FIELDS, *RESOURCE_FIELDS)

    #: set by the inline formset: uniqueness is then checked across the whole formset instead of the DB
    checked_by_formset = False

    def clean(self):
        cleaned = super().clean()
        subjects = [f for f in SUBJECT_FIELDS if self._value(f) is not None]
        resources = [f for f in RESOURCE_FIELDS if cleaned.get(f) is not None]
        if len(subjects) != 1:
            raise ValidationError("Choose exactly one subject: a user, a group or a service account.")
        if len(resources) > 1:
            raise ValidationError(
                "Choose exactly one resource: a company, a project or an environment (not several)."
            )
        subject_field = subjects[0]
        resource_field = resources[0] if resources else None
        resource = cleaned.get(resource_field) if resource_field else None
        errors = check_binding(
            role=cleaned.get("role"),
            subject_field=subject_field,
            subject=self._value(subject_field),
            resource_field=resource_field,
            resource=resource,
        )
        for field, message in errors.items():
            self.add_error(None if field == "__all__" else field, message)
        if not errors and not self.checked_by_formset:
            taken = RoleBinding.objects.filter(
                **{subject_field: self._value(subject_field), resource_field: resource}
            )
            if self.instance.pk:
                taken = taken.exclude(pk=self.instance.pk)
            if taken.exists():
                self.add_error(
                    resource_field,
                    f"This {_SUBJECT_NAMES[subject_field]} already has a role on this {resource_field}; "
                    "change that binding instead.",
                )
        return cleaned

    def _value(self, field: str):
        if field in self.fields:
            # For an inline's parent field this is the parent (user, group or SA), even when unsaved.
            return self.cleaned_data.get(field)
        return getattr(self.instance, field, None)

    def _get_validation_exclusions(self):
        # Every constraint of the model is checked in clean() with a readable message.
        return {*super()._get_validation_exclusions(), "role", *SUBJECT_FIELDS, *RESOURCE_FIELDS}


class RoleBindingFormSet(forms.BaseInlineFormSet):
    """The inline shows every binding of its subject, so one role per resource is checked right here."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.checked_by_formset = True
        return form

    @property
    def empty_form(self):
        form = super().empty_form
        form.checked_by_formset = True
        return form

    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            if not form.has_changed() and form.instance.pk is None:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            if not hasattr(form, "cleaned_data"):
                continue
            for field in RESOURCE_FIELDS:
                resource = form.cleaned_data.get(field)
                if resource is not None:
                    if (field, resource.pk) in seen:
                        form.add_error(field, f"Only one role per {field}: this {field} is listed twice.")
                    seen.add((field, resource.pk))


class RoleBindingInline(PlainRelatedWidgetsMixin, ResourceChoicesMixin, admin.TabularInline):
    """Role bindings edited under their subject; set `fk_name` to user, group or service_account."""

    model = RoleBinding
    form = RoleBindingForm
    formset = RoleBindingFormSet
    fields = ("role", "company", "project", "environment", "created_by")
    readonly_fields = ("created_by",)
    autocomplete_fields = ("company", "project", "environment")
    extra = 0
    verbose_name = "role binding"
    verbose_name_plural = "role bindings"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "user",
                "group",
                "service_account",
                "company",
                "project__company",
                "environment__project__company",
                "created_by",
            )
        )


class UserRoleBindingInline(RoleBindingInline):
    fk_name = "user"


class GroupRoleBindingInline(RoleBindingInline):
    fk_name = "group"


class ServiceAccountRoleBindingInline(RoleBindingInline):
    fk_name = "service_account"


class CreatedByAdminMixin:
    """Records who created new rows: RoleBinding.created_by, GroupMembership.added_by, <model>.created_by."""

    @staticmethod
    def _record_creator(request, obj):
        if obj.pk is None:
            for field in ("created_by", "added_by"):
                if hasattr(obj, f"{field}_id") and getattr(obj, f"{field}_id") is None:
                    setattr(obj, field, request.user)

    def save_model(self, request, obj, form, change):
        self._record_creator(request, obj)
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for obj in instances:
            self._record_creator(request, obj)
            obj.save()
        formset.save_m2m()


class LevelFilter(admin.SimpleListFilter):
    title = "level"
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return [(level.value, level.value.capitalize()) for level in Level]

    def queryset(self, request, queryset):
        if self.value() in RESOURCE_FIELDS:
            return queryset.filter(**{f"{self.value()}__isnull": False})
        return queryset


class SubjectTypeFilter(admin.SimpleListFilter):
    title = "subject type"
    parameter_name = "subject"

    def lookups(self, request, model_admin):
        return [(field, _SUBJECT_NAMES[field].capitalize()) for field in SUBJECT_FIELDS]

    def queryset(self, request, queryset):
        if self.value() in SUBJECT_FIELDS:
            return queryset.filter(**{f"{self.value()}__isnull": False})
        return queryset


@admin.register(RoleBinding)
class RoleBindingAdmin(CreatedByAdminMixin, ResourceChoicesMixin, admin.ModelAdmin):
    form = RoleBindingForm
    list_display = (
        "subject_label",
        "role_label",
        "level_label",
        "resource_label",
        "created_by",
        "created_at",
    )
    list_select_related = (
        "user",
        "group__company",
        "service_account__company",
        "company",
        "project__company",
        "environment__project__company",
        "created_by",
    )
    list_filter = ("role", LevelFilter, SubjectTypeFilter)
    search_fields = (
        "user__email",
        "group__name",
        "service_account__name",
        "company__slug",
        "project__slug",
        "project__company__slug",
        "environment__env_id",
    )
    search_help_text = "Search by user email, group or service account name, company or project slug."
    autocomplete_fields = (*SUBJECT_FIELDS, *RESOURCE_FIELDS)
    readonly_fields = ("created_by", "created_at")
    fieldsets = (
        ("Subject (exactly one)", {"fields": SUBJECT_FIELDS}),
        ("Resource (exactly one)", {"fields": RESOURCE_FIELDS}),
        (None, {"fields": ("role", "created_by", "created_at")}),
    )
    ordering = ("-created_at",)

    @admin.display(description="Subject")
    def subject_label(self, obj):
        if obj.user_id:
            return f"User: {obj.user.email}"
        if obj.group_id:
            return f"Group: {obj.group.name} ({obj.group.company.slug})"
        sa = obj.service_account
        return f"Service account: {sa.name} ({sa.company.slug if sa.company_id else 'root'})"

    @admin.display(description="Role", ordering="role")
    def role_label(self, obj):
        return catalogue.role_label(obj.role)

    @admin.display(description="Level")
    def level_label(self, obj):
        return obj.level.value.capitalize()

    @admin.display(description="Resource")
    def resource_label(self, obj):
        return obj.resource.path


# --- The role catalogue, read-only -----------------------------------------------------------------


def catalogue_tables() -> list[dict]:
    """Per level: the roles that may be bound there and, per permission key, which of them grant it."""
    tables = []
    for level in Level:
        roles = [catalogue.ROLES[r] for r in catalogue.ROLES_BY_LEVEL[level]]
        granted = {role.id: catalogue.keys_for(role.id, level) for role in roles}
        rows = [
            {
                "key": permission.key,
                "description": permission.description,
                "cells": [permission.key in granted[role.id] for role in roles],
            }
            for permission in catalogue.PERMISSIONS
            if permission.level == level
        ]
        tables.append({"level": level.value, "roles": roles, "rows": rows})
    return tables


def catalogue_view(request):
    context = {
        **admin.site.each_context(request),
        "title": "Role catalogue",
        "subtitle": None,
        "tables": catalogue_tables(),
        "root_keys": list(catalogue.ROOT_PERMISSIONS.items()),
        "roles": list(catalogue.ROLES.values()),
    }
    return TemplateResponse(request, "admin/access/catalogue.html", context)


# --- The admin site ------------------------------------------------------------------------------

admin.site.site_header = "IAM Portal · Console root"
admin.site.site_title = "IAM Portal admin"
admin.site.index_title = "Console root administration"


class LabelledAutocompleteJsonView(AutocompleteJsonView):
    """Autocomplete results use the model admin's `autocomplete_label(obj)` when it has one."""

    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        label = getattr(self.model_admin, "autocomplete_label", None)
        if label is not None:
            result["text"] = label(obj)
        return result


def _autocomplete_view(request):
    return LabelledAutocompleteJsonView.as_view(admin_site=admin.site)(request)


_default_get_urls = admin.site.get_urls


def _get_urls():
    return [
        path("access/catalogue/", admin.site.admin_view(catalogue_view), name="access_catalogue"),
        *_default_get_urls(),
    ]


admin.site.autocomplete_view = _autocomplete_view
admin.site.get_urls = _get_urls
