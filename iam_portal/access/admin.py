"""Console root admin: role bindings, the read-only role catalogue, and the admin site's own settings.

The database constraints on RoleBinding (one subject, one resource, a role valid for the level, one role
per subject per resource) are checked first by `RoleBindingForm`, so a bad binding is a form error with
a readable message, never an IntegrityError.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path

from iam_portal.access import catalogue
from iam_portal.access.catalogue import Level
from iam_portal.access.models import RoleBinding, binding_problem
from iam_portal.access.services import ActionRefused, role_set
from iam_portal.access.subjects import binding_lookup
from iam_portal.orgs.admin import KnownObjectsForm, PlainRelatedWidgetsMixin, ResourceChoicesMixin

SUBJECT_FIELDS = ("user", "group", "service_account")
RESOURCE_FIELDS = ("company", "project", "environment")
_SUBJECT_NAMES = {"user": "user", "group": "group", "service_account": "service account"}


def check_binding(
    *,
    role: str | None,
    subject_field: str,
    subject,
    resource_field: str | None,
    resource,
    company_access: bool | None = None,
) -> dict:
    """The binding rules (`binding_problem`) as form errors keyed by field; {} when acceptable (uniqueness is
    checked separately)."""
    if resource_field is None or resource is None:
        return {"__all__": "Choose exactly one resource: a company, a project or an environment."}
    if subject is None:
        return {}
    problem = binding_problem(subject=subject, resource=resource, role=role, company_access=company_access)
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
            # Under a user, the formset checks company access against the whole save (RoleBindingFormSet).
            company_access=True if self.checked_by_formset and subject_field == "user" else None,
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
        if self.fk.name == "user":
            self._check_company_access()

    def _live_forms(self, formset):
        for form in formset.forms:
            if not hasattr(form, "cleaned_data") or (
                formset.can_delete and formset._should_delete_form(form)
            ):
                continue
            if form.instance.pk is None and not form.has_changed():
                continue
            yield form

    def _check_company_access(self):
        """A user's new or changed project and environment roles need company access once this page is
        saved: a company role listed here, or a group listed in the memberships of the same page."""
        reached = {
            f.cleaned_data["company"].pk for f in self._live_forms(self) if f.cleaned_data.get("company")
        }
        for sibling in getattr(self, "siblings", ()):
            if sibling.model._meta.label == "identities.GroupMembership" and sibling.is_valid():
                reached |= {
                    f.cleaned_data["group"].company_id
                    for f in self._live_forms(sibling)
                    if f.cleaned_data.get("group")
                }
        for form in self._live_forms(self):
            field = "project" if form.cleaned_data.get("project") else "environment"
            resource = form.cleaned_data.get(field)
            if resource is None or not form.has_changed() or resource.company_id in reached:
                continue
            problem = binding_problem(
                subject=self.instance,
                resource=resource,
                role=form.cleaned_data.get("role"),
                company_access=False,
            )
            if problem is not None:
                form.add_error(field, problem.message)


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


# -- admin writes go through the services ----------------------------------------------------------

#: model → writer(request, obj, deleted=False): saves or deletes one admin row through the services.
#: Role bindings here; `identities.admin` adds group memberships.
ADMIN_WRITERS: dict = {}


def binding_write_from_admin(request, binding: RoleBinding, *, deleted: bool = False) -> None:
    """One binding of an admin form or inline row, through `role_set`: the guards, the company-access rule
    and its cascade, and the audit events of the portal apply. Moving a binding to another subject or
    resource is a removal there and a grant here."""
    if deleted:
        role_set(actor=request.user, subject=binding.subject, resource=binding.resource, role=None)
        return
    if binding.pk is not None:
        old = RoleBinding.objects.select_related(*_BINDING_RELATED).get(pk=binding.pk)
        if (old.subject, old.resource, old.role) == (binding.subject, binding.resource, binding.role):
            return  # unchanged: a time-limited role keeps its end (the admin sets lasting roles only)
        if (old.subject, old.resource) != (binding.subject, binding.resource):
            role_set(actor=request.user, subject=old.subject, resource=old.resource, role=None)
    role_set(actor=request.user, subject=binding.subject, resource=binding.resource, role=binding.role)
    binding.pk = RoleBinding.objects.values_list("pk", flat=True).get(
        **binding_lookup(binding.subject, binding.resource)
    )


_BINDING_RELATED = ("user", "group", "service_account", "company", "project__company", "environment__project")
ADMIN_WRITERS[RoleBinding] = binding_write_from_admin


class CreatedByAdminMixin:
    """Saves rows of the models in ADMIN_WRITERS (role bindings, group memberships) through the services, as
    forms and inline rows alike, and records who created other new rows (<model>.created_by).

    A refusal of a service (last owner, escalation, company access) rolls the whole save back; the page comes
    back with the reason, and the refusal is on record."""

    @staticmethod
    def _record_creator(request, obj):
        if obj.pk is None:
            for field in ("created_by", "added_by"):
                if hasattr(obj, f"{field}_id") and getattr(obj, f"{field}_id") is None:
                    setattr(obj, field, request.user)

    def save_model(self, request, obj, form, change):
        if type(obj) in ADMIN_WRITERS:
            ADMIN_WRITERS[type(obj)](request, obj)
            return
        self._record_creator(request, obj)
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        if type(obj) in ADMIN_WRITERS:
            ADMIN_WRITERS[type(obj)](request, obj, deleted=True)
            return
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():  # the "delete selected" action: all of them or none
            for obj in queryset:
                self.delete_model(request, obj)

    def save_related(self, request, form, formsets, change):
        # Memberships before bindings: a group joined on this page gives the company access a new project
        # role needs, and a binding saved first would be refused.
        form.save_m2m()
        for formset in sorted(formsets, key=lambda f: f.model is RoleBinding):
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        writer = ADMIN_WRITERS.get(formset.model)
        for obj in formset.deleted_objects:
            writer(request, obj, deleted=True) if writer else obj.delete()
        # Company roles first: they give the access that project and environment roles need.
        for obj in sorted(instances, key=lambda o: getattr(o, "company_id", None) is None):
            if writer:
                writer(request, obj)
            else:
                self._record_creator(request, obj)
                obj.save()
        formset.save_m2m()

    def _create_formsets(self, request, obj, change):
        # Each inline formset sees the others of its page (RoleBindingFormSet reads the memberships).
        formsets, inline_instances = super()._create_formsets(request, obj, change)
        for formset in formsets:
            formset.siblings = formsets
        return formsets, inline_instances

    def changeform_view(self, request, *args, **kwargs):
        return self._refusal_shown(request, super().changeform_view, *args, **kwargs)

    def delete_view(self, request, *args, **kwargs):
        return self._refusal_shown(request, super().delete_view, *args, **kwargs)

    def changelist_view(self, request, *args, **kwargs):
        return self._refusal_shown(request, super().changelist_view, *args, **kwargs)

    def _refusal_shown(self, request, view, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (ActionRefused, PermissionDenied) as refused:
            # The admin's transaction was rolled back, and the refusal's audit event with it.
            if hasattr(refused, "refusal_record"):
                refused.refusal_record()
            if isinstance(refused, PermissionDenied):
                raise
            self.message_user(request, f"Nothing was saved. {refused}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


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
