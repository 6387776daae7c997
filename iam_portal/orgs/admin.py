"""Console root admin: companies, projects, environments, project templates and feature toggles."""

from collections.abc import Callable

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect, RelatedFieldWidgetWrapper
from django.core.exceptions import ValidationError
from django.db.models import Count

from iam_portal.orgs.models import Company, Environment, FeatureToggle, Project, ProjectTemplate


class KnownObjectsAutocompleteSelect(AutocompleteSelect):
    """An autocomplete select that labels its selected value from an object the form already holds.

    Django's widget runs one query per rendered widget to label the selected option: one query per
    inline row. Inline forms (KnownObjectsForm) hand over the related object their instance already has
    from `select_related`, so a page costs the same whatever the number of rows.
    """

    known_objects: dict = {}

    def optgroups(self, name, value, attr=None):
        # A form shown again with a posted value that is no id at all ("abc", 10**30): Django's widget would
        # look it up and fail (a 500); the field has already said it is not a valid choice.
        value = [v for v in value if self._is_id(v)]
        selected = {str(v) for v in value if str(v) not in self.choices.field.empty_values}
        if not selected or not selected <= set(self.known_objects):
            return super().optgroups(name, value, attr)
        options = []
        if not self.is_required:
            options.append(self.create_option(name, "", "", False, 0))
        for key in sorted(selected):
            obj = self.known_objects[key]
            label = self.choices.field.label_from_instance(obj)
            options.append(self.create_option(name, obj.pk, label, True, len(options)))
        return [(None, options, 0)]

    def _is_id(self, value) -> bool:
        target = self.field.remote_field.model._meta.get_field(self.field.remote_field.field_name)
        try:
            value = target.to_python(value)
        except ValidationError:
            return False
        return not isinstance(value, int) or -(2**63) < value < 2**63


class KnownObjectsForm(forms.ModelForm):
    """Passes the related objects of its instance to its KnownObjectsAutocompleteSelect widgets."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            return
        for name, field in self.fields.items():
            widget = getattr(field.widget, "widget", field.widget)  # unwrap RelatedFieldWidgetWrapper
            if not isinstance(widget, KnownObjectsAutocompleteSelect):
                continue
            model_field = self.instance._meta.get_field(name)
            if model_field.is_cached(self.instance):
                related = getattr(self.instance, name)
                if related is not None:
                    widget.known_objects = {str(related.pk): related}


# Model → (select_related paths, label) for foreign-key choices; other admin modules add their models.
CHOICE_LABELS: dict[type, tuple[tuple[str, ...], Callable[[object], str]]] = {
    Project: (("company",), lambda project: project.path),
    Environment: (("project__company",), lambda environment: environment.path),
}


class PlainRelatedWidgetsMixin:
    """Inline rows pick existing objects only: no add/change/view/delete pop-up icons next to each select."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        widget = getattr(field, "widget", None)
        if isinstance(widget, RelatedFieldWidgetWrapper):
            widget.can_add_related = widget.can_change_related = False
            widget.can_view_related = widget.can_delete_related = False
            if isinstance(widget.widget, AutocompleteSelect):
                widget.widget.attrs["data-width"] = "14em"  # several per row must fit the module
        return field


class ResourceChoicesMixin:
    """Foreign-key choices read as paths (acme/webshop/production), with no extra queries.

    Environments are all called "Production" or "Staging"; the path tells them apart in select boxes
    and autocomplete widgets. See CHOICE_LABELS. Autocomplete widgets are KnownObjectsAutocompleteSelect.
    """

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = KnownObjectsAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and db_field.related_model in CHOICE_LABELS:
            related, label = CHOICE_LABELS[db_field.related_model]
            field.queryset = field.queryset.select_related(*related)
            field.label_from_instance = label
        return field


class CountColumnMixin:
    """A list column that counts related rows, `count_column = (column, relation, heading)`: annotated in the
    list's one query (`_<column>`), and sortable."""

    count_column: tuple[str, str, str]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        column, _relation, heading = cls.count_column

        @admin.display(description=heading, ordering=f"_{column}")
        def count(self, obj):
            return getattr(obj, f"_{column}")

        setattr(cls, column, count)

    def get_queryset(self, request):
        column, relation, _heading = self.count_column
        return super().get_queryset(request).annotate(**{f"_{column}": Count(relation, distinct=True)})


class ProjectInline(PlainRelatedWidgetsMixin, ResourceChoicesMixin, admin.TabularInline):
    model = Project
    form = KnownObjectsForm
    fields = ("slug", "name", "template")
    autocomplete_fields = ("template",)
    extra = 0
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("template", "company")


class EnvironmentInline(admin.TabularInline):
    model = Environment
    fields = ("env_id", "name", "is_production", "position")
    extra = 0
    show_change_link = True


