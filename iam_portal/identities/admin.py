"""Console root admin: users, company groups and memberships, service accounts.

Escalation guards for staff who are not super users (their admin permissions come from root keys, see
`access/backends.py`): they cannot make anyone staff or super user, cannot hand out root keys they do not
hold, and cannot change or delete a super user's account.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group as AuthGroup
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.debug import sensitive_variables

from iam_portal.access.admin import (
    ADMIN_WRITERS,
    CreatedByAdminMixin,
    GroupRoleBindingInline,
    ServiceAccountRoleBindingInline,
    UserRoleBindingInline,
)
from iam_portal.access.catalogue import ROOT_PERMISSIONS
from iam_portal.access.selectors import binding_role
from iam_portal.access.services import ActionRefused, check_account_controllable
from iam_portal.identities import services
from iam_portal.identities.forms import name_field_clean
from iam_portal.identities.keys import MAX_KEY_TEXT, parse_public_key
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from iam_portal.identities.names import name_key
from iam_portal.orgs.admin import (
    CHOICE_LABELS,
    CountColumnMixin,
    KnownObjectsForm,
    PlainRelatedWidgetsMixin,
    ResourceChoicesMixin,
)

CHOICE_LABELS[Group] = (("company",), lambda group: f"{group.company.slug} / {group.name}")

# Django's own auth groups grant nothing here (RootKeyBackend ignores them); listing them next to company
# groups would only confuse.
if admin.site.is_registered(AuthGroup):
    admin.site.unregister(AuthGroup)


class RootPermissionsField(forms.MultipleChoiceField):
    """Console root keys as checkboxes; stored as a JSON list in catalogue order."""

    def __init__(self, **kwargs):
        # "radiolist" is the admin's own class for a vertical list of choices with full-width labels.
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple(attrs={"class": "radiolist"}))
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Root permissions")
        super().__init__(
            choices=[(key, f"{key} — {label}") for key, label in ROOT_PERMISSIONS.items()], **kwargs
        )

    def clean(self, value):
        chosen = set(super().clean(value))
        return [key for key in ROOT_PERMISSIONS if key in chosen]


def _root_keys_display(keys) -> str:
    return ", ".join(keys) if keys else "—"


# --- Users ---------------------------------------------------------------------------------------


class UserAddForm(auth_forms.BaseUserCreationForm):
    """Email, full name and the password twice (users are created only here, by the Console root)."""

    class Meta:
        model = User
        fields = ("email", "full_name")


class UserChangeForm(auth_forms.UserChangeForm):
    root_permissions = RootPermissionsField(
        help_text="What this staff member may do in this admin. Super users hold every key."
    )

    class Meta:
        model = User
        fields = ("email", "full_name", "is_active", "is_staff", "is_superuser", "root_permissions")


class _MembershipInline(PlainRelatedWidgetsMixin, ResourceChoicesMixin, admin.TabularInline):
    """Group memberships on the page of one side (`fk_name`: "user" or "group"), naming the other side."""

    model = GroupMembership
    form = KnownObjectsForm
    readonly_fields = ("added_by", "added_at")
    extra = 0

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        other = "group" if cls.fk_name == "user" else "user"
        cls.fields = (other, "added_by", "added_at")
        cls.autocomplete_fields = (other,)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "group__company", "added_by")


class MembershipOfUserInline(_MembershipInline):
    fk_name = "user"
    verbose_name = "group membership"
    verbose_name_plural = "group memberships"


@admin.register(User)
class UserAdmin(CreatedByAdminMixin, DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserAddForm
    add_form_template = None  # the generic add page; Django's speaks of usernames
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name",)}),
        ("Console root", {"fields": ("is_active", "is_staff", "is_superuser", "root_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),
    )
    list_display = ("email", "full_name", "is_staff", "is_superuser", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("email", "full_name")
    ordering = ("email",)
    filter_horizontal = ()
    readonly_fields = ("last_login", "date_joined")

    def get_inlines(self, request, obj):
        return () if obj is None else (UserRoleBindingInline, MembershipOfUserInline)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if not request.user.is_superuser:
            fields = (*fields, "is_staff", "is_superuser", "root_permissions")
        return fields

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._controllable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._controllable(request, obj)

    @staticmethod
    def _controllable(request, obj) -> bool:
        """Changing or deleting an account needs its power (`check_account_controllable`): the change page,
        the password page and deletion alike. Answered once per account and request."""
        if obj is None or request.user.is_superuser:
            return True
        answers = request.__dict__.setdefault("_controllable_accounts", {})
        if obj.pk not in answers:
            try:
                check_account_controllable(request.access, obj)
            except PermissionDenied:
                answers[obj.pk] = False
            else:
                answers[obj.pk] = True
        return answers[obj.pk]


# --- Writes through the services ------------------------------------------------------------------


def membership_write_from_admin(request, membership: GroupMembership, *, deleted: bool = False) -> None:
    """One membership of an admin form or inline row, through the group services (guards, last owner, the
    roles that go with lost company access, audit events). Moving it is a removal there and an addition here."""
    actor = request.user
    if deleted:
        services.group_member_remove(actor=actor, group=membership.group, user=membership.user)
        return
    if membership.pk is not None:
        old = GroupMembership.objects.select_related("group__company", "user").get(pk=membership.pk)
        if (old.group_id, old.user_id) == (membership.group_id, membership.user_id):
            return
        services.group_member_remove(actor=actor, group=old.group, user=old.user)
    if not services.group_members_add(actor=actor, group=membership.group, emails=[membership.user.email]):
        raise ActionRefused(f"{membership.user} is already a member of {membership.group}.")
    membership.pk = GroupMembership.objects.values_list("pk", flat=True).get(
        group=membership.group, user=membership.user
    )


ADMIN_WRITERS[GroupMembership] = membership_write_from_admin


# --- Groups --------------------------------------------------------------------------------------


class GroupForm(forms.ModelForm):
    class Meta:
        model = Group
        fields = ("company", "name")

    def clean_name(self):
        return name_field_clean(self.cleaned_data["name"])

    def clean(self):
        cleaned = super().clean()
        company = cleaned.get("company") if "company" in self.fields else self.instance.company
        name = cleaned.get("name")
        if company is not None and name:
            taken = Group.objects.filter(company=company, name_key=name_key(name))
            if self.instance.pk:
                taken = taken.exclude(pk=self.instance.pk)
            if taken.exists():
                self.add_error("name", f"{company} already has a group named “{name}”.")
        return cleaned

    def _get_validation_exclusions(self):
        # The case-insensitive name constraint is checked in clean() with a readable message.
        return {*super()._get_validation_exclusions(), "company", "name"}


class MembershipInline(_MembershipInline):
    fk_name = "group"
    verbose_name = "member"
    verbose_name_plural = "members"


@admin.register(Group)
class GroupAdmin(CreatedByAdminMixin, ResourceChoicesMixin, CountColumnMixin, admin.ModelAdmin):
    count_column = ("member_count", "memberships", "Members")
    form = GroupForm
    list_display = ("name", "company", "member_count", "created_at")
    list_select_related = ("company",)
    search_fields = ("name", "company__slug", "company__name")
    ordering = ("company__name", "name")
    autocomplete_fields = ("company",)
    inlines = (MembershipInline, GroupRoleBindingInline)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("company")

    def get_readonly_fields(self, request, obj=None):
        # A group belongs to its company for good: its bindings and members depend on it.
        base = ("created_by", "created_at")
        return base if obj is None else ("company", *base)

    def get_fields(self, request, obj=None):
        return ("company", "name", "created_by", "created_at")

    def save_model(self, request, obj, form, change):
        """Through the group services: created with no company role (bindings are the inline's), renamed
        keeping its role."""
        if not change:
            group = services.group_create(
                actor=request.user, company=obj.company, name=obj.name, role=None, member_emails=[]
            )
            obj.pk, obj.created_at, obj.created_by = group.pk, group.created_at, group.created_by
        elif "name" in form.changed_data:
            group = Group.objects.select_related("company").get(pk=obj.pk)
            role = binding_role(group, group.company)
            services.group_update(actor=request.user, group=group, name=obj.name, role=role)

    def delete_model(self, request, obj):
        services.group_delete(actor=request.user, group=obj)

    def autocomplete_label(self, obj):
        return f"{obj.company.slug} / {obj.name}"


@admin.register(GroupMembership)
class GroupMembershipAdmin(CreatedByAdminMixin, ResourceChoicesMixin, admin.ModelAdmin):
    list_display = ("user", "group", "company", "added_at", "added_by")
    list_select_related = ("user", "group__company", "added_by")
    search_fields = ("user__email", "user__full_name", "group__name", "group__company__slug")
    autocomplete_fields = ("user", "group")
    readonly_fields = ("added_by", "added_at")
    fields = ("group", "user", "added_by", "added_at")
    ordering = ("group__company__name", "group__name", "user__email")

    @admin.display(description="Company", ordering="group__company__name")
    def company(self, obj):
        return obj.group.company


# --- Service accounts ----------------------------------------------------------------------------


class ServiceAccountForm(forms.ModelForm):
    public_key_text = forms.CharField(
        label="Public key",
        required=False,
        max_length=MAX_KEY_TEXT,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80, "spellcheck": "false"}),
        help_text=(
            "Private Key JWT only: the RSA public key (at least 2048 bits) as a JWK (JSON) or PEM "
            "(PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE). The key id is kept from the JWK or derived "
            "from the key. On an existing account, paste a new key to replace the current one."
        ),
    )
    root_permissions = RootPermissionsField(
        help_text="Root service accounts only (leave Company empty). Company service accounts get roles."
    )

    #: the signed-in admin user, set by ServiceAccountAdmin.get_form
    actor = None

    class Meta:
        model = ServiceAccount
        fields = ("company", "name", "auth_method", "public_key_text", "root_permissions")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Declared fields stay on a ModelForm even when the admin's fieldsets leave them out
        # (a company SA has no root keys; a client-secret SA has no public key): drop them.
        if self._meta.fields is not None:
            for name in ("public_key_text", "root_permissions"):
                if name not in self._meta.fields:
                    self.fields.pop(name, None)

    def clean_name(self):
        return name_field_clean(self.cleaned_data["name"])

    def _current(self, field):
        return self.cleaned_data.get(field) if field in self.fields else getattr(self.instance, field)

    def clean(self):
        cleaned = super().clean()
        company = self._current("company")
        auth_method = self._current("auth_method")
        name = cleaned.get("name")

        if name:
            taken = ServiceAccount.objects.filter(company=company, name_key=name_key(name))
            if self.instance.pk:
                taken = taken.exclude(pk=self.instance.pk)
            if taken.exists():
                where = f"{company}" if company else "The Console root"
                self.add_error("name", f"{where} already has a service account named “{name}”.")

        root_keys = cleaned.get("root_permissions") or []
        if "root_permissions" in self.fields and root_keys:
            if company is not None:
                self.add_error(
                    "root_permissions",
                    "A company service account cannot hold root permissions; leave Company empty "
                    "for a root service account, or give this one roles instead.",
                )
            elif self.actor is not None and not self.actor.is_superuser:
                added = set(root_keys) - set(self.instance.root_permissions or [])
                not_held = sorted(added - set(self.actor.root_permissions or []))
                if not_held:
                    self.add_error(
                        "root_permissions",
                        f"You can only give root permissions you hold yourself; not: {', '.join(not_held)}.",
                    )

        key_text = (cleaned.get("public_key_text") or "").strip()
        self.parsed_key = None
        if auth_method == ServiceAccount.AuthMethod.PRIVATE_KEY_JWT:
            if key_text:
                try:
                    self.parsed_key = parse_public_key(key_text)
                except ValueError as exc:
                    self.add_error("public_key_text", str(exc))
            elif not self.instance.public_key:
                self.add_error("public_key_text", "Private Key JWT needs the account's RSA public key.")
        elif key_text:
            self.add_error(
                "public_key_text",
                "Only Private Key JWT uses a public key; clear this field or choose Private Key JWT.",
            )
        return cleaned

    def save(self, commit=True):
        account = super().save(commit=False)
        if account.auth_method == ServiceAccount.AuthMethod.PRIVATE_KEY_JWT:
            account.secret_hash = ""
            if self.parsed_key is not None:
                account.public_key, account.key_id = self.parsed_key
        else:
            account.public_key = None
            account.key_id = ""
        if commit:
            account.save()
        return account

    def _get_validation_exclusions(self):
        # Name uniqueness (case-insensitive, per company or among root accounts) and the credentials
        # constraint are checked in clean() with readable messages.
        return {*super()._get_validation_exclusions(), "company", "name", "auth_method"}


class RootOrCompanyFilter(admin.SimpleListFilter):
    title = "scope"
    parameter_name = "scope"

    def lookups(self, request, model_admin):
        return [("root", "Console root"), ("company", "Company")]

    def queryset(self, request, queryset):
        if self.value() == "root":
            return queryset.filter(company__isnull=True)
        if self.value() == "company":
            return queryset.filter(company__isnull=False)
        return queryset


@admin.register(ServiceAccount)
class ServiceAccountAdmin(CreatedByAdminMixin, ResourceChoicesMixin, admin.ModelAdmin):
    form = ServiceAccountForm
    list_display = ("name", "client_id", "scope", "auth_method", "last_login")
    list_select_related = ("company",)
    list_filter = (RootOrCompanyFilter, "auth_method")
    search_fields = ("name", "client_id", "company__slug", "company__name")
    ordering = ("company__name", "name")
    autocomplete_fields = ("company",)
    actions = ("generate_new_secret",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("company", "created_by")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return (
                (None, {"fields": ("company", "name", "auth_method")}),
                ("Private Key JWT", {"fields": ("public_key_text",)}),
                ("Console root", {"fields": ("root_permissions",)}),
            )
        credentials = (
            ("key_id", "public_key_display", "public_key_text")
            if obj.auth_method == ServiceAccount.AuthMethod.PRIVATE_KEY_JWT
            else ("secret_status",)
        )
        fieldsets = [
            (None, {"fields": ("company", "name", "client_id", "auth_method")}),
            ("Credentials", {"fields": credentials}),
        ]
        if obj.company_id is None:
            fieldsets.append(("Console root", {"fields": ("root_permissions",)}))
        fieldsets.append(("History", {"fields": ("created_by", "created_at", "last_login")}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # The company and the authentication method are fixed at creation, as in the Console.
        return (
            "company",
            "client_id",
            "auth_method",
            "key_id",
            "public_key_display",
            "secret_status",
            "created_by",
            "created_at",
            "last_login",
        )

    def get_inlines(self, request, obj):
        if obj is not None and obj.company_id is None:
            return ()  # root service accounts hold root keys, not roles
        return (ServiceAccountRoleBindingInline,)

    @admin.display(description="Scope", ordering="company__name")
    def scope(self, obj):
        return obj.company if obj.company_id else "Console root"

    @admin.display(description="Public key (JWK)")
    def public_key_display(self, obj):
        if not obj.public_key:
            return "—"
        return format_html("<pre>{}</pre>", json.dumps(obj.public_key, indent=2))

    @admin.display(description="Client secret")
    def secret_status(self, obj):
        if obj.secret_hash:
            return "Set. Only its SHA-256 is stored; it cannot be shown again. Use the list action to replace it."
        return "Not set."

    @method_decorator(sensitive_variables("secret"))
    def save_model(self, request, obj, form, change):
        if not change and obj.auth_method == ServiceAccount.AuthMethod.CLIENT_SECRET_BASIC:
            secret = obj.issue_secret()
            # Kept on this request only, to be shown once by response_add; never stored or logged.
            request._new_client_secrets = [(obj, secret)]
        new_key = change and getattr(form, "parsed_key", None) is not None
        if new_key:
            # The key goes through the service (its rules, its audit event); the rest is saved as it was.
            obj.public_key, obj.key_id = ServiceAccount.objects.values_list("public_key", "key_id").get(
                pk=obj.pk
            )
        super().save_model(request, obj, form, change)
        if new_key:
            services.service_account_key_replace(
                actor=request.user, account=obj, public_key=form.cleaned_data["public_key_text"]
            )

    def response_add(self, request, obj, post_url_continue=None):
        credentials = getattr(request, "_new_client_secrets", None)
        if credentials:
            self.message_user(
                request,
                f"The service account “{obj}” was added. Copy its client secret now.",
                messages.SUCCESS,
            )
            return self._show_secrets_once(request, credentials, title="Client secret")
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description="Generate a new client secret (shown once)", permissions=["change"])
    @method_decorator(sensitive_variables("secret", "credentials"))
    def generate_new_secret(self, request, queryset):
        credentials = []
        skipped = []
        for account in queryset.select_related("company"):
            try:
                secret = services.service_account_secret_rotate(actor=request.user, account=account)
            except (ActionRefused, PermissionDenied) as refused:
                skipped.append(f"{account.name} ({refused})")
                continue
            self.log_change(request, account, "Generated a new client secret.")
            credentials.append((account, secret))
        if skipped:
            self.message_user(request, f"Skipped: {'; '.join(skipped)}", messages.WARNING)
        if not credentials:
            return None
        return self._show_secrets_once(request, credentials, title="New client secrets")

    @staticmethod
    def _out_of_reach(request, obj) -> bool:
        """A company account's credentials act with its roles: only those who may manage it (the services'
        rule) change or delete it here."""
        return (
            obj is not None
            and obj.company_id is not None
            and not services.may_manage_account(request.user, obj)
        )

    def has_change_permission(self, request, obj=None):
        return not self._out_of_reach(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._out_of_reach(request, obj) and super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        if obj.company_id is None:
            return super().delete_model(request, obj)
        services.service_account_delete(actor=request.user, account=obj)

    def delete_queryset(self, request, queryset):
        for account in queryset.select_related("company"):
            self.delete_model(request, account)

    def _show_secrets_once(self, request, credentials, *, title):
        """A page rendered straight from the POST: the secret is in no redirect, session or cookie."""
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "credentials": [{"account": account, "secret": secret} for account, secret in credentials],
        }
        response = TemplateResponse(request, "admin/identities/serviceaccount/secret_once.html", context)
        add_never_cache_headers(response)
        return response