@admin.register(Company)
class CompanyAdmin(CountColumnMixin, admin.ModelAdmin):
    count_column = ("project_count", "projects", "Projects")
    list_display = ("slug", "name", "project_count", "created_at")
    search_fields = ("slug", "name")
    ordering = ("name",)
    readonly_fields = ("created_at",)
    fields = ("slug", "name", "created_at")
    inlines = (ProjectInline,)


@admin.register(Project)
class ProjectAdmin(CountColumnMixin, admin.ModelAdmin):
    count_column = ("environment_count", "environments", "Environments")
    list_display = ("name", "slug", "company", "environment_count", "template", "created_at")
    list_select_related = ("company", "template")
    search_fields = ("slug", "name", "company__slug", "company__name")
    ordering = ("company__name", "name")
    autocomplete_fields = ("company", "template")
    readonly_fields = ("created_at",)
    fields = ("company", "slug", "name", "description", "template", "created_at")
    inlines = (EnvironmentInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("company")

    def autocomplete_label(self, obj):
        return obj.path


@admin.register(Environment)
class EnvironmentAdmin(ResourceChoicesMixin, admin.ModelAdmin):
    list_display = ("env_id", "name", "project", "company", "is_production", "position")
    list_select_related = ("project__company",)
    list_filter = ("is_production",)
    search_fields = ("env_id", "name", "project__slug", "project__name", "project__company__slug")
    ordering = ("project__company__name", "project__name", "position", "env_id")
    autocomplete_fields = ("project",)
    readonly_fields = ("created_at",)
    fields = ("project", "env_id", "name", "is_production", "position", "created_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("project__company")

    @admin.display(description="Company", ordering="project__company__name")
    def company(self, obj):
        return obj.project.company

    def autocomplete_label(self, obj):
        return obj.path


class _UniqueWhenGlobalForm(forms.ModelForm):
    """Friendly messages for the "unique among public/global rows" constraints (company left empty).

    Django can only report those partial unique constraints as "Constraint … is violated"; the form
    checks them itself and tells which value is taken.
    """

    unique_field: str = ""
    taken_message: str = ""

    def clean(self):
        cleaned = super().clean()
        value = cleaned.get(self.unique_field)
        company = cleaned.get("company") if "company" in self.fields else self.instance.company
        if value:
            lookup = {
                f"{self.unique_field}__iexact" if self.unique_field == "name" else self.unique_field: value
            }
            taken = self._meta.model.objects.filter(company=company, **lookup)
            if self.instance.pk:
                taken = taken.exclude(pk=self.instance.pk)
            if taken.exists():
                self.add_error(self.unique_field, self.taken_message.format(value=value))
        return cleaned

    def _get_validation_exclusions(self):
        # Checked in clean() above with a readable message.
        return {*super()._get_validation_exclusions(), self.unique_field, "company"}


class ProjectTemplateForm(_UniqueWhenGlobalForm):
    unique_field = "name"
    taken_message = "A template named “{value}” already exists for this company (or among public templates)."
    repository_url = forms.URLField(
        label="Repository URL", required=False, max_length=200, assume_scheme="https"
    )

    class Meta:
        model = ProjectTemplate
        fields = ("name", "description", "company", "repository_url", "is_archived")


@admin.register(ProjectTemplate)
class ProjectTemplateAdmin(admin.ModelAdmin):
    form = ProjectTemplateForm
    list_display = ("name", "visibility", "company", "is_archived", "created_at")
    list_select_related = ("company",)
    list_filter = ("is_archived", ("company", admin.EmptyFieldListFilter))
    search_fields = ("name", "company__slug", "company__name")
    autocomplete_fields = ("company",)
    readonly_fields = ("created_at",)

    @admin.display(description="Visibility", ordering="company")
    def visibility(self, obj):
        return "Public" if obj.company_id is None else "Private"


class FeatureToggleForm(_UniqueWhenGlobalForm):
    unique_field = "key"
    taken_message = "The feature “{value}” already has a value for this company (or a global value)."

    class Meta:
        model = FeatureToggle
        fields = ("key", "description", "enabled", "company")


@admin.register(FeatureToggle)
class FeatureToggleAdmin(admin.ModelAdmin):
    form = FeatureToggleForm
    list_display = ("key", "scope", "enabled", "updated_at", "updated_by")
    list_select_related = ("company", "updated_by")
    list_filter = ("enabled", ("company", admin.EmptyFieldListFilter))
    search_fields = ("key", "description", "company__slug", "company__name")
    autocomplete_fields = ("company",)
    readonly_fields = ("updated_at", "updated_by")

    @admin.display(description="Scope", ordering="company__name")
    def scope(self, obj):
        return "Global" if obj.company_id is None else obj.company

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
